package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/bolt"
)

// openStore opens a store that is closed when the test ends, whatever the
// test did with it before.
func openStore(t testing.TB, path string, opts bolt.Options) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, opts)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func event(typ string, data string) eventstore.EventData {
	return eventstore.EventData{ID: uuid.New(), Type: typ, Data: []byte(data), Metadata: []byte(`{"actor":"test"}`)}
}

func mustAppend(t testing.TB, s eventstore.Store, stream string, exp eventstore.Expected, evs ...eventstore.EventData) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), stream, exp, evs...)
	if err != nil {
		t.Fatalf("append to %s: %v", stream, err)
	}
	return res
}

func mustReadAll(t testing.TB, s eventstore.Store, opts eventstore.ReadAllOptions) []eventstore.RecordedEvent {
	t.Helper()
	evs, err := s.ReadAll(context.Background(), opts)
	if err != nil {
		t.Fatalf("read all: %v", err)
	}
	return evs
}

// checkLog checks the invariants of this backend's log: positions 1..n
// without gaps, and every stream's revisions 0..m without gaps, as
// ReadStream gives them too.
func checkLog(t testing.TB, s eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	all := mustReadAll(t, s, eventstore.ReadAllOptions{})
	next := make(map[string]uint64)
	for i, ev := range all {
		if ev.Position != uint64(i+1) {
			t.Fatalf("event %d of the log is at position %d: a gap", i, ev.Position)
		}
		if ev.Revision != next[ev.Stream] {
			t.Fatalf("position %d: %s revision %d, want %d", ev.Position, ev.Stream, ev.Revision, next[ev.Stream])
		}
		next[ev.Stream]++
	}
	for stream, n := range next {
		evs, err := s.ReadStream(context.Background(), stream, eventstore.ReadStreamOptions{})
		if err != nil {
			t.Fatalf("read %s: %v", stream, err)
		}
		if uint64(len(evs)) != n {
			t.Fatalf("%s: ReadStream gives %d events, the log holds %d", stream, len(evs), n)
		}
	}
	return all
}

func TestEventsSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	s := openStore(t, path, bolt.Options{})
	a := mustAppend(t, s, "case-1", eventstore.NoStream, event("CaseOpened", `{"n":1}`), event("MeetingHeld", `{"n":2}`))
	mustAppend(t, s, "case-2", eventstore.NoStream, event("CaseOpened", `{"n":3}`))
	before := mustReadAll(t, s, eventstore.ReadAllOptions{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, path, bolt.Options{})
	after := checkLog(t, s)
	if len(after) != len(before) {
		t.Fatalf("after reopen the log holds %d events, before %d", len(after), len(before))
	}
	for i := range before {
		b, a := before[i], after[i]
		if b.ID != a.ID || b.Stream != a.Stream || b.Revision != a.Revision || b.Position != a.Position ||
			string(b.Data) != string(a.Data) || string(b.Metadata) != string(a.Metadata) || !b.Recorded.Equal(a.Recorded) {
			t.Fatalf("event %d changed across reopen: %+v became %+v", i, b, a)
		}
	}
	// The reopened store continues the stream and the log where they were,
	// and numbers a new stream after the old ones.
	res := mustAppend(t, s, "case-1", eventstore.AtRevision(a.Revision), event("CaseClosed", `{}`))
	if res.Revision != 2 || res.Position != 4 {
		t.Fatalf("append after reopen: %+v, want revision 2 at position 4", res)
	}
	mustAppend(t, s, "case-3", eventstore.NoStream, event("CaseOpened", `{}`))
	all := checkLog(t, s)
	if got := all[len(all)-1].Stream; got != "case-3" {
		t.Fatalf("last event is in %s, want case-3", got)
	}
}

func TestSecondOpenOfSameFileFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	openStore(t, path, bolt.Options{})
	// bbolt's flock belongs to the open file description, so a second
	// Open in this process contends for the lock exactly as another
	// process would.
	s, err := bolt.Open(path, bolt.Options{LockTimeout: 100 * time.Millisecond})
	if err == nil {
		s.Close()
		t.Fatal("second Open of a file in use succeeded")
	}
	if !errors.Is(err, bolt.ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	t.Logf("second Open: %v", err)
}

func TestOpenRefusesForeignBoltFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucket([]byte("log"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if s, err := bolt.Open(path, bolt.Options{}); err == nil {
		s.Close()
		t.Fatal("Open accepted a bbolt file of another layout")
	}
}

func TestClockAndMaxEventSizeOptions(t *testing.T) {
	oslo := time.FixedZone("Europe/Oslo", 3600)
	at := time.Date(2025, 1, 2, 3, 4, 5, 6, oslo)
	s := openStore(t, filepath.Join(t.TempDir(), "events.db"), bolt.Options{
		Clock:        func() time.Time { return at },
		MaxEventSize: 100,
	})
	big := event("NoteWritten", string(make([]byte, 90)))
	if _, err := s.Append(context.Background(), "case-1", eventstore.Any, big); !errors.Is(err, eventstore.ErrEventTooLarge) {
		t.Fatalf("append of %d bytes with a limit of 100: %v, want ErrEventTooLarge", len(big.Data)+len(big.Metadata), err)
	}
	if evs := mustReadAll(t, s, eventstore.ReadAllOptions{}); len(evs) != 0 {
		t.Fatalf("refused append wrote %d events", len(evs))
	}
	mustAppend(t, s, "case-1", eventstore.Any, event("NoteWritten", `{}`))
	ev := mustReadAll(t, s, eventstore.ReadAllOptions{})[0]
	if !ev.Recorded.Equal(at) || ev.Recorded.Location() != time.UTC {
		t.Fatalf("recorded %v, want %v in UTC", ev.Recorded, at)
	}
}

// TestConcurrentAppendsShareCommits runs many appenders at once: every
// result must name a distinct, gapless position, and group commit must have
// put more than one append into some fsync.
func TestConcurrentAppendsShareCommits(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "events.db"), bolt.Options{})
	const writers, perWriter = 32, 20
	var (
		mu      sync.Mutex
		results = make(map[uint64]string)
		wg      sync.WaitGroup
	)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				// Two writers share each stream, so expectations race too.
				stream := fmt.Sprintf("participant-%d", w/2)
				n := 1 + i%3
				res, err := s.Append(context.Background(), stream, eventstore.Any, newEvents(n)...)
				if err != nil {
					t.Errorf("writer %d append %d: %v", w, i, err)
					return
				}
				mu.Lock()
				for p := res.Position + 1 - uint64(n); p <= res.Position; p++ {
					if prev, dup := results[p]; dup {
						t.Errorf("position %d returned to %s and %s", p, prev, stream)
					}
					results[p] = stream
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	all := checkLog(t, s)
	if len(all) != len(results) {
		t.Fatalf("log holds %d events, appends reported %d", len(all), len(results))
	}
	for _, ev := range all {
		if results[ev.Position] != ev.Stream {
			t.Fatalf("position %d holds %s, its append was to %s", ev.Position, ev.Stream, results[ev.Position])
		}
	}
	st := s.Stats()
	t.Logf("%+v: %.1f appends per commit", st, float64(st.Appends)/float64(st.Commits))
	if st.Appends != writers*perWriter || st.Commits >= st.Appends {
		t.Fatalf("stats %+v: want %d appends in fewer commits", st, writers*perWriter)
	}
}

func newEvents(n int) []eventstore.EventData {
	evs := make([]eventstore.EventData, n)
	for i := range evs {
		evs[i] = event("Step", fmt.Sprintf(`{"i":%d}`, i))
	}
	return evs
}

