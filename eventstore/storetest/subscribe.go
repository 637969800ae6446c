package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/caseledger/caseledger/eventstore"
	"github.com/google/uuid"
)

// follower reads a subscription on the test's goroutine and checks every
// message on the way: each carries an event or CaughtUp, never both or
// neither, and CaughtUp comes at most once.
type follower struct {
	t         *testing.T
	ctx       context.Context // for Next; the subscription may have its own
	sub       eventstore.Subscription
	closeOnce sync.Once
	closeErr  error
	caughtUp  bool
	seen      int // events delivered so far
	// beforeCaughtUp is how many events came before CaughtUp.
	beforeCaughtUp int
}

func follow(t *testing.T, ctx context.Context, s eventstore.Store, opts eventstore.SubscribeOptions) *follower {
	t.Helper()
	return followWith(t, ctx, ctx, s, opts)
}

// followWith subscribes with subCtx and calls Next with ctx.
func followWith(t *testing.T, subCtx, ctx context.Context, s eventstore.Store, opts eventstore.SubscribeOptions) *follower {
	t.Helper()
	sub, err := s.Subscribe(subCtx, opts)
	if err != nil {
		t.Fatalf("Subscribe(%+v): %v", opts, err)
	}
	if sub == nil {
		t.Fatalf("Subscribe(%+v) returned a nil subscription", opts)
	}
	f := &follower{t: t, ctx: ctx, sub: sub}
	t.Cleanup(func() { f.close() })
	return f
}

// close closes the subscription once, however often the test and its
// cleanup ask.
func (f *follower) close() error {
	f.closeOnce.Do(func() { f.closeErr = f.sub.Close() })
	return f.closeErr
}

func (f *follower) next() eventstore.SubscriptionMessage {
	f.t.Helper()
	msg, err := f.sub.Next(f.ctx)
	if err != nil {
		hint := ""
		if errors.Is(err, context.DeadlineExceeded) {
			hint = fmt.Sprintf(" (nothing arrived within %v; after %d events, caught up: %v)", guard, f.seen, f.caughtUp)
		}
		f.t.Fatalf("Next: %v%s", err, hint)
	}
	switch {
	case msg.CaughtUp && msg.Event != nil:
		f.t.Fatalf("message carries both CaughtUp and event %s", describe(*msg.Event))
	case msg.CaughtUp:
		if f.caughtUp {
			f.t.Fatalf("second CaughtUp, after %d events", f.seen)
		}
		f.caughtUp, f.beforeCaughtUp = true, f.seen
	case msg.Event != nil:
		f.seen++
	default:
		f.t.Fatal("message carries neither an event nor CaughtUp")
	}
	return msg
}

// history reads up to CaughtUp and returns the events before it.
func (f *follower) history() []eventstore.RecordedEvent {
	f.t.Helper()
	if f.caughtUp {
		f.t.Fatal("storetest: history read twice")
	}
	var evs []eventstore.RecordedEvent
	for {
		msg := f.next()
		if msg.CaughtUp {
			return evs
		}
		evs = append(evs, *msg.Event)
	}
}

// events reads the next n events, passing over CaughtUp if it has not come
// yet (as it may, between events, when writers are busy).
func (f *follower) events(n int) []eventstore.RecordedEvent {
	f.t.Helper()
	evs := make([]eventstore.RecordedEvent, 0, n)
	for len(evs) < n {
		if msg := f.next(); msg.Event != nil {
			evs = append(evs, *msg.Event)
		}
	}
	return evs
}

// finishCatchUp reads CaughtUp if it has not come yet; it must be next.
func (f *follower) finishCatchUp() {
	f.t.Helper()
	if !f.caughtUp {
		if msg := f.next(); !msg.CaughtUp {
			f.t.Fatalf("after the whole log, got %s, want CaughtUp", describe(*msg.Event))
		}
	}
}

