package audit_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/personaldata/keystoretest"
)

// gate is a store whose appends to access-log streams wait until the test
// lets them through, one at a time, and can be made to fail; it counts the
// events of every append it passes on.
type gate struct {
	eventstore.Store
	arrived chan struct{} // an append says it waits
	open    chan error    // an append waits for one value: nil passes it on, an error fails it
	left    chan struct{} // an append says it gave up waiting: its context ended
	mu      sync.Mutex
	sizes   []int // events per append, of those passed on
}

func (g *gate) Append(ctx context.Context, stream string, expected eventstore.Expected, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	g.arrived <- struct{}{}
	select {
	case err := <-g.open:
		if err != nil {
			return eventstore.AppendResult{}, err
		}
	case <-ctx.Done():
		g.left <- struct{}{}
		return eventstore.AppendResult{}, ctx.Err()
	}
	res, err := g.Store.Append(ctx, stream, expected, events...)
	if err == nil {
		g.mu.Lock()
		g.sizes = append(g.sizes, len(events))
		g.mu.Unlock()
	}
	return res, err
}

// waiting returns once an append waits at the gate.
func (g *gate) waiting(t *testing.T) {
	t.Helper()
	select {
	case <-g.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for an append")
	}
}

func (g *gate) appends() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.sizes)
}

// gated is the fixture's store behind a gate, and a Log writing through it.
func gated(t *testing.T, f *fixture) (*gate, *audit.Log) {
	t.Helper()
	g := &gate{Store: f.store, arrived: make(chan struct{}, 100), open: make(chan error), left: make(chan struct{}, 100)}
	svc, err := casework.New(g, casework.Options{Now: f.clock, Keys: keystoretest.Keyring(t, f.dir)})
	if err != nil {
		t.Fatal(err)
	}
	return g, audit.New(svc, audit.Options{})
}

// call is a Record under way; its outcome arrives on err.
type call struct {
	a   audit.Access
	err chan error
}

func start(ctx context.Context, log *audit.Log, a audit.Access) call {
	c := call{a: a, err: make(chan error, 1)}
	go func() { c.err <- log.Record(ctx, a) }()
	return c
}

// held starts u-first's look and returns once its append waits at the
// gate, so that the looks started after it queue behind it.
func held(t *testing.T, ctx context.Context, g *gate, log *audit.Log) call {
	t.Helper()
	first := start(ctx, log, access("u-first", uuid.New(), domain.ViewParticipant))
	g.waiting(t)
	return first
}

// stored fails the test for every call whose record was not stored.
func stored(t *testing.T, calls ...call) {
	t.Helper()
	for _, c := range calls {
		if err := <-c.err; err != nil {
			t.Errorf("%s: %v", c.a.Reader.UserID, err)
		}
	}
}

// queue starts the accesses one after another, each once the one before
// it waits in the queue behind the append under way.
func queue(t *testing.T, ctx context.Context, log *audit.Log, accesses ...audit.Access) []call {
	t.Helper()
	var calls []call
	for _, a := range accesses {
		want := log.Queued() + 1
		calls = append(calls, start(ctx, log, a))
		waitFor(t, func() bool { return log.Queued() == want })
	}
	return calls
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(time.Millisecond)
	}
}

func looks(n int, prefix string) []audit.Access {
	out := make([]audit.Access, n)
	for i := range out {
		out[i] = access(fmt.Sprintf("%s-%d", prefix, i), uuid.New(), domain.ViewParticipant)
	}
	return out
}