// TestSmallChunks makes every read span many read transactions.
func TestSmallChunks(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, filepath.Join(t.TempDir(), "events.db"), bolt.Options{ReadChunk: 3})
	for i := range 20 {
		mustAppend(t, s, fmt.Sprintf("case-%d", i%3), eventstore.Any, event(fmt.Sprintf("T%d", i%2), `{}`))
	}
	all := checkLog(t, s)
	if len(all) != 20 {
		t.Fatalf("%d events, want 20", len(all))
	}
	back := mustReadAll(t, s, eventstore.ReadAllOptions{Backwards: true, From: 15, Limit: 7})
	if len(back) != 7 || back[0].Position != 14 || back[6].Position != 8 {
		t.Fatalf("backwards from 15 limit 7: %d events from %d", len(back), back[0].Position)
	}
	evs, err := s.ReadStream(ctx, "case-1", eventstore.ReadStreamOptions{Backwards: true, From: eventstore.End})
	if err != nil || len(evs) != 7 || evs[0].Revision != 6 || evs[6].Revision != 0 {
		t.Fatalf("case-1 backwards: %d events, %v", len(evs), err)
	}
	sub, err := s.Subscribe(ctx, eventstore.SubscribeOptions{From: 2, Filter: eventstore.Filter{StreamPrefixes: []string{"case-2"}, EventTypes: []string{"T1"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var got []uint64
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m.CaughtUp {
			break
		}
		got = append(got, m.Event.Position)
	}
	// case-2 holds i = 2, 5, 8, ...; type T1 needs odd i: 5, 11, 17.
	if fmt.Sprint(got) != "[6 12 18]" {
		t.Fatalf("filtered subscription delivered positions %v, want [6 12 18]", got)
	}
}

func TestCloseEndsSubscriptionsAndRefusesCalls(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, filepath.Join(t.TempDir(), "events.db"), bolt.Options{})
	sub, err := s.Subscribe(ctx, eventstore.SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := sub.Next(ctx); err != nil || !m.CaughtUp {
		t.Fatalf("first message on an empty store: %+v, %v", m, err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := sub.Next(ctx)
		errc <- err
	}()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Next blocked during Close: %v, want ErrClosed", err)
	}
	if _, err := s.Append(ctx, "case-1", eventstore.Any, event("T", "{}")); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	if _, err := s.ReadAll(ctx, eventstore.ReadAllOptions{}); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("ReadAll after Close: %v", err)
	}
	if _, err := s.ReadStream(ctx, "case-1", eventstore.ReadStreamOptions{}); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("ReadStream after Close: %v", err)
	}
	if _, err := s.Subscribe(ctx, eventstore.SubscribeOptions{}); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Subscribe after Close: %v", err)
	}
}

// TestCloseDuringAppends: appends racing Close either land or fail with
// ErrClosed, and every one that landed is in the file.
func TestCloseDuringAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	s := openStore(t, path, bolt.Options{})
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		acked int
	)
	for w := range 16 {
		wg.Go(func() {
			for {
				_, err := s.Append(context.Background(), fmt.Sprintf("case-%d", w), eventstore.Any, event("T", "{}"))
				if errors.Is(err, eventstore.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("append: %v", err)
					return
				}
				mu.Lock()
				acked++
				mu.Unlock()
			}
		})
	}
	for s.Stats().Commits < 20 {
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	s = openStore(t, path, bolt.Options{})
	if got := len(checkLog(t, s)); got != acked {
		t.Fatalf("file holds %d events, %d appends were acknowledged", got, acked)
	}
}

func TestInvalidReadOptions(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "events.db"), bolt.Options{})
	mustAppend(t, s, "case-1", eventstore.Any, event("T", "{}"))
	if _, err := s.ReadAll(context.Background(), eventstore.ReadAllOptions{Limit: -1}); !errors.Is(err, eventstore.ErrInvalidReadRange) {
		t.Fatalf("ReadAll limit -1: %v", err)
	}
	if _, err := s.ReadStream(context.Background(), "case-1", eventstore.ReadStreamOptions{Limit: -1}); !errors.Is(err, eventstore.ErrInvalidReadRange) {
		t.Fatalf("ReadStream limit -1: %v", err)
	}
	if _, err := s.ReadStream(context.Background(), "", eventstore.ReadStreamOptions{}); !errors.Is(err, eventstore.ErrInvalidStream) {
		t.Fatalf("ReadStream of an empty name: %v", err)
	}
}

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		os.Exit(crashChild(path))
	}
	code := m.Run()
	removeFixture()
	os.Exit(code)
}

