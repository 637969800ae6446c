package casework

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/caseledger/caseledger/chain"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
)

// maxLogHeads bounds the log streams whose heads a Service keeps: the
// access log writes to one day's stream at a time.
const maxLogHeads = 16

// logHead is where a log stream ends: enough to append the next event.
type logHead struct {
	revision int64 // -1 for a stream without events
	digest   chain.Digest
}

// logHeads are the heads of the log streams a Service appended to.
type logHeads struct {
	mu    sync.Mutex
	heads map[string]logHead
}

func (l *logHeads) get(stream string) (logHead, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h, ok := l.heads[stream]
	return h, ok
}

// put keeps h unless a later head of the stream is known.
func (l *logHeads) put(stream string, h logHead) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.heads[stream]; ok && old.revision >= h.revision {
		return
	}
	if l.heads == nil || len(l.heads) >= maxLogHeads {
		// Yesterday's streams are not written again; starting afresh
		// costs today's stream one read of its last event.
		l.heads = make(map[string]logHead)
	}
	l.heads[stream] = h
}

func (l *logHeads) forget(stream string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.heads, stream)
}

// AppendLog appends events to a log stream: one that only grows and whose
// history no decision reads (the access log's day streams). Where Execute
// keeps a stream's decoded history, AppendLog keeps only its head (the
// revision and the digest the next event links to), so that an append to
// a day's stream costs the same on its millionth event as on its first.
// The events are encoded, sealed and chained as Execute does, and stamped
// with req.Stamps when given; idempotency keys and If-Match do not apply
// to a log.
//
// Events another process appended since are read, and their links
// checked, but not decoded; a stream this Service has not appended to is
// picked up at its last event.
func (s *Service) AppendLog(ctx context.Context, stream string, req Request, events []domain.Event) (Result, error) {
	if req.IdempotencyKey != "" || req.IfMatch != nil {
		return Result{}, fmt.Errorf("append to log %s: a log takes no idempotency key and no If-Match", stream)
	}
	var lastConflict error
	for range s.maxAttempts {
		head, err := s.logHead(ctx, stream)
		if err != nil {
			return Result{}, err
		}
		h := history{stream: stream, head: head.digest}
		data, err := s.encode(ctx, h, events, idSource{}, req)
		if err != nil {
			return Result{}, fmt.Errorf("append to log %s: %w", stream, err)
		}
		expected := eventstore.NoStream
		if head.revision >= 0 {
			expected = eventstore.AtRevision(uint64(head.revision))
		}
		res, err := s.store.Append(ctx, stream, expected, data...)
		var conflict *eventstore.ConflictError
		if errors.As(err, &conflict) {
			lastConflict = err // another process appended: read its events and try again
			continue
		}
		if err != nil {
			return Result{}, fmt.Errorf("append to log %s: %w", stream, err)
		}
		if res.Revision == uint64(head.revision+int64(len(data))) {
			s.logs.put(stream, logHead{revision: int64(res.Revision), digest: chain.OfData(data[len(data)-1])})
		} else {
			// The store had these ids already (stamps that name them, from
			// an earlier append that failed having written) and wrote
			// nothing: what was encoded here is not the stream's head.
			s.logs.forget(stream)
		}
		out := Result{Stream: stream, Revision: res.Revision, Position: res.Position}
		for _, d := range data {
			out.EventIDs = append(out.EventIDs, d.ID)
		}
		return out, nil
	}
	return Result{}, fmt.Errorf("append to log %s: gave up after %d concurrent writes: %w", stream, s.maxAttempts, lastConflict)
}

// logHead returns the stream's head as the store holds it now: the one
// kept, moved past what was appended since, or the stream's last event.
func (s *Service) logHead(ctx context.Context, stream string) (logHead, error) {
	head, ok := s.logs.get(stream)
	if !ok {
		last, err := s.store.ReadStream(ctx, stream, eventstore.ReadStreamOptions{Backwards: true, From: eventstore.End, Limit: 1})
		if errors.Is(err, eventstore.ErrStreamNotFound) || err == nil && len(last) == 0 {
			head = logHead{revision: -1, digest: chain.Genesis(stream)}
			s.logs.put(stream, head)
			return head, nil
		}
		if err != nil {
			return logHead{}, fmt.Errorf("read %s: %w", stream, err)
		}
		head = logHead{revision: int64(last[0].Revision), digest: chain.OfRecorded(last[0])}
	}
	newer, err := s.read(ctx, stream, uint64(head.revision+1))
	if err != nil {
		return logHead{}, err
	}
	for _, ev := range newer {
		if ev.Revision != uint64(head.revision+1) {
			return logHead{}, fmt.Errorf("read %s: event %s: %w: revision %d where %d was expected", stream, ev.ID, chain.ErrBroken, ev.Revision, head.revision+1)
		}
		link, err := chain.Link(ev.Metadata)
		if err != nil || link != head.digest {
			return logHead{}, fmt.Errorf("read %s: event %s at revision %d: %w: it does not link to the event before it (run caseledger verify)", stream, ev.ID, ev.Revision, chain.ErrBroken)
		}
		head = logHead{revision: int64(ev.Revision), digest: chain.OfRecorded(ev)}
	}
	s.logs.put(stream, head)
	return head, nil
}
