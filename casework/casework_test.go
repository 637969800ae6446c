package casework_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/bolt"
	"github.com/caseledger/caseledger/personaldata/keystoretest"
)

// The fixed clock: 15 May 2026, midday in Oslo.
var now = time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC)

// testStore is an installation: the event store and the directory of its
// master key and data keys.
type testStore struct {
	eventstore.Store
	dir string
}

func openStore(t *testing.T) *testStore {
	t.Helper()
	dir := t.TempDir()
	s, err := bolt.Open(filepath.Join(dir, "events.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &testStore{Store: s, dir: dir}
}

// newService stands for a server process of the installation: its own
// caches, the installation's keys unless opts names others.
func newService(t *testing.T, store *testStore, opts casework.Options) *casework.Service {
	t.Helper()
	opts.Now = func() time.Time { return now }
	if opts.Keys == nil {
		opts.Keys = keystoretest.Keyring(t, store.dir)
	}
	s, err := casework.New(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func date(t *testing.T, s string) domain.Date {
	t.Helper()
	d, err := domain.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func request(key string) casework.Request {
	return casework.Request{
		Actor:          domain.Actor{UserID: "u-1", Role: "caseworker", Office: "bergen"},
		CorrelationID:  uuid.New(),
		IdempotencyKey: key,
		Digest:         casework.RequestDigest("POST", "/v1/test", []byte(key)),
	}
}

func enrolment(t *testing.T) domain.EnrolCommand {
	t.Helper()
	nid, err := domain.SyntheticNationalID(date(t, "1990-04-12"), 123)
	if err != nil {
		t.Fatal(err)
	}
	return domain.EnrolCommand{
		Programme: "hope-bergen", Office: "bergen", EnrolledOn: date(t, "2026-03-02"),
		ReferralSource: domain.ReferralSources()[0],
		Profile: domain.Profile{
			BirthYear: 1990, Gender: domain.Genders()[0], RegionOfBirth: domain.RegionsOfBirth()[0],
			IncomeSource: domain.IncomeSources()[0], NorwegianLevel: domain.NorwegianLevels()[0],
			EducationLevel: domain.EducationLevels()[0],
		},
		Personal: &domain.EnrolmentPersonal{Name: "Test Person", NationalID: nid},
	}
}

// givenEnrolled is a store, a service on it, and a participant enrolled
// through it.
func givenEnrolled(t *testing.T) (*testStore, *casework.Service, string) {
	t.Helper()
	store := openStore(t)
	svc := newService(t, store, casework.Options{})
	stream := domain.ParticipantStream(uuid.New())
	if _, err := svc.Execute(context.Background(), stream, request(""), enrol(t, enrolment(t))); err != nil {
		t.Fatal(err)
	}
	return store, svc, stream
}

func enrol(t *testing.T, cmd domain.EnrolCommand) casework.Decision {
	return func(h []domain.Recorded, today domain.Date) ([]domain.Event, error) {
		return domain.Enrol(domain.FoldParticipant(h), cmd, today)
	}
}

func meeting(on domain.Date) casework.Decision {
	return func(h []domain.Recorded, today domain.Date) ([]domain.Event, error) {
		return domain.RecordMeeting(domain.FoldParticipant(h),
			domain.RecordMeetingCommand{Date: on, Kind: domain.MeetingKinds()[0]}, today)
	}
}

func streamLen(t *testing.T, store eventstore.Store, stream string) int {
	t.Helper()
	evs, err := store.ReadStream(context.Background(), stream, eventstore.ReadStreamOptions{})
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

func TestExecuteAppendsWhatTheDomainDecides(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	svc := newService(t, store, casework.Options{})
	stream := domain.ParticipantStream(uuid.New())

	res, err := svc.Execute(ctx, stream, request(""), enrol(t, enrolment(t)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Revision != 0 || res.Position == 0 || len(res.EventIDs) != 1 {
		t.Fatalf("enrol result = %+v, want revision 0, a position, one event", res)
	}
	res, err = svc.Execute(ctx, stream, request(""), meeting(date(t, "2026-03-09")))
	if err != nil {
		t.Fatal(err)
	}
	if res.Revision != 1 {
		t.Fatalf("meeting revision = %d, want 1", res.Revision)
	}
	h, rev, err := svc.Load(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	p := domain.FoldParticipant(h)
	if rev != 1 || len(p.Meetings) != 1 || len(p.Episodes) != 1 {
		t.Fatalf("state after enrol and meeting: revision %d, %d meetings, %d episodes", rev, len(p.Meetings), len(p.Episodes))
	}
	if h[1].Meta.Actor.UserID != "u-1" || h[1].Meta.OccurredOn != date(t, "2026-03-09") || !h[1].Meta.RecordedAt.Equal(now) {
		t.Fatalf("metadata = %+v", h[1].Meta)
	}
}

func TestRejectionAppendsNothing(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	svc := newService(t, store, casework.Options{})
	stream := domain.ParticipantStream(uuid.New())

	_, err := svc.Execute(ctx, stream, request(""), meeting(date(t, "2026-03-09")))
	var rejected *domain.RejectedError
	if !errors.As(err, &rejected) {
		t.Fatalf("meeting before enrolment: err = %v, want a rejection", err)
	}
	if n := streamLen(t, store, stream); n != 0 {
		t.Fatalf("stream holds %d events after a rejection", n)
	}
}

func TestIdempotentRetryGetsTheFirstAnswer(t *testing.T) {
	ctx := context.Background()
	store, svc, stream := givenEnrolled(t)

	first, err := svc.Execute(ctx, stream, request("key-1"), meeting(date(t, "2026-03-09")))
	if err != nil {
		t.Fatal(err)
	}
	// Another write lands between the request and its retry.
	if _, err := svc.Execute(ctx, stream, request("key-2"), meeting(date(t, "2026-03-10"))); err != nil {
		t.Fatal(err)
	}
	// The retry comes through a fresh service, as after a restart, so the
	// answer comes from the log and not from memory.
	again, err := newService(t, store, casework.Options{}).Execute(ctx, stream, request("key-1"), meeting(date(t, "2026-03-09")))
	if err != nil {
		t.Fatal(err)
	}
	if again.Revision != first.Revision || again.Position != first.Position || again.EventIDs[0] != first.EventIDs[0] {
		t.Fatalf("retry answered %+v, first answer was %+v", again, first)
	}
	if n := streamLen(t, store, stream); n != 3 {
		t.Fatalf("stream holds %d events, want 3 (enrol and two meetings)", n)
	}
}

func TestIdempotencyKeyReusedForAnotherRequestIsRefused(t *testing.T) {
	ctx := context.Background()
	store, svc, stream := givenEnrolled(t)
	if _, err := svc.Execute(ctx, stream, request("key-1"), meeting(date(t, "2026-03-09"))); err != nil {
		t.Fatal(err)
	}
	other := request("key-1")
	other.Digest = casework.RequestDigest("POST", "/v1/test", []byte("another body"))
	_, err := svc.Execute(ctx, stream, other, meeting(date(t, "2026-03-10")))
	if !errors.Is(err, casework.ErrIdempotencyKeyReused) {
		t.Fatalf("err = %v, want ErrIdempotencyKeyReused", err)
	}
	if n := streamLen(t, store, stream); n != 2 {
		t.Fatalf("stream holds %d events, want 2", n)
	}
}

func TestSameKeyFromAnotherUserIsAnotherRequest(t *testing.T) {
	ctx := context.Background()
	store, svc, stream := givenEnrolled(t)
	if _, err := svc.Execute(ctx, stream, request("key-1"), meeting(date(t, "2026-03-09"))); err != nil {
		t.Fatal(err)
	}
	other := request("key-1")
	other.Actor.UserID = "u-2"
	if _, err := svc.Execute(ctx, stream, other, meeting(date(t, "2026-03-09"))); err != nil {
		t.Fatal(err)
	}
	if n := streamLen(t, store, stream); n != 3 {
		t.Fatalf("stream holds %d events, want 3", n)
	}
}

func TestIfMatch(t *testing.T) {
	ctx := context.Background()
	_, svc, stream := givenEnrolled(t)
	if _, err := svc.Execute(ctx, stream, request(""), meeting(date(t, "2026-03-09"))); err != nil {
		t.Fatal(err)
	}

	stale := request("")
	zero := int64(0)
	stale.IfMatch = &zero
	_, err := svc.Execute(ctx, stream, stale, meeting(date(t, "2026-03-10")))
	if !errors.Is(err, casework.ErrPreconditionFailed) {
		t.Fatalf("stale If-Match: err = %v, want ErrPreconditionFailed", err)
	}
	current := request("")
	one := int64(1)
	current.IfMatch = &one
	res, err := svc.Execute(ctx, stream, current, meeting(date(t, "2026-03-10")))
	if err != nil || res.Revision != 2 {
		t.Fatalf("current If-Match: %+v, %v; want revision 2", res, err)
	}
}

// Two services over one store stand for two server processes: each decides
// on what it has cached, loses the race now and then, reloads and decides
// again, and every command lands exactly once.
func TestConcurrentWritersAllLand(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	a := newService(t, store, casework.Options{MaxAttempts: 60})
	b := newService(t, store, casework.Options{MaxAttempts: 60})
	stream := domain.ParticipantStream(uuid.New())
	if _, err := a.Execute(ctx, stream, request(""), enrol(t, enrolment(t))); err != nil {
		t.Fatal(err)
	}

	const writers, each = 4, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		svc := a
		if w%2 == 1 {
			svc = b
		}
		wg.Go(func() {
			for range each {
				_, err := svc.Execute(ctx, stream, request(""), meeting(date(t, "2026-03-09")))
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	h, rev, err := b.Load(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(domain.FoldParticipant(h).Meetings); got != writers*each || rev != writers*each {
		t.Fatalf("%d meetings at revision %d, want %d", got, rev, writers*each)
	}
}

func TestLoadSeesWhatAnotherProcessWrote(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	a := newService(t, store, casework.Options{})
	b := newService(t, store, casework.Options{})
	stream := domain.ParticipantStream(uuid.New())
	if _, err := a.Execute(ctx, stream, request(""), enrol(t, enrolment(t))); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Load(ctx, stream); err != nil { // a caches the stream
		t.Fatal(err)
	}
	if _, err := b.Execute(ctx, stream, request(""), meeting(date(t, "2026-03-09"))); err != nil {
		t.Fatal(err)
	}
	h, rev, err := a.Load(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	if rev != 1 || len(domain.FoldParticipant(h).Meetings) != 1 {
		t.Fatalf("a sees revision %d with %d meetings, want b's meeting", rev, len(domain.FoldParticipant(h).Meetings))
	}
}

// Participant is the fold of the stream as it is now, also after another
// process wrote to it, folded once per version and shared between callers.
func TestParticipantIsTheFoldOfTheStreamNow(t *testing.T) {
	ctx := context.Background()
	store, a, stream := givenEnrolled(t)
	b := newService(t, store, casework.Options{})
	first, rev, err := a.Participant(ctx, stream)
	if err != nil || rev != 0 {
		t.Fatalf("participant: revision %d, %v", rev, err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if again, _, err := a.Participant(ctx, stream); err != nil || again != first {
				t.Errorf("the same version folded again (%v)", err)
			}
		})
	}
	wg.Wait()
	if _, err := b.Execute(ctx, stream, request(""), meeting(date(t, "2026-03-09"))); err != nil {
		t.Fatal(err)
	}
	now, rev, err := a.Participant(ctx, stream)
	if err != nil || rev != 1 {
		t.Fatalf("after another process wrote: revision %d, %v", rev, err)
	}
	h, _, err := a.Load(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	if want := domain.FoldParticipant(h); !reflect.DeepEqual(*now, want) || len(now.Meetings) != 1 {
		t.Errorf("participant is not the fold of the stream:\n got %+v\nwant %+v", *now, want)
	}
	if len(first.Meetings) != 0 {
		t.Error("the earlier version changed")
	}
	if _, _, err := a.Participant(ctx, domain.ParticipantStream(uuid.New())); !errors.Is(err, casework.ErrNotFound) {
		t.Errorf("a stream without events: %v, want ErrNotFound", err)
	}
}

// Write by write, the participant a decision is given is the fold of the
// history it decides on, although each version extends the one before
// rather than folding the stream again, and no version a caller holds
// changes: across a void, which only a whole fold resolves, too.
func TestExecuteParticipantDecidesOnTheFold(t *testing.T) {
	ctx := context.Background()
	_, svc, stream := givenEnrolled(t)
	type held struct {
		p    *domain.Participant
		want domain.Participant
	}
	var versions []held
	hold := func(when string) {
		p, _, err := svc.Participant(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		h, _, err := svc.Load(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		if want := domain.FoldParticipant(h); !reflect.DeepEqual(*p, want) {
			t.Fatalf("%s: the participant is not the fold of the stream:\n got %+v\nwant %+v", when, *p, want)
		}
		versions = append(versions, held{p, domain.FoldParticipant(h)})
	}
	record := func(on string) casework.ParticipantDecision {
		return func(h []domain.Recorded, p *domain.Participant, today domain.Date) ([]domain.Event, error) {
			if want := domain.FoldParticipant(h); !reflect.DeepEqual(*p, want) {
				t.Errorf("meeting of %s: decided on %+v, want the fold %+v", on, *p, want)
			}
			return domain.RecordMeeting(*p, domain.RecordMeetingCommand{Date: date(t, on), Kind: domain.MeetingKinds()[0]}, today)
		}
	}
	hold("enrolled")
	var first casework.Result
	for i, on := range []string{"2026-03-09", "2026-03-10", "2026-03-11"} {
		res, err := svc.ExecuteParticipant(ctx, stream, request(""), nil, record(on))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = res
		}
		hold("after the meeting of " + on)
	}
	if _, err := svc.Execute(ctx, stream, request(""), func(h []domain.Recorded, today domain.Date) ([]domain.Event, error) {
		return domain.VoidEntry(h, domain.VoidEntryCommand{EntryID: first.EventIDs[0], Reason: domain.VoidRecordedInError}, today)
	}); err != nil {
		t.Fatal(err)
	}
	hold("after the void")
	if _, err := svc.ExecuteParticipant(ctx, stream, request(""), nil, record("2026-03-12")); err != nil {
		t.Fatal(err)
	}
	hold("after the meeting after the void")
	if p := versions[len(versions)-1].p; len(p.Meetings) != 3 {
		t.Errorf("%d meetings, want 3 (four recorded, one voided)", len(p.Meetings))
	}
	for i, v := range versions {
		if !reflect.DeepEqual(*v.p, v.want) {
			t.Errorf("version %d changed after later writes", i)
		}
	}
}

// Versions of a history share their events where they can: a version a
// caller holds never changes, however many loads extend it at once, and a
// caller may append to what Load returned.
func TestLoadExtendsHistoriesWithoutChangingOnesHeld(t *testing.T) {
	ctx := context.Background()
	store, a, stream := givenEnrolled(t)
	b := newService(t, store, casework.Options{})
	held, _, err := a.Load(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(held)
	for round, on := range []string{"2026-03-09", "2026-03-10", "2026-03-11"} {
		if _, err := b.Execute(ctx, stream, request(""), meeting(date(t, on))); err != nil {
			t.Fatal(err)
		}
		loaded := make([][]domain.Recorded, 4)
		var wg sync.WaitGroup
		for i := range loaded {
			wg.Go(func() {
				h, _, err := a.Load(ctx, stream)
				if err != nil {
					t.Error(err)
					return
				}
				loaded[i] = append(h, domain.Recorded{}) // a caller's own append
			})
		}
		wg.Wait()
		for i, h := range loaded {
			if len(h) != round+3 || !reflect.DeepEqual(h[:round+2], loaded[0][:round+2]) {
				t.Fatalf("round %d: load %d holds %d events, or others than load 0", round, i, len(h))
			}
		}
		if !reflect.DeepEqual(held, want) {
			t.Fatalf("round %d: the history held before changed", round)
		}
		held, want = loaded[0][:round+2], slices.Clone(loaded[0][:round+2])
	}
}

// Admission comes before anything that tells about the stream: a caller
// refused gets the refusal, not the answer of a write stored under their
// key nor a stale If-Match, and nothing is appended.
func TestExecuteParticipantAdmitsFirst(t *testing.T) {
	ctx := context.Background()
	store, svc, stream := givenEnrolled(t)
	record := func(h []domain.Recorded, p *domain.Participant, today domain.Date) ([]domain.Event, error) {
		return domain.RecordMeeting(*p, domain.RecordMeetingCommand{Date: date(t, "2026-03-09"), Kind: domain.MeetingKinds()[0]}, today)
	}
	keyed := request("k-1")
	if _, err := svc.ExecuteParticipant(ctx, stream, keyed, nil, record); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused")
	var asked []bool
	refuse := func(p *domain.Participant, exists bool) error {
		asked = append(asked, exists)
		return refused
	}
	stale := request("")
	zero := int64(0)
	stale.IfMatch = &zero
	before := streamLen(t, store, stream)
	for name, req := range map[string]casework.Request{"a retry under a stored key": keyed, "a stale If-Match": stale, "a new write": request("")} {
		if _, err := svc.ExecuteParticipant(ctx, stream, req, refuse, record); !errors.Is(err, refused) {
			t.Errorf("%s: %v, want the refusal", name, err)
		}
	}
	if _, err := svc.ExecuteParticipant(ctx, domain.ParticipantStream(uuid.New()), request(""), refuse, record); !errors.Is(err, refused) {
		t.Errorf("a stream without events: %v, want the refusal", err)
	}
	if got := streamLen(t, store, stream); got != before {
		t.Errorf("the stream holds %d events after refusals, want %d", got, before)
	}
	if want := []bool{true, true, true, false}; !slices.Equal(asked, want) {
		t.Errorf("admission asked with exists %v, want %v", asked, want)
	}
}

func TestLoadMissingStream(t *testing.T) {
	svc := newService(t, openStore(t), casework.Options{})
	_, _, err := svc.Load(context.Background(), domain.ParticipantStream(uuid.New()))
	if !errors.Is(err, casework.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

// Two requests under one key but with different bodies race: B decides
// before A's events land, then appends the same derived ids. The store
// answers such an append as an idempotent retry, so B must not take that
// answer for its own: it is refused as a reused key, and only A's event is
// stored. With B deciding more events than A stored, the store's partial
// overlap is the same refusal, not an internal error.
func TestConcurrentKeyReuseIsRefused(t *testing.T) {
	for _, extra := range []int{0, 1} {
		t.Run(fmt.Sprintf("B decides %d more events", extra), func(t *testing.T) {
			ctx := context.Background()
			_, svc, stream := givenEnrolled(t)
			a, b := request("key-1"), request("key-1")
			b.Digest = casework.RequestDigest("POST", "/v1/test", []byte("another body"))

			decided, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			done := make(chan error, 1)
			go func() {
				_, err := svc.Execute(ctx, stream, b, func(h []domain.Recorded, today domain.Date) ([]domain.Event, error) {
					evs, err := meeting(date(t, "2026-03-10"))(h, today)
					for range extra {
						evs = append(evs, evs[0])
					}
					once.Do(func() { close(decided); <-release })
					return evs, err
				})
				done <- err
			}()
			<-decided
			first, err := svc.Execute(ctx, stream, a, meeting(date(t, "2026-03-09")))
			if err != nil {
				t.Fatal(err)
			}
			close(release)
			if err := <-done; !errors.Is(err, casework.ErrIdempotencyKeyReused) {
				t.Fatalf("B: err = %v, want ErrIdempotencyKeyReused", err)
			}
			h, rev, err := svc.Load(ctx, stream)
			if err != nil {
				t.Fatal(err)
			}
			if rev != first.Revision || len(domain.FoldParticipant(h).Meetings) != 1 {
				t.Fatalf("stream at %d with %d meetings, want A's one meeting at %d", rev, len(domain.FoldParticipant(h).Meetings), first.Revision)
			}
			// A's retry still gets A's answer.
			again, err := svc.Execute(ctx, stream, a, meeting(date(t, "2026-03-09")))
			if err != nil || again.Position != first.Position {
				t.Fatalf("A's retry: %+v, %v; want %+v", again, err, first)
			}
		})
	}
}