// assertLive appends one more event and checks it is the next message:
// nothing further, and no second CaughtUp, was pending.
func (f *follower) assertLive(s eventstore.Store) {
	f.t.Helper()
	ev := NewEvent("Marker", nil)
	appendOK(f.t, f.ctx, s, "marker", eventstore.Any, ev)
	got := f.events(1)[0]
	if got.ID != ev.ID {
		f.t.Fatalf("after the log, got %s, want the marker appended last", describe(got))
	}
}

// letBlock gives a Next just started on another goroutine time to block
// before the test acts, so that the case exercises waking a blocked Next
// and not only a Next called afterwards. Both orders must give the same
// result, so the pause sharpens the case but cannot make it flaky.
func letBlock() { time.Sleep(20 * time.Millisecond) }

type nextResult struct {
	msg eventstore.SubscriptionMessage
	err error
}

// nextAsync calls Next on another goroutine, for cases about what ends a
// blocked Next. The goroutine never touches the test, so a Next that never
// returns leaks it rather than hanging the test's cleanup.
func nextAsync(ctx context.Context, sub eventstore.Subscription) <-chan nextResult {
	ch := make(chan nextResult, 1)
	go func() {
		msg, err := sub.Next(ctx)
		ch <- nextResult{msg, err}
	}()
	return ch
}

// await returns what a blocked Next returned. The guard context only turns
// a hang into a failure: a Next that returns only because the guard ran out
// did not react to what the case did.
func await(t *testing.T, ctx context.Context, ch <-chan nextResult, what string) nextResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-ctx.Done():
		t.Fatalf("%s: Next still blocked when the case's guard of %v ran out", what, guard)
		return nextResult{}
	}
}

func testSubscribeToEmptyStore(t *testing.T, ctx context.Context, s eventstore.Store) {
	f := follow(t, ctx, s, eventstore.SubscribeOptions{})
	if h := f.history(); len(h) != 0 {
		t.Fatalf("history of an empty store: %s", summary(h))
	}
	ev := NewEvent("CaseOpened", nil)
	appendOK(t, ctx, s, "case-1", eventstore.Any, ev)
	got := f.events(1)
	checkRecord(t, "live event", got[0], "case-1", 0, ev)
}

func testSubscribeFromStart(t *testing.T, ctx context.Context, s eventstore.Store) {
	appendOK(t, ctx, s, "case-1", eventstore.Any, NewEvents(3, "Step")...)
	appendOK(t, ctx, s, "case-2", eventstore.Any, NewEvents(2, "Step")...)
	hist := wholeLog(t, ctx, s)
	f := follow(t, ctx, s, eventstore.SubscribeOptions{})
	assertSameEvents(t, "history", f.history(), hist)

	appendOK(t, ctx, s, "case-2", eventstore.Any, NewEvents(2, "Live")...)
	appendOK(t, ctx, s, "case-3", eventstore.Any, NewEvent("Live", nil))
	live := wholeLog(t, ctx, s)[len(hist):]
	assertSameEvents(t, "live events", f.events(len(live)), live)
	f.assertLive(s)
}

func testSubscribeFromMiddle(t *testing.T, ctx context.Context, s eventstore.Store) {
	seedReads(t, ctx, s)
	all := wholeLog(t, ctx, s)
	f := follow(t, ctx, s, eventstore.SubscribeOptions{From: all[5].Position})
	assertSameEvents(t, "history after the position of event 5", f.history(), all[6:])
	appendOK(t, ctx, s, "case-reads", eventstore.Any, NewEvents(2, "Live")...)
	live := wholeLog(t, ctx, s)[len(all):]
	assertSameEvents(t, "live events", f.events(len(live)), live)
}

