package projections_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/bolt"
	"github.com/caseledger/caseledger/projections"
)

// recorder is a projection of its own for the runner's tests: it keeps
// the ids of the events of "rec-" streams in the order applied, and cannot
// apply events of type poison.
type recorder struct {
	name    string
	version int
	poison  string
	prefix  string // of the streams it takes; "rec-" when empty

	mu      sync.Mutex
	ids     []uuid.UUID
	applied int // Apply calls since the recorder was made
}

func newRecorder(name string) *recorder { return &recorder{name: name, version: 1, poison: "Poison"} }

func (r *recorder) Name() string       { return r.name }
func (r *recorder) SchemaVersion() int { return r.version }
func (r *recorder) Filter() eventstore.Filter {
	if r.prefix != "" {
		return eventstore.Filter{StreamPrefixes: []string{r.prefix}}
	}
	return eventstore.Filter{StreamPrefixes: []string{"rec-"}}
}

func (r *recorder) Apply(_ context.Context, ev eventstore.RecordedEvent) error {
	if ev.Type == r.poison {
		return errors.New("cannot apply this")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, ev.ID)
	r.applied++
	return nil
}

func (r *recorder) Snapshot(w io.Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return json.NewEncoder(w).Encode(r.ids)
}

func (r *recorder) Restore(rd io.Reader) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = nil
	return json.NewDecoder(rd).Decode(&r.ids)
}

func (r *recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = nil
}

func (r *recorder) state() ([]uuid.UUID, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ids), r.applied
}

// log is a bolt store and what was appended to its "rec-" streams.
type log struct {
	store *bolt.Store
	ids   []uuid.UUID // of the events of "rec-" streams, in log order
}

func newLog(t *testing.T) *log {
	t.Helper()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "events.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return &log{store: store}
}

// append writes n events of type typ to stream and returns the position of
// the last.
func (l *log) append(t *testing.T, stream, typ string, n int) uint64 {
	t.Helper()
	evs := make([]eventstore.EventData, n)
	for i := range evs {
		evs[i] = eventstore.EventData{ID: uuid.New(), Type: typ, Data: []byte(`{}`), Metadata: []byte(`{}`)}
	}
	res, err := l.store.Append(context.Background(), stream, eventstore.Any, evs...)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(stream, "rec-") {
		for _, ev := range evs {
			l.ids = append(l.ids, ev.ID)
		}
	}
	return res.Position
}

