package personaldata_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/personaldata"
	"github.com/caseledger/caseledger/personaldata/keystoretest"
)

// Everything below is synthetic; the personal values are markers a test
// looks for in stored bytes.
const (
	stream      = "participant-5b1f0c3e-9a2d-4e7b-8c16-3f4a2d9e0b71"
	otherStream = "participant-e2c7a9d4-1f3b-4a6e-9d08-7b5c3e1f2a96"
	employer    = "employer-0b6f5f0e-8c1d-4e0a-b7a4-5d2f9e3c6a81"
)

func newKeyring(t *testing.T, store personaldata.KeyStore, opts personaldata.KeyringOptions) *personaldata.Keyring {
	t.Helper()
	m, err := personaldata.NewMasterKey(keyBytes())
	if err != nil {
		t.Fatal(err)
	}
	k, err := personaldata.NewKeyring(store, m, opts)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func encode(t testing.TB, e domain.Event) []byte {
	t.Helper()
	_, b, err := domain.EncodeEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func date(s string) domain.Date {
	d, err := domain.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// events are one of each shape: personal data of a participant, free
// text, a correction whose replacement brings its own personal data, an
// employer's contact person, and events with nothing personal.
func events() []struct {
	name    string
	stream  string
	event   domain.Event
	markers []string // personal values that must not be stored in clear
} {
	return []struct {
		name    string
		stream  string
		event   domain.Event
		markers []string
	}{
		{"enrolment", stream, domain.ParticipantEnrolled{
			Episode: 1, Programme: "hope-oslo", Office: "oslo", EnrolledOn: date("2026-03-02"),
			ReferralSource: domain.ReferralSources()[0], Profile: domain.Profile{BirthYear: 1990},
			Personal: &domain.EnrolmentPersonal{Name: "Marker Nameson", Phone: "+47 400 00 001", PreferredLanguage: "ti"},
		}, []string{"Marker Nameson", "400 00 001"}},
		{"meeting with minutes", stream, domain.MeetingHeld{
			Date: date("2026-03-09"), Kind: domain.MeetingKinds()[0],
			Personal: &domain.MeetingPersonal{Attendees: []string{"Marker Attendee"}, Minutes: "marker minutes \"quoted\" æøå"},
		}, []string{"Marker Attendee", "marker minutes"}},
		{"correction with a personal replacement", stream, domain.EntryCorrected{
			EntryID: uuid.MustParse("11111111-2222-4333-8444-555555555555"), Reason: domain.CorrectionReasons()[0],
			Replacement: domain.MeetingHeld{Date: date("2026-03-10"), Kind: domain.MeetingKinds()[0],
				Personal: &domain.MeetingPersonal{Minutes: "marker corrected minutes"}},
			Personal: &domain.NotePersonal{Note: "marker correction note"},
		}, []string{"marker corrected minutes", "marker correction note"}},
		{"employer contact person", employer, domain.EmployerRegistered{
			OrganisationNumber: "974760673", Name: "Test Employer AS", IndustryCode: "88.990", Municipality: "0301",
			Personal: &domain.EmployerPersonal{ContactName: "Marker Contact", ContactEmail: "marker@example.invalid"},
		}, []string{"Marker Contact", "marker@example.invalid"}},
		{"scores: nothing personal", stream, domain.IndicatorScored{
			Date: date("2026-03-11"), Timepoint: domain.Timepoints()[0], Instrument: domain.InstrumentIndicatorIndex,
			InstrumentVersion: 1, Scores: domain.Scores{Hope: 5, WellBeing: 6, Network: 7, WorkAttachment: 8},
		}, nil},
		{"goal closed without a note", stream, domain.GoalClosed{
			GoalID: uuid.MustParse("11111111-2222-4333-8444-666666666666"), Outcome: domain.GoalOutcomes()[0], Date: date("2026-03-12"),
		}, nil},
	}
}

func members(t testing.TB, data []byte) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	return m
}

func TestSealAndOpen(t *testing.T) {
	ctx := context.Background()
	for _, tt := range events() {
		t.Run(tt.name, func(t *testing.T) {
			store := &keystoretest.Memory{}
			k := newKeyring(t, store, personaldata.KeyringOptions{})
			id := uuid.New()
			plain := encode(t, tt.event)

			stored, err := k.SealEvent(ctx, tt.stream, id, plain)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range tt.markers {
				if bytes.Contains(stored, []byte(m)) {
					t.Errorf("stored data hold %q in clear: %s", m, stored)
				}
			}
			// The public members are kept as they were, in clear.
			want, got := members(t, plain), members(t, stored)
			_, hadPersonal := want["personal"]
			delete(want, "personal")
			var sealed json.RawMessage
			sealed, hasPersonal := got["personal"]
			delete(got, "personal")
			if !reflect.DeepEqual(got, want) {
				t.Errorf("public members changed:\n%s\nwant\n%s", stored, plain)
			}
			if hasPersonal != hadPersonal || personaldata.IsSealed(stored) != hadPersonal {
				t.Fatalf("personal member: stored %v, sealed %v, had %v", hasPersonal, personaldata.IsSealed(stored), hadPersonal)
			}
			if hadPersonal {
				var form map[string]string
				if err := json.Unmarshal(sealed, &form); err != nil || len(form) != 2 || form["key"] != tt.stream || form["sealed"] == "" {
					t.Errorf("sealed member %s, want {sealed, key: %s}", sealed, tt.stream)
				}
				if ids := store.IDs(); len(ids) != 1 || ids[0] != tt.stream {
					t.Errorf("keys %v, want one for %s", ids, tt.stream)
				}
			} else {
				if !bytes.Equal(stored, plain) {
					t.Errorf("data without personal data changed: %s", stored)
				}
				if ids := store.IDs(); len(ids) != 0 {
					t.Errorf("keys %v created for data without personal data", ids)
				}
			}

			opened, err := k.OpenEvent(ctx, tt.stream, id, stored)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(opened, plain) {
				t.Fatalf("opened\n%s\nwant\n%s", opened, plain)
			}

			// Without the key, what is left decodes as the event without
			// its personal data.
			stripped, err := personaldata.StripPersonal(stored)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := domain.DecodeEvent(tt.event.EventType(), stripped)
			if err != nil {
				t.Fatalf("stripped data do not decode: %v\n%s", err, stripped)
			}
			if has, _ := personaldata.HasPersonal(stripped); has || bytes.Contains(stripped, []byte(`"personal"`)) {
				t.Fatalf("stripped data keep a personal member: %s", stripped)
			}
			if _, _, err := domain.EncodeEvent(ev); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSealingUsesAFreshNonceEachTime(t *testing.T) {
	ctx := context.Background()
	k := newKeyring(t, &keystoretest.Memory{}, personaldata.KeyringOptions{})
	data := encode(t, events()[0].event)
	id := uuid.New()
	a, err := k.SealEvent(ctx, stream, id, data)
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.SealEvent(ctx, stream, id, data)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Fatal("sealing the same data twice gave the same bytes")
	}
}

// sealedBlob returns the decoded "sealed" bytes of stored data, and a
// function that puts changed bytes back.
func sealedBlob(t *testing.T, stored []byte) ([]byte, func([]byte) []byte) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(stored, &m); err != nil {
		t.Fatal(err)
	}
	var form struct{ Sealed, Key string }
	if err := json.Unmarshal(m["personal"], &form); err != nil {
		t.Fatal(err)
	}
	blob, err := base64.StdEncoding.DecodeString(form.Sealed)
	if err != nil {
		t.Fatal(err)
	}
	return blob, func(b []byte) []byte {
		form.Sealed = base64.StdEncoding.EncodeToString(b)
		p, _ := json.Marshal(map[string]string{"sealed": form.Sealed, "key": form.Key})
		m["personal"] = p
		out, _ := json.Marshal(m)
		return out
	}
}

func TestSealedMembersAreBoundToTheirEvent(t *testing.T) {
	ctx := context.Background()
	store := &keystoretest.Memory{}
	k := newKeyring(t, store, personaldata.KeyringOptions{})
	id, other := uuid.New(), uuid.New()
	stored, err := k.SealEvent(ctx, stream, id, encode(t, events()[0].event))
	if err != nil {
		t.Fatal(err)
	}
	// Another event of the same stream, whose sealed member is swapped in.
	second, err := k.SealEvent(ctx, stream, other, encode(t, events()[1].event))
	if err != nil {
		t.Fatal(err)
	}
	var a, b map[string]json.RawMessage
	json.Unmarshal(stored, &a)
	json.Unmarshal(second, &b)
	b["personal"] = a["personal"]
	swapped, _ := json.Marshal(b)

	blob, put := sealedBlob(t, stored)
	flipped := bytes.Clone(blob)
	flipped[len(flipped)/2] ^= 0x01
	truncated := blob[:10]

	// The same sealed member in another participant's stream names the
	// key it was sealed with, which is not that stream's.
	if _, err := k.SealEvent(ctx, otherStream, id, encode(t, events()[1].event)); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		stream string
		id     uuid.UUID
		data   []byte
		want   error
	}{
		{"another event id", stream, other, stored, personaldata.ErrTampered},
		{"moved into another event", stream, other, swapped, personaldata.ErrTampered},
		{"another stream", otherStream, id, stored, personaldata.ErrTampered},
		{"a ciphertext byte flipped", stream, id, put(flipped), personaldata.ErrTampered},
		{"truncated", stream, id, put(truncated), personaldata.ErrTampered},
		{"personal data in clear", stream, id, encode(t, events()[0].event), personaldata.ErrInClear},
		{"sealed member lacks its key", stream, id, []byte(`{"personal":{"sealed":"AAAA"}}`), personaldata.ErrInClear},
		{"sealed member with another member", stream, id, []byte(`{"personal":{"sealed":"AAAA","key":"` + stream + `","note":"x"}}`), personaldata.ErrInClear},
		{"sealed member not base64", stream, id, []byte(`{"personal":{"sealed":"*","key":"` + stream + `"}}`), personaldata.ErrMalformed},
		{"sealed member not a string", stream, id, []byte(`{"personal":{"sealed":1,"key":"` + stream + `"}}`), personaldata.ErrMalformed},
		{"personal member not an object", stream, id, []byte(`{"personal":"Marker Nameson"}`), personaldata.ErrMalformed},
		{"personal member twice", stream, id, []byte(`{"personal":null,"personal":{}}`), personaldata.ErrMalformed},
		{"not an object", stream, id, []byte(`["personal"]`), personaldata.ErrMalformed},
		{"trailing data", stream, id, append(bytes.Clone(stored), "{}"...), personaldata.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := k.OpenEvent(ctx, tt.stream, tt.id, tt.data)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), "Marker") || strings.Contains(err.Error(), "AAAA") {
				t.Fatalf("the error quotes the data: %v", err)
			}
		})
	}
}

