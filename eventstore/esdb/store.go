// Package esdb is the EventStoreDB / KurrentDB backend of eventstore,
// through the official Go client (github.com/EventStore/EventStore-Client-Go/v4).
//
// The port is modelled on EventStoreDB, so most of it maps directly:
// streams and revisions are the server's own, and the port's global
// position is the event's commit position in $all. What the server does
// differently, the adapter makes up for:
//
//   - $all reads are inclusive forwards and exclusive backwards on the
//     server, exclusive both ways in the port: forward reads pass over the
//     event at their start. System events (streams starting with '$') are
//     left out of reads and subscriptions.
//   - The server's idempotency is weaker than the port's: with
//     ExpectedVersion.Any it looks only at the first event's id, in a
//     bounded cache, and an append at the stream's current revision is
//     written without looking at ids at all. The adapter therefore decides
//     idempotency itself, against the ids it knows the stream holds (see
//     idIndex), and always writes with the exact revision it knows, so the
//     server refuses the write if the stream has moved and the adapter
//     looks again.
//   - The server keeps only whether content is JSON, so only
//     application/json and application/octet-stream can be stored; other
//     content types are refused with ErrInvalidEvent.
//   - The client neither resubscribes after a drop nor reconnects after
//     giving up discovery; the adapter does both (see subscribe.go and
//     call).
//
// Requires EventStoreDB 22.10 or later (earlier servers do not report
// positions in stream reads), and a user that may read $all (by default
// only admins may). The server's MaxAppendSize must allow the appends the
// application makes: an event at the port's size limit is larger than the
// server's default limit of 1 MiB per append.
package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	kurrent "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/caseledger/caseledger/eventstore"
)

