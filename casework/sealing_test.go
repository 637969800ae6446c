package casework_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/chain"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/bolt"
	"github.com/caseledger/caseledger/personaldata"
	"github.com/caseledger/caseledger/personaldata/keyfile"
	"github.com/caseledger/caseledger/personaldata/keystoretest"
)

// Markers of personal data: they must never be in the store's bytes.
const (
	minutesMarker = "Minutes-Marker-7f3a"
	contactMarker = "Contact-Marker-2b9c"
)

func meetingWithMinutes(on domain.Date) casework.Decision {
	return func(h []domain.Recorded, today domain.Date) ([]domain.Event, error) {
		return domain.RecordMeeting(domain.FoldParticipant(h), domain.RecordMeetingCommand{
			Date: on, Kind: domain.MeetingKinds()[0],
			Personal: &domain.MeetingPersonal{Attendees: []string{"Test Person"}, Minutes: minutesMarker},
		}, today)
	}
}

// score records the scores of the participant's next timepoint.
func score(on domain.Date) casework.Decision {
	return func(h []domain.Recorded, today domain.Date) ([]domain.Event, error) {
		p := domain.FoldParticipant(h)
		return domain.RecordScore(p, domain.RecordScoreCommand{
			Date: on, Timepoint: domain.Timepoints()[len(p.Scores)], Instrument: domain.InstrumentIndicatorIndex,
			InstrumentVersion: domain.IndicatorIndexVersion, Scores: domain.Scores{Hope: 4, WellBeing: 5, Network: 6, WorkAttachment: 7},
		}, today)
	}
}

func erase(on domain.Date) casework.Decision {
	return func(h []domain.Recorded, today domain.Date) ([]domain.Event, error) {
		return domain.ErasePersonalData(domain.FoldParticipant(h), domain.ErasePersonalDataCommand{
			Date: on, LegalBasis: domain.ErasureConsentWithdrawn, RequestedBy: domain.RequesterParticipant,
		}, today)
	}
}

func registerEmployer(orgnr string) casework.Decision {
	return func(h []domain.Recorded, _ domain.Date) ([]domain.Event, error) {
		return domain.RegisterEmployer(domain.FoldEmployer(h), domain.RegisterEmployerCommand{
			OrganisationNumber: orgnr, Name: "Test Employer AS", IndustryCode: "88.990", Municipality: "0301",
			Personal: &domain.EmployerPersonal{ContactName: contactMarker, ContactPhone: "+47 22 00 00 00"},
		})
	}
}