// run runs r until the test ends or the returned stop is called.
// runner is a runner of ps over the log's store.
func (l *log) runner(t *testing.T, opts projections.Options, ps ...projections.Projection) *projections.Runner {
	t.Helper()
	r, err := projections.New(l.store, opts, ps...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func run(t *testing.T, r *projections.Runner) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	stop = sync.OnceFunc(func() { cancel(); <-done })
	t.Cleanup(stop)
	return stop
}

func waitFor(t *testing.T, r *projections.Runner, pos uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.WaitFor(ctx, pos); err != nil {
		t.Fatalf("WaitFor(%d): %v", pos, err)
	}
}

func TestRunnerCatchesUpThenFollows(t *testing.T) {
	l := newLog(t)
	l.append(t, "rec-a", "Happened", 5)
	l.append(t, "other-x", "Happened", 3) // not the recorder's
	before := l.append(t, "rec-b", "Happened", 4)
	rec := newRecorder("rec")
	r := l.runner(t, projections.Options{}, rec)
	run(t, r)
	waitFor(t, r, before)
	if ids, _ := rec.state(); !slices.Equal(ids, l.ids) {
		t.Fatalf("caught up with %d events, want the %d of rec- streams in log order", len(ids), len(l.ids))
	}
	if s := r.Statuses()[0]; !s.CaughtUp || s.Position < before || s.Applied != 9 || s.Err != nil {
		t.Errorf("status after catching up %+v", s)
	}
	if err := r.Ready(context.Background()); err != nil {
		t.Errorf("not ready: %v", err)
	}
	// Live: events appended now are applied too.
	live := l.append(t, "rec-a", "Happened", 2)
	waitFor(t, r, live)
	if ids, _ := rec.state(); !slices.Equal(ids, l.ids) {
		t.Fatalf("after live events: %d applied, want %d", len(ids), len(l.ids))
	}
	lag, err := r.Lag(context.Background())
	if err != nil || len(lag) != 1 || lag[0].Positions != 0 {
		t.Errorf("lag %+v, %v; want none", lag, err)
	}
}

func TestRunnerRestartReplaysOnlyLaterEvents(t *testing.T) {
	l := newLog(t)
	dir := t.TempDir()
	first := l.append(t, "rec-a", "Happened", 6)
	rec := newRecorder("rec")
	r := l.runner(t, projections.Options{Dir: dir}, rec)
	stop := run(t, r)
	waitFor(t, r, first)
	stop() // writes the checkpoint with the snapshot

	later := l.append(t, "rec-b", "Happened", 3)
	again := newRecorder("rec")
	r2 := l.runner(t, projections.Options{Dir: dir}, again)
	run(t, r2)
	waitFor(t, r2, later)
	ids, applied := again.state()
	if !slices.Equal(ids, l.ids) {
		t.Errorf("after the restart the projection holds %d events, want %d", len(ids), len(l.ids))
	}
	if applied != 3 {
		t.Errorf("applied %d events after the restart, want the 3 after the snapshot", applied)
	}
	if s := r2.Statuses()[0]; s.Restored != first || s.Applied != 3 {
		t.Errorf("status %+v, want restored from position %d", s, first)
	}

	t.Run("a snapshot of another schema version is rebuilt from the start", func(t *testing.T) {
		newer := newRecorder("rec")
		newer.version = 2
		r3 := l.runner(t, projections.Options{Dir: dir}, newer)
		run(t, r3)
		waitFor(t, r3, later)
		if ids, applied := newer.state(); !slices.Equal(ids, l.ids) || applied != len(l.ids) {
			t.Errorf("rebuilt %d events by %d applies, want all %d", len(ids), applied, len(l.ids))
		}
		if s := r3.Statuses()[0]; s.Restored != 0 {
			t.Errorf("restored from %d, want a rebuild", s.Restored)
		}
	})
}

func TestRunnerPoisonStopsOnlyItsProjection(t *testing.T) {
	l := newLog(t)
	l.append(t, "rec-a", "Happened", 2)
	poisoned, healthy := newRecorder("poisoned"), newRecorder("healthy")
	healthy.poison = "" // applies anything
	r := l.runner(t, projections.Options{}, poisoned, healthy)
	run(t, r)
	waitFor(t, r, l.append(t, "rec-a", "Happened", 1))
	if err := r.Ready(context.Background()); err != nil {
		t.Fatalf("not ready before the poison: %v", err)
	}
	at := l.append(t, "rec-b", "Poison", 1)
	poison := l.ids[len(l.ids)-1]
	after := l.append(t, "rec-a", "Happened", 2)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.WaitFor(ctx, after); !errors.Is(err, projections.ErrStopped) {
		t.Fatalf("WaitFor past the poison = %v, want ErrStopped", err)
	}
	// The healthy projection goes on past it. WaitFor answered as soon as
	// the poisoned one stopped, so the healthy one is waited for by its
	// status.
	for deadline := time.Now().Add(5 * time.Second); r.Statuses()[1].Position < after && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if ids, _ := healthy.state(); !slices.Equal(ids, l.ids) {
		t.Errorf("the healthy projection applied %d events, want all %d", len(ids), len(l.ids))
	}
	// The poisoned one stopped at it: nothing after it is applied.
	if ids, _ := poisoned.state(); len(ids) != 3 || slices.Contains(ids, poison) {
		t.Errorf("the poisoned projection applied %d events, want the 3 before the poison", len(ids))
	}
	st := r.Statuses()
	var aerr *projections.ApplyError
	if !errors.As(st[0].Err, &aerr) || aerr.Position != at || aerr.EventID != poison || aerr.Projection != "poisoned" || st[0].Failures != 1 {
		t.Errorf("status of the poisoned projection %+v, want stopped at %d", st[0], at)
	}
	if st[1].Err != nil || st[1].Failures != 0 {
		t.Errorf("status of the healthy projection %+v", st[1])
	}
	ready := r.Ready(context.Background())
	if ready == nil || !strings.Contains(ready.Error(), poison.String()) || !strings.Contains(ready.Error(), "poisoned") {
		t.Errorf("readiness = %v, want it to name the projection and event %s", ready, poison)
	}
}

func TestRunnerWaitFor(t *testing.T) {
	l := newLog(t)
	mine := l.append(t, "rec-a", "Happened", 2)
	rec := newRecorder("rec")
	r := l.runner(t, projections.Options{}, rec)
	run(t, r)
	waitFor(t, r, mine)

	t.Run("a position of events the projection does not read", func(t *testing.T) {
		// Nothing for the projection after its last event: it reflects the
		// log up to there without applying anything.
		waitFor(t, r, l.append(t, "other-x", "Happened", 3))
	})
	t.Run("a position the log has not reached times out", func(t *testing.T) {
		head := l.append(t, "other-x", "Happened", 1)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := r.WaitFor(ctx, head+5); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("WaitFor(%d) with the head at %d = %v, want the deadline", head+5, head, err)
		}
		// The event that comes at that position later is still waited for
		// and applied.
		var pos uint64
		for pos < head+5 {
			pos = l.append(t, "rec-b", "Happened", 1)
		}
		waitFor(t, r, pos)
		if ids, _ := rec.state(); !slices.Equal(ids, l.ids) {
			t.Errorf("applied %d events, want %d", len(ids), len(l.ids))
		}
		if s := r.Statuses()[0]; s.Position != pos {
			t.Errorf("position %d, want %d", s.Position, pos)
		}
	})
	t.Run("a cancelled wait", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := r.WaitFor(ctx, 1<<40); !errors.Is(err, context.Canceled) {
			t.Fatalf("WaitFor = %v, want context.Canceled", err)
		}
	})
}

