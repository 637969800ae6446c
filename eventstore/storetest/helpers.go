package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caseledger/caseledger/eventstore"
	"github.com/google/uuid"
)

// NewEvent returns an event with a fresh random id and the default content
// type, ready to append.
func NewEvent(eventType string, data []byte) eventstore.EventData {
	return eventstore.EventData{ID: uuid.New(), Type: eventType, Data: data}
}

// NewEvents returns n events of one type. Their data numbers them and their
// metadata is set, so that events swapped in order, or data swapped with
// metadata, show up in a comparison.
func NewEvents(n int, eventType string) []eventstore.EventData {
	evs := make([]eventstore.EventData, n)
	for i := range evs {
		evs[i] = NewEvent(eventType, fmt.Appendf(nil, `{"n":%d}`, i))
		evs[i].Metadata = fmt.Appendf(nil, `{"source":"storetest","n":%d}`, i)
	}
	return evs
}

// recentWindow is how far a recorded time may lie from the test's clock.
// It is generous because a remote store has a clock of its own.
const recentWindow = 5 * time.Minute

func appendOK(t *testing.T, ctx context.Context, s eventstore.Store, stream string, exp eventstore.Expected, evs ...eventstore.EventData) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(ctx, stream, exp, evs...)
	if err != nil {
		t.Fatalf("Append(%q, %s, %d events): %v", stream, exp, len(evs), err)
	}
	return res
}

func readStream(t *testing.T, ctx context.Context, s eventstore.Store, stream string, opts eventstore.ReadStreamOptions) []eventstore.RecordedEvent {
	t.Helper()
	evs, err := s.ReadStream(ctx, stream, opts)
	if err != nil {
		t.Fatalf("ReadStream(%q, %+v): %v", stream, opts, err)
	}
	return evs
}

func readAll(t *testing.T, ctx context.Context, s eventstore.Store, opts eventstore.ReadAllOptions) []eventstore.RecordedEvent {
	t.Helper()
	evs, err := s.ReadAll(ctx, opts)
	if err != nil {
		t.Fatalf("ReadAll(%+v): %v", opts, err)
	}
	return evs
}

// wholeLog reads the global log forwards and checks the one property every
// read of it must have.
func wholeLog(t *testing.T, ctx context.Context, s eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	evs := readAll(t, ctx, s, eventstore.ReadAllOptions{})
	assertLogOrder(t, "global log", evs)
	return evs
}

// assertLogOrder checks that positions are valid and strictly increasing;
// it deliberately allows gaps between them.
func assertLogOrder(t *testing.T, what string, evs []eventstore.RecordedEvent) {
	t.Helper()
	for i, ev := range evs {
		if ev.Position == 0 {
			t.Fatalf("%s: event %d (%s) has position 0; positions are > 0", what, i, describe(ev))
		}
		if i > 0 && ev.Position <= evs[i-1].Position {
			t.Fatalf("%s: event %d (%s) follows position %d; positions must strictly increase",
				what, i, describe(ev), evs[i-1].Position)
		}
	}
}

// assertLogUnchanged checks that nothing was written since before was read.
func assertLogUnchanged(t *testing.T, ctx context.Context, s eventstore.Store, before []eventstore.RecordedEvent) {
	t.Helper()
	assertSameEvents(t, "global log after a refused append", wholeLog(t, ctx, s), before)
}

// checkRecord checks a stored event against what was appended.
func checkRecord(t *testing.T, what string, got eventstore.RecordedEvent, stream string, revision uint64, want eventstore.EventData) {
	t.Helper()
	var diffs []string
	if got.ID != want.ID {
		diffs = append(diffs, fmt.Sprintf("id %s, want %s", got.ID, want.ID))
	}
	if got.Stream != stream {
		diffs = append(diffs, fmt.Sprintf("stream %q, want %q", got.Stream, stream))
	}
	if got.Revision != revision {
		diffs = append(diffs, fmt.Sprintf("revision %d, want %d", got.Revision, revision))
	}
	if got.Type != want.Type {
		diffs = append(diffs, fmt.Sprintf("type %q, want %q", got.Type, want.Type))
	}
	if wantCT := eventstore.ContentTypeOrDefault(want.ContentType); got.ContentType != wantCT {
		diffs = append(diffs, fmt.Sprintf("content type %q, want %q", got.ContentType, wantCT))
	}
	if !bytes.Equal(got.Data, want.Data) {
		diffs = append(diffs, "data "+bytesDiff(got.Data, want.Data))
	}
	if !bytes.Equal(got.Metadata, want.Metadata) {
		diffs = append(diffs, "metadata "+bytesDiff(got.Metadata, want.Metadata))
	}
	if got.Position == 0 {
		diffs = append(diffs, "position 0, want > 0")
	}
	diffs = append(diffs, recordedTimeProblems(got.Recorded)...)
	if len(diffs) > 0 {
		t.Fatalf("%s: %s", what, strings.Join(diffs, "; "))
	}
}

func recordedTimeProblems(rec time.Time) []string {
	var p []string
	if rec.Location() != time.UTC {
		p = append(p, fmt.Sprintf("recorded time %v is in %v, want UTC", rec, rec.Location()))
	}
	if d := time.Since(rec); d > recentWindow || d < -recentWindow {
		p = append(p, fmt.Sprintf("recorded time %v is %v from now, want within %v", rec, d, recentWindow))
	}
	return p
}