// TestLongStreamAcrossChunks reads a stream whose revisions span several
// index chunks, from every kind of starting point, in both directions.
func TestLongStreamAcrossChunks(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "events.db")
	s := openStore(t, path, bolt.Options{ReadChunk: 50})
	var (
		ids     []uuid.UUID
		batches [][]eventstore.EventData
		results []eventstore.AppendResult
	)
	for i, n := range []int{1, 63, 1, 64, 100, 7, 64} {
		evs := newEvents(n)
		results = append(results, mustAppend(t, s, "long", eventstore.Any, evs...))
		batches = append(batches, evs)
		for _, ev := range evs {
			ids = append(ids, ev.ID)
		}
		mustAppend(t, s, fmt.Sprintf("other-%d", i%2), eventstore.Any, newEvents(1+i%3)...)
	}
	total := uint64(len(ids))
	check := func(when string) {
		t.Helper()
		for _, from := range []uint64{0, 1, 63, 64, 65, 127, 128, 129, 200, total - 1, total, total + 5, eventstore.End} {
			for _, back := range []bool{false, true} {
				for _, limit := range []int{0, 1, 5, 64, 100} {
					opts := eventstore.ReadStreamOptions{Backwards: back, From: from, Limit: limit}
					got, err := s.ReadStream(ctx, "long", opts)
					if err != nil {
						t.Fatalf("%s: %+v: %v", when, opts, err)
					}
					var want []uint64
					if back {
						for r := min(from, total-1); ; r-- {
							want = append(want, r)
							if r == 0 || len(want) == limit {
								break
							}
						}
					} else {
						for r := from; r < total && (limit == 0 || len(want) < limit); r++ {
							want = append(want, r)
						}
					}
					if len(got) != len(want) {
						t.Fatalf("%s: %+v: %d events, want %d", when, opts, len(got), len(want))
					}
					for i, ev := range got {
						if ev.Revision != want[i] || ev.ID != ids[want[i]] {
							t.Fatalf("%s: %+v: event %d is revision %d (%s), want %d (%s)", when, opts, i, ev.Revision, ev.ID, want[i], ids[want[i]])
						}
					}
				}
			}
		}
		// A retry of an append that spans chunks gives its original result.
		for i, evs := range batches {
			res, err := s.Append(ctx, "long", eventstore.NoStream, evs...)
			if err != nil || res != results[i] {
				t.Fatalf("%s: retry of append %d: %+v, %v; want %+v", when, i, res, err, results[i])
			}
		}
	}
	check("before reopen")
	checkLog(t, s)
	s.Close()
	s = openStore(t, path, bolt.Options{ReadChunk: 50})
	check("after reopen")
	evs := newEvents(70)
	if res := mustAppend(t, s, "long", eventstore.AtRevision(total-1), evs...); res.Revision != total+69 {
		t.Fatalf("append after reopen ends at revision %d, want %d", res.Revision, total+69)
	}
	for _, ev := range evs {
		ids = append(ids, ev.ID)
	}
	total += 70
	check("after growing")
	checkLog(t, s)
}

func TestSubscribeFromEndOnlyCatchesUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := openStore(t, filepath.Join(t.TempDir(), "events.db"), bolt.Options{})
	mustAppend(t, s, "case-1", eventstore.Any, event("T", "{}"))
	sub, err := s.Subscribe(ctx, eventstore.SubscribeOptions{From: eventstore.End})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if m, err := sub.Next(ctx); err != nil || !m.CaughtUp {
		t.Fatalf("first message: %+v, %v; want CaughtUp", m, err)
	}
	mustAppend(t, s, "case-1", eventstore.Any, event("T", "{}"))
	short, stop := context.WithTimeout(ctx, 50*time.Millisecond)
	defer stop()
	if m, err := sub.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("subscription after End delivered %+v, %v", m, err)
	}
}