func TestRunnerRebuild(t *testing.T) {
	l := newLog(t)
	dir := t.TempDir()
	l.append(t, "rec-a", "Happened", 4)
	head := l.append(t, "other-x", "Happened", 2)
	rec := newRecorder("rec")
	r := l.runner(t, projections.Options{Dir: dir}, rec)
	rec.ids = []uuid.UUID{uuid.New()} // state a rebuild must throw away
	var last [3]uint64
	if err := r.Rebuild(context.Background(), func(applied, position, head uint64) { last = [3]uint64{applied, position, head} }); err != nil {
		t.Fatal(err)
	}
	if ids, _ := rec.state(); !slices.Equal(ids, l.ids) {
		t.Errorf("rebuilt %d events, want %d", len(ids), len(l.ids))
	}
	if last[0] != 4 || last[2] != head {
		t.Errorf("progress (applied, position, head) = %v, want 4 applied of a log with head %d", last, head)
	}
	// The rebuild wrote a snapshot: a runner started on it applies nothing.
	again := newRecorder("rec")
	r2 := l.runner(t, projections.Options{Dir: dir}, again)
	run(t, r2)
	waitFor(t, r2, head)
	if ids, applied := again.state(); !slices.Equal(ids, l.ids) || applied != 0 {
		t.Errorf("after the rebuild's snapshot: %d events held, %d applied; want %d and 0", len(ids), applied, len(l.ids))
	}
}