// records is every access record in the day streams from first to last,
// in log order.
func (f *fixture) records(t *testing.T, first, last time.Time) []audit.Record {
	t.Helper()
	page, err := f.log.Query(context.Background(), audit.Query{From: first, To: last, Limit: audit.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return page.Records
}

// readers is the reader of every access record of the day of at, in log
// order.
func (f *fixture) readers(t *testing.T, at time.Time) []string {
	t.Helper()
	var users []string
	for _, r := range f.records(t, at, at) {
		users = append(users, r.UserID)
	}
	return users
}

// TestGroupCommit: looks that arrive while an append is under way go
// together in the next append, in the order they came, each recorded as
// its own reader's in its own request; every caller returns only once its
// record is stored.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC)
	f := newFixture(t, at)
	g, log := gated(t, f)

	first := held(t, ctx, g, log)
	later := looks(5, "u-later")
	calls := queue(t, ctx, log, later...)
	for _, c := range append([]call{first}, calls...) {
		select {
		case err := <-c.err:
			t.Fatalf("%s returned before its record was stored: %v", c.a.Reader.UserID, err)
		default:
		}
	}

	g.open <- nil // the first append
	if err := <-first.err; err != nil {
		t.Fatal(err)
	}
	g.open <- nil // the batch
	stored(t, calls...)
	if got := g.appends(); !slices.Equal(got, []int{1, len(later)}) {
		t.Errorf("appends of %v events, want [1 %d]", got, len(later))
	}
	got := f.records(t, at, at)
	want := append([]audit.Access{first.a}, later...)
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i, r := range got {
		w := want[i]
		if r.UserID != w.Reader.UserID || r.CorrelationID != w.CorrelationID || r.ParticipantID != w.Record.ParticipantID {
			t.Errorf("record %d: %s in %s about %s, want %s in %s about %s", i,
				r.UserID, r.CorrelationID, r.ParticipantID, w.Reader.UserID, w.CorrelationID, w.Record.ParticipantID)
		}
	}
}

// TestGroupCommitBound: no append carries more than MaxBatch records, a
// caller's records are never split between appends, and one caller with
// more than MaxBatch records goes alone.
func TestGroupCommitBound(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC)
	f := newFixture(t, at)
	g, log := gated(t, f)

	first := held(t, ctx, g, log)
	page := func(user string, n int) call {
		recs := make([]domain.AccessRecorded, n)
		for i := range recs {
			recs[i] = access(user, uuid.New(), domain.ViewCaseload).Record
		}
		c := call{a: audit.Access{Reader: domain.Actor{UserID: user, Role: "caseworker", Office: "oslo"}}, err: make(chan error, 1)}
		want := log.Queued() + 1
		go func() { c.err <- log.RecordAll(ctx, c.a.Reader, uuid.New(), recs) }()
		waitFor(t, func() bool { return log.Queued() == want })
		return c
	}
	// 300 + 300 do not fit in one append; 10 more fit with the second;
	// the big page goes alone.
	calls := []call{page("u-a", 300), page("u-b", 300), page("u-c", 10), page("u-big", audit.MaxBatch+1)}
	calls = append(calls, queue(t, ctx, log, looks(3, "u-single")...)...)
	for range 5 {
		g.open <- nil
	}
	stored(t, append([]call{first}, calls...)...)
	if got, want := g.appends(), []int{1, 300, 310, audit.MaxBatch + 1, 3}; !slices.Equal(got, want) {
		t.Errorf("appends of %v events, want %v", got, want)
	}
	if got, want := len(f.records(t, at, at)), 1+300+300+10+audit.MaxBatch+1+3; got != want {
		t.Errorf("%d records, want %d", got, want)
	}
}

// TestGroupCommitFailure: when an append fails, every caller in it gets
// the error, nothing of theirs is stored, and the next append works.
func TestGroupCommitFailure(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC)
	f := newFixture(t, at)
	g, log := gated(t, f)

	first := held(t, ctx, g, log)
	failed := queue(t, ctx, log, looks(4, "u-failed")...)
	g.open <- nil
	if err := <-first.err; err != nil {
		t.Fatal(err)
	}
	g.open <- eventstore.ErrUnavailable
	for _, c := range failed {
		if err := <-c.err; !errors.Is(err, audit.ErrNotRecorded) || !errors.Is(err, eventstore.ErrUnavailable) {
			t.Errorf("%s: %v, want ErrNotRecorded from an unavailable store", c.a.Reader.UserID, err)
		}
	}
	after := start(ctx, log, access("u-after", uuid.New(), domain.ViewParticipant))
	g.open <- nil
	if err := <-after.err; err != nil {
		t.Fatal(err)
	}
	if users := f.readers(t, at); !slices.Equal(users, []string{"u-first", "u-after"}) {
		t.Errorf("records of %v, want u-first and u-after", users)
	}
}

