package storetest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/eventstore"
	"github.com/google/uuid"
)

// badAppend is input every backend must refuse, as eventstore.ValidateAppend
// defines it.
type badAppend struct {
	name     string
	stream   string // "" stands for the cases' ordinary streams
	badName  bool   // stream is the bad input, "" included
	expected eventstore.Expected
	events   func() []eventstore.EventData
	want     error
}

func badAppends() []badAppend {
	valid := func() []eventstore.EventData { return NewEvents(2, "NoteWritten") }
	// withBad puts the bad event between good ones, so that a backend that
	// writes event by event shows what it wrote before it noticed.
	withBad := func(bad func(ev *eventstore.EventData)) func() []eventstore.EventData {
		return func() []eventstore.EventData {
			evs := NewEvents(3, "NoteWritten")
			bad(&evs[1])
			return evs
		}
	}
	half := eventstore.DefaultMaxEventSize / 2
	return []badAppend{
		{name: "EmptyStreamName", badName: true, stream: "", events: valid, want: eventstore.ErrInvalidStream},
		{name: "OverlongStreamName", badName: true, stream: strings.Repeat("s", eventstore.MaxStreamNameLen+1), events: valid, want: eventstore.ErrInvalidStream},
		{name: "ReservedStreamName", badName: true, stream: "$case-1", events: valid, want: eventstore.ErrInvalidStream},
		{name: "EmptyType", events: withBad(func(ev *eventstore.EventData) { ev.Type = "" }), want: eventstore.ErrInvalidEvent},
		{name: "OverlongType", events: withBad(func(ev *eventstore.EventData) {
			ev.Type = strings.Repeat("T", eventstore.MaxTypeLen+1)
		}), want: eventstore.ErrInvalidEvent},
		{name: "OverlongContentType", events: withBad(func(ev *eventstore.EventData) {
			ev.ContentType = "application/" + strings.Repeat("x", eventstore.MaxTypeLen)
		}), want: eventstore.ErrInvalidEvent},
		{name: "NilID", events: withBad(func(ev *eventstore.EventData) { ev.ID = uuid.Nil }), want: eventstore.ErrInvalidEvent},
		{name: "RepeatedID", events: func() []eventstore.EventData {
			evs := NewEvents(3, "NoteWritten")
			evs[2].ID = evs[0].ID
			return evs
		}, want: eventstore.ErrInvalidEvent},
		{name: "NoEvents", events: func() []eventstore.EventData { return nil }, want: eventstore.ErrInvalidEvent},
		{name: "OversizedEvent", events: withBad(func(ev *eventstore.EventData) {
			// Neither part is too large alone; together they are one byte
			// over.
			ev.ContentType = "application/octet-stream"
			ev.Data = bytes.Repeat([]byte{'d'}, half+1)
			ev.Metadata = bytes.Repeat([]byte{'m'}, eventstore.DefaultMaxEventSize-half)
		}), want: eventstore.ErrEventTooLarge},
		{name: "UnknownExpectedKind", expected: eventstore.Expected{Kind: 99}, events: valid, want: eventstore.ErrInvalidExpected},
	}
}

func testBadAppend(b badAppend) func(*testing.T, context.Context, eventstore.Store) {
	return func(t *testing.T, ctx context.Context, s eventstore.Store) {
		const existing, fresh = "case-1", "case-2"
		appendOK(t, ctx, s, existing, eventstore.NoStream, NewEvents(2, "Step")...)
		before := wholeLog(t, ctx, s)

		targets := []string{existing, fresh}
		if b.badName {
			targets = []string{b.stream}
		}
		for _, stream := range targets {
			evs := b.events()
			// The suite follows the port's own definition of bad input.
			if err := eventstore.ValidateAppend(stream, b.expected, evs, eventstore.DefaultMaxEventSize); !errors.Is(err, b.want) {
				t.Fatalf("storetest is out of step with ValidateAppend: it says %v, the case wants %v", err, b.want)
			}
			res, err := s.Append(ctx, stream, b.expected, evs...)
			if !errors.Is(err, b.want) {
				t.Fatalf("Append to %.40q: %+v, %v; want an error matching %q", stream, res, err, b.want)
			}
		}
		assertLogUnchanged(t, ctx, s, before)
		// Neither stream moved: a refused append must not leave a stream
		// behind, or a half-written revision counter.
		appendOK(t, ctx, s, fresh, eventstore.NoStream, NewEvent("Step", nil))
		appendOK(t, ctx, s, existing, eventstore.AtRevision(1), NewEvent("Step", nil))
	}
}