// Options configure a Store. The zero value is a sensible production setup.
type Options struct {
	// MaxEventSize bounds data plus metadata of one event; 0 means
	// eventstore.DefaultMaxEventSize.
	MaxEventSize int
	// MaxAppendSize, if positive, refuses with ErrEventTooLarge, before
	// anything is sent, an append that the server would refuse as larger
	// than its MaxAppendSize (measured as the server does). Set it to the
	// server's setting; 0 leaves the check to the server, whose refusal is
	// reported the same way.
	MaxAppendSize int
	// Namespace is prefixed to every stream name, and the store sees only
	// streams that carry it, so that several stores (test runs, say) can
	// share one database. "" uses stream names as they are.
	Namespace string
	// StartAfter is a position before which the log holds nothing for this
	// store; reads and subscriptions do not look at or before it. It saves
	// a namespaced store created on a busy database from scanning the
	// history of others. 0 reads the whole log.
	StartAfter uint64
	// OperationTimeout bounds how long the store waits for the server: for
	// an append, its answer; for a read, each next event. When it passes,
	// the call fails with ErrUnavailable. 0 means 5 seconds.
	OperationTimeout time.Duration
	// ResubscribeMin and ResubscribeMax bound the backoff between attempts
	// to resubscribe after a subscription dropped; 0 means 100 ms and 5 s.
	ResubscribeMin, ResubscribeMax time.Duration
	// IndexEvents bounds how many event ids the store remembers to decide
	// idempotency without reading streams again; 0 means 100 000 (a few
	// MiB).
	IndexEvents int
	// Logger receives the store's operational messages, and the client's
	// at debug level; nil discards them.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.MaxEventSize <= 0 {
		o.MaxEventSize = eventstore.DefaultMaxEventSize
	}
	if o.OperationTimeout <= 0 {
		o.OperationTimeout = 5 * time.Second
	}
	if o.ResubscribeMin <= 0 {
		o.ResubscribeMin = 100 * time.Millisecond
	}
	if o.ResubscribeMax <= 0 {
		o.ResubscribeMax = 5 * time.Second
	}
	o.ResubscribeMax = max(o.ResubscribeMax, o.ResubscribeMin)
	if o.IndexEvents <= 0 {
		o.IndexEvents = 100_000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// probeInterval is how long after a failed attempt to reach the server
// other calls fail at once rather than try again, so that an outage is
// answered quickly and the server is not hammered.
const probeInterval = 250 * time.Millisecond

// Store is an eventstore.Store on an EventStoreDB server.
type Store struct {
	opts  Options
	cfg   kurrent.Configuration // for every client the store builds
	log   *slog.Logger
	ns    string
	index *idIndex

	// ctx ends when the store closes, ending subscriptions with it.
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	cur    *clientSlot
	// ready says the last call reached the server. While it is false,
	// one call at a time (the probe) goes to the client, because the
	// client's discovery blocks every caller and, when it gives up,
	// strands the callers queued behind it for good.
	ready    bool
	probe    chan struct{} // non-nil while a probe is in flight; closed when it ends
	probeErr error         // why the last probe failed
	probeAt  time.Time

	// resubscribed counts the subscriptions resumed after the server
	// dropped them (Resubscriptions).
	resubscribed atomic.Uint64
}

// Resubscriptions is how many times a subscription of this store resumed
// after the server dropped it or could not be reached, since it opened.
func (s *Store) Resubscriptions() uint64 { return s.resubscribed.Load() }

// clientSlot is one client and the calls using it. A client is closed only
// once nothing uses it: closing it while a call waits to reach its
// connection goroutine panics that call.
type clientSlot struct {
	c        *kurrent.Client
	inflight int
	retired  bool // the store no longer hands it out
	dead     bool // it closed itself; calling Close could panic stranded callers
	closed   bool
}

// Open connects to the server named by connectionString (for instance
// "esdb://localhost:2113?tls=false") and checks that it answers.
func Open(ctx context.Context, connectionString string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if strings.HasPrefix(opts.Namespace, "$") {
		return nil, fmt.Errorf("open EventStoreDB store: namespace %q would make every stream a system stream", opts.Namespace)
	}
	cfg, err := kurrent.ParseConnectionString(connectionString)
	if err != nil {
		return nil, fmt.Errorf("open EventStoreDB store: invalid connection string: %w", redact(err))
	}
	failFast(cfg, connectionString)
	cfg.Logger = clientLogger(opts.Logger)
	c, err := kurrent.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("open EventStoreDB store: %w", err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	s := &Store{
		opts:   opts,
		cfg:    *cfg,
		log:    opts.Logger,
		ns:     opts.Namespace,
		index:  newIDIndex(opts.IndexEvents),
		ctx:    sctx,
		cancel: cancel,
		cur:    &clientSlot{c: c},
	}
	if _, err := s.head(ctx); err != nil {
		err = s.fail(ctx, "open EventStoreDB store at "+hosts(cfg), err)
		s.Close()
		return nil, err
	}
	s.log.Info("EventStoreDB store open", "server", hosts(cfg), "namespace", s.ns)
	return s, nil
}

// redact keeps a connection string, which may hold a password, out of a
// parse error.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func hosts(cfg *kurrent.Configuration) string {
	if cfg.Address != "" {
		return cfg.Address
	}
	var hs []string
	for _, ep := range cfg.GossipSeeds {
		hs = append(hs, ep.String())
	}
	return strings.Join(hs, ",")
}

// failFast shortens the client's discovery unless the connection string
// sets it: by default the client tries 10 times, with 5 s for each
// attempt's call, and blocks every operation meanwhile, where the port's
// callers need a quick "unavailable". The adapter retries on its own.
func failFast(cfg *kurrent.Configuration, connectionString string) {
	set := make(map[string]bool)
	if i := strings.IndexByte(connectionString, '?'); i >= 0 {
		if q, err := url.ParseQuery(connectionString[i+1:]); err == nil {
			for k := range q {
				set[strings.ToLower(k)] = true
			}
		}
	}
	if !set["maxdiscoverattempts"] {
		cfg.MaxDiscoverAttempts = 2
	}
	if !set["gossiptimeout"] {
		cfg.GossipTimeout = 1
	}
	if !set["discoveryinterval"] {
		cfg.DiscoveryInterval = 100
	}
}

// clientLogger hands the client's messages to slog at debug level. The
// client's default writes to stdout, and it reports at error level things
// that are routine for the adapter (a subscription it closed, a read it
// cancelled); the adapter logs what matters at the proper level itself.
func clientLogger(l *slog.Logger) kurrent.LoggingFunc {
	return func(level kurrent.LogLevel, format string, args ...any) {
		if l.Enabled(context.Background(), slog.LevelDebug) {
			l.Debug("eventstoredb client: "+fmt.Sprintf(format, args...), "client_level", level)
		}
	}
}

// Close ends subscriptions and releases the client; later calls fail with
// ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("close EventStoreDB store: %w", eventstore.ErrClosed)
	}
	s.closed = true
	s.cur.retired = true
	s.closeIdleLocked(s.cur)
	s.mu.Unlock()
	s.cancel()
	s.log.Info("EventStoreDB store closed")
	return nil
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Store) closeIdleLocked(slot *clientSlot) {
	if slot.retired && !slot.dead && !slot.closed && slot.inflight == 0 {
		slot.closed = true
		// Close only marks the client closed and stops its connection
		// goroutine; it does not block.
		_ = slot.c.Close()
	}
}

