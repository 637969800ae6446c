package storetest_test

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/storetest"
)

// TestSuiteOnReferenceStore runs the suite against memStore, a store kept
// simple enough to be obviously right, so that a failure here is a bug in
// the suite rather than in a backend.
func TestSuiteOnReferenceStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		s := newMemStore()
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// positionStride spaces positions out, so that the suite is checked not to
// assume a gap-free log.
const positionStride = 7

// memStore is the reference store: one mutex around a slice. Positions are
// (index+1)*positionStride.
type memStore struct {
	mu      sync.Mutex
	closed  bool
	log     []eventstore.RecordedEvent
	streams map[string][]int // indexes into log, by revision
	// changed is closed, and replaced, whenever the log grows or the store
	// closes, waking every waiting subscription at once.
	changed chan struct{}
}

func newMemStore() *memStore {
	return &memStore{streams: make(map[string][]int), changed: make(chan struct{})}
}

func position(i int) uint64 { return uint64(i+1) * positionStride }

// copyOf returns an event sharing no memory with the log.
func copyOf(ev eventstore.RecordedEvent) eventstore.RecordedEvent {
	ev.Data = bytes.Clone(ev.Data)
	ev.Metadata = bytes.Clone(ev.Metadata)
	return ev
}

func (m *memStore) Append(ctx context.Context, stream string, expected eventstore.Expected, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := eventstore.ValidateAppend(stream, expected, events, eventstore.DefaultMaxEventSize); err != nil {
		return eventstore.AppendResult{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return eventstore.AppendResult{}, eventstore.ErrClosed
	}
	revs := m.streams[stream]

	stored := 0
	var highest *eventstore.RecordedEvent
	for _, ev := range events {
		for _, i := range revs {
			if m.log[i].ID == ev.ID {
				stored++
				if highest == nil || m.log[i].Revision > highest.Revision {
					highest = &m.log[i]
				}
			}
		}
	}
	switch {
	case stored == len(events):
		return eventstore.AppendResult{Revision: highest.Revision, Position: highest.Position}, nil
	case stored > 0:
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, eventstore.ErrIdempotency)
	}

	exists := len(revs) > 0
	actual := uint64(len(revs)) - 1
	var ok bool
	switch expected.Kind {
	case eventstore.ExpectAny:
		ok = true
	case eventstore.ExpectNoStream:
		ok = !exists
	case eventstore.ExpectStreamExists:
		ok = exists
	case eventstore.ExpectRevision:
		ok = exists && actual == expected.Revision
	}
	if !ok {
		ce := &eventstore.ConflictError{Stream: stream, Expected: expected, Exists: exists}
		if exists {
			ce.Actual = actual
		}
		return eventstore.AppendResult{}, ce
	}

	now := time.Now().UTC()
	for _, ev := range events {
		i := len(m.log)
		m.log = append(m.log, eventstore.RecordedEvent{
			ID:          ev.ID,
			Stream:      stream,
			Revision:    uint64(len(m.streams[stream])),
			Position:    position(i),
			Type:        ev.Type,
			ContentType: eventstore.ContentTypeOrDefault(ev.ContentType),
			Data:        bytes.Clone(ev.Data),
			Metadata:    bytes.Clone(ev.Metadata),
			Recorded:    now,
		})
		m.streams[stream] = append(m.streams[stream], i)
	}
	close(m.changed)
	m.changed = make(chan struct{})
	last := m.log[len(m.log)-1]
	return eventstore.AppendResult{Revision: last.Revision, Position: last.Position}, nil
}

func (m *memStore) ReadStream(ctx context.Context, stream string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts.Limit < 0 {
		return nil, eventstore.ErrInvalidReadRange
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, eventstore.ErrClosed
	}
	revs := m.streams[stream]
	if len(revs) == 0 {
		return nil, fmt.Errorf("%s: %w", stream, eventstore.ErrStreamNotFound)
	}
	var out []eventstore.RecordedEvent
	full := func() bool { return opts.Limit > 0 && len(out) == opts.Limit }
	if opts.Backwards {
		from := min(opts.From, uint64(len(revs)-1))
		for r := int(from); r >= 0 && !full(); r-- {
			out = append(out, copyOf(m.log[revs[r]]))
		}
		return out, nil
	}
	for r := opts.From; r < uint64(len(revs)) && !full(); r++ {
		out = append(out, copyOf(m.log[revs[r]]))
	}
	return out, nil
}

func (m *memStore) ReadAll(ctx context.Context, opts eventstore.ReadAllOptions) ([]eventstore.RecordedEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts.Limit < 0 {
		return nil, eventstore.ErrInvalidReadRange
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, eventstore.ErrClosed
	}
	var out []eventstore.RecordedEvent
	full := func() bool { return opts.Limit > 0 && len(out) == opts.Limit }
	if opts.Backwards {
		before := sort.Search(len(m.log), func(i int) bool { return position(i) >= opts.From })
		for i := before - 1; i >= 0 && !full(); i-- {
			out = append(out, copyOf(m.log[i]))
		}
		return out, nil
	}
	after := sort.Search(len(m.log), func(i int) bool { return position(i) > opts.From })
	for i := after; i < len(m.log) && !full(); i++ {
		out = append(out, copyOf(m.log[i]))
	}
	return out, nil
}

func (m *memStore) Subscribe(ctx context.Context, opts eventstore.SubscribeOptions) (eventstore.Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, eventstore.ErrClosed
	}
	return &memSub{store: m, ctx: ctx, filter: opts.Filter, cursor: opts.From, done: make(chan struct{})}, nil
}

func (m *memStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		close(m.changed)
	}
	return nil
}

// memSub reads the log directly: it keeps only a cursor, so it cannot fall
// behind in a way that matters to writers.
type memSub struct {
	store  *memStore
	ctx    context.Context
	filter eventstore.Filter
	done   chan struct{}
	once   sync.Once

	// Guarded by store.mu.
	cursor   uint64 // position of the last event passed, delivered or not
	caughtUp bool
}

func (s *memSub) Next(ctx context.Context) (eventstore.SubscriptionMessage, error) {
	m := s.store
	for {
		m.mu.Lock()
		select {
		case <-s.done:
			m.mu.Unlock()
			return eventstore.SubscriptionMessage{}, eventstore.ErrClosed
		default:
		}
		if m.closed {
			m.mu.Unlock()
			return eventstore.SubscriptionMessage{}, eventstore.ErrClosed
		}
		if err := s.ctx.Err(); err != nil {
			m.mu.Unlock()
			return eventstore.SubscriptionMessage{}, err
		}
		if err := ctx.Err(); err != nil {
			m.mu.Unlock()
			return eventstore.SubscriptionMessage{}, err
		}
		i := sort.Search(len(m.log), func(i int) bool { return position(i) > s.cursor })
		for ; i < len(m.log); i++ {
			ev := m.log[i]
			s.cursor = ev.Position
			if s.filter.Match(ev.Stream, ev.Type) {
				m.mu.Unlock()
				ev = copyOf(ev)
				return eventstore.SubscriptionMessage{Event: &ev}, nil
			}
		}
		if !s.caughtUp {
			s.caughtUp = true
			m.mu.Unlock()
			return eventstore.SubscriptionMessage{CaughtUp: true}, nil
		}
		changed := m.changed
		m.mu.Unlock()
		select {
		case <-changed:
		case <-s.done:
		case <-s.ctx.Done():
		case <-ctx.Done():
		}
	}
}

func (s *memSub) Close() error {
	s.once.Do(func() { close(s.done) })
	return nil
}
