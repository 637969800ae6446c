package audit_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/chain"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/bolt"
	"github.com/caseledger/caseledger/personaldata/keystoretest"
)

// fixture is a real store in a temporary directory, the command handler
// on a clock the test sets, and a Log over both.
type fixture struct {
	store *bolt.Store
	dir   string // of the store and its keys
	svc   *casework.Service
	log   *audit.Log
	mu    sync.Mutex
	now   time.Time
}

func newFixture(t testing.TB, now time.Time) *fixture {
	t.Helper()
	dir := t.TempDir()
	store, err := bolt.Open(filepath.Join(dir, "events.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f := &fixture{store: store, dir: dir, now: now}
	svc, err := casework.New(store, casework.Options{Now: f.clock, Keys: keystoretest.Keyring(t, dir)})
	if err != nil {
		t.Fatal(err)
	}
	f.svc, f.log = svc, audit.New(svc, audit.Options{})
	return f
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
}

func access(user string, participant uuid.UUID, view domain.AccessView) audit.Access {
	return audit.Access{
		Reader:        domain.Actor{UserID: user, Role: "caseworker", Office: "oslo"},
		CorrelationID: uuid.New(),
		Record: domain.AccessRecorded{ParticipantID: participant, View: view, PersonalData: true,
			Purpose: "casework", Decision: domain.AccessPermitted, Via: "GET /v1/participants/{id}"},
	}
}

// streams is the stream of every event in the store, in log order.
func (f *fixture) streams(t *testing.T) []string {
	t.Helper()
	evs, err := f.store.ReadAll(context.Background(), eventstore.ReadAllOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Stream)
	}
	return out
}

func TestRecordsGoToTheStreamOfTheirBusinessDay(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, time.Time{})
	p1, p2 := uuid.New(), uuid.New()
	looks := []struct {
		at     time.Time
		user   string
		p      uuid.UUID
		stream string
	}{
		// 23:30 UTC is 01:30 the next day in Oslo.
		{time.Date(2026, 5, 14, 21, 0, 0, 0, time.UTC), "u-kari", p1, "audit-access-2026-05-14"},
		{time.Date(2026, 5, 14, 23, 30, 0, 0, time.UTC), "u-ola", p1, "audit-access-2026-05-15"},
		{time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC), "u-kari", p2, "audit-access-2026-05-15"},
		{time.Date(2026, 5, 16, 22, 30, 0, 0, time.UTC), "u-kari", p1, "audit-access-2026-05-17"},
	}
	for _, l := range looks {
		f.set(l.at)
		if err := f.log.Record(ctx, access(l.user, l.p, domain.ViewParticipant)); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range f.streams(t) {
		if s != looks[i].stream {
			t.Errorf("look %d in %s, want %s", i, s, looks[i].stream)
		}
	}

	f.set(time.Date(2026, 5, 17, 12, 0, 0, 0, time.UTC))
	for _, tt := range []struct {
		name string
		q    audit.Query
		want []int // indexes into looks
		more bool
	}{
		{"everything of the last month", audit.Query{}, []int{0, 1, 2, 3}, false},
		{"by participant", audit.Query{Participant: p1}, []int{0, 1, 3}, false},
		{"by user", audit.Query{User: "u-kari"}, []int{0, 2, 3}, false},
		{"by both", audit.Query{Participant: p1, User: "u-kari"}, []int{0, 3}, false},
		{"from, inclusive", audit.Query{From: looks[1].at}, []int{1, 2, 3}, false},
		{"to, inclusive", audit.Query{To: looks[1].at}, []int{0, 1}, false},
		{"a period", audit.Query{From: looks[1].at.Add(time.Second), To: looks[3].at.Add(-time.Second)}, []int{2}, false},
		{"limited", audit.Query{Limit: 3}, []int{0, 1, 2}, true},
		{"nobody", audit.Query{User: "u-nobody"}, nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			page, err := f.log.Query(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Records) != len(tt.want) || page.Truncated != tt.more {
				t.Fatalf("%d records, truncated %v; want %v, %v", len(page.Records), page.Truncated, tt.want, tt.more)
			}
			for i, w := range tt.want {
				r := page.Records[i]
				if !r.RecordedAt.Equal(looks[w].at) || r.UserID != looks[w].user || r.ParticipantID != looks[w].p ||
					r.Role != "caseworker" || r.Office != "oslo" || r.View != domain.ViewParticipant || !r.PersonalData ||
					r.Purpose != "casework" || r.Decision != domain.AccessPermitted || r.EventID == uuid.Nil || r.Position == 0 {
					t.Errorf("record %d: %+v, want look %d", i, r, w)
				}
			}
		})
	}

	// A caseload page is found by every participant it named.
	p3 := uuid.New()
	page := access("u-page", uuid.Nil, domain.ViewCaseload)
	page.Record.Participants = []uuid.UUID{p3, p2}
	if err := f.log.Record(ctx, page); err != nil {
		t.Fatal(err)
	}
	for _, id := range []uuid.UUID{p3, p2} {
		got, err := f.log.Query(ctx, audit.Query{Participant: id, User: "u-page"})
		if err != nil || len(got.Records) != 1 || !slices.Equal(got.Records[0].Participants, []uuid.UUID{p3, p2}) {
			t.Errorf("the page, by a participant it named: %+v, %v", got, err)
		}
	}
	if got, err := f.log.Query(ctx, audit.Query{Participant: p1, User: "u-page"}); err != nil || len(got.Records) != 0 {
		t.Errorf("the page, by a participant it did not name: %+v, %v", got, err)
	}

	// Without a from, a month is read: a look of 40 days ago is found only
	// when asked for.
	f.set(time.Date(2026, 4, 7, 9, 0, 0, 0, time.UTC))
	if err := f.log.Record(ctx, access("u-old", p1, domain.ViewHistory)); err != nil {
		t.Fatal(err)
	}
	f.set(time.Date(2026, 5, 17, 12, 0, 0, 0, time.UTC))
	for _, q := range []audit.Query{{User: "u-old"}, {User: "u-old", From: time.Date(2026, 4, 7, 9, 0, 0, 1, time.UTC)}} {
		if page, err := f.log.Query(ctx, q); err != nil || len(page.Records) != 0 {
			t.Errorf("query %+v: %+v, %v; want nothing", q, page, err)
		}
	}
	if page, err := f.log.Query(ctx, audit.Query{User: "u-old", From: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}); err != nil || len(page.Records) != 1 {
		t.Errorf("the old look from April: %+v, %v", page, err)
	}
	var pe *audit.ParamError
	if _, err := f.log.Query(ctx, audit.Query{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}); !errors.As(err, &pe) || pe.Name != "from" {
		t.Errorf("a query of more than a year: %v", err)
	}
}