func TestSealRefusesWhatItCannotSeal(t *testing.T) {
	ctx := context.Background()
	k := newKeyring(t, &keystoretest.Memory{}, personaldata.KeyringOptions{})
	stored, err := k.SealEvent(ctx, stream, uuid.New(), encode(t, events()[0].event))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		stream string
		data   []byte
		want   error
	}{
		{"sealed already", stream, stored, personaldata.ErrMalformed},
		{"personal member not an object", stream, []byte(`{"personal":"x"}`), personaldata.ErrMalformed},
		{"not JSON", stream, []byte(`{"personal":`), personaldata.ErrMalformed},
		{"a stream name that names no key", "$all", []byte(`{"personal":{"note":"x"}}`), personaldata.ErrInvalidKeyID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := k.SealEvent(ctx, tt.stream, uuid.New(), tt.data); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAWrongMasterKeyIsNamed(t *testing.T) {
	ctx := context.Background()
	store := &keystoretest.Memory{}
	k := newKeyring(t, store, personaldata.KeyringOptions{})
	id := uuid.New()
	stored, err := k.SealEvent(ctx, stream, id, encode(t, events()[0].event))
	if err != nil {
		t.Fatal(err)
	}
	other, err := personaldata.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := personaldata.NewKeyring(store, other, personaldata.KeyringOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = wrong.OpenEvent(ctx, stream, id, stored)
	if !errors.Is(err, personaldata.ErrWrongMasterKey) || !strings.Contains(err.Error(), other.ID()) || !strings.Contains(err.Error(), k.MasterID()) {
		t.Fatalf("err = %v, want ErrWrongMasterKey naming both master key ids", err)
	}

	// A wrapped key whose master id was forged to match still fails to
	// unwrap: the id is a label, GCM authenticates.
	w, _ := store.Get(ctx, stream)
	store.Delete(ctx, stream)
	store.Create(ctx, stream, personaldata.WrappedKey{Master: other.ID(), Ciphertext: w.Ciphertext})
	if _, err := wrong.OpenEvent(ctx, stream, id, stored); !errors.Is(err, personaldata.ErrWrongMasterKey) {
		t.Fatalf("forged master id: err = %v, want ErrWrongMasterKey", err)
	}
	// A key stored under another id does not unwrap either: the wrapping
	// is bound to its id.
	store.Create(ctx, otherStream, w)
	relabelled := bytes.Replace(stored, []byte(`"key":"`+stream+`"`), []byte(`"key":"`+otherStream+`"`), 1)
	if _, err := k.OpenEvent(ctx, otherStream, id, relabelled); !errors.Is(err, personaldata.ErrWrongMasterKey) {
		t.Fatalf("a key file copied to another id: err = %v, want ErrWrongMasterKey", err)
	}
}

func TestDestroyedKeyNoLongerOpens(t *testing.T) {
	ctx := context.Background()
	store := &keystoretest.Memory{}
	k := newKeyring(t, store, personaldata.KeyringOptions{})
	id := uuid.New()
	stored, err := k.SealEvent(ctx, stream, id, encode(t, events()[0].event))
	if err != nil {
		t.Fatal(err)
	}
	kept, err := k.SealEvent(ctx, otherStream, id, encode(t, events()[0].event))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // idempotent
		if err := k.Destroy(ctx, stream); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := k.OpenEvent(ctx, stream, id, stored); !errors.Is(err, personaldata.ErrNoKey) {
		t.Fatalf("after destroy: err = %v, want ErrNoKey", err)
	}
	// Another process that never held the key cannot open it either.
	if _, err := newKeyring(t, store, personaldata.KeyringOptions{}).OpenEvent(ctx, stream, id, stored); !errors.Is(err, personaldata.ErrNoKey) {
		t.Fatalf("another keyring after destroy: err = %v, want ErrNoKey", err)
	}
	if _, err := k.OpenEvent(ctx, otherStream, id, kept); err != nil {
		t.Fatalf("another participant's data after a destroy: %v", err)
	}
	if err := k.Destroy(ctx, "../x"); !errors.Is(err, personaldata.ErrInvalidKeyID) {
		t.Fatalf("destroy of an invalid id: %v", err)
	}
}

// counting counts the reads of a key store, each of which is an unwrap.
type counting struct {
	personaldata.KeyStore
	gets, creates atomic.Int64
}

func (c *counting) Get(ctx context.Context, id string) (personaldata.WrappedKey, error) {
	c.gets.Add(1)
	return c.KeyStore.Get(ctx, id)
}

func (c *counting) Create(ctx context.Context, id string, w personaldata.WrappedKey) error {
	c.creates.Add(1)
	return c.KeyStore.Create(ctx, id, w)
}

func TestAProcessUnwrapsAKeyOnce(t *testing.T) {
	ctx := context.Background()
	store := &counting{KeyStore: &keystoretest.Memory{}}
	writer := newKeyring(t, store, personaldata.KeyringOptions{})
	const n = 50
	ids := make([]uuid.UUID, n)
	stored := make([][]byte, n)
	for i := range n {
		ids[i] = uuid.New()
		var err error
		if stored[i], err = writer.SealEvent(ctx, stream, ids[i], encode(t, events()[1].event)); err != nil {
			t.Fatal(err)
		}
	}
	if g, c := store.gets.Load(), store.creates.Load(); g != 1 || c != 1 {
		t.Fatalf("sealing %d events: %d reads and %d creates of the key store, want 1 and 1", n, g, c)
	}

	// Another process opens them all, from many goroutines at once.
	store.gets.Store(0)
	reader := newKeyring(t, store, personaldata.KeyringOptions{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, err := reader.OpenEvent(ctx, stream, ids[i], stored[i]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if g := store.gets.Load(); g != 1 {
		t.Fatalf("opening %d events: %d unwraps, want 1", n, g)
	}
}

func TestTheCacheIsBounded(t *testing.T) {
	ctx := context.Background()
	store := &counting{KeyStore: &keystoretest.Memory{}}
	k := newKeyring(t, store, personaldata.KeyringOptions{CacheSize: 2})
	streams := []string{stream, otherStream, employer}
	stored := map[string][]byte{}
	id := uuid.New()
	for _, s := range streams {
		var err error
		if stored[s], err = k.SealEvent(ctx, s, id, encode(t, events()[0].event)); err != nil {
			t.Fatal(err)
		}
	}
	store.gets.Store(0)
	open := func(s string) {
		t.Helper()
		if _, err := k.OpenEvent(ctx, s, id, stored[s]); err != nil {
			t.Fatal(err)
		}
	}
	open(otherStream) // cached: the last two created
	open(employer)
	if g := store.gets.Load(); g != 0 {
		t.Fatalf("%d unwraps for keys in the cache", g)
	}
	open(stream) // evicted when the third was created
	if g := store.gets.Load(); g != 1 {
		t.Fatalf("%d unwraps, want 1 for the evicted key", g)
	}
	open(otherStream) // the least recently used of the three: evicted by stream
	if g := store.gets.Load(); g != 2 {
		t.Fatalf("%d unwraps, want 2", g)
	}
}

// Two processes seal the first personal data of the same participant at
// once: one key is created and both use it.
func TestRacingFirstSealsShareOneKey(t *testing.T) {
	ctx := context.Background()
	store := &keystoretest.Memory{}
	a := newKeyring(t, store, personaldata.KeyringOptions{})
	b := newKeyring(t, store, personaldata.KeyringOptions{})
	const n = 16
	ids := make([]uuid.UUID, n)
	stored := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		ids[i] = uuid.New()
		k := a
		if i%2 == 1 {
			k = b
		}
		wg.Go(func() {
			var err error
			if stored[i], err = k.SealEvent(ctx, stream, ids[i], encode(t, events()[1].event)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	reader := newKeyring(t, store, personaldata.KeyringOptions{})
	for i := range n {
		if _, err := reader.OpenEvent(ctx, stream, ids[i], stored[i]); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
}

// failingRand is a random source that fails: nothing may be sealed then.
type failingRand struct{}

func (failingRand) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestSealFailsWithoutRandomness(t *testing.T) {
	k := newKeyring(t, &keystoretest.Memory{}, personaldata.KeyringOptions{Rand: failingRand{}})
	if _, err := k.SealEvent(context.Background(), stream, uuid.New(), encode(t, events()[0].event)); err == nil {
		t.Fatal("sealed without randomness")
	}
}

func TestNewKeyringNeedsAStoreAndAMasterKey(t *testing.T) {
	m, _ := personaldata.NewMasterKey(keyBytes())
	if _, err := personaldata.NewKeyring(nil, m, personaldata.KeyringOptions{}); err == nil {
		t.Error("a keyring without a key store")
	}
	if _, err := personaldata.NewKeyring(&keystoretest.Memory{}, personaldata.MasterKey{}, personaldata.KeyringOptions{}); err == nil {
		t.Error("a keyring without a master key")
	}
}

// stalling holds the first Get until its caller's context ends, as a
// fetch cut short by a client that went away.
type stalling struct {
	personaldata.KeyStore
	first   sync.Once
	started chan struct{}
}

func (s *stalling) Get(ctx context.Context, id string) (personaldata.WrappedKey, error) {
	stall := false
	s.first.Do(func() { stall = true })
	if stall {
		close(s.started)
		<-ctx.Done()
		return personaldata.WrappedKey{}, ctx.Err()
	}
	return s.KeyStore.Get(ctx, id)
}

// A request waiting for a key that another request is loading must not
// fail because that other request was cancelled: it loads the key itself.
func TestAWaiterOutlivesACancelledLoader(t *testing.T) {
	ctx := context.Background()
	mem := &keystoretest.Memory{}
	id := uuid.New()
	stored, err := newKeyring(t, mem, personaldata.KeyringOptions{}).SealEvent(ctx, stream, id, encode(t, events()[1].event))
	if err != nil {
		t.Fatal(err)
	}
	store := &stalling{KeyStore: mem, started: make(chan struct{})}
	reader := newKeyring(t, store, personaldata.KeyringOptions{})

	loaderCtx, cancel := context.WithCancel(ctx)
	loaderDone := make(chan error, 1)
	go func() {
		_, err := reader.OpenEvent(loaderCtx, stream, id, stored)
		loaderDone <- err
	}()
	<-store.started
	waiterDone := make(chan error, 1)
	go func() {
		_, err := reader.OpenEvent(ctx, stream, id, stored)
		waiterDone <- err
	}()
	// Give the waiter a moment to start waiting on the loader; should it
	// not be waiting yet, it loads the key itself, and must succeed too.
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-loaderDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled loader: %v, want context.Canceled", err)
	}
	if err := <-waiterDone; err != nil {
		t.Fatalf("the waiter failed with the loader's cancellation: %v", err)
	}
}
