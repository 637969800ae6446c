package casework

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/caseledger/caseledger/chain"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/personaldata"
)

// history is a stream's decoded events as far as they were read. Values are
// never changed once built, so they can be shared between requests.
type history struct {
	stream string
	events []domain.Recorded
	// head is the digest of the last event as stored, which the next
	// event links to; the stream's genesis digest while it has none.
	head chain.Digest
	// erased: the stream holds PersonalDataErased, so its personal
	// members are not opened (their key is destroyed) and decode as absent.
	erased bool
	// folded is the participant these events fold to, once asked for;
	// shared by the copies of this version of the history.
	folded *foldedParticipant
	// sealed: an event holds a sealed personal member, so the stream's
	// data key exists and a missing one is never replaced by a new one.
	sealed bool
	// extended is set by the first extend of this version, which may then
	// append to events in place: readers of this version read only up to
	// its length, so only a second extender must copy.
	extended *atomic.Bool
}

// foldedParticipant is a history's participant, folded once, when first
// asked for.
type foldedParticipant struct {
	once sync.Once
	p    domain.Participant
	done atomic.Bool // p is set
	// from is the participant of the history before newer, the events
	// this version added: once from is folded, this one extends a clone
	// of it rather than folding every event again, which is what keeps a
	// long-lived participant's writes cheap. Both are let go once p is set.
	from  *foldedParticipant
	newer []domain.Recorded
}

// participant is what h folds to (domain.FoldParticipant), shared by
// every caller, who must not change it.
func (h history) participant() *domain.Participant {
	f := h.folded
	if f == nil {
		f = &foldedParticipant{}
	}
	f.once.Do(func() {
		defer func() { f.from, f.newer = nil, nil }()
		if f.from != nil && f.from.done.Load() {
			p := f.from.p.CloneFor(f.newer)
			extended := true
			for _, r := range f.newer {
				if extended = p.Extend(r); !extended {
					break // a correction or void: only a whole fold resolves it
				}
			}
			if extended {
				f.p = p
				f.done.Store(true)
				return
			}
		}
		f.p = domain.FoldParticipant(h.events)
		f.done.Store(true)
	})
	return &f.p
}

func emptyHistory(stream string) history {
	return history{stream: stream, head: chain.Genesis(stream)}
}

func (h history) revision() uint64 { return h.events[len(h.events)-1].Revision }

// next is the revision the stream's next event has.
func (h history) next() uint64 {
	if len(h.events) == 0 {
		return 0
	}
	return h.revision() + 1
}

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
//
// Every event read is checked against the chain (its link must be the
// digest of the event before it) and its personal member opened, unless
// the stream's personal data were erased: then no personal member is
// opened, a cached history that still holds them is read again without
// them, and the stream's data key, if a crash or another process left it,
// is destroyed.
func (s *Service) load(ctx context.Context, stream string) (history, error) {
	h, cached := s.cache.get(stream)
	if !cached {
		h = emptyHistory(stream)
	}
	newer, err := s.read(ctx, stream, h.next())
	if err != nil {
		return history{}, err
	}
	if len(newer) == 0 {
		return h, nil
	}
	if !h.erased && len(h.events) > 0 && holdsErasure(newer) {
		// Erased since h was read: h holds personal data it must not.
		h = emptyHistory(stream)
		if newer, err = s.read(ctx, stream, 0); err != nil {
			return history{}, err
		}
	}
	wasErased := h.erased
	if h, err = s.extend(ctx, h, newer); err != nil {
		return history{}, err
	}
	if h.erased && !wasErased {
		// Appending the erasure comes before destroying the key; this is
		// the second half when the first writer did not get to it, and a
		// no-op when it did. The key is forgotten by this process too.
		if err := s.keys.Destroy(ctx, personaldata.KeyID(stream)); err != nil {
			return history{}, fmt.Errorf("read %s: the personal data are erased: %w: %w", stream, ErrKeyNotDestroyed, err)
		}
	}
	s.cache.put(h)
	return h, nil
}

// read returns the stream's events from revision from on; none for a
// stream without events.
func (s *Service) read(ctx context.Context, stream string, from uint64) ([]eventstore.RecordedEvent, error) {
	evs, err := s.store.ReadStream(ctx, stream, eventstore.ReadStreamOptions{From: from})
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	return evs, nil
}

// extend returns h followed by newer, which continue it: checked against
// the chain, opened (or, after erasure, stripped of their personal
// members) and decoded.
func (s *Service) extend(ctx context.Context, h history, newer []eventstore.RecordedEvent) (history, error) {
	out := history{stream: h.stream, head: h.head, erased: h.erased || holdsErasure(newer), folded: &foldedParticipant{}, sealed: h.sealed, extended: new(atomic.Bool)}
	if h.folded != nil && h.folded.done.Load() {
		// Only a folded version is worth extending; linking to one that
		// is not would chain every version of a stream never folded.
		out.folded.from = h.folded
	}
	if h.extended != nil && h.extended.CompareAndSwap(false, true) {
		// Appending in place, amortized, rather than copying the whole
		// history for every new version of it.
		out.events = slices.Grow(h.events, len(newer))
	} else {
		out.events = slices.Grow(slices.Clip(h.events), len(newer))
	}
	next := h.next()
	for _, ev := range newer {
		if ev.Revision != next {
			return history{}, fmt.Errorf("read %s: event %s: %w: revision %d where %d was expected", h.stream, ev.ID, chain.ErrBroken, ev.Revision, next)
		}
		if !out.sealed {
			has, err := personaldata.HasPersonal(ev.Data)
			if err != nil {
				return history{}, fmt.Errorf("read %s: event %s: %w", h.stream, ev.ID, err)
			}
			out.sealed = has
		}
		data, err := s.open(ctx, out, ev)
		if err != nil {
			return history{}, fmt.Errorf("read %s: %w", h.stream, err)
		}
		r, err := domain.DecodeRecorded(ev.ID, ev.Stream, ev.Revision, ev.Position, ev.Type, data, ev.Metadata)
		if err != nil {
			return history{}, fmt.Errorf("read %s: %w", h.stream, err)
		}
		if r.Meta.PrevDigest != out.head.String() {
			return history{}, fmt.Errorf("read %s: event %s at revision %d: %w: it does not link to the event before it (run caseledger verify)", h.stream, ev.ID, ev.Revision, chain.ErrBroken)
		}
		out.head = chain.OfRecorded(ev)
		out.events = append(out.events, r)
		next++
	}
	out.folded.newer = out.events[len(h.events):]
	return out, nil
}

// open returns the event's data with its personal member opened, or
// without it once the stream's personal data are erased.
func (s *Service) open(ctx context.Context, h history, ev eventstore.RecordedEvent) ([]byte, error) {
	if h.erased {
		return personaldata.StripPersonal(ev.Data)
	}
	// A participant who is not erased has their key: a missing one is a
	// lost key store, not an erasure, and is not shown as one.
	data, err := s.keys.OpenEvent(ctx, h.stream, ev.ID, ev.Data)
	if errors.Is(err, personaldata.ErrNoKey) {
		return nil, fmt.Errorf("%w: %w", personaldata.ErrKeyStoreUnavailable, err)
	}
	return data, err
}

// holdsErasure reports whether events include PersonalDataErased.
func holdsErasure(events []eventstore.RecordedEvent) bool {
	for _, ev := range events {
		if ev.Type == domain.TypePersonalDataErased {
			return true
		}
	}
	return false
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