// TestGroupCommitCancellation: a caller who gives up while waiting returns
// at once, not recorded, and its record is not written; the others in the
// queue are. An append is abandoned only when all its callers are gone.
func TestGroupCommitCancellation(t *testing.T) {
	at := time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC)
	f := newFixture(t, at)
	g, log := gated(t, f)
	ctx := context.Background()

	first := held(t, ctx, g, log)
	stay := queue(t, ctx, log, access("u-stay", uuid.New(), domain.ViewParticipant))
	leaving, leave := context.WithCancel(ctx)
	gone := queue(t, leaving, log, access("u-gone", uuid.New(), domain.ViewParticipant))
	leave()
	if err := <-gone[0].err; !errors.Is(err, audit.ErrNotRecorded) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled while queued: %v", err)
	}
	g.open <- nil
	g.waiting(t) // u-stay's append; g.waiting below then waits for u-alone's
	g.open <- nil
	stored(t, append([]call{first}, stay...)...)

	// An append whose only caller has gone is abandoned at the gate.
	alone, give := context.WithCancel(ctx)
	c := start(alone, log, access("u-alone", uuid.New(), domain.ViewParticipant))
	g.waiting(t)
	give()
	if err := <-c.err; !errors.Is(err, audit.ErrNotRecorded) {
		t.Errorf("cancelled while appended: %v", err)
	}
	// The caller returns at once; the abandoned append leaves the gate
	// when the log cancels it. Until then it could take the next opening,
	// which is u-last's.
	select {
	case <-g.left:
	case <-time.After(10 * time.Second):
		t.Fatal("the abandoned append did not leave the gate")
	}
	last := start(ctx, log, access("u-last", uuid.New(), domain.ViewParticipant))
	g.open <- nil
	if err := <-last.err; err != nil {
		t.Fatal(err)
	}

	if users := f.readers(t, at); !slices.Equal(users, []string{"u-first", "u-stay", "u-last"}) {
		t.Errorf("records of %v, want u-first, u-stay and u-last", users)
	}
}

// TestGroupCommitAcrossMidnight: looks queued before midnight and appended
// after it go to the new day's stream, each once; a query over the night
// finds every one.
func TestGroupCommitAcrossMidnight(t *testing.T) {
	ctx := context.Background()
	// 21:59:59 UTC is a second before midnight in Oslo.
	before := time.Date(2026, 5, 14, 21, 59, 59, 0, time.UTC)
	after := before.Add(2 * time.Second)
	f := newFixture(t, before)
	g, log := gated(t, f)

	first := held(t, ctx, g, log)
	queued := queue(t, ctx, log, looks(3, "u-queued")...)
	// The first append chose its day's stream before it came to the gate;
	// the next chooses when it is taken, after midnight.
	f.set(after)
	g.open <- nil
	if err := <-first.err; err != nil {
		t.Fatal(err)
	}
	g.open <- nil
	for _, c := range queued {
		if err := <-c.err; err != nil {
			t.Fatal(err)
		}
	}
	var streams []string
	for _, s := range f.streams(t) {
		streams = append(streams, s)
	}
	want := []string{"audit-access-2026-05-14", "audit-access-2026-05-15", "audit-access-2026-05-15", "audit-access-2026-05-15"}
	if !slices.Equal(streams, want) {
		t.Errorf("streams %v, want %v", streams, want)
	}
	seen := map[uuid.UUID]int{}
	for _, r := range f.records(t, before, after) {
		seen[r.CorrelationID]++
	}
	for _, c := range append([]call{first}, queued...) {
		if seen[c.a.CorrelationID] != 1 {
			t.Errorf("%s recorded %d times", c.a.Reader.UserID, seen[c.a.CorrelationID])
		}
	}
}

// panicking is a store whose next append panics.
type panicking struct {
	eventstore.Store
	armed atomic.Bool
}

func (p *panicking) Append(ctx context.Context, stream string, expected eventstore.Expected, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if p.armed.CompareAndSwap(true, false) {
		panic("a bug in the store")
	}
	return p.Store.Append(ctx, stream, expected, events...)
}

// TestGroupCommitPanic: a panic while appending a batch fails that batch's
// callers, not recorded, and leaves the log writing the next ones; the
// process goes on.
func TestGroupCommitPanic(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC)
	f := newFixture(t, at)
	store := &panicking{Store: f.store}
	store.armed.Store(true)
	svc, err := casework.New(store, casework.Options{Now: f.clock, Keys: keystoretest.Keyring(t, f.dir)})
	if err != nil {
		t.Fatal(err)
	}
	log := audit.New(svc, audit.Options{})
	if err := log.Record(ctx, access("u-panic", uuid.New(), domain.ViewParticipant)); !errors.Is(err, audit.ErrNotRecorded) {
		t.Fatalf("a look whose append panicked: %v, want ErrNotRecorded", err)
	}
	if err := log.Record(ctx, access("u-after", uuid.New(), domain.ViewParticipant)); err != nil {
		t.Fatalf("the next look: %v", err)
	}
	if users := f.readers(t, at); !slices.Equal(users, []string{"u-after"}) {
		t.Errorf("records of %v, want u-after only", users)
	}
}