// A rebuild reads the log once for every projection: each still gets
// exactly the events its filter passes, in log order, across batches.
func TestRunnerRebuildSeveral(t *testing.T) {
	l := newLog(t)
	var other []uuid.UUID
	for i := range 7 {
		l.append(t, "rec-a", "Happened", 300)
		l.append(t, fmt.Sprintf("other-%d", i), "Happened", 1)
		evs, err := l.store.ReadStream(context.Background(), fmt.Sprintf("other-%d", i), eventstore.ReadStreamOptions{})
		if err != nil {
			t.Fatal(err)
		}
		other = append(other, evs[0].ID)
	}
	head := l.append(t, "rec-b", "Happened", 1)
	rec, oth := newRecorder("rec"), newRecorder("other")
	oth.prefix = "other-"
	r := l.runner(t, projections.Options{Dir: t.TempDir()}, rec, oth)
	if err := r.Rebuild(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if ids, _ := rec.state(); !slices.Equal(ids, l.ids) {
		t.Errorf("rec: rebuilt %d events, want %d in log order", len(ids), len(l.ids))
	}
	if ids, _ := oth.state(); !slices.Equal(ids, other) {
		t.Errorf("other: rebuilt %v, want %v", ids, other)
	}
	for _, s := range r.Statuses() {
		if s.Position != head || !s.CaughtUp {
			t.Errorf("%s: position %d, caught up %v; want %d, true", s.Name, s.Position, s.CaughtUp, head)
		}
	}
}

// appendAfterHead is a store in which an event of stream is appended just
// after the head of the log is first read: a write that lands while a
// rebuild begins.
type appendAfterHead struct {
	eventstore.Store
	once   sync.Once
	append func()
}

func (s *appendAfterHead) ReadAll(ctx context.Context, opts eventstore.ReadAllOptions) ([]eventstore.RecordedEvent, error) {
	evs, err := s.Store.ReadAll(ctx, opts)
	if opts.Backwards {
		s.once.Do(s.append)
	}
	return evs, err
}

// An event appended after a rebuild read the head is left to the next
// start, which applies it once: the rebuild neither applies it nor records
// a position behind it. Regression: when the head itself passed no
// projection's filter, the rebuild applied the later event and stored the
// head's position, so the next start applied it again.
func TestRunnerRebuildLeavesLaterEventsToTheNextStart(t *testing.T) {
	l := newLog(t)
	dir := t.TempDir()
	l.append(t, "rec-a", "Happened", 3)
	head := l.append(t, "other-x", "Happened", 1) // passes no filter
	var later uint64
	store := &appendAfterHead{Store: l.store, append: func() { later = l.append(t, "rec-a", "Happened", 1) }}
	r, err := projections.New(store, projections.Options{Dir: dir}, newRecorder("rec"))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Rebuild(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if s := r.Statuses()[0]; s.Position != head || s.Applied != 3 {
		t.Fatalf("rebuilt to position %d with %d applied, want the head %d and 3", s.Position, s.Applied, head)
	}
	again := newRecorder("rec")
	r2 := l.runner(t, projections.Options{Dir: dir}, again)
	run(t, r2)
	waitFor(t, r2, later)
	if ids, _ := again.state(); !slices.Equal(ids, l.ids) {
		t.Errorf("after a restart the projection holds %d events, want the log's %d once each", len(ids), len(l.ids))
	}
}

// A projection that cannot apply an event fails the rebuild loudly: the
// error names it, the others stop too, and the snapshots of the last good
// build stay.
func TestRunnerRebuildStopsAtAPoisonEvent(t *testing.T) {
	l := newLog(t)
	dir := t.TempDir()
	l.append(t, "rec-a", "Happened", 3)
	good, healthy := newRecorder("good"), newRecorder("healthy")
	r := l.runner(t, projections.Options{Dir: dir}, good, healthy)
	if err := r.Rebuild(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(dir, "good.snapshot"))
	if err != nil {
		t.Fatal(err)
	}
	l.append(t, "rec-a", "Poison", 1)
	// Far more than the batches a rebuild keeps in flight, so that the
	// reader must wait for the poisoned projection, which stops it.
	l.append(t, "rec-a", "Happened", 20_000)
	poisoned, healthy := newRecorder("good"), newRecorder("healthy")
	healthy.poison = ""
	r = l.runner(t, projections.Options{Dir: dir}, poisoned, healthy)
	err = r.Rebuild(context.Background(), nil)
	var aerr *projections.ApplyError
	if !errors.As(err, &aerr) || !errors.Is(err, projections.ErrStopped) || aerr.Projection != "good" || aerr.Type != "Poison" {
		t.Fatalf("Rebuild = %v, want the ApplyError of projection good at the Poison event", err)
	}
	if errors.Is(err, context.Canceled) {
		t.Errorf("Rebuild = %v: the others' stopping is reported as an interruption", err)
	}
	if err := r.Ready(context.Background()); err == nil || !strings.Contains(err.Error(), "good") {
		t.Errorf("Ready = %v, want the stopped projection named", err)
	}
	if ids, _ := healthy.state(); len(ids) == len(l.ids) {
		t.Errorf("the healthy projection applied the whole log (%d events) although the rebuild had failed", len(ids))
	}
	after, err := os.ReadFile(filepath.Join(dir, "good.snapshot"))
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("the snapshot of the last good build changed (%v)", err)
	}
}

func TestNewRefusesBadNames(t *testing.T) {
	l := newLog(t)
	for _, names := range [][]string{{"has space"}, {""}, {"twice", "twice"}, {strings.Repeat("x", 65)}} {
		ps := make([]projections.Projection, len(names))
		for i, n := range names {
			ps[i] = newRecorder(n)
		}
		if _, err := projections.New(l.store, projections.Options{}, ps...); err == nil {
			t.Errorf("New accepted projections named %q", names)
		}
	}
	if _, err := projections.New(l.store, projections.Options{}, newRecorder("a-1"), newRecorder("B2")); err != nil {
		t.Errorf("New refused good names: %v", err)
	}
}
