package esdb_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/esdb"
	"github.com/caseledger/caseledger/eventstore/esdb/esdbtest"
	"github.com/caseledger/caseledger/eventstore/storetest"
)

// recorder is a slog handler that keeps messages, for tests that check
// what the store reported.
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, rec.Message)
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

func (r *recorder) count(substr string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.msgs {
		if strings.Contains(m, substr) {
			n++
		}
	}
	return n
}

// appendRetrying appends until the store takes it, retrying with the same
// events while the server is unavailable: the retry of an append whose
// outcome was lost is idempotent.
func appendRetrying(ctx context.Context, s eventstore.Store, stream string, evs []eventstore.EventData) error {
	for {
		_, err := s.Append(ctx, stream, eventstore.Any, evs...)
		if !errors.Is(err, eventstore.ErrUnavailable) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestSubscriptionSurvivesDrops follows the log while writers append and
// the server drops subscriptions and restarts: the subscription must
// deliver every event once, in order, resubscribing from the last event it
// received.
func TestSubscriptionSurvivesDrops(t *testing.T) {
	for _, tc := range []struct {
		name   string
		filter eventstore.Filter
	}{
		{"Unfiltered", eventstore.Filter{}},
		// Filtered subscriptions get checkpoints; resuming from one would
		// skip the event the server reports it at.
		{"Filtered", eventstore.Filter{StreamPrefixes: []string{"case-"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testSubscriptionSurvivesDrops(t, tc.filter)
		})
	}
}

func testSubscriptionSurvivesDrops(t *testing.T, filter eventstore.Filter) {
	srv := esdbtest.New(t, esdbtest.Options{})
	rec := &recorder{}
	s := openStore(t, srv.ConnectionString(), esdb.Options{
		ResubscribeMin:   10 * time.Millisecond,
		ResubscribeMax:   100 * time.Millisecond,
		OperationTimeout: 2 * time.Second,
		Logger:           slog.New(rec),
	})
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()

	for i := range 20 {
		for _, stream := range []string{"case-h", "other-h"} {
			if _, err := s.Append(ctx, stream, eventstore.Any, storetest.NewEvents(1+i%3, "History")...); err != nil {
				t.Fatalf("append history: %v", err)
			}
		}
	}
	sub, err := s.Subscribe(ctx, eventstore.SubscribeOptions{Filter: filter})
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	defer sub.Close()

	// The subscriber reads all along, so that drops find it mid-stream.
	marker := storetest.NewEvent("Marker", nil)
	type outcome struct {
		got      []eventstore.RecordedEvent
		caughtUp int
		err      error
	}
	read := make(chan outcome, 1)
	go func() {
		var o outcome
		defer func() { read <- o }()
		for {
			msg, err := sub.Next(ctx)
			if err != nil {
				o.err = fmt.Errorf("Next after %d events: %w", len(o.got), err)
				return
			}
			if msg.CaughtUp {
				o.caughtUp++
				continue
			}
			o.got = append(o.got, *msg.Event)
			if msg.Event.ID == marker.ID {
				return
			}
		}
	}()

	// Writers append while the server misbehaves.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 4 {
		wg.Go(func() {
			for a := range 40 {
				stream := fmt.Sprintf("case-%d", w)
				if a%2 == 1 {
					stream = fmt.Sprintf("other-%d", w)
				}
				if err := appendRetrying(ctx, s, stream, storetest.NewEvents(1+a%3, "Live")); err != nil {
					errs <- fmt.Errorf("writer %d, append %d: %w", w, a, err)
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	wg.Go(func() {
		for i := range 8 {
			time.Sleep(40 * time.Millisecond)
			if i%4 == 3 {
				// Down long enough for the client to give up discovery.
				srv.Stop()
				time.Sleep(400 * time.Millisecond)
				if err := srv.Start(); err != nil {
					errs <- err
					return
				}
				continue
			}
			srv.DropSubscriptions()
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := appendRetrying(ctx, s, "case-marker", []eventstore.EventData{marker}); err != nil {
		t.Fatalf("append marker: %v", err)
	}
	o := <-read
	if o.err != nil {
		t.Fatal(o.err)
	}
	got := o.got
	if o.caughtUp != 1 {
		t.Errorf("CaughtUp delivered %d times, want once", o.caughtUp)
	}
	all, err := s.ReadAll(ctx, eventstore.ReadAllOptions{})
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	var want []eventstore.RecordedEvent
	for _, ev := range all {
		if filter.Match(ev.Stream, ev.Type) {
			want = append(want, ev)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("subscription delivered %d events, the log holds %d that pass the filter", len(got), len(want))
	}
	for i := range got {
		if got[i].ID != want[i].ID || got[i].Position != want[i].Position {
			t.Fatalf("event %d: delivered %s@%d pos %d, the log has %s@%d pos %d",
				i, got[i].Stream, got[i].Revision, got[i].Position, want[i].Stream, want[i].Revision, want[i].Position)
		}
	}
	t.Logf("drops %d, resumptions %d, clients replaced %d, delivered %d", rec.count("subscription dropped;"), rec.count("subscription resumed"), rec.count("replaced"), len(got))
	if rec.count("subscription dropped;") == 0 || rec.count("subscription resumed") == 0 {
		t.Errorf("the store never reported a drop and a resumption; the faults did not reach the subscription")
	}
}

// TestUnavailableFailsFastAndRecovers stops the server under the store:
// every call must fail quickly with ErrUnavailable, so that callers can
// answer 503, and the store must work again once the server is back, with
// a new client if the old one gave up.
func TestUnavailableFailsFastAndRecovers(t *testing.T) {
	t.Parallel()
	srv := esdbtest.New(t, esdbtest.Options{})
	rec := &recorder{}
	s := openStore(t, srv.ConnectionString(), esdb.Options{OperationTimeout: 2 * time.Second, Logger: slog.New(rec)})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	before := storetest.NewEvents(2, "Before")
	if _, err := s.Append(ctx, "case-1", eventstore.NoStream, before...); err != nil {
		t.Fatalf("Append: %v", err)
	}

	srv.Stop()
	const fast = time.Second
	unavailable := func(what string, err error, took time.Duration) {
		t.Helper()
		if !errors.Is(err, eventstore.ErrUnavailable) {
			t.Fatalf("%s with the server down: %v, want ErrUnavailable", what, err)
		}
		if took > fast {
			t.Fatalf("%s with the server down took %v, want under %v", what, took, fast)
		}
	}
	// Long enough for the client to give up discovery and close itself,
	// more than once.
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); {
		start := time.Now()
		_, err := s.Append(ctx, "case-1", eventstore.Any, storetest.NewEvent("Lost", nil))
		unavailable("Append", err, time.Since(start))
		time.Sleep(50 * time.Millisecond)
	}
	start := time.Now()
	_, err := s.ReadStream(ctx, "case-1", eventstore.ReadStreamOptions{})
	unavailable("ReadStream", err, time.Since(start))
	start = time.Now()
	_, err = s.ReadAll(ctx, eventstore.ReadAllOptions{})
	unavailable("ReadAll", err, time.Since(start))
	start = time.Now()
	sub, err := s.Subscribe(ctx, eventstore.SubscribeOptions{})
	if sub != nil {
		sub.Close()
	}
	unavailable("Subscribe", err, time.Since(start))

	// Many callers at once: none may be left waiting on the client.
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			start := time.Now()
			_, err := s.Append(ctx, fmt.Sprintf("case-c%d", i), eventstore.Any, storetest.NewEvent("Lost", nil))
			if took := time.Since(start); !errors.Is(err, eventstore.ErrUnavailable) || took > fast {
				t.Errorf("concurrent Append with the server down: %v after %v, want ErrUnavailable within %v", err, took, fast)
			}
		})
	}
	wg.Wait()

	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	after := storetest.NewEvent("After", nil)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := s.Append(ctx, "case-1", eventstore.AtRevision(1), after)
		if err == nil {
			break
		}
		if !errors.Is(err, eventstore.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("Append once the server is back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	got, err := s.ReadStream(ctx, "case-1", eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatalf("ReadStream: %v", err)
	}
	if len(got) != 3 || got[0].ID != before[0].ID || got[1].ID != before[1].ID || got[2].ID != after.ID {
		t.Fatalf("stream after the outage holds %d events, want the 2 before and the 1 after", len(got))
	}
	if rec.count("replaced") == 0 {
		t.Errorf("the client never gave up during a 1.5 s outage; the test did not exercise replacing it")
	}
	if rec.count("unreachable") == 0 || rec.count("reachable") < 2 {
		t.Errorf("the store did not report losing and regaining the server")
	}
}

// TestOpenFailsFast: a server that is down, or accepts connections and
// never answers, fails Open with ErrUnavailable within the operation
// timeout.
func TestOpenFailsFast(t *testing.T) {
	t.Parallel()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		// Accept and hold connections without a word, like a server
		// that hangs; they end with the listener's test.
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	down := esdbtest.New(t, esdbtest.Options{})
	down.Stop()

	for _, tc := range []struct{ name, addr string }{
		{"Down", down.Addr()},
		{"Silent", silent.Addr().String()},
	} {
		start := time.Now()
		s, err := esdb.Open(t.Context(), "esdb://"+tc.addr+"?tls=false", esdb.Options{OperationTimeout: time.Second})
		if err == nil {
			s.Close()
			t.Fatalf("%s: Open succeeded", tc.name)
		}
		if !errors.Is(err, eventstore.ErrUnavailable) {
			t.Errorf("%s: Open: %v, want ErrUnavailable", tc.name, err)
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("%s: Open took %v to fail", tc.name, took)
		}
	}
}