// closedStore gives s a stream, so that reads would find something if the
// store still answered, and closes it.
func closedStore(t *testing.T, ctx context.Context, s eventstore.Store) {
	t.Helper()
	appendOK(t, ctx, s, "case-1", eventstore.Any, NewEvents(2, "Step")...)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func assertClosed(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("%s on a closed store: %v, want ErrClosed", what, err)
	}
}

func testClosedStoreRefusesAppend(t *testing.T, ctx context.Context, s eventstore.Store) {
	closedStore(t, ctx, s)
	_, err := s.Append(ctx, "case-1", eventstore.Any, NewEvent("Step", nil))
	assertClosed(t, "Append", err)
	_, err = s.Append(ctx, "case-2", eventstore.NoStream, NewEvent("Step", nil))
	assertClosed(t, "Append to a new stream", err)
}

func testClosedStoreRefusesReadStream(t *testing.T, ctx context.Context, s eventstore.Store) {
	closedStore(t, ctx, s)
	_, err := s.ReadStream(ctx, "case-1", eventstore.ReadStreamOptions{})
	assertClosed(t, "ReadStream", err)
	// Closed, not "not found": the store cannot know.
	_, err = s.ReadStream(ctx, "case-missing", eventstore.ReadStreamOptions{})
	assertClosed(t, "ReadStream of a missing stream", err)
}

func testClosedStoreRefusesReadAll(t *testing.T, ctx context.Context, s eventstore.Store) {
	closedStore(t, ctx, s)
	_, err := s.ReadAll(ctx, eventstore.ReadAllOptions{})
	assertClosed(t, "ReadAll", err)
	_, err = s.ReadAll(ctx, eventstore.ReadAllOptions{Backwards: true, From: eventstore.End})
	assertClosed(t, "ReadAll backwards", err)
}

func testClosedStoreRefusesSubscribe(t *testing.T, ctx context.Context, s eventstore.Store) {
	closedStore(t, ctx, s)
	sub, err := s.Subscribe(ctx, eventstore.SubscribeOptions{})
	if sub != nil {
		defer sub.Close()
	}
	assertClosed(t, "Subscribe", err)
}

func testCloseTwice(t *testing.T, ctx context.Context, s eventstore.Store) {
	closedStore(t, ctx, s)
	// What the second Close returns is the backend's business; that it
	// returns is the contract. newStore's cleanup closes a third time.
	_ = s.Close()
	_, err := s.ReadAll(ctx, eventstore.ReadAllOptions{})
	assertClosed(t, "ReadAll after a second Close", err)
}

func testAppendCancelledContext(t *testing.T, ctx context.Context, s eventstore.Store) {
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if res, err := s.Append(cancelled, "case-1", eventstore.Any, NewEvent("Step", nil)); err == nil {
		t.Fatalf("Append with a cancelled context succeeded: %+v", res)
	}
	// A cancelled call leaves the store usable.
	appendOK(t, ctx, s, "case-2", eventstore.Any, NewEvent("Step", nil))
}

func testReadAllCancelledContext(t *testing.T, ctx context.Context, s eventstore.Store) {
	appendOK(t, ctx, s, "case-1", eventstore.Any, NewEvents(3, "Step")...)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if evs, err := s.ReadAll(cancelled, eventstore.ReadAllOptions{}); err == nil {
		t.Fatalf("ReadAll with a cancelled context succeeded: %s", summary(evs))
	}
	if got := wholeLog(t, ctx, s); len(got) != 3 {
		t.Fatalf("after a cancelled ReadAll the log holds %d events, want 3", len(got))
	}
}
