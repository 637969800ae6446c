package esdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"unicode/utf16"

	kurrent "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"

	"github.com/caseledger/caseledger/eventstore"
)

// Content types the server can give back: it keeps only whether an
// event's content is JSON.
const (
	contentJSON   = "application/json"
	contentBinary = "application/octet-stream"
)

// maxAppendRounds bounds how often one Append looks again after the stream
// moved under it. Each round follows a write that landed, so the log
// progresses; the bound only stops a server whose answers contradict each
// other from keeping Append busy.
const maxAppendRounds = 1000

// Append implements eventstore.Store.
//
// Idempotency is decided against the idempotency index: the ids the
// stream holds at revisions 0..last, as this process has seen them. If the
// call's ids are all there, the original result is returned; if some are,
// ErrIdempotency. Otherwise the expectation is checked against last, and
// the events are written with exactly last as the expected revision, so
// that the server refuses the write if the stream has moved since. On
// that refusal Append reads what was added, and decides again: the new
// events may be this very append, made by a concurrent retry.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.Expected, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, expected, events, s.opts.MaxEventSize); err != nil {
		return eventstore.AppendResult{}, err
	}
	what := "append to " + stream
	data, size, err := toEventData(events)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("%s: %w", what, err)
	}
	if s.opts.MaxAppendSize > 0 && size > s.opts.MaxAppendSize {
		return eventstore.AppendResult{}, fmt.Errorf("%s: %w: %d bytes as EventStoreDB counts them, the server takes at most %d per append",
			what, eventstore.ErrEventTooLarge, size, s.opts.MaxAppendSize)
	}
	if s.isClosed() {
		return eventstore.AppendResult{}, fmt.Errorf("%s: %w", what, eventstore.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("%s: %w", what, err)
	}

	name := s.ns + stream
	ids := make([]uuid.UUID, len(events))
	for i, ev := range events {
		ids[i] = ev.ID
	}
	// fresh says k was brought up to date from the server during this
	// call, so that an expectation it contradicts is a conflict.
	var (
		k     known
		have  bool // k is fresh from refresh, not to be looked up again
		fresh bool
		stuck int // refusals after which the stream showed nothing new
	)
	for range maxAppendRounds {
		if !have {
			k = s.index.lookup(name, ids)
		}
		have = false
		switch {
		case len(k.at) == len(ids):
			res, err := s.original(ctx, stream, k.highest())
			if err != nil {
				return eventstore.AppendResult{}, s.failRead(ctx, what, err)
			}
			return res, nil
		case len(k.at) > 0:
			return eventstore.AppendResult{}, fmt.Errorf("%s: %w: %d of its %d events are stored already", what, eventstore.ErrIdempotency, len(k.at), len(ids))
		}
		if !fits(expected, k.last) {
			if fresh {
				return eventstore.AppendResult{}, &eventstore.ConflictError{
					Stream: stream, Expected: expected, Actual: uint64(max(k.last, 0)), Exists: k.last >= 0,
				}
			}
			if k, err = s.refresh(ctx, name, ids, k); err != nil {
				return eventstore.AppendResult{}, s.failRead(ctx, what, err)
			}
			have, fresh = true, true
			continue
		}

		res, err := s.write(ctx, name, k.last, data)
		if err == nil {
			recs := make([]idRec, len(ids))
			for i, id := range ids {
				recs[i] = idRec{id: id, rev: uint64(k.last + 1 + int64(i))}
			}
			recs[len(recs)-1].pos = res.Position
			s.index.extend(name, recs)
			if res.Position == 0 {
				// The server wrote (or recognised) the events but named no
				// position; read it.
				if res, err = s.original(ctx, stream, idAt{rev: res.Revision}); err != nil {
					return eventstore.AppendResult{}, s.failRead(ctx, what, err)
				}
			}
			return res, nil
		}
		if !isWrongExpectedVersion(err) {
			return eventstore.AppendResult{}, s.failAppend(ctx, what, err)
		}
		// The stream is not at k.last. Learn what it holds now; the loop
		// then decides idempotency and the expectation again.
		was := k.last
		if k, err = s.refresh(ctx, name, ids, k); err != nil {
			return eventstore.AppendResult{}, s.failRead(ctx, what, err)
		}
		if k.last <= was {
			// The server says the stream moved, yet holds nothing after
			// what was seen of it: it went back, which only deleting it
			// behind the port's back does. Start over from what the
			// server holds, once.
			if stuck++; stuck > 1 {
				return eventstore.AppendResult{}, fmt.Errorf("%s: the server refuses revision %d of the stream but reads show nothing after it", what, was)
			}
			s.log.Warn("EventStoreDB stream is behind what this store saw of it; reading it again", "stream", name, "seen", was)
			s.index.forget(name)
			k, have, fresh = known{last: -1, at: map[uuid.UUID]idAt{}}, false, false
			continue
		}
		stuck = 0
		have, fresh = true, true
	}
	return eventstore.AppendResult{}, fmt.Errorf("%s: the server kept refusing the stream's revision as the index learned it", what)
}

// fits reports whether a stream whose last revision is last (-1: no
// events) meets the expectation.
func fits(e eventstore.Expected, last int64) bool {
	switch e.Kind {
	case eventstore.ExpectAny:
		return true
	case eventstore.ExpectNoStream:
		return last < 0
	case eventstore.ExpectStreamExists:
		return last >= 0
	case eventstore.ExpectRevision:
		return last >= 0 && uint64(last) == e.Revision
	}
	return false
}

