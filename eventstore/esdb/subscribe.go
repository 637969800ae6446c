package esdb

import (
	"context"
	"fmt"
	"sync"
	"time"

	kurrent "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/caseledger/caseledger/eventstore"
)

// A subscription is a catch-up subscription to $all on the server, fed
// through a goroutine (the pump) into a small buffer that Next reads. The
// pump follows the server's subscription and, when it drops, subscribes
// again from the position of the last event it received, with backoff,
// for as long as the subscription is open: the client does not. Since the
// server delivers after the position it is given, and the pump passes over
// anything at or before the last position it received, no event is
// delivered twice or skipped. Checkpoints are never used as resume points:
// the server may report one at the position the next event will take.
//
// Filtering happens on the server where it can (one stream-prefix or
// event-type filter per subscription, system streams left out) and again
// in the pump, which applies the port's filter exactly.

// subscriptionBuffer is how many messages the pump may hold ahead of Next.
// Beyond it the pump stops reading, and the server's flow control holds
// the rest: a slow subscriber costs its own subscription, not the writers.
const subscriptionBuffer = 64

type item struct {
	msg eventstore.SubscriptionMessage
	err error
}

type subscription struct {
	s      *Store
	ctx    context.Context    // the caller's, for Subscribe
	cancel context.CancelFunc // ends the pump
	filter eventstore.Filter
	out    chan item

	closeOnce sync.Once
	closed    chan struct{}

	// Next is not meant for concurrent use; mu turns misuse into waiting.
	mu  sync.Mutex
	err error // the pump's final error, once Next has seen it

	// The pump's own state.
	server     *kurrent.SubscriptionFilter
	last       kurrent.Position // of the last event received, system events included
	haveLast   bool
	start      kurrent.AllPosition // where the first subscription started
	head       uint64              // the head of $all when subscribing
	caughtUp   bool
	dropReason error // why the server's subscription last dropped
}

// Subscribe implements eventstore.Store.
func (s *Store) Subscribe(ctx context.Context, opts eventstore.SubscribeOptions) (eventstore.Subscription, error) {
	const what = "subscribe"
	if s.isClosed() {
		return nil, fmt.Errorf("%s: %w", what, eventstore.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	pctx, cancel := context.WithCancel(ctx)
	stopOnClose := context.AfterFunc(s.ctx, cancel)
	sub := &subscription{
		s:      s,
		ctx:    ctx,
		cancel: func() { stopOnClose(); cancel() },
		filter: opts.Filter,
		out:    make(chan item, subscriptionBuffer),
		closed: make(chan struct{}),
		server: s.serverFilter(opts.Filter),
	}
	from := max(opts.From, s.opts.StartAfter)
	switch from {
	case 0:
		sub.start = kurrent.Start{}
	case eventstore.End:
		sub.start = kurrent.End{}
	default:
		sub.start = kurrent.Position{Commit: from, Prepare: from}
	}

	// The head as of now tells when history has been delivered, for
	// servers that do not say so themselves (before 23.10).
	head, err := s.head(ctx)
	if err != nil {
		sub.cancel()
		return nil, s.fail(ctx, what, err)
	}
	sub.head = head
	ks, err := sub.subscribe(pctx)
	if err != nil {
		sub.cancel()
		return nil, s.fail(ctx, what, err)
	}
	if head <= from {
		// Nothing to catch up on.
		sub.caughtUp = true
		sub.out <- item{msg: eventstore.SubscriptionMessage{CaughtUp: true}}
	}
	go sub.pump(pctx, ks)
	return sub, nil
}

// serverFilter is the part of the port's filter the server can apply:
// stream prefixes if there are any, else event types as prefixes (made
// exact by the pump), and always only the namespace's or non-system
// streams where the filter allows.
func (s *Store) serverFilter(f eventstore.Filter) *kurrent.SubscriptionFilter {
	switch {
	case len(f.StreamPrefixes) > 0:
		prefixes := make([]string, len(f.StreamPrefixes))
		for i, p := range f.StreamPrefixes {
			prefixes[i] = s.ns + p
		}
		return &kurrent.SubscriptionFilter{Type: kurrent.StreamFilterType, Prefixes: prefixes}
	case s.ns != "":
		return &kurrent.SubscriptionFilter{Type: kurrent.StreamFilterType, Prefixes: []string{s.ns}}
	case len(f.EventTypes) > 0:
		return &kurrent.SubscriptionFilter{Type: kurrent.EventFilterType, Prefixes: f.EventTypes}
	default:
		return &kurrent.SubscriptionFilter{Type: kurrent.StreamFilterType, Regex: `^[^$]`}
	}
}

// subscribe starts a server subscription after the last event received
// (or at the subscription's start). The subscription lives on ctx, not on
// the bounded context of the call that sets it up, and is closed if that
// call is abandoned.
func (sub *subscription) subscribe(ctx context.Context) (*kurrent.Subscription, error) {
	from := sub.start
	if sub.haveLast {
		from = sub.last
	}
	opts := kurrent.SubscribeToAllOptions{From: from, Filter: sub.server}
	return call(sub.s, ctx, func(cctx context.Context, c *kurrent.Client, _ func()) (*kurrent.Subscription, error) {
		ks, err := c.SubscribeToAll(ctx, opts)
		if err != nil {
			return nil, err
		}
		if cctx.Err() != nil {
			// Abandoned: nobody will read it.
			_ = ks.Close()
			return nil, cctx.Err()
		}
		return ks, nil
	})
}

// pump feeds the buffer until ctx ends, resubscribing whenever the
// server's subscription drops.
func (sub *subscription) pump(ctx context.Context, ks *kurrent.Subscription) {
	// However the pump ends, it lets go of the store's close hook.
	defer sub.cancel()
	log := sub.s.log
	for {
		err := sub.consume(ctx, ks)
		_ = ks.Close()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			sub.deliver(ctx, item{err: err})
			return
		}
		log.Warn("EventStoreDB subscription dropped; resubscribing", "after", sub.last.Commit, "err", sub.dropReason)
		for wait := sub.s.opts.ResubscribeMin; ; wait = min(2*wait, sub.s.opts.ResubscribeMax) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			ks, err = sub.subscribe(ctx)
			if err == nil {
				sub.s.resubscribed.Add(1)
				log.Info("EventStoreDB subscription resumed", "after", sub.last.Commit)
				break
			}
			if ctx.Err() != nil {
				return
			}
			if classify(ctx, err) == answered {
				// The server is there and refuses: trying again cannot help.
				sub.deliver(ctx, item{err: sub.s.fail(ctx, "resubscribe", err)})
				return
			}
			log.Debug("EventStoreDB resubscription failed", "err", err, "retry_in", min(2*wait, sub.s.opts.ResubscribeMax))
		}
	}
}