func testSubscribeFromHead(t *testing.T, ctx context.Context, s eventstore.Store) {
	seedReads(t, ctx, s)
	all := wholeLog(t, ctx, s)
	f := follow(t, ctx, s, eventstore.SubscribeOptions{From: all[len(all)-1].Position})
	if h := f.history(); len(h) != 0 {
		t.Fatalf("history after the head: %s, want nothing", summary(h))
	}
	appendOK(t, ctx, s, "case-reads", eventstore.Any, NewEvent("Live", nil))
	live := wholeLog(t, ctx, s)[len(all):]
	assertSameEvents(t, "live events", f.events(len(live)), live)
}

// filterFixture is a log with streams whose names share prefixes, differ in
// case only, and types that recur across streams.
var filterFixture = struct{ history, live [][2]string }{
	history: [][2]string{
		{"case-1", "CaseOpened"},
		{"person-1", "PersonRegistered"},
		{"casework-1", "MeetingHeld"},
		{"case-2", "CaseOpened"},
		{"case-1", "MeetingHeld"},
		{"org-1", "MeetingHeld"},
		{"person-1", "MeetingHeld"},
		{"Case-3", "MeetingHeld"},
		{"case-2", "CaseClosed"},
		{"case", "MeetingHeld"},
	},
	// Live events end with one every filter of the cases passes, so that an
	// event delivered against the filter shows up before it.
	live: [][2]string{
		{"org-1", "CaseClosed"},
		{"case-2", "MeetingHeld"},
		{"casework-1", "CaseClosed"},
		{"person-1", "CaseClosed"},
		{"case-1", "MeetingPlanned"},
		{"case-1", "MeetingHeld"},
	},
}

func appendFixture(t *testing.T, ctx context.Context, s eventstore.Store, evs [][2]string) {
	t.Helper()
	for _, e := range evs {
		appendOK(t, ctx, s, e[0], eventstore.Any, NewEvent(e[1], nil))
	}
}

func filtered(evs []eventstore.RecordedEvent, f eventstore.Filter) []eventstore.RecordedEvent {
	var out []eventstore.RecordedEvent
	for _, ev := range evs {
		if f.Match(ev.Stream, ev.Type) {
			out = append(out, ev)
		}
	}
	return out
}

func testFilteredSubscription(filter eventstore.Filter) func(*testing.T, context.Context, eventstore.Store) {
	return func(t *testing.T, ctx context.Context, s eventstore.Store) {
		appendFixture(t, ctx, s, filterFixture.history)
		all := wholeLog(t, ctx, s)
		want := filtered(all, filter)
		if len(want) == 0 || len(want) == len(all) {
			t.Fatalf("storetest: filter %+v passes %d of %d fixture events; it must pass some and not all", filter, len(want), len(all))
		}
		f := follow(t, ctx, s, eventstore.SubscribeOptions{Filter: filter})
		assertSameEvents(t, fmt.Sprintf("history through %+v", filter), f.history(), want)

		appendFixture(t, ctx, s, filterFixture.live)
		live := filtered(wholeLog(t, ctx, s)[len(all):], filter)
		assertSameEvents(t, fmt.Sprintf("live events through %+v", filter), f.events(len(live)), live)

		// A filtered subscription started in the middle skips by position,
		// not by count of matching events.
		mid := follow(t, ctx, s, eventstore.SubscribeOptions{From: all[4].Position, Filter: filter})
		assertSameEvents(t, "history through the filter after the position of event 4",
			mid.history(), filtered(wholeLog(t, ctx, s)[5:], filter))
	}
}

// writers append concurrently: each to a stream of its own and, every other
// append, to a stream they share, in batches of one to three events.
type writers struct {
	c       *crew
	total   int           // events they append in all
	started chan struct{} // closed once the first append has returned
}