// toEventData converts events for the client, copying their payloads: a
// call the adapter abandons (see call) may still be sending them after
// Append has returned and the caller has reused its buffers. It also
// measures the append as the server does against its MaxAppendSize.
func toEventData(events []eventstore.EventData) ([]kurrent.EventData, int, error) {
	data := make([]kurrent.EventData, len(events))
	size := 0
	for i, ev := range events {
		var ct kurrent.ContentType
		switch eventstore.ContentTypeOrDefault(ev.ContentType) {
		case contentJSON:
			ct = kurrent.ContentTypeJson
		case contentBinary:
			ct = kurrent.ContentTypeBinary
		default:
			return nil, 0, fmt.Errorf("%w: event %d has content type %q; EventStoreDB keeps only whether content is JSON, so it stores %s or %s",
				eventstore.ErrInvalidEvent, i, ev.ContentType, contentJSON, contentBinary)
		}
		data[i] = kurrent.EventData{
			// Always the caller's id: the client would make one up for a
			// nil id, and the port's idempotency rests on the caller's.
			EventID:     ev.ID,
			EventType:   ev.Type,
			ContentType: ct,
			Data:        bytes.Clone(ev.Data),
			Metadata:    bytes.Clone(ev.Metadata),
		}
		size += len(ev.Data) + len(ev.Metadata) + 2*len(utf16.Encode([]rune(ev.Type)))
	}
	return data, size, nil
}

// write appends to a stream expected to be at exactly last (-1: no events).
func (s *Store) write(ctx context.Context, name string, last int64, data []kurrent.EventData) (eventstore.AppendResult, error) {
	var exp kurrent.ExpectedRevision = kurrent.NoStream{}
	if last >= 0 {
		exp = kurrent.Revision(uint64(last))
	}
	return call(s, ctx, func(ctx context.Context, c *kurrent.Client, _ func()) (eventstore.AppendResult, error) {
		wr, err := c.AppendToStream(ctx, name, kurrent.AppendToStreamOptions{ExpectedRevision: exp}, data...)
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		return eventstore.AppendResult{Revision: wr.NextExpectedVersion, Position: wr.CommitPosition}, nil
	})
}

// refresh reads the events of a stream after those known (to the call,
// as k, or to the index, whichever knows more), into the index, and
// returns what is then known of the stream and ids. The answer is built
// from the read itself, not looked up again: a small index may already
// have forgotten the stream for another.
func (s *Store) refresh(ctx context.Context, name string, ids []uuid.UUID, k known) (known, error) {
	if idx := s.index.lookup(name, ids); idx.last > k.last {
		k = idx
	}
	evs, err := s.readStream(ctx, name[len(s.ns):], false, uint64(k.last+1), unlimited)
	var ee *kurrent.Error
	switch {
	case errors.As(err, &ee) && ee.Code() == kurrent.ErrorCodeResourceNotFound:
		if k.last >= 0 {
			// Deleted behind the port's back; it holds nothing now.
			s.index.forget(name)
		}
		return known{last: -1, at: map[uuid.UUID]idAt{}}, nil
	case err != nil:
		return known{}, err
	}
	at := maps.Clone(k.at)
	for _, ev := range evs {
		if slices.Contains(ids, ev.ID) {
			at[ev.ID] = idAt{rev: ev.Revision, pos: ev.Position}
		}
		k.last = int64(ev.Revision)
	}
	k.at = at
	return k, nil
}

// original is the result of an idempotent retry: the revision and
// position of the stored event at. The position is read if the index does
// not know it (an append reports only its last event's).
func (s *Store) original(ctx context.Context, stream string, at idAt) (eventstore.AppendResult, error) {
	if at.pos != 0 {
		return eventstore.AppendResult{Revision: at.rev, Position: at.pos}, nil
	}
	evs, err := s.readStream(ctx, stream, false, at.rev, 1)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	if len(evs) == 0 || evs[0].Revision != at.rev {
		return eventstore.AppendResult{}, fmt.Errorf("event %d of %s, recorded as stored, is not there", at.rev, stream)
	}
	return eventstore.AppendResult{Revision: at.rev, Position: evs[0].Position}, nil
}

func isWrongExpectedVersion(err error) bool {
	var ee *kurrent.Error
	return errors.As(err, &ee) && ee.Code() == kurrent.ErrorCodeWrongExpectedVersion
}

// failAppend is fail, with the server's refusal of an append as too large
// as the port's ErrEventTooLarge.
func (s *Store) failAppend(ctx context.Context, what string, err error) error {
	if st, ok := grpcStatus(err); ok && st.Code() == codes.InvalidArgument && strings.Contains(st.Message(), "Maximum Append") {
		return fmt.Errorf("%s: %w: the server refused it: %s (its MaxAppendSize must allow the application's appends)", what, eventstore.ErrEventTooLarge, st.Message())
	}
	if errors.Is(err, io.EOF) && ctx.Err() == nil && !errors.Is(err, eventstore.ErrClosed) {
		// The outcome is unknown, and a retry with the same events is
		// safe. A server that refuses an append early (as larger than its
		// MaxAppendSize) also ends up here when the refusal arrives while
		// the client is still sending; Options.MaxAppendSize names that
		// case before anything is sent.
		return fmt.Errorf("%s: %w: the server ended the call before answering: %w", what, eventstore.ErrUnavailable, err)
	}
	return s.fail(ctx, what, err)
}
