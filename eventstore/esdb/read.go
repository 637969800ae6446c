package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	kurrent "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/caseledger/caseledger/eventstore"
)

// unlimited is the count the adapter asks for when it wants everything:
// the server takes a signed 64-bit count.
const unlimited = math.MaxInt64

// allPage is the smallest page of a limited $all read. Reads skip system
// events and, in a namespace, other stores' events, so asking for just
// the limit would often mean another round trip.
const allPage = 256

// visible maps a stream name of the server to the port's: without the
// namespace, and not at all for system streams or streams outside the
// namespace.
func (s *Store) visible(name string) (string, bool) {
	if len(name) <= len(s.ns) || name[:len(s.ns)] != s.ns {
		return "", false
	}
	stream := name[len(s.ns):]
	if name[0] == '$' || eventstore.ValidateStreamName(stream) != nil {
		return "", false
	}
	return stream, true
}

// record converts an event of the server; stream is its port name.
func record(stream string, ev *kurrent.RecordedEvent) (eventstore.RecordedEvent, error) {
	pos := ev.Position.Commit
	// Servers before 22.10 report no position (all bits set) in stream
	// reads; a position of 0 is never a user event's, since the log
	// begins with the server's own records.
	if pos == 0 || pos == math.MaxUint64 || pos == math.MaxInt64 {
		return eventstore.RecordedEvent{}, fmt.Errorf("the server reported no position for %s@%d (EventStoreDB 22.10 or later is required)", stream, ev.EventNumber)
	}
	return eventstore.RecordedEvent{
		ID:          ev.EventID,
		Stream:      stream,
		Revision:    ev.EventNumber,
		Position:    pos,
		Type:        ev.EventType,
		ContentType: eventstore.ContentTypeOrDefault(ev.ContentType),
		Data:        ev.Data,
		Metadata:    ev.UserMetadata,
		Recorded:    ev.CreatedDate.UTC(),
	}, nil
}

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	what := "read " + stream
	if err := eventstore.ValidateStreamName(stream); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if opts.Limit < 0 {
		return nil, fmt.Errorf("%s: %w: limit %d", what, eventstore.ErrInvalidReadRange, opts.Limit)
	}
	if s.isClosed() {
		return nil, fmt.Errorf("%s: %w", what, eventstore.ErrClosed)
	}
	count := uint64(unlimited)
	if opts.Limit > 0 {
		count = uint64(opts.Limit)
	}
	evs, err := s.readStream(ctx, stream, opts.Backwards, opts.From, count)
	if err != nil {
		return nil, s.failRead(ctx, what, err)
	}
	return evs, nil
}

// failRead is fail, with the server's "not found" as the port's.
func (s *Store) failRead(ctx context.Context, what string, err error) error {
	var ee *kurrent.Error
	if errors.As(err, &ee) && ee.Code() == kurrent.ErrorCodeResourceNotFound {
		return fmt.Errorf("%s: %w", what, eventstore.ErrStreamNotFound)
	}
	return s.fail(ctx, what, err)
}

// readStream reads one stream; revisions are inclusive both ways, as the
// port's are. What a forward read finds also goes into the idempotency
// index.
func (s *Store) readStream(ctx context.Context, stream string, backwards bool, from, count uint64) ([]eventstore.RecordedEvent, error) {
	name := s.ns + stream
	ro := kurrent.ReadStreamOptions{Direction: kurrent.Forwards, From: kurrent.Revision(from)}
	if backwards {
		ro.Direction = kurrent.Backwards
	}
	if from == eventstore.End {
		ro.From = kurrent.End{}
	}
	evs, err := call(s, ctx, func(ctx context.Context, c *kurrent.Client, progress func()) ([]eventstore.RecordedEvent, error) {
		rs, err := c.ReadStream(ctx, name, ro, count)
		if err != nil {
			return nil, err
		}
		defer rs.Close()
		var out []eventstore.RecordedEvent
		for {
			e, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			if err != nil {
				return nil, err
			}
			progress()
			ev, err := record(stream, e.OriginalEvent())
			if err != nil {
				return nil, err
			}
			out = append(out, ev)
		}
	})
	if err != nil {
		return nil, err
	}
	if !backwards && len(evs) > 0 {
		recs := make([]idRec, len(evs))
		for i, ev := range evs {
			recs[i] = idRec{id: ev.ID, rev: ev.Revision, pos: ev.Position}
		}
		s.index.extend(name, recs)
	}
	return evs, nil
}