func execute(t *testing.T, svc *casework.Service, stream string, decide casework.Decision) casework.Result {
	t.Helper()
	res, err := svc.Execute(context.Background(), stream, request(""), decide)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// stored is every event of the store, as stored.
func stored(t *testing.T, store eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	evs, err := store.ReadAll(context.Background(), eventstore.ReadAllOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func verifyChain(t *testing.T, store eventstore.Store) chain.Report {
	t.Helper()
	r, err := chain.Verify(context.Background(), store, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Fatalf("chain broken: %v", r.Breaks)
	}
	return r
}

func keyFile(store *testStore, stream string) string {
	return filepath.Join(store.dir, "keys", personaldata.KeyID(stream)+".key")
}

func exists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Stat(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

func TestPersonalDataAreSealedAndEveryEventChained(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	svc := newService(t, store, casework.Options{})
	participant := domain.ParticipantStream(uuid.New())
	employer := domain.EmployerStream(casework.EmployerID("974760673"))

	execute(t, svc, participant, enrol(t, enrolment(t)))
	execute(t, svc, participant, meetingWithMinutes(date(t, "2026-03-09")))
	execute(t, svc, participant, score(date(t, "2026-03-10")))
	execute(t, svc, employer, registerEmployer("974760673"))
	// One command may append several events; each links to the one before.
	execute(t, svc, participant, func(h []domain.Recorded, today domain.Date) ([]domain.Event, error) {
		a, err := meetingWithMinutes(date(t, "2026-03-11"))(h, today)
		if err != nil {
			return nil, err
		}
		b, err := meeting(date(t, "2026-03-12"))(h, today)
		return append(a, b...), err
	})

	nid := enrolment(t).Personal.NationalID
	for _, ev := range stored(t, store) {
		for _, marker := range []string{"Test Person", nid, minutesMarker, contactMarker} {
			if bytes.Contains(ev.Data, []byte(marker)) || bytes.Contains(ev.Metadata, []byte(marker)) {
				t.Errorf("%s at revision %d of %s holds %q in clear", ev.Type, ev.Revision, ev.Stream, marker)
			}
		}
		has, err := personaldata.HasPersonal(ev.Data)
		if err != nil {
			t.Fatal(err)
		}
		if has != personaldata.IsSealed(ev.Data) {
			t.Errorf("%s at revision %d: a personal member that is not sealed: %s", ev.Type, ev.Revision, ev.Data)
		}
		if ev.Type == domain.TypeParticipantEnrolled && !bytes.Contains(ev.Data, []byte(`"office":"bergen"`)) {
			t.Errorf("the public members are not in clear: %s", ev.Data)
		}
		if ev.Type == domain.TypeIndicatorScored && has {
			t.Errorf("scores got a personal member: %s", ev.Data)
		}
	}
	r := verifyChain(t, store)
	if r.Streams != 2 || r.Events != 6 {
		t.Fatalf("verified %d events in %d streams, want 6 in 2", r.Events, r.Streams)
	}
	// One key per stream with personal data.
	for _, s := range []string{participant, employer} {
		if !exists(t, keyFile(store, s)) {
			t.Errorf("no key file for %s", s)
		}
	}

	// Another process reads it all back, opened.
	other := newService(t, store, casework.Options{})
	h, _, err := other.Load(ctx, participant)
	if err != nil {
		t.Fatal(err)
	}
	p := domain.FoldParticipant(h)
	if p.Personal == nil || p.Personal.Name != "Test Person" || p.Personal.NationalID != nid {
		t.Fatalf("personal data read back: %+v", p.Personal)
	}
	if len(p.Meetings) != 3 || p.Meetings[0].Personal == nil || p.Meetings[0].Personal.Minutes != minutesMarker {
		t.Fatalf("meetings read back: %+v", p.Meetings)
	}
	eh, _, err := other.Load(ctx, employer)
	if err != nil {
		t.Fatal(err)
	}
	if e := domain.FoldEmployer(eh); e.Personal == nil || e.Personal.ContactName != contactMarker {
		t.Fatalf("employer contact read back: %+v", e.Personal)
	}
}

// appendRaw appends an event the way a writer that bypasses casework
// would: with the given personal member and link.
func appendRaw(t *testing.T, store eventstore.Store, stream string, rev uint64, data []byte, prev string) {
	t.Helper()
	meta := domain.NewMetadata(domain.MeetingHeld{Date: date(t, "2026-03-13")}, domain.Actor{UserID: "u-x", Role: "caseworker", Office: "bergen"}, now, time.UTC, uuid.New(), uuid.Nil)
	meta.PrevDigest = prev
	mb, err := domain.EncodeMetadata(meta)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(context.Background(), stream, eventstore.AtRevision(rev),
		eventstore.EventData{ID: uuid.New(), Type: domain.TypeMeetingHeld, Data: data, Metadata: mb}); err != nil {
		t.Fatal(err)
	}
}

func TestLoadRefusesWhatTheChainOrTheSealsDoNotVouchFor(t *testing.T) {
	clearMeeting := []byte(`{"date":"2026-03-13","kind":"` + string(domain.MeetingKinds()[0]) + `","personal":{"minutes":"in clear"}}`)
	publicMeeting := []byte(`{"date":"2026-03-13","kind":"` + string(domain.MeetingKinds()[0]) + `"}`)
	tests := []struct {
		name string
		data []byte
		prev func(head chain.Digest, stream string) string
		want error
	}{
		{"a link to another event", publicMeeting, func(_ chain.Digest, s string) string { return chain.Genesis(s).String() }, chain.ErrBroken},
		{"no link", publicMeeting, func(chain.Digest, string) string { return "" }, chain.ErrBroken},
		{"personal data in clear", clearMeeting, func(h chain.Digest, _ string) string { return h.String() }, personaldata.ErrInClear},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := openStore(t)
			svc := newService(t, store, casework.Options{})
			stream := domain.ParticipantStream(uuid.New())
			execute(t, svc, stream, enrol(t, enrolment(t)))
			evs := stored(t, store)
			appendRaw(t, store, stream, 0, tt.data, tt.prev(chain.OfRecorded(evs[0]), stream))
			for _, s := range []*casework.Service{svc, newService(t, store, casework.Options{})} {
				if _, _, err := s.Load(context.Background(), stream); !errors.Is(err, tt.want) {
					t.Fatalf("load: err = %v, want %v", err, tt.want)
				}
				// Nothing is written on top of it either.
				if _, err := s.Execute(context.Background(), stream, request(""), meeting(date(t, "2026-03-14"))); !errors.Is(err, tt.want) {
					t.Fatalf("execute: err = %v, want %v", err, tt.want)
				}
			}
		})
	}
}

// A participant whose key store lost their key is not shown as erased:
// the loss is an error, not a silent erasure.
func TestALostKeyIsAnErrorNotAnErasure(t *testing.T) {
	store := openStore(t)
	stream := domain.ParticipantStream(uuid.New())
	execute(t, newService(t, store, casework.Options{}), stream, enrol(t, enrolment(t)))
	if err := os.Remove(keyFile(store, stream)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := newService(t, store, casework.Options{}).Load(context.Background(), stream); !errors.Is(err, personaldata.ErrNoKey) {
		t.Fatalf("err = %v, want ErrNoKey", err)
	}
}

// A key lost while the process runs (a key volume gone, its key no longer
// in memory) fails the next write with personal data as the key store's
// unavailability: no new key is made for a participant whose earlier
// personal data are sealed under the lost one.
func TestALostKeyIsNeverReplacedByANewOne(t *testing.T) {
	store := openStore(t)
	keys := keystoretest.Keyring(t, store.dir)
	svc := newService(t, store, casework.Options{Keys: keys})
	stream := domain.ParticipantStream(uuid.New())
	execute(t, svc, stream, enrol(t, enrolment(t)))
	if _, _, err := svc.Load(context.Background(), stream); err != nil { // the history is cached, opened
		t.Fatal(err)
	}
	if err := os.Remove(keyFile(store, stream)); err != nil {
		t.Fatal(err)
	}
	keys.Forget(personaldata.KeyID(stream))
	before := len(stored(t, store))
	_, err := svc.Execute(context.Background(), stream, request(""), meetingWithMinutes(date(t, "2026-03-09")))
	if !errors.Is(err, personaldata.ErrKeyStoreUnavailable) || !errors.Is(err, personaldata.ErrNoKey) {
		t.Fatalf("a write after the key was lost: %v, want the key store unavailable", err)
	}
	if exists(t, keyFile(store, stream)) {
		t.Error("a new key was made for the participant")
	}
	if after := len(stored(t, store)); after != before {
		t.Errorf("%d events appended", after-before)
	}
}

// participantFacts is what erasure must leave as it was: the public,
// statistical state.
func participantFacts(p domain.Participant) domain.Participant {
	p.Personal, p.Erased, p.ErasedOn = nil, false, domain.Date{}
	for i := range p.Meetings {
		p.Meetings[i].Personal = nil
	}
	for i := range p.Episodes {
		if p.Episodes[i].Exit != nil {
			x := *p.Episodes[i].Exit
			x.Personal = nil
			p.Episodes[i].Exit = &x
		}
	}
	return p
}

func TestErasure(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	svc := newService(t, store, casework.Options{})
	stream := domain.ParticipantStream(uuid.New())
	execute(t, svc, stream, enrol(t, enrolment(t)))
	execute(t, svc, stream, meetingWithMinutes(date(t, "2026-03-09")))
	execute(t, svc, stream, score(date(t, "2026-03-10")))
	before, _, err := svc.Load(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	storedBefore := stored(t, store)

	res := execute(t, svc, stream, erase(date(t, "2026-05-15")))
	if res.Revision != 3 {
		t.Fatalf("erasure at revision %d, want 3", res.Revision)
	}
	if exists(t, keyFile(store, stream)) {
		t.Fatal("the data key survived the erasure")
	}

	check := func(t *testing.T, svc *casework.Service, store eventstore.Store) {
		t.Helper()
		h, rev, err := svc.Load(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		p := domain.FoldParticipant(h)
		if !p.Erased || p.Personal != nil || p.Meetings[0].Personal != nil {
			t.Fatalf("after erasure: erased %v, personal %+v, meeting %+v", p.Erased, p.Personal, p.Meetings[0].Personal)
		}
		for _, r := range h {
			if ev, ok := r.Event.(domain.ParticipantEnrolled); ok && ev.Personal != nil {
				t.Fatal("the history still holds the enrolment's personal data")
			}
			if ev, ok := r.Event.(domain.MeetingHeld); ok && ev.Personal != nil {
				t.Fatal("the history still holds the meeting's personal data")
			}
		}
		// The events before the erasure fold to the same public facts;
		// who did what and when stays.
		if got, want := participantFacts(domain.FoldParticipant(h[:len(before)])), participantFacts(domain.FoldParticipant(before)); !reflect.DeepEqual(got, want) {
			t.Fatalf("public state changed:\n%+v\nwant\n%+v", got, want)
		}
		if rev != 3 || len(h) != 4 {
			t.Fatalf("revision %d with %d events, want 3 and 4", rev, len(h))
		}
		for i, r := range before {
			if h[i].ID != r.ID || h[i].Meta != r.Meta || h[i].Event.EventType() != r.Event.EventType() {
				t.Fatalf("event %d: %s by %+v, was %s by %+v", i, h[i].Event.EventType(), h[i].Meta, r.Event.EventType(), r.Meta)
			}
		}
		// The stored events are the bytes they were; the chain holds.
		after := stored(t, store)
		for i, ev := range storedBefore {
			if !bytes.Equal(after[i].Data, ev.Data) || !bytes.Equal(after[i].Metadata, ev.Metadata) {
				t.Fatalf("stored event %d changed", i)
			}
		}
		verifyChain(t, store)
	}
	t.Run("read by the same process", func(t *testing.T) { check(t, svc, store) })
	t.Run("read by another process", func(t *testing.T) { check(t, newService(t, store, casework.Options{}), store) })

	t.Run("after more public events and a restart", func(t *testing.T) {
		execute(t, svc, stream, score(date(t, "2026-05-15")))
		// Personal data can no longer be recorded, and no key comes back.
		_, err := svc.Execute(ctx, stream, request(""), meetingWithMinutes(date(t, "2026-05-15")))
		var rejected *domain.RejectedError
		if !errors.As(err, &rejected) || rejected.Code != domain.CodeErased {
			t.Fatalf("personal data after erasure: err = %v, want a rejection", err)
		}
		if _, err := svc.Execute(ctx, stream, request(""), erase(date(t, "2026-05-15"))); !errors.As(err, &rejected) || rejected.Code != domain.CodeAlreadyErased {
			t.Fatalf("second erasure: err = %v, want already_erased", err)
		}
		if exists(t, keyFile(store, stream)) {
			t.Fatal("a data key came back")
		}
		if err := store.Store.Close(); err != nil {
			t.Fatal(err)
		}
		reopened, err := bolt.Open(filepath.Join(store.dir, "events.db"), bolt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { reopened.Close() })
		restarted := &testStore{Store: reopened, dir: store.dir}
		svc := newService(t, restarted, casework.Options{})
		h, _, err := svc.Load(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		if p := domain.FoldParticipant(h); !p.Erased || p.Personal != nil || len(p.Scores) != 2 {
			t.Fatalf("after a restart: erased %v, personal %+v, %d scores", p.Erased, p.Personal, len(p.Scores))
		}
		verifyChain(t, restarted)
	})
}

// A process that read the participant before another process erased them
// drops what it holds of their personal data at its next load.
func TestErasureByAnotherProcess(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	a := newService(t, store, casework.Options{})
	b := newService(t, store, casework.Options{})
	stream := domain.ParticipantStream(uuid.New())
	execute(t, a, stream, enrol(t, enrolment(t)))
	execute(t, a, stream, meetingWithMinutes(date(t, "2026-03-09")))
	if h, _, err := a.Load(ctx, stream); err != nil || domain.FoldParticipant(h).Personal == nil {
		t.Fatalf("a reads %v", err)
	}
	execute(t, b, stream, erase(date(t, "2026-05-15")))

	h, _, err := a.Load(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	if p := domain.FoldParticipant(h); !p.Erased || p.Personal != nil {
		t.Fatalf("a still shows personal data: %+v", p.Personal)
	}
	for _, r := range h {
		if ev, ok := r.Event.(domain.ParticipantEnrolled); ok && ev.Personal != nil {
			t.Fatal("a's history still holds the enrolment's personal data")
		}
	}
}

// failingDeletes is a key store whose deletes fail, as a full or broken
// disk would make them.
type failingDeletes struct {
	personaldata.KeyStore
	fail atomic.Bool
}

func (f *failingDeletes) Delete(ctx context.Context, id string) error {
	if f.fail.Load() {
		return errors.New("disk on fire")
	}
	return f.KeyStore.Delete(ctx, id)
}

func keyringOver(t *testing.T, dir string, ks personaldata.KeyStore) *personaldata.Keyring {
	t.Helper()
	master, _, err := personaldata.OpenOrCreateMasterKeyFile(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := personaldata.NewKeyring(ks, master, personaldata.KeyringOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// The erasure is appended before the key is destroyed; a key left behind
// (a crash in between, a failed delete) is destroyed by the next load.
func TestAKeyLeftBehindIsDestroyedByTheNextLoad(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	files, err := keyfile.Open(filepath.Join(store.dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	ks := &failingDeletes{KeyStore: files}
	svc := newService(t, store, casework.Options{Keys: keyringOver(t, store.dir, ks)})
	stream := domain.ParticipantStream(uuid.New())
	execute(t, svc, stream, enrol(t, enrolment(t)))

	ks.fail.Store(true)
	res, err := svc.Execute(ctx, stream, request(""), erase(date(t, "2026-05-15")))
	if !errors.Is(err, casework.ErrKeyNotDestroyed) || res.Revision != 1 {
		t.Fatalf("Execute = %+v, %v; want the erasure at revision 1 and ErrKeyNotDestroyed", res, err)
	}
	if !exists(t, keyFile(store, stream)) {
		t.Fatal("the key is gone although the delete failed")
	}
	// While the key store fails, loading says so rather than hide it.
	if _, _, err := svc.Load(ctx, stream); !errors.Is(err, casework.ErrKeyNotDestroyed) {
		t.Fatalf("load with a failing key store: err = %v", err)
	}
	ks.fail.Store(false)
	h, _, err := svc.Load(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	if p := domain.FoldParticipant(h); !p.Erased || p.Personal != nil {
		t.Fatalf("after repair: %+v", p.Personal)
	}
	if exists(t, keyFile(store, stream)) {
		t.Fatal("the load did not destroy the key left behind")
	}

	// A key file that comes back (restored from a backup, say) is
	// destroyed by the first load of a process.
	other := domain.ParticipantStream(uuid.New())
	execute(t, svc, other, enrol(t, enrolment(t)))
	backup, err := os.ReadFile(keyFile(store, other))
	if err != nil {
		t.Fatal(err)
	}
	execute(t, svc, other, erase(date(t, "2026-05-15")))
	if err := os.WriteFile(keyFile(store, other), backup, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := newService(t, store, casework.Options{}).Load(ctx, other); err != nil {
		t.Fatal(err)
	}
	if exists(t, keyFile(store, other)) {
		t.Fatal("a restored key of an erased participant survived a load")
	}
}

// countingKeys counts reads of the key store: each is an unwrap.
type countingKeys struct {
	personaldata.KeyStore
	gets atomic.Int64
}

func (c *countingKeys) Get(ctx context.Context, id string) (personaldata.WrappedKey, error) {
	c.gets.Add(1)
	return c.KeyStore.Get(ctx, id)
}

func TestAProcessUnwrapsAParticipantsKeyOnce(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	stream := domain.ParticipantStream(uuid.New())
	writer := newService(t, store, casework.Options{})
	execute(t, writer, stream, enrol(t, enrolment(t)))
	for i := range 20 {
		execute(t, writer, stream, meetingWithMinutes(date(t, "2026-03-09").AddDays(i)))
	}

	files, err := keyfile.Open(filepath.Join(store.dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	ks := &countingKeys{KeyStore: files}
	// A small history cache: the participant's history is read from the
	// store again and again, and its events opened each time.
	svc := newService(t, store, casework.Options{Keys: keyringOver(t, store.dir, ks), CacheStreams: 1})
	elsewhere := domain.ProgrammeStream("evicts-the-cache")
	execute(t, writer, elsewhere, func(h []domain.Recorded, _ domain.Date) ([]domain.Event, error) {
		return domain.DefineProgramme(domain.FoldProgramme(h), domain.DefineProgrammeCommand{Slug: "evicts-the-cache", Name: "Evicts the cache"})
	})
	for range 3 {
		if _, _, err := svc.Load(ctx, stream); err != nil {
			t.Fatal(err)
		}
		execute(t, svc, stream, meetingWithMinutes(date(t, "2026-04-01")))
		if _, _, err := svc.Load(ctx, elsewhere); err != nil {
			t.Fatal(err)
		}
	}
	if n := ks.gets.Load(); n != 1 {
		t.Fatalf("%d unwraps of one participant's key, want 1", n)
	}
}

// Two processes write a new participant's first events at once; both
// seal under the one key that wins, and the chain stays a line.
func TestRacingWritersShareAKeyAndAChain(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	a := newService(t, store, casework.Options{MaxAttempts: 60})
	b := newService(t, store, casework.Options{MaxAttempts: 60})
	stream := domain.ParticipantStream(uuid.New())
	var wg sync.WaitGroup
	for i, svc := range []*casework.Service{a, b, a, b} {
		wg.Go(func() {
			_, err := svc.Execute(ctx, stream, request(""), func(h []domain.Recorded, today domain.Date) ([]domain.Event, error) {
				if len(h) == 0 {
					return enrol(t, enrolment(t))(h, today)
				}
				return meetingWithMinutes(date(t, "2026-03-09").AddDays(i))(h, today)
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	verifyChain(t, store)
	h, rev, err := newService(t, store, casework.Options{}).Load(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	if p := domain.FoldParticipant(h); rev != 3 || len(p.Meetings) != 3 || p.Personal == nil {
		t.Fatalf("revision %d, %d meetings, personal %v", rev, len(p.Meetings), p.Personal != nil)
	}
}

func TestNewRequiresKeys(t *testing.T) {
	if _, err := casework.New(openStore(t), casework.Options{}); err == nil {
		t.Fatal("a service without keys")
	}
}
