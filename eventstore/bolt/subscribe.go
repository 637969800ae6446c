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
	mu        sync.Mutex
	after     uint64 // last position read, delivered or filtered out
	buf       []eventstore.RecordedEvent
	atHead    bool // a read has reached the head: CaughtUp is due
	caughtUp  bool // CaughtUp has been delivered
	dec       decoder
	closeOnce sync.Once
	done      chan struct{}
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
		// Take the signal before reading, so that a commit landing after
		// the read still wakes us.
		signal := sub.store.commitSignal()
		atHead, err := sub.fill()
		if err != nil {
			return eventstore.SubscriptionMessage{}, err
		}
		if atHead {
			sub.atHead = true
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

// fill reads the next chunk of the log into buf, keeping only events that
// pass the filter, and reports whether it reached the head.
func (sub *subscription) fill() (atHead bool, err error) {
	s := sub.store
	limit := s.opts.ReadChunk
	sub.buf = sub.buf[:0]
	if sub.after == eventstore.End {
		// No position follows End; such a subscription only ever catches up.
		return true, nil
	}
	err = s.view(func(tx *bbolt.Tx) error {
		b := buckets(tx)
		c := b.log.Cursor()
		k, v := c.Seek(be64(sub.after + 1))
		for n := 0; n < limit; n++ {
			if k == nil {
				atHead = true
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
				sub.buf = append(sub.buf, ev)
			}
			sub.after = pos
			k, v = c.Next()
		}
		atHead = k == nil
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("subscription: %w", err)
	}
	return atHead, nil
}

func (sub *subscription) Close() error {
	sub.closeOnce.Do(func() { close(sub.done) })
	return nil
}