// ReadAll implements eventstore.Store. The port's positions are exclusive
// both ways; the server's $all reads include their start forwards, so the
// event at the start is passed over. Events the store does not show
// (system events, other namespaces) are passed over too, page after page,
// until the limit is met or the log ends.
func (s *Store) ReadAll(ctx context.Context, opts eventstore.ReadAllOptions) ([]eventstore.RecordedEvent, error) {
	const what = "read all"
	if opts.Limit < 0 {
		return nil, fmt.Errorf("%s: %w: limit %d", what, eventstore.ErrInvalidReadRange, opts.Limit)
	}
	if s.isClosed() {
		return nil, fmt.Errorf("%s: %w", what, eventstore.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	read := s.readAllForwards
	if opts.Backwards {
		read = s.readAllBackwards
	}
	evs, err := call(s, ctx, func(ctx context.Context, c *kurrent.Client, progress func()) ([]eventstore.RecordedEvent, error) {
		return read(ctx, c, progress, opts.From, opts.Limit)
	})
	if err != nil {
		return nil, s.fail(ctx, what, err)
	}
	return evs, nil
}

func pageSize(limit, have int) uint64 {
	if limit == 0 {
		return unlimited
	}
	return uint64(max(limit-have+1, allPage))
}

func (s *Store) readAllForwards(ctx context.Context, c *kurrent.Client, progress func(), from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	if from == eventstore.End {
		return nil, nil
	}
	after := max(from, s.opts.StartAfter)
	var start kurrent.AllPosition = kurrent.Start{}
	if after > 0 {
		start = kurrent.Position{Commit: after, Prepare: after}
	}
	var (
		out     []eventstore.RecordedEvent
		convErr error
	)
	for {
		count := pageSize(limit, len(out))
		n, err := s.readAllPage(ctx, c, progress, kurrent.Forwards, start, count, func(e *kurrent.RecordedEvent) bool {
			if e.Position.Commit <= after {
				return true
			}
			after = e.Position.Commit
			start = e.Position
			if out, convErr = s.appendVisible(out, e); convErr != nil {
				return false
			}
			return limit == 0 || len(out) < limit
		})
		if err == nil {
			err = convErr
		}
		if err != nil || uint64(n) < count || (limit > 0 && len(out) >= limit) {
			return out, err
		}
	}
}

// appendVisible appends e to out, converted, when its stream is one the
// port shows (see visible).
func (s *Store) appendVisible(out []eventstore.RecordedEvent, e *kurrent.RecordedEvent) ([]eventstore.RecordedEvent, error) {
	stream, ok := s.visible(e.StreamID)
	if !ok {
		return out, nil
	}
	ev, err := record(stream, e)
	if err != nil {
		return out, err
	}
	return append(out, ev), nil
}

func (s *Store) readAllBackwards(ctx context.Context, c *kurrent.Client, progress func(), from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	var start kurrent.AllPosition = kurrent.End{}
	if from != eventstore.End {
		if from <= s.opts.StartAfter {
			return nil, nil
		}
		start = kurrent.Position{Commit: from, Prepare: from}
	}
	var (
		out     []eventstore.RecordedEvent
		done    bool
		convErr error
	)
	for {
		count := pageSize(limit, len(out))
		n, err := s.readAllPage(ctx, c, progress, kurrent.Backwards, start, count, func(e *kurrent.RecordedEvent) bool {
			if e.Position.Commit <= s.opts.StartAfter {
				done = true
				return false
			}
			start = e.Position
			if out, convErr = s.appendVisible(out, e); convErr != nil {
				return false
			}
			return limit == 0 || len(out) < limit
		})
		if err == nil {
			err = convErr
		}
		if err != nil || done || uint64(n) < count || (limit > 0 && len(out) >= limit) {
			return out, err
		}
	}
}

// readAllPage reads up to count events of $all and hands each to keep
// until it returns false; it returns how many events it read.
func (s *Store) readAllPage(ctx context.Context, c *kurrent.Client, progress func(), dir kurrent.Direction, start kurrent.AllPosition, count uint64, keep func(*kurrent.RecordedEvent) bool) (int, error) {
	rs, err := c.ReadAll(ctx, kurrent.ReadAllOptions{Direction: dir, From: start}, count)
	if err != nil {
		return 0, err
	}
	defer rs.Close()
	n := 0
	for {
		e, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		progress()
		n++
		if !keep(e.OriginalEvent()) {
			return n, nil
		}
	}
}

// head is the position of the last event of $all, system events included;
// zero when the log is empty.
func (s *Store) head(ctx context.Context) (uint64, error) {
	return call(s, ctx, func(ctx context.Context, c *kurrent.Client, progress func()) (uint64, error) {
		var pos uint64
		_, err := s.readAllPage(ctx, c, progress, kurrent.Backwards, kurrent.End{}, 1, func(e *kurrent.RecordedEvent) bool {
			pos = e.Position.Commit
			return false
		})
		return pos, err
	})
}