func startWriters(t *testing.T, ctx context.Context, s eventstore.Store, name string, n, appends int) *writers {
	w := &writers{c: newCrew(t), started: make(chan struct{})}
	var once sync.Once
	batches := make([][][]eventstore.EventData, n)
	for i := range batches {
		for a := range appends {
			evs := NewEvents(1+(i+a)%3, "Written")
			batches[i] = append(batches[i], evs)
			w.total += len(evs)
		}
	}
	for i := range batches {
		w.c.run(func() {
			for a, evs := range batches[i] {
				stream := fmt.Sprintf("%s-%d", name, i)
				if a%2 == 1 {
					stream = name + "-shared"
				}
				if _, err := s.Append(ctx, stream, eventstore.Any, evs...); err != nil {
					reportf(t, ctx, "writer %d, append %d: %v", i, a, err)
					return
				}
				once.Do(func() { close(w.started) })
			}
		})
	}
	return w
}

// assertDeliveredLog checks what a subscription delivered from the start
// against the log: all of it, each event once, in order.
func assertDeliveredLog(t *testing.T, ctx context.Context, s eventstore.Store, got []eventstore.RecordedEvent) {
	t.Helper()
	assertLogOrder(t, "delivered events", got)
	seen := make(map[uuid.UUID]bool, len(got))
	for _, ev := range got {
		if seen[ev.ID] {
			t.Fatalf("event %s delivered twice", describe(ev))
		}
		seen[ev.ID] = true
	}
	assertSameEvents(t, "delivered events against ReadAll", got, wholeLog(t, ctx, s))
}

// followWriters subscribes from the start, before writers start or once
// they are under way, and checks that the subscription delivers every event
// once and in log order, with CaughtUp after all that was committed when it
// subscribed.
func followWriters(t *testing.T, ctx context.Context, s eventstore.Store, subscribeFirst bool) {
	appendOK(t, ctx, s, "case-seed", eventstore.Any, NewEvents(5, "Seeded")...)
	var (
		w *writers
		f *follower
	)
	if !subscribeFirst {
		w = startWriters(t, ctx, s, "case-w", 4, 15)
		select {
		case <-w.started:
		case <-ctx.Done():
			t.Fatal("no writer finished an append")
		}
	}
	// Everything committed now must come before CaughtUp.
	head := readAll(t, ctx, s, eventstore.ReadAllOptions{Backwards: true, From: eventstore.End, Limit: 1})
	f = follow(t, ctx, s, eventstore.SubscribeOptions{})
	if subscribeFirst {
		w = startWriters(t, ctx, s, "case-w", 4, 15)
	}
	got := f.events(5 + w.total)
	w.c.wait(t, ctx, "writers")
	f.finishCatchUp()
	assertDeliveredLog(t, ctx, s, got)
	if n := f.beforeCaughtUp; n == 0 || got[n-1].Position < head[0].Position {
		t.Fatalf("CaughtUp came after %d events, before the head as of subscribing (position %d)", n, head[0].Position)
	}
	f.assertLive(s)
}

func testSubscribeUnderConcurrentAppends(t *testing.T, ctx context.Context, s eventstore.Store) {
	followWriters(t, ctx, s, true)
}

func testSubscribeWhileAppending(t *testing.T, ctx context.Context, s eventstore.Store) {
	followWriters(t, ctx, s, false)
}