// TestConcurrentRecordsAllLand: looks from many requests at once are all
// recorded, one after another in the day's stream, each as its reader's.
func TestConcurrentRecordsAllLand(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC))
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sent := make(map[uuid.UUID]audit.Access, n) // by correlation id
	for i := range n {
		a := access("u-"+string(rune('a'+i%26)), uuid.New(), domain.ViewParticipant)
		sent[a.CorrelationID] = a
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- f.log.Record(ctx, a)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	evs, err := f.store.ReadStream(ctx, "audit-access-2026-05-15", eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != n {
		t.Fatalf("%d records, want %d", len(evs), n)
	}
	for i, ev := range evs {
		if ev.Revision != uint64(i) || ev.Type != domain.TypeAccessRecorded {
			t.Errorf("record %d: revision %d, type %s", i, ev.Revision, ev.Type)
		}
	}
	// Group-committed or not, each record is its own reader's, about its
	// own participant.
	page, err := f.log.Query(ctx, audit.Query{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range page.Records {
		a, ok := sent[r.CorrelationID]
		if !ok || r.UserID != a.Reader.UserID || r.ParticipantID != a.Record.ParticipantID {
			t.Errorf("record %+v does not match what was sent", r)
		}
		delete(sent, r.CorrelationID)
	}
	if len(sent) != 0 {
		t.Errorf("%d looks not found by a query", len(sent))
	}
	// The access log is chained like every stream: a record cannot be
	// changed or removed unseen.
	report, err := chain.Verify(ctx, f.store, 0)
	if err != nil || !report.OK() {
		t.Errorf("the access log's chain: %+v, %v", report, err)
	}
}

// closedStore fails every call as a store that went away does.
type closedStore struct{ eventstore.Store }

func (closedStore) Append(context.Context, string, eventstore.Expected, ...eventstore.EventData) (eventstore.AppendResult, error) {
	return eventstore.AppendResult{}, eventstore.ErrUnavailable
}

func TestRecordFailures(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC))

	// A record the domain refuses is the caller's mistake, and nothing is
	// written.
	bad := access("u-kari", uuid.New(), domain.ViewParticipant)
	bad.Record.Purpose = "two\nlines"
	err := f.log.Record(ctx, bad)
	if err == nil || errors.Is(err, audit.ErrNotRecorded) || strings.Contains(err.Error(), "two") {
		t.Errorf("malformed record: %v", err)
	}
	denial := access("u-kari", uuid.New(), domain.ViewParticipant)
	denial.Record.Decision = domain.AccessDenied
	if err := f.log.Record(ctx, denial); err == nil {
		t.Error("a denial without a reason, claiming personal data, was recorded")
	}
	if s := f.streams(t); len(s) != 0 {
		t.Errorf("refused records were written: %v", s)
	}

	// A store that takes nothing: not recorded.
	svc, err := casework.New(closedStore{f.store}, casework.Options{Now: f.clock, Keys: keystoretest.Keyring(t, f.dir)})
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.New(svc, audit.Options{}).Record(ctx, access("u-kari", uuid.New(), domain.ViewParticipant)); !errors.Is(err, audit.ErrNotRecorded) || !errors.Is(err, eventstore.ErrUnavailable) {
		t.Errorf("store unavailable: %v", err)
	}

	// A caller who has given up: not recorded.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := f.log.Record(cancelled, access("u-kari", uuid.New(), domain.ViewParticipant)); !errors.Is(err, audit.ErrNotRecorded) {
		t.Errorf("cancelled: %v", err)
	}
}