// checkRecords checks a stream read from revision first against what was
// appended, in order.
func checkRecords(t *testing.T, what string, got []eventstore.RecordedEvent, stream string, first uint64, want []eventstore.EventData) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d: %s", what, len(got), len(want), summary(got))
	}
	for i := range got {
		checkRecord(t, fmt.Sprintf("%s: event %d", what, i), got[i], stream, first+uint64(i), want[i])
	}
	assertLogOrder(t, what, got)
}

// diffRecorded describes how two records of what should be the same event
// differ; "" when they do not.
func diffRecorded(got, want eventstore.RecordedEvent) string {
	var d []string
	if got.ID != want.ID {
		d = append(d, fmt.Sprintf("id %s, want %s", got.ID, want.ID))
	}
	if got.Stream != want.Stream {
		d = append(d, fmt.Sprintf("stream %q, want %q", got.Stream, want.Stream))
	}
	if got.Revision != want.Revision {
		d = append(d, fmt.Sprintf("revision %d, want %d", got.Revision, want.Revision))
	}
	if got.Position != want.Position {
		d = append(d, fmt.Sprintf("position %d, want %d", got.Position, want.Position))
	}
	if got.Type != want.Type {
		d = append(d, fmt.Sprintf("type %q, want %q", got.Type, want.Type))
	}
	if got.ContentType != want.ContentType {
		d = append(d, fmt.Sprintf("content type %q, want %q", got.ContentType, want.ContentType))
	}
	if !bytes.Equal(got.Data, want.Data) {
		d = append(d, "data "+bytesDiff(got.Data, want.Data))
	}
	if !bytes.Equal(got.Metadata, want.Metadata) {
		d = append(d, "metadata "+bytesDiff(got.Metadata, want.Metadata))
	}
	if !got.Recorded.Equal(want.Recorded) {
		d = append(d, fmt.Sprintf("recorded %v, want %v", got.Recorded, want.Recorded))
	}
	return strings.Join(d, "; ")
}

// assertSameEvents checks that two reads returned the same events, field by
// field, in the same order.
func assertSameEvents(t *testing.T, what string, got, want []eventstore.RecordedEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d\n got: %s\nwant: %s", what, len(got), len(want), summary(got), summary(want))
	}
	for i := range got {
		if d := diffRecorded(got[i], want[i]); d != "" {
			t.Fatalf("%s: event %d: %s\n got: %s\nwant: %s", what, i, d, summary(got), summary(want))
		}
	}
}

func describe(ev eventstore.RecordedEvent) string {
	return fmt.Sprintf("%s@%d pos %d %s", ev.Stream, ev.Revision, ev.Position, ev.Type)
}

// summary lists events briefly; long lists are cut, since the first
// difference is reported separately.
func summary(evs []eventstore.RecordedEvent) string {
	const shown = 12
	parts := make([]string, 0, min(len(evs), shown)+1)
	for i, ev := range evs {
		if i == shown {
			parts = append(parts, fmt.Sprintf("… %d more", len(evs)-shown))
			break
		}
		parts = append(parts, describe(ev))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func bytesDiff(got, want []byte) string {
	const show = 32
	clip := func(b []byte) string {
		if len(b) > show {
			return fmt.Sprintf("%q… (%d bytes)", b[:show], len(b))
		}
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%s, want %s", clip(got), clip(want))
}

func reversed(evs []eventstore.RecordedEvent) []eventstore.RecordedEvent {
	r := slices.Clone(evs)
	slices.Reverse(r)
	return r
}

// assertConflict checks that err is the conflict an append with exp to
// stream must fail with, given the stream's state.
func assertConflict(t *testing.T, err error, stream string, exp eventstore.Expected, exists bool, actual uint64) {
	t.Helper()
	if err == nil {
		t.Fatalf("Append(%q, %s) succeeded, want a conflict", stream, exp)
	}
	if !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("Append(%q, %s): %v, want an error matching ErrConflict", stream, exp, err)
	}
	var ce *eventstore.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("Append(%q, %s): %v (%T), want a *eventstore.ConflictError", stream, exp, err, err)
	}
	if ce.Stream != stream || ce.Expected != exp || ce.Exists != exists || (exists && ce.Actual != actual) {
		t.Fatalf("Append(%q, %s): conflict %+v, want Stream %q, Expected %s, Exists %v, Actual %d",
			stream, exp, *ce, stream, exp, exists, actual)
	}
}

// assertNotFound checks that a stream has no events.
func assertNotFound(t *testing.T, ctx context.Context, s eventstore.Store, stream string, opts eventstore.ReadStreamOptions) {
	t.Helper()
	evs, err := s.ReadStream(ctx, stream, opts)
	if !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("ReadStream(%q, %+v) = %d events, %v; want ErrStreamNotFound", stream, opts, len(evs), err)
	}
}

// seedReads appends ten events to one stream in uneven batches, with
// another stream's events in between so that the stream's positions are not
// adjacent in the global log. It returns the stream and its events as read
// back, already checked against what was appended.
func seedReads(t *testing.T, ctx context.Context, s eventstore.Store) (string, []eventstore.RecordedEvent) {
	t.Helper()
	const stream = "case-reads"
	var sent []eventstore.EventData
	for i, n := range []int{3, 1, 4, 2} {
		evs := NewEvents(n, "NoteWritten")
		appendOK(t, ctx, s, stream, eventstore.Any, evs...)
		appendOK(t, ctx, s, fmt.Sprintf("other-%d", i), eventstore.Any, NewEvent("Elsewhere", nil))
		sent = append(sent, evs...)
	}
	got := readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{})
	checkRecords(t, "seeded stream", got, stream, 0, sent)
	return stream, got
}
