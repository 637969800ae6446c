package casework

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
)

// history is a stream's decoded events as far as they were read. Values are
// never changed once built, so they can be shared between requests.
type history struct {
	stream string
	events []domain.Recorded
}

func (h history) revision() uint64 { return h.events[len(h.events)-1].Revision }

// expectedRevision is what If-Match compares with: the last revision, or -1
// for a stream without events.
func (h history) expectedRevision() int64 {
	if len(h.events) == 0 {
		return -1
	}
	return int64(h.revision())
}

// load returns the stream's history: what the cache holds, brought up to
// date with whatever the store has after it. Only the new events are read
// and decoded, which is what keeps a long-lived participant's commands
// cheap; reading from the store every time keeps the result right when
// other processes write to the same store.
func (s *Service) load(ctx context.Context, stream string) (history, error) {
	h, cached := s.cache.get(stream)
	if !cached {
		h = history{stream: stream}
	}
	from := uint64(0)
	if len(h.events) > 0 {
		from = h.revision() + 1
	}
	newer, err := s.store.ReadStream(ctx, stream, eventstore.ReadStreamOptions{From: from})
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return h, nil
	}
	if err != nil {
		return history{}, fmt.Errorf("read %s: %w", stream, err)
	}
	if len(newer) == 0 {
		return h, nil
	}
	events := slices.Grow(slices.Clip(h.events), len(newer))
	for _, ev := range newer {
		r, err := domain.DecodeRecorded(ev.ID, ev.Stream, ev.Revision, ev.Position, ev.Type, ev.Data, ev.Metadata)
		if err != nil {
			return history{}, fmt.Errorf("read %s: %w", stream, err)
		}
		events = append(events, r)
	}
	h = history{stream: stream, events: events}
	s.cache.put(h)
	return h, nil
}

// historyCache keeps the most recently used histories, up to a bound.
type historyCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // of history, most recent first
	index map[string]*list.Element
}

func newHistoryCache(max int) *historyCache {
	return &historyCache{max: max, order: list.New(), index: make(map[string]*list.Element)}
}

func (c *historyCache) get(stream string) (history, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.index[stream]
	if !ok {
		return history{}, false
	}
	c.order.MoveToFront(el)
	return el.Value.(history), true
}

// put stores h unless the cache already holds a longer history of the
// stream (a concurrent request read further).
func (c *historyCache) put(h history) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.index[h.stream]; ok {
		if len(el.Value.(history).events) < len(h.events) {
			el.Value = h
		}
		c.order.MoveToFront(el)
		return
	}
	c.index[h.stream] = c.order.PushFront(h)
	if c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.index, oldest.Value.(history).stream)
	}
}