// consume delivers what one server subscription sends, until it drops
// (nil: resubscribe) or something is wrong that resubscribing cannot mend
// (the error is returned).
func (sub *subscription) consume(ctx context.Context, ks *kurrent.Subscription) error {
	for {
		e := ks.Recv()
		switch {
		case e.SubscriptionDropped != nil:
			sub.dropReason = e.SubscriptionDropped.Error
			return nil
		case e.EventAppeared != nil:
			rec := e.EventAppeared.OriginalEvent()
			if sub.haveLast && rec.Position.Commit <= sub.last.Commit {
				continue // already received before a resubscription
			}
			sub.last, sub.haveLast = rec.Position, true
			if stream, ok := sub.s.visible(rec.StreamID); ok && sub.filter.Match(stream, rec.EventType) {
				ev, err := record(stream, rec)
				if err != nil {
					return fmt.Errorf("subscription: %w", err)
				}
				if !sub.deliver(ctx, item{msg: eventstore.SubscriptionMessage{Event: &ev}}) {
					return nil
				}
			}
			if rec.Position.Commit >= sub.head && !sub.catchUp(ctx) {
				return nil
			}
		case e.CheckPointReached != nil:
			// A checkpoint at or past the head says history is done; it is
			// never a resume point (see the type's comment).
			if e.CheckPointReached.Commit >= sub.head && !sub.catchUp(ctx) {
				return nil
			}
		case e.CaughtUp != nil:
			if !sub.catchUp(ctx) {
				return nil
			}
		}
	}
}

// catchUp delivers CaughtUp unless it has been already; false if ctx
// ended first.
func (sub *subscription) catchUp(ctx context.Context) bool {
	if sub.caughtUp {
		return true
	}
	sub.caughtUp = true
	return sub.deliver(ctx, item{msg: eventstore.SubscriptionMessage{CaughtUp: true}})
}

func (sub *subscription) deliver(ctx context.Context, it item) bool {
	select {
	case sub.out <- it:
		return true
	case <-ctx.Done():
		return false
	}
}

// Next implements eventstore.Subscription.
func (sub *subscription) Next(ctx context.Context) (eventstore.SubscriptionMessage, error) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if err := sub.stopped(ctx); err != nil {
		return eventstore.SubscriptionMessage{}, err
	}
	select {
	case it := <-sub.out:
		if it.err != nil {
			sub.err = it.err
			return eventstore.SubscriptionMessage{}, it.err
		}
		return it.msg, nil
	case <-sub.closed:
	case <-sub.s.ctx.Done():
	case <-sub.ctx.Done():
	case <-ctx.Done():
	}
	return eventstore.SubscriptionMessage{}, sub.stopped(ctx)
}

// stopped is why Next cannot deliver, if it cannot: closed (the
// subscription or the store), the subscription's context ended, an
// earlier failure, or the call's context ended.
func (sub *subscription) stopped(ctx context.Context) error {
	select {
	case <-sub.closed:
		return fmt.Errorf("subscription: %w", eventstore.ErrClosed)
	case <-sub.s.ctx.Done():
		return fmt.Errorf("subscription: %w", eventstore.ErrClosed)
	default:
	}
	if err := sub.ctx.Err(); err != nil {
		return fmt.Errorf("subscription: %w", err)
	}
	if sub.err != nil {
		return sub.err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("subscription: %w", err)
	}
	return nil
}

// Close implements eventstore.Subscription.
func (sub *subscription) Close() error {
	sub.closeOnce.Do(func() {
		close(sub.closed)
		sub.cancel()
	})
	return nil
}