// errNoAnswer is why a call failed when the server did not answer within
// OperationTimeout.
var errNoAnswer = errors.New("no answer from the server in time")

type result[T any] struct {
	v   T
	err error
}

// call runs fn against the current client, bounded as the port needs:
// it returns when ctx ends, when the store closes, or when the server has
// not answered (fn has not called progress) for OperationTimeout, whatever
// fn is doing. The client's own calls do not all honour contexts (it
// blocks callers during discovery), so fn runs on a goroutine of its own
// and is left to finish by itself if need be; it hands its result only
// through its return value, so an abandoned fn touches nothing of the
// caller's. If the client turns out to have closed itself, call builds a
// new one and tries once more: nothing was sent.
//
// The error is fn's, unmapped; see fail.
func call[T any](s *Store, ctx context.Context, fn func(ctx context.Context, c *kurrent.Client, progress func()) (T, error)) (T, error) {
	for attempt := 0; ; attempt++ {
		slot, prober, err := s.acquire(ctx)
		if err != nil {
			var zero T
			return zero, err
		}
		v, err := run(s, ctx, slot, fn)
		if retry := s.settle(ctx, slot, prober, err); !retry || attempt > 0 {
			return v, err
		}
	}
}

func run[T any](s *Store, ctx context.Context, slot *clientSlot, fn func(ctx context.Context, c *kurrent.Client, progress func()) (T, error)) (T, error) {
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	progress := func() { last.Store(time.Now().UnixNano()) }
	done := make(chan result[T], 1)
	go func() {
		defer s.release(slot)
		defer func() {
			// The client panics on messages it does not expect (a read
			// answered with anything but events or "not found"); a server
			// speaking a newer protocol must not take the process down.
			if p := recover(); p != nil {
				var zero T
				done <- result[T]{zero, fmt.Errorf("the EventStoreDB client failed on the server's answer: %v", p)}
			}
		}()
		v, err := fn(cctx, slot.c, progress)
		done <- result[T]{v, err}
	}()
	timeout := s.opts.OperationTimeout
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var zero T
	for {
		select {
		case r := <-done:
			return r.v, r.err
		case <-ctx.Done():
			return zero, ctx.Err()
		case <-s.ctx.Done():
			return zero, eventstore.ErrClosed
		case <-timer.C:
			idle := time.Since(time.Unix(0, last.Load()))
			if idle >= timeout {
				return zero, errNoAnswer
			}
			timer.Reset(timeout - idle)
		}
	}
}

// acquire hands out the current client, or makes the caller the probe
// while the server is not known to be reachable.
func (s *Store) acquire(ctx context.Context) (slot *clientSlot, prober bool, err error) {
	for {
		s.mu.Lock()
		switch {
		case s.closed:
			s.mu.Unlock()
			return nil, false, eventstore.ErrClosed
		case s.ready:
			s.cur.inflight++
			slot = s.cur
			s.mu.Unlock()
			return slot, false, nil
		case s.probe == nil:
			if s.probeErr != nil && time.Since(s.probeAt) < probeInterval {
				err := s.probeErr
				s.mu.Unlock()
				return nil, false, err
			}
			s.probe = make(chan struct{})
			s.cur.inflight++
			slot = s.cur
			s.mu.Unlock()
			return slot, true, nil
		}
		wait := s.probe
		s.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		case <-s.ctx.Done():
			return nil, false, eventstore.ErrClosed
		}
	}
}

