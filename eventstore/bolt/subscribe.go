package bolt

import (
	"context"
	"fmt"
	"sync"

	bbolt "go.etcd.io/bbolt"

	"github.com/caseledger/caseledger/eventstore"
)

// Subscriptions pull: each reads committed events after the last position it
// delivered, a chunk at a time, and when it has reached the head waits for
// the writer's next commit signal. The writer therefore never waits for, nor
// buffers for, a subscriber, and a subscriber that falls behind simply reads
// more history on its next call.

// Subscribe implements eventstore.Store.
func (s *Store) Subscribe(ctx context.Context, opts eventstore.SubscribeOptions) (eventstore.Subscription, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("subscribe: %w", eventstore.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	return &subscription{
		store:  s,
		ctx:    ctx,
		filter: opts.Filter,
		after:  opts.From,
		dec:    s.decoder(),
		done:   make(chan struct{}),
	}, nil
}

type subscription struct {
	store  *Store
	ctx    context.Context
	filter eventstore.Filter

	// Next is not meant for concurrent use; mu turns misuse into waiting
	// rather than a race on the fields below.
	mu       sync.Mutex
	after    uint64 // last position read, delivered or filtered out
	buf      []eventstore.RecordedEvent
	atHead   bool // a read has reached the head: CaughtUp is due
	caughtUp bool // CaughtUp has been delivered
	dec      decoder
	// ahead, while history is read, delivers the chunk after buf, read on
	// another goroutine while the subscriber applies buf: catching up then
	// overlaps reading the log with the subscriber's work on another core.
	ahead     chan chunk
	closeOnce sync.Once
	done      chan struct{}
}

// chunk is what one read of the log gave: the events that passed the
// filter, the last position read, and whether it reached the head.
type chunk struct {
	events []eventstore.RecordedEvent
	after  uint64
	atHead bool
	err    error
}

func (sub *subscription) Next(ctx context.Context) (eventstore.SubscriptionMessage, error) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	for {
		if err := sub.stopped(ctx); err != nil {
			return eventstore.SubscriptionMessage{}, err
		}
		if len(sub.buf) > 0 {
			ev := sub.buf[0]
			sub.buf[0] = eventstore.RecordedEvent{} // let the payload go with the caller
			sub.buf = sub.buf[1:]
			return eventstore.SubscriptionMessage{Event: &ev}, nil
		}
		if sub.atHead && !sub.caughtUp {
			sub.caughtUp = true
			return eventstore.SubscriptionMessage{CaughtUp: true}, nil
		}
		if sub.ahead != nil {
			var c chunk
			select {
			case c = <-sub.ahead:
			case <-ctx.Done():
				return eventstore.SubscriptionMessage{}, ctx.Err()
			case <-sub.ctx.Done():
				return eventstore.SubscriptionMessage{}, sub.ctx.Err()
			}
			sub.ahead = nil
			if c.err != nil {
				return eventstore.SubscriptionMessage{}, c.err
			}
			// Whether it reached the head is not trusted: no commit signal
			// was taken before it, so the head is confirmed by a read here.
			sub.buf, sub.after = c.events, c.after
			if !c.atHead {
				sub.readAhead()
			}
			continue
		}
		// Take the signal before reading, so that a commit landing after
		// the read still wakes us.
		signal := sub.store.commitSignal()
		c := sub.read(sub.after)
		if c.err != nil {
			return eventstore.SubscriptionMessage{}, c.err
		}
		sub.buf, sub.after = c.events, c.after
		atHead := c.atHead
		if atHead {
			sub.atHead = true
		} else {
			sub.readAhead()
		}
		if len(sub.buf) > 0 || (sub.atHead && !sub.caughtUp) || !atHead {
			continue
		}
		select {
		case <-signal:
		case <-ctx.Done():
		case <-sub.ctx.Done():
		case <-sub.done:
		case <-sub.store.closing:
		}
	}
}

func (sub *subscription) stopped(ctx context.Context) error {
	select {
	case <-sub.done:
		return fmt.Errorf("subscription: %w", eventstore.ErrClosed)
	case <-sub.store.closing:
		return fmt.Errorf("subscription: %w", eventstore.ErrClosed)
	default:
	}
	if err := sub.ctx.Err(); err != nil {
		return err
	}
	return ctx.Err()
}

// readAhead starts reading the chunk after the last position read, for
// the next call of Next once buf is used up.
func (sub *subscription) readAhead() {
	after := sub.after
	ahead := make(chan chunk, 1)
	sub.ahead = ahead
	go func() { ahead <- sub.read(after) }()
}

// read reads the chunk of the log after position after, keeping only
// events that pass the filter. At most one read of a subscription runs at
// a time: the decoder is not shared.
func (sub *subscription) read(after uint64) chunk {
	s := sub.store
	limit := s.opts.ReadChunk
	c := chunk{after: after}
	if after == eventstore.End {
		// No position follows End; such a subscription only ever catches up.
		c.atHead = true
		return c
	}
	err := s.view(func(tx *bbolt.Tx) error {
		b := buckets(tx)
		cur := b.log.Cursor()
		k, v := cur.Seek(be64(after + 1))
		for n := 0; n < limit; n++ {
			if k == nil {
				c.atHead = true
				return nil
			}
			pos := beUint64(k)
			h, err := decodeHead(v)
			if err != nil {
				return corrupt("subscription", pos, err)
			}
			stream, typ, err := sub.dec.names(b, &h)
			if err != nil {
				return corrupt("subscription", pos, err)
			}
			if sub.filter.Match(stream, typ) {
				ev, err := sub.dec.finish(pos, &h, stream, typ)
				if err != nil {
					return err
				}
				c.events = append(c.events, ev)
			}
			c.after = pos
			k, v = cur.Next()
		}
		c.atHead = k == nil
		return nil
	})
	if err != nil {
		return chunk{err: fmt.Errorf("subscription: %w", err)}
	}
	return c
}

func (sub *subscription) Close() error {
	sub.closeOnce.Do(func() { close(sub.done) })
	return nil
}
