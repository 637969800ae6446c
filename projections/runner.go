package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caseledger/caseledger/eventstore"
)

// Defaults of Options.
const (
	DefaultSnapshotEvery    = 10_000
	DefaultSnapshotInterval = time.Minute
	// maxQuietScan bounds how many events WaitFor and Lag read to learn
	// that the log holds nothing a projection needs up to a position.
	maxQuietScan = 10_000
)

// Options configure a Runner. The zero value keeps no snapshots.
type Options struct {
	// Dir is where snapshots are kept; "" keeps none, so every start
	// rebuilds from the start of the log.
	Dir string
	// Logger receives the runner's messages; nil discards them.
	Logger *slog.Logger
	// SnapshotEvery and SnapshotInterval: once caught up, a projection
	// writes a snapshot when this many events were applied since the last
	// one and this much time has passed. A snapshot is also written when
	// a projection first catches up and when the runner stops.
	SnapshotEvery    int
	SnapshotInterval time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Runner runs projections against a store. Create it with New, start it
// with Run, and ask it for Statuses, Lag, Ready and WaitFor while it runs.
type Runner struct {
	store   eventstore.Store
	opts    Options
	log     *slog.Logger
	tracked []*tracked
	running atomic.Bool
}

// tracked is one projection and what the runner knows of it.
type tracked struct {
	p Projection

	position atomic.Uint64 // applied, or known to need nothing up to it
	applied  atomic.Uint64
	failures atomic.Uint64
	caughtUp atomic.Bool
	waiters  atomic.Int32

	mu           sync.Mutex
	changed      chan struct{} // closed and replaced when the status changes
	err          error
	restored     uint64
	lastRecorded time.Time
}

// New returns a Runner of the given projections, whose names must differ.
func New(store eventstore.Store, opts Options, ps ...Projection) (*Runner, error) {
	if opts.SnapshotEvery <= 0 {
		opts.SnapshotEvery = DefaultSnapshotEvery
	}
	if opts.SnapshotInterval <= 0 {
		opts.SnapshotInterval = DefaultSnapshotInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Runner{store: store, opts: opts, log: log}
	seen := map[string]bool{}
	for _, p := range ps {
		if !validName(p.Name()) {
			return nil, fmt.Errorf("projection name %q: use letters, digits and '-'", p.Name())
		}
		if seen[p.Name()] {
			return nil, fmt.Errorf("projection name %q given twice", p.Name())
		}
		seen[p.Name()] = true
		r.tracked = append(r.tracked, &tracked{p: p, changed: make(chan struct{})})
	}
	return r, nil
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Run restores every projection and follows the log until ctx ends, then
// writes a last snapshot of each projection that is still running and
// returns. A projection that stops at an event does not end Run: the
// others go on, and Ready reports it. Run returns ctx's error once done,
// or an error when no projection could start.
func (r *Runner) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return errors.New("projections: Run called twice")
	}
	defer r.running.Store(false)
	var wg sync.WaitGroup
	for _, t := range r.tracked {
		wg.Go(func() { r.run(ctx, t) })
	}
	wg.Wait()
	return ctx.Err()
}

// Rebuild builds every projection from the start of the log up to its
// head at the time of the call, ignoring snapshots, and writes their
// snapshots. The log is read once for all of them, and each projection
// applies it on a goroutine of its own, so that a rebuild of several uses
// every core. progress, when set, is called from time to time, one call
// at a time, with the number of events applied by every projection
// together, the position the slowest has reached and the head position.
func (r *Runner) Rebuild(ctx context.Context, progress func(applied, position, head uint64)) error {
	h, err := r.head(ctx)
	if err != nil {
		return err
	}
	head := h.Position
	sum := progressSum{report: progress, head: head,
		applied: make([]uint64, len(r.tracked)), position: make([]uint64, len(r.tracked))}
	for _, t := range r.tracked {
		t.p.Reset()
		t.position.Store(0)
	}
	if head > 0 {
		if err := r.fanOut(ctx, head, &sum); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err // half built: keep the old snapshots
	}
	if r.opts.Dir == "" {
		return nil
	}
	errs := make([]error, len(r.tracked))
	var wg sync.WaitGroup
	for i, t := range r.tracked {
		wg.Go(func() { errs[i] = r.snapshot(t) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// rebuildBatch is how many events of the log a rebuild hands to the
// projections at a time: enough that handing them over costs little per
// event, few enough that the batches in flight stay small.
const rebuildBatch = 512

// fanOut reads the log up to head once and hands it, in batches, to every
// projection, each applying on a goroutine of its own the events its
// filter passes. The first failure stops them all.
func (r *Runner) fanOut(ctx context.Context, head uint64, sum *progressSum) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	feeds := make([]chan []eventstore.RecordedEvent, len(r.tracked))
	errs := make([]error, len(r.tracked)+1)
	var wg sync.WaitGroup
	for i, t := range r.tracked {
		feeds[i] = make(chan []eventstore.RecordedEvent, 4)
		wg.Go(func() {
			if errs[i] = r.applyFeed(ctx, t, feeds[i], head, sum.of(i)); errs[i] != nil {
				cancel() // the others' work is wasted: the rebuild failed
			}
		})
	}
	if errs[len(r.tracked)] = r.readInto(ctx, head, feeds); errs[len(r.tracked)] != nil {
		cancel()
	}
	// Closed after any cancel, so that a projection that sees its feed end
	// sees why.
	for _, f := range feeds {
		close(f)
	}
	wg.Wait()
	// The others were stopped because of the first failure: their
	// cancellation is not an error of its own, and would make a caller
	// take the failure for an interruption.
	var failures, cancelled []error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled):
			cancelled = append(cancelled, err)
		default:
			failures = append(failures, err)
		}
	}
	if len(failures) > 0 {
		return errors.Join(failures...)
	}
	return errors.Join(cancelled...)
}

// readInto reads the log up to head, the events any projection needs, and
// sends it in batches to every feed.
func (r *Runner) readInto(ctx context.Context, head uint64, feeds []chan []eventstore.RecordedEvent) error {
	sub, err := r.store.Subscribe(ctx, eventstore.SubscribeOptions{Filter: r.union()})
	if err != nil {
		return fmt.Errorf("projections: rebuild: subscribe: %w", err)
	}
	defer sub.Close()
	send := func(batch []eventstore.RecordedEvent) error {
		for _, f := range feeds {
			select {
			case f <- batch:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	batch := make([]eventstore.RecordedEvent, 0, rebuildBatch)
	for {
		msg, err := sub.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("projections: rebuild: read the log: %w", err)
		}
		if msg.CaughtUp {
			// Nothing more up to head passes the filter.
			return send(batch)
		}
		if msg.Event.Position > head {
			// Appended since the rebuild began: the next start applies it,
			// from the snapshot's position, the head.
			return send(batch)
		}
		batch = append(batch, *msg.Event)
		if msg.Event.Position == head {
			return send(batch)
		}
		if len(batch) == rebuildBatch {
			if err := send(batch); err != nil {
				return err
			}
			batch = make([]eventstore.RecordedEvent, 0, rebuildBatch)
		}
	}
}

// union is a filter every event some projection needs passes.
func (r *Runner) union() eventstore.Filter {
	var u eventstore.Filter
	allStreams, allTypes := false, false
	for _, t := range r.tracked {
		f := t.p.Filter()
		allStreams = allStreams || len(f.StreamPrefixes) == 0
		allTypes = allTypes || len(f.EventTypes) == 0
		u.StreamPrefixes = append(u.StreamPrefixes, f.StreamPrefixes...)
		u.EventTypes = append(u.EventTypes, f.EventTypes...)
	}
	if allStreams {
		u.StreamPrefixes = nil
	}
	if allTypes {
		u.EventTypes = nil
	}
	return u
}

// applyFeed applies to t the events of the batches from feed that t's
// filter passes. The batches are shared with the other projections: read
// only.
func (r *Runner) applyFeed(ctx context.Context, t *tracked, feed <-chan []eventstore.RecordedEvent, head uint64, progress func(applied, position, head uint64)) error {
	f := t.p.Filter()
	reported := t.applied.Load()
	for batch := range feed {
		if err := ctx.Err(); err != nil {
			return err
		}
		var (
			last    *eventstore.RecordedEvent
			applied uint64
		)
		for i := range batch {
			ev := &batch[i]
			if !f.Match(ev.Stream, ev.Type) {
				continue
			}
			if err := t.p.Apply(ctx, *ev); err != nil {
				return r.stopAt(t, *ev, err)
			}
			last, applied = ev, applied+1
		}
		if len(batch) == 0 {
			continue
		}
		if last != nil {
			t.applied.Add(applied)
			t.mu.Lock()
			t.lastRecorded = last.Recorded
			t.mu.Unlock()
		}
		// Every event of the batch is seen: those the filter does not
		// pass need nothing.
		t.position.Store(batch[len(batch)-1].Position)
		if n := t.applied.Load(); progress != nil && n-reported >= 65536 {
			progress(n, t.position.Load(), head)
			reported = n
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	t.position.Store(head)
	t.caughtUp.Store(true)
	t.notify()
	if progress != nil {
		progress(t.applied.Load(), head, head)
	}
	return nil
}

// progressSum adds up the progress of projections rebuilt side by side.
type progressSum struct {
	report            func(applied, position, head uint64)
	head              uint64
	mu                sync.Mutex
	applied, position []uint64
}

// of returns the progress function of the i-th projection.
func (s *progressSum) of(i int) func(applied, position, head uint64) {
	if s.report == nil {
		return nil
	}
	return func(applied, position, _ uint64) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.applied[i], s.position[i] = applied, position
		var total uint64
		for _, n := range s.applied {
			total += n
		}
		s.report(total, slices.Min(s.position), s.head)
	}
}

// restore loads t's snapshot, or resets t for a rebuild.
func (r *Runner) restore(ctx context.Context, t *tracked) {
	name := t.p.Name()
	if r.opts.Dir == "" {
		t.p.Reset()
		return
	}
	start := r.opts.Now()
	h, err := readSnapshot(r.opts.Dir, t.p)
	if err == nil {
		// A snapshot ahead of the log belongs to another store.
		if head, herr := r.head(ctx); herr == nil && head.Position < h.position {
			err = fmt.Errorf("snapshot at position %d is ahead of the log's head %d", h.position, head.Position)
		}
	}
	switch {
	case errors.Is(err, errNoSnapshot):
		r.log.Info("projection: no snapshot, building from the start of the log", "projection", name)
		t.p.Reset()
	case err != nil:
		r.log.Warn("projection: snapshot not usable, rebuilding from the start of the log", "projection", name, "error", err.Error())
		t.p.Reset()
	default:
		t.position.Store(h.position)
		t.mu.Lock()
		t.restored, t.lastRecorded = h.position, h.lastRecorded
		t.mu.Unlock()
		r.log.Info("projection: restored from snapshot", "projection", name, "position", h.position, "took", r.opts.Now().Sub(start).String())
	}
}

// run restores t and follows the log until ctx ends or t stops.
func (r *Runner) run(ctx context.Context, t *tracked) {
	r.restore(ctx, t)
	err := r.follow(ctx, t, 0, nil)
	if ctx.Err() != nil && r.opts.Dir != "" && t.status().Err == nil {
		// Flush the checkpoint on the way out.
		if serr := r.snapshot(t); serr != nil {
			r.log.Error("projection: final snapshot failed", "projection", t.p.Name(), "error", serr.Error())
		}
	}
	if err != nil && ctx.Err() == nil {
		r.stop(t, err)
	}
}

// follow subscribes t from its position and applies events until ctx ends
// or, when until > 0, the projection has reached position until (the
// subscription's CaughtUp marks that too). Errors other than ctx's are
// returned after t has been stopped with them.
func (r *Runner) follow(ctx context.Context, t *tracked, until uint64, progress func(applied, position, head uint64)) error {
	name := t.p.Name()
	sub, err := r.store.Subscribe(ctx, eventstore.SubscribeOptions{From: t.position.Load(), Filter: t.p.Filter()})
	if err != nil {
		return fmt.Errorf("projection %s: subscribe: %w", name, err)
	}
	defer sub.Close()
	lastSnapshot, sinceSnapshot := r.opts.Now(), 0
	for {
		msg, err := sub.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("projection %s: subscription: %w", name, err)
		}
		if msg.CaughtUp {
			first := !t.caughtUp.Load()
			t.caughtUp.Store(true)
			t.notify()
			if until > 0 {
				if progress != nil {
					// Nothing more up to until passes the filter.
					progress(t.applied.Load(), until, until)
				}
				return nil
			}
			if first {
				r.log.Info("projection: caught up", "projection", name, "position", t.position.Load(), "applied", t.applied.Load())
				if r.opts.Dir != "" {
					if err := r.snapshot(t); err != nil {
						r.log.Error("projection: snapshot failed", "projection", name, "error", err.Error())
					}
					lastSnapshot, sinceSnapshot = r.opts.Now(), 0
				}
			}
			continue
		}
		ev := *msg.Event
		if err := t.p.Apply(ctx, ev); err != nil {
			return r.stopAt(t, ev, err)
		}
		t.applied.Add(1)
		t.mu.Lock()
		t.lastRecorded = ev.Recorded
		t.mu.Unlock()
		t.position.Store(ev.Position)
		if t.waiters.Load() > 0 {
			t.notify()
		}
		n := t.applied.Load()
		if progress != nil && n%65536 == 0 {
			progress(n, ev.Position, until)
		}
		if until > 0 && ev.Position >= until {
			if progress != nil {
				progress(n, ev.Position, until)
			}
			return nil
		}
		sinceSnapshot++
		if r.opts.Dir != "" && until == 0 && t.caughtUp.Load() && sinceSnapshot >= r.opts.SnapshotEvery &&
			r.opts.Now().Sub(lastSnapshot) >= r.opts.SnapshotInterval {
			if err := r.snapshot(t); err != nil {
				r.log.Error("projection: snapshot failed", "projection", name, "error", err.Error())
			}
			lastSnapshot, sinceSnapshot = r.opts.Now(), 0
		}
	}
}

// stopAt stops t at ev, which it could not apply, and returns why.
func (r *Runner) stopAt(t *tracked, ev eventstore.RecordedEvent, err error) error {
	aerr := &ApplyError{Projection: t.p.Name(), EventID: ev.ID, Stream: ev.Stream, Type: ev.Type, Position: ev.Position, Err: err}
	r.stop(t, aerr)
	return aerr
}

// stop marks t stopped with err, loudly.
func (r *Runner) stop(t *tracked, err error) {
	t.mu.Lock()
	first := t.err == nil
	if first {
		t.err = err
	}
	t.mu.Unlock()
	if !first {
		return
	}
	var aerr *ApplyError
	if errors.As(err, &aerr) {
		t.failures.Add(1)
		r.log.Error("projection stopped at an event it cannot apply; it will not go on until this is fixed",
			"projection", aerr.Projection, "event_id", aerr.EventID.String(), "event_type", aerr.Type,
			"position", aerr.Position, "error", aerr.Err.Error())
	} else {
		r.log.Error("projection stopped", "projection", t.p.Name(), "error", err.Error())
	}
	t.notify()
}

func (r *Runner) snapshot(t *tracked) error {
	t.mu.Lock()
	h := snapshotHeader{name: t.p.Name(), version: t.p.SchemaVersion(), position: t.position.Load(), lastRecorded: t.lastRecorded}
	t.mu.Unlock()
	start := r.opts.Now()
	if err := writeSnapshot(r.opts.Dir, t.p, h); err != nil {
		return err
	}
	r.log.Debug("projection: snapshot written", "projection", h.name, "position", h.position, "took", r.opts.Now().Sub(start).String())
	return nil
}

func (t *tracked) notify() {
	t.mu.Lock()
	close(t.changed)
	t.changed = make(chan struct{})
	t.mu.Unlock()
}

func (t *tracked) status() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	return Status{
		Name: t.p.Name(), Position: t.position.Load(), CaughtUp: t.caughtUp.Load(), Err: t.err,
		Applied: t.applied.Load(), Failures: t.failures.Load(), Restored: t.restored, LastRecorded: t.lastRecorded,
	}
}

// Statuses reports every projection, in the order given to New.
func (r *Runner) Statuses() []Status {
	out := make([]Status, len(r.tracked))
	for i, t := range r.tracked {
		out[i] = t.status()
	}
	return out
}

// Ready is nil when every projection has caught up and none has stopped;
// otherwise it says which projection is behind or stopped, and why.
func (r *Runner) Ready(context.Context) error {
	var errs []error
	for _, t := range r.tracked {
		s := t.status()
		switch {
		case s.Err != nil:
			errs = append(errs, s.Err)
		case !s.CaughtUp:
			errs = append(errs, fmt.Errorf("projection %s is catching up (position %d)", s.Name, s.Position))
		}
	}
	return errors.Join(errs...)
}

// WaitFor returns once every projection reflects the log up to position,
// or with ctx's error, or with an error matching ErrStopped when a
// projection stopped before reaching it.
func (r *Runner) WaitFor(ctx context.Context, position uint64) error {
	for _, t := range r.tracked {
		if err := r.waitFor(ctx, t, position); err != nil {
			return err
		}
	}
	return nil
}

func (r *Runner) waitFor(ctx context.Context, t *tracked, position uint64) error {
	t.waiters.Add(1)
	defer t.waiters.Add(-1)
	for {
		t.mu.Lock()
		changed, err := t.changed, t.err
		t.mu.Unlock()
		if t.position.Load() >= position {
			return nil
		}
		if err != nil {
			return fmt.Errorf("wait for position %d: %w", position, err)
		}
		if t.caughtUp.Load() {
			// Everything the projection needs up to position may be applied
			// already, with events of other streams after it.
			quiet, err := r.quiet(ctx, t, position)
			if err != nil {
				return err
			}
			if quiet {
				return nil
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("wait for position %d (projection %s at %d): %w", position, t.p.Name(), t.position.Load(), ctx.Err())
		}
	}
}

// quiet reports whether the log holds no event for t between its position
// and upTo; when so, t's position moves to upTo.
func (r *Runner) quiet(ctx context.Context, t *tracked, upTo uint64) (bool, error) {
	from := t.position.Load()
	if from >= upTo {
		return true, nil
	}
	if upTo-from > maxQuietScan {
		return false, nil
	}
	evs, err := r.store.ReadAll(ctx, eventstore.ReadAllOptions{From: from, Limit: int(upTo - from)})
	if err != nil {
		return false, fmt.Errorf("projection %s: read the log: %w", t.p.Name(), err)
	}
	f := t.p.Filter()
	reached := false
	for _, ev := range evs {
		if ev.Position > upTo {
			reached = true
			break
		}
		if f.Match(ev.Stream, ev.Type) {
			return false, nil
		}
		reached = ev.Position == upTo
	}
	if !reached {
		// The log ends before upTo: an event the projection needs may
		// still come at a position up to it.
		return false, nil
	}
	// Only ever forwards: the projection may have applied further meanwhile.
	for {
		cur := t.position.Load()
		if cur >= upTo || t.position.CompareAndSwap(cur, upTo) {
			return true, nil
		}
	}
}

// head is the last event of the log, or the zero event for an empty log.
func (r *Runner) head(ctx context.Context) (eventstore.RecordedEvent, error) {
	evs, err := r.store.ReadAll(ctx, eventstore.ReadAllOptions{Backwards: true, From: eventstore.End, Limit: 1})
	if err != nil {
		return eventstore.RecordedEvent{}, fmt.Errorf("projections: read the head of the log: %w", err)
	}
	if len(evs) == 0 {
		return eventstore.RecordedEvent{}, nil
	}
	return evs[0], nil
}

// Lag reports how far each projection is behind the head of the log.
func (r *Runner) Lag(ctx context.Context) ([]Lag, error) {
	head, err := r.head(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Lag, len(r.tracked))
	for i, t := range r.tracked {
		out[i].Name = t.p.Name()
		if t.caughtUp.Load() && t.status().Err == nil {
			if _, err := r.quiet(ctx, t, head.Position); err != nil {
				return nil, err
			}
		}
		s := t.status()
		if s.Position >= head.Position {
			continue
		}
		out[i].Positions = head.Position - s.Position
		if !s.LastRecorded.IsZero() && head.Recorded.After(s.LastRecorded) {
			out[i].Seconds = head.Recorded.Sub(s.LastRecorded).Seconds()
		}
	}
	return out, nil
}
