package esdb

import (
	"container/list"
	"sync"

	"github.com/google/uuid"
)

// idIndex remembers, per stream, the ids of the events at revisions 0..last
// as this process has seen them (appended or read), so that Append can
// decide idempotency before writing without reading the whole stream
// every time.
//
// Nothing in it is trusted blindly: Append writes with the exact revision
// the index knows as the stream's last, so if anything was appended since
// (by this process or another), the server refuses the write and Append
// reads the new events before deciding again. Events are never rewritten
// once stored, so what the index holds below its last revision cannot go
// stale.
//
// The index is bounded by the number of ids it holds; streams used least
// recently are forgotten first, and a forgotten stream is read again in
// full the next time it is appended to. The stream last used is kept
// whatever its size.
type idIndex struct {
	mu      sync.Mutex
	max     int
	total   int
	lru     *list.List // of *streamIDs, most recently used at the front
	streams map[string]*list.Element
}

type streamIDs struct {
	name string
	last int64 // last revision covered; -1 when nothing is
	ids  map[uuid.UUID]idAt
}

// idAt is where an event is: its revision, and its position if known (0
// when only the append's last event's position was reported).
type idAt struct {
	rev uint64
	pos uint64
}

// idRec is an event as the index learns it.
type idRec struct {
	id  uuid.UUID
	rev uint64
	pos uint64
}

func newIDIndex(max int) *idIndex {
	return &idIndex{max: max, lru: list.New(), streams: make(map[string]*list.Element)}
}

// known is what is known of a stream and the ids of one append.
type known struct {
	last int64              // last revision covered; -1 when none
	at   map[uuid.UUID]idAt // the append's ids the stream holds, and where
}

// highest is the one of the stored ids with the highest revision.
func (k known) highest() idAt {
	var h idAt
	first := true
	for _, at := range k.at {
		if first || at.rev > h.rev {
			h, first = at, false
		}
	}
	return h
}

// lookup reports the covered part of a stream and which of ids it holds.
func (x *idIndex) lookup(stream string, ids []uuid.UUID) known {
	x.mu.Lock()
	defer x.mu.Unlock()
	k := known{last: -1, at: make(map[uuid.UUID]idAt)}
	el, ok := x.streams[stream]
	if !ok {
		return k
	}
	x.lru.MoveToFront(el)
	s := el.Value.(*streamIDs)
	k.last = s.last
	for _, id := range ids {
		if at, ok := s.ids[id]; ok {
			k.at[id] = at
		}
	}
	return k
}

// extend adds events that continue the covered part of a stream, in
// revision order. Events at revisions already covered are passed over; an
// event beyond the next revision means a gap, and the rest is ignored,
// since the index may only cover revisions 0..last without holes.
func (x *idIndex) extend(stream string, recs []idRec) {
	if len(recs) == 0 {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	el, ok := x.streams[stream]
	var s *streamIDs
	if ok {
		s = el.Value.(*streamIDs)
		x.lru.MoveToFront(el)
	} else {
		if recs[0].rev != 0 {
			return
		}
		s = &streamIDs{name: stream, last: -1, ids: make(map[uuid.UUID]idAt)}
		el = x.lru.PushFront(s)
		x.streams[stream] = el
	}
	defer x.evictLocked(el)
	for _, r := range recs {
		switch {
		case int64(r.rev) <= s.last:
			if r.pos != 0 {
				if at, ok := s.ids[r.id]; ok && at.rev == r.rev {
					s.ids[r.id] = idAt{rev: r.rev, pos: r.pos}
				}
			}
			continue
		case int64(r.rev) != s.last+1:
			return
		}
		if _, dup := s.ids[r.id]; !dup {
			x.total++
		}
		// A repeated id (only possible in data written around the port)
		// keeps its highest revision, which is what a retry reports.
		s.ids[r.id] = idAt{rev: r.rev, pos: r.pos}
		s.last = int64(r.rev)
	}
}

// evictLocked forgets the least recently used streams until the index is
// within its bound, never keep: the stream being worked on stays, even if
// it alone is over the bound, or an append to it could not make progress.
func (x *idIndex) evictLocked(keep *list.Element) {
	for x.total > x.max {
		el := x.lru.Back()
		if el == keep {
			el = el.Prev()
		}
		if el == nil {
			return
		}
		x.forgetLocked(el)
	}
}

// forget drops what the index holds of a stream, when the server shows it
// is not what the index believed (only possible if the stream was deleted
// and recreated behind the port's back).
func (x *idIndex) forget(stream string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if el, ok := x.streams[stream]; ok {
		x.forgetLocked(el)
	}
}

func (x *idIndex) forgetLocked(el *list.Element) {
	s := el.Value.(*streamIDs)
	x.total -= len(s.ids)
	x.lru.Remove(el)
	delete(x.streams, s.name)
}