func testSlowSubscriber(t *testing.T, ctx context.Context, s eventstore.Store) {
	f := follow(t, ctx, s, eventstore.SubscribeOptions{})
	f.history()

	// The subscriber reads nothing until the writers are done: a backend
	// that makes writers wait for subscribers never gets there.
	first := startWriters(t, ctx, s, "case-a", 4, 25)
	first.c.wait(t, ctx, "appends while a subscriber was not reading")

	// Then it reads slowly while more writers append.
	second := startWriters(t, ctx, s, "case-b", 2, 25)
	total := first.total + second.total
	got := make([]eventstore.RecordedEvent, 0, total)
	for len(got) < total {
		got = append(got, f.events(1)...)
		if len(got)%10 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	second.c.wait(t, ctx, "appends while a subscriber was reading slowly")
	assertDeliveredLog(t, ctx, s, got)
	f.assertLive(s)
}

func testTwoSubscriptions(t *testing.T, ctx context.Context, s eventstore.Store) {
	appendOK(t, ctx, s, "case-seed", eventstore.Any, NewEvents(3, "Seeded")...)
	a := follow(t, ctx, s, eventstore.SubscribeOptions{})
	b := follow(t, ctx, s, eventstore.SubscribeOptions{})
	w := startWriters(t, ctx, s, "case-w", 2, 10)
	// One reads everything before the other starts, so neither can lean on
	// the other keeping up.
	gotA := a.events(3 + w.total)
	gotB := b.events(3 + w.total)
	w.c.wait(t, ctx, "writers")
	a.finishCatchUp()
	b.finishCatchUp()
	assertSameEvents(t, "second subscription against the first", gotB, gotA)
	assertDeliveredLog(t, ctx, s, gotA)
}

func testSubscriptionContextCancelled(t *testing.T, ctx context.Context, s eventstore.Store) {
	appendOK(t, ctx, s, "case-1", eventstore.Any, NewEvents(2, "Step")...)
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := followWith(t, subCtx, ctx, s, eventstore.SubscribeOptions{})
	f.history()

	blocked := nextAsync(ctx, f.sub)
	letBlock()
	cancel()
	if r := await(t, ctx, blocked, "after cancelling the subscription's context"); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("blocked Next after the subscription's context was cancelled: %+v, %v; want context.Canceled", r.msg, r.err)
	}
	// Ended means ended: later events are not delivered.
	appendOK(t, ctx, s, "case-1", eventstore.Any, NewEvent("Late", nil))
	if msg, err := f.sub.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next after the subscription's context was cancelled: %+v, %v; want context.Canceled", msg, err)
	}
}

func testNextCallContextEnds(t *testing.T, ctx context.Context, s eventstore.Store) {
	f := follow(t, ctx, s, eventstore.SubscribeOptions{})
	f.history()
	callCtx, cancel := context.WithCancel(ctx)
	blocked := nextAsync(callCtx, f.sub)
	letBlock()
	cancel()
	if r := await(t, ctx, blocked, "after cancelling Next's context"); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("blocked Next after its context was cancelled: %+v, %v; want context.Canceled", r.msg, r.err)
	}
}

func testNextAfterClose(t *testing.T, ctx context.Context, s eventstore.Store) {
	appendOK(t, ctx, s, "case-1", eventstore.Any, NewEvents(3, "Step")...)
	f := follow(t, ctx, s, eventstore.SubscribeOptions{})
	if err := f.close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// History is waiting to be delivered; a closed subscription delivers
	// none of it.
	for range 3 {
		if msg, err := f.sub.Next(ctx); !errors.Is(err, eventstore.ErrClosed) {
			t.Fatalf("Next after Close: %+v, %v; want ErrClosed", msg, err)
		}
	}
}

func testCloseUnblocksNext(t *testing.T, ctx context.Context, s eventstore.Store) {
	f := follow(t, ctx, s, eventstore.SubscribeOptions{})
	f.history()
	blocked := nextAsync(ctx, f.sub)
	letBlock()
	if err := f.close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if r := await(t, ctx, blocked, "after Close"); !errors.Is(r.err, eventstore.ErrClosed) {
		t.Fatalf("blocked Next after Close: %+v, %v; want ErrClosed", r.msg, r.err)
	}
}

func testSubscriptionStoreClosed(t *testing.T, ctx context.Context, s eventstore.Store) {
	f := follow(t, ctx, s, eventstore.SubscribeOptions{})
	f.history()
	blocked := nextAsync(ctx, f.sub)
	letBlock()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if r := await(t, ctx, blocked, "after closing the store"); !errors.Is(r.err, eventstore.ErrClosed) {
		t.Fatalf("Next blocked while the store closed: %+v, %v; want ErrClosed", r.msg, r.err)
	}
	if msg, err := f.sub.Next(ctx); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Next on a closed store: %+v, %v; want ErrClosed", msg, err)
	}
}