func (s *Store) release(slot *clientSlot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	slot.inflight--
	s.closeIdleLocked(slot)
}

// health is what a call's outcome says about the server.
type health uint8

const (
	answered    health = iota // the server answered, whatever it said
	ended                     // the caller or the store ended the call: no news
	unreachable               // the server could not be reached or did not answer
	clientGone                // the client closed itself after failing discovery
)

func classify(ctx context.Context, err error) health {
	switch {
	case err == nil:
		return answered
	case errors.Is(err, eventstore.ErrClosed), ctx.Err() != nil:
		return ended
	case errors.Is(err, errNoAnswer):
		return unreachable
	case errors.Is(err, io.EOF):
		// The client lost the call's status: it stops at io.EOF from a
		// send when the stream has ended under it, which is what a server
		// going away mid-call looks like. (Reads treat io.EOF as their
		// end before it gets here.)
		return unreachable
	}
	var ee *kurrent.Error
	if errors.As(err, &ee) {
		switch ee.Code() {
		case kurrent.ErrorCodeConnectionClosed:
			return clientGone
		case kurrent.ErrorUnavailable, kurrent.ErrorCodeDeadlineExceeded, kurrent.ErrorCodeNotLeader:
			return unreachable
		}
	}
	if st, ok := grpcStatus(err); ok {
		switch st.Code() {
		case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
			// Canceled with the caller's context alive is the client's
			// own deadline or a dropped connection.
			return unreachable
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return unreachable
	}
	return answered
}

// grpcStatus finds a gRPC status in err's chain; the client wraps some and
// returns others as they are.
func grpcStatus(err error) (*status.Status, bool) {
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		return se.GRPCStatus(), true
	}
	return nil, false
}

// settle records what a call's outcome says about the server and reports
// whether the call should be made again, on a new client.
func (s *Store) settle(ctx context.Context, slot *clientSlot, prober bool, err error) (retry bool) {
	h := classify(ctx, err)
	s.mu.Lock()
	defer s.mu.Unlock()
	wasReady := s.ready
	switch h {
	case answered:
		s.ready = true
		s.probeErr = nil
		if !wasReady && prober {
			s.log.Info("EventStoreDB reachable", "server", hosts(&s.cfg))
		}
	case unreachable:
		s.ready = false
		if prober {
			s.probeErr, s.probeAt = err, time.Now()
		}
		if wasReady {
			s.log.Warn("EventStoreDB unreachable", "server", hosts(&s.cfg), "err", err)
		}
	case clientGone:
		s.ready = false
		if s.cur == slot && !s.closed {
			// The client gave up discovery and will not try again; it
			// may have stranded callers in its queue, so it is left
			// alone rather than closed.
			slot.dead, slot.retired = true, true
			cfg := s.cfg
			c, nerr := kurrent.NewClient(&cfg)
			if nerr == nil {
				s.cur = &clientSlot{c: c}
				s.log.Warn("EventStoreDB client gave up reconnecting; replaced it", "server", hosts(&s.cfg))
			}
		}
		retry = true
	}
	if prober {
		close(s.probe)
		s.probe = nil
	}
	return retry
}

// fail maps an error of a call to what the port promises: ErrClosed,
// the caller's context error, or ErrUnavailable when the server could not
// be reached, each wrapped with what was being done.
func (s *Store) fail(ctx context.Context, what string, err error) error {
	switch {
	case errors.Is(err, eventstore.ErrClosed):
		return fmt.Errorf("%s: %w", what, eventstore.ErrClosed)
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
	switch classify(ctx, err) {
	case unreachable, clientGone:
		return fmt.Errorf("%s: %w: %w", what, eventstore.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
