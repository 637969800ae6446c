package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caseledger/caseledger/eventstore"
)

// crew runs goroutines that the test waits for before it completes, so
// that none of them reports on a finished test. The wait is also a cleanup,
// for tests that fail early; by then the case's context is cancelled, which
// ends appends still in flight.
type crew struct{ wg sync.WaitGroup }

func newCrew(t *testing.T) *crew {
	c := &crew{}
	t.Cleanup(func() {
		// A backend that ignores the cancelled context could block its
		// callers for ever; leave them rather than hang the test binary.
		// They report nothing once the context is cancelled.
		select {
		case <-c.done():
		case <-time.After(guard):
			t.Errorf("goroutines of this case still blocked in the store %v after it ended", guard)
		}
	})
	return c
}

func (c *crew) run(fn func()) { c.wg.Go(fn) }

func (c *crew) done() <-chan struct{} {
	ch := make(chan struct{})
	go func() { c.wg.Wait(); close(ch) }()
	return ch
}

// wait waits for the crew; the guard context only turns a hang into a
// failure.
func (c *crew) wait(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	select {
	case <-c.done():
	case <-ctx.Done():
		t.Fatalf("%s did not finish: %v", what, ctx.Err())
	}
}

// reportf reports a goroutine's failure unless the case is over already, in
// which case the failure is a consequence of its end, not news.
func reportf(t *testing.T, ctx context.Context, format string, args ...any) {
	if ctx.Err() == nil {
		t.Errorf(format, args...)
	}
}

func testNewStoreIsEmpty(t *testing.T, ctx context.Context, s eventstore.Store) {
	if evs := readAll(t, ctx, s, eventstore.ReadAllOptions{}); len(evs) != 0 {
		t.Fatalf("ReadAll on a new store: %s; newStore must return an empty store", summary(evs))
	}
	if evs := readAll(t, ctx, s, eventstore.ReadAllOptions{Backwards: true, From: eventstore.End}); len(evs) != 0 {
		t.Fatalf("ReadAll backwards on a new store: %s", summary(evs))
	}
	assertNotFound(t, ctx, s, "case-1", eventstore.ReadStreamOptions{})
}

func testAppendToNewStream(exp eventstore.Expected) func(*testing.T, context.Context, eventstore.Store) {
	return func(t *testing.T, ctx context.Context, s eventstore.Store) {
		ev := NewEvent("CaseOpened", []byte(`{"case":"c-1"}`))
		res := appendOK(t, ctx, s, "case-1", exp, ev)
		if res.Revision != 0 || res.Position == 0 {
			t.Fatalf("first append to a stream: %+v, want revision 0 and a position > 0", res)
		}
		got := readStream(t, ctx, s, "case-1", eventstore.ReadStreamOptions{})
		checkRecords(t, "ReadStream", got, "case-1", 0, []eventstore.EventData{ev})
		if got[0].Position != res.Position {
			t.Fatalf("append result names position %d, the event is at %d", res.Position, got[0].Position)
		}
	}
}

func testRevisionsContiguous(t *testing.T, ctx context.Context, s eventstore.Store) {
	const stream = "case-1"
	var sent []eventstore.EventData
	steps := []struct {
		n   int
		exp eventstore.Expected
	}{
		{1, eventstore.Any},
		{3, eventstore.StreamExists},
		{2, eventstore.AtRevision(3)},
		{1, eventstore.Any},
	}
	for _, st := range steps {
		evs := NewEvents(st.n, "NoteWritten")
		res := appendOK(t, ctx, s, stream, st.exp, evs...)
		sent = append(sent, evs...)
		if want := uint64(len(sent) - 1); res.Revision != want {
			t.Fatalf("append of %d events with %s: result revision %d, want %d", st.n, st.exp, res.Revision, want)
		}
	}
	checkRecords(t, "ReadStream", readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{}), stream, 0, sent)
}

func testMultiEventAppendKeepsOrder(t *testing.T, ctx context.Context, s eventstore.Store) {
	const stream = "case-1"
	var evs []eventstore.EventData
	for i, typ := range []string{"CaseOpened", "PersonAssigned", "MeetingPlanned", "MeetingHeld", "CaseClosed"} {
		ev := NewEvent(typ, fmt.Appendf(nil, `{"step":%d}`, i))
		ev.Metadata = fmt.Appendf(nil, `{"by":"storetest","step":%d}`, i)
		evs = append(evs, ev)
	}
	res := appendOK(t, ctx, s, stream, eventstore.NoStream, evs...)
	got := readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{})
	checkRecords(t, "ReadStream", got, stream, 0, evs)
	assertSameEvents(t, "ReadAll", wholeLog(t, ctx, s), got)
	last := got[len(got)-1]
	if res.Revision != last.Revision || res.Position != last.Position {
		t.Fatalf("append result %+v, want the last event's revision %d and position %d", res, last.Revision, last.Position)
	}
}

func testAppendResultNamesLastEvent(t *testing.T, ctx context.Context, s eventstore.Store) {
	type call struct {
		stream string
		n      int
	}
	calls := []call{{"case-1", 1}, {"case-2", 3}, {"case-1", 4}, {"case-2", 1}, {"case-1", 2}}
	results := make([]eventstore.AppendResult, len(calls))
	lastIDs := make([]string, len(calls))
	for i, c := range calls {
		evs := NewEvents(c.n, "NoteWritten")
		results[i] = appendOK(t, ctx, s, c.stream, eventstore.Any, evs...)
		lastIDs[i] = evs[len(evs)-1].ID.String()
	}
	byID := make(map[string]eventstore.RecordedEvent)
	for _, ev := range wholeLog(t, ctx, s) {
		byID[ev.ID.String()] = ev
	}
	for i, c := range calls {
		last, ok := byID[lastIDs[i]]
		if !ok {
			t.Fatalf("call %d: its last event %s is not in the global log", i, lastIDs[i])
		}
		if last.Stream != c.stream || results[i].Revision != last.Revision || results[i].Position != last.Position {
			t.Fatalf("call %d to %s: result %+v, its last event is %s", i, c.stream, results[i], describe(last))
		}
	}
}

func testContentTypeDefaultsToJSON(t *testing.T, ctx context.Context, s eventstore.Store) {
	plain := NewEvent("CaseOpened", []byte(`{}`))
	binary := NewEvent("AttachmentAdded", []byte{0, 1, 2})
	binary.ContentType = "application/octet-stream"
	appendOK(t, ctx, s, "case-1", eventstore.Any, plain, binary)
	got := readStream(t, ctx, s, "case-1", eventstore.ReadStreamOptions{})
	// checkRecords compares with ContentTypeOrDefault; the literal makes the
	// default visible here.
	if got[0].ContentType != "application/json" {
		t.Fatalf("event appended without a content type is stored as %q, want application/json", got[0].ContentType)
	}
	checkRecords(t, "ReadStream", got, "case-1", 0, []eventstore.EventData{plain, binary})
}

// roundTrip appends evs to a new stream of an otherwise empty store and
// checks that ReadStream, ReadAll and a subscription all give them back
// exactly.
func roundTrip(t *testing.T, ctx context.Context, s eventstore.Store, stream string, evs []eventstore.EventData) {
	t.Helper()
	res := appendOK(t, ctx, s, stream, eventstore.NoStream, evs...)
	got := readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{})
	checkRecords(t, "ReadStream", got, stream, 0, evs)
	if last := got[len(got)-1]; res.Revision != last.Revision || res.Position != last.Position {
		t.Fatalf("append result %+v, last event %s", res, describe(last))
	}
	assertSameEvents(t, "ReadAll", wholeLog(t, ctx, s), got)
	f := follow(t, ctx, s, eventstore.SubscribeOptions{})
	assertSameEvents(t, "subscription", f.history(), got)
}

func testEventRoundTrip(t *testing.T, ctx context.Context, s eventstore.Store) {
	ev := NewEvent("MøteGjennomført", []byte(`{"deltaker":"Åse Øvrebø","tiltak":"arbeidstrening","timer":7.5}`))
	ev.Metadata = []byte(`{"correlationId":"c-42","actor":"veileder"}`)
	roundTrip(t, ctx, s, "sak-ærøå-1", []eventstore.EventData{ev})
}

func testEmptyDataRoundTrip(t *testing.T, ctx context.Context, s eventstore.Store) {
	evs := []eventstore.EventData{
		NewEvent("NilDataNilMetadata", nil),
		NewEvent("EmptyDataEmptyMetadata", []byte{}),
		NewEvent("EmptyDataWithMetadata", nil),
		NewEvent("DataWithoutMetadata", []byte(`{}`)),
	}
	evs[1].Metadata = []byte{}
	evs[2].Metadata = []byte(`{"m":1}`)
	roundTrip(t, ctx, s, "case-empty", evs)
}

func testBinaryDataRoundTrip(t *testing.T, ctx context.Context, s eventstore.Store) {
	every := make([]byte, 256)
	for i := range every {
		every[i] = byte(i)
	}
	noise := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	// Zero bytes at either end catch stores that trim or treat data as
	// C strings; invalid UTF-8 catches stores that treat it as text.
	shapes := [][]byte{every, noise, {0, 0, 0}, {0xff, 0xfe, 0x00, 'x', 0x00}, []byte("\xc3\x28 not utf-8 \x80")}
	var evs []eventstore.EventData
	for i, data := range shapes {
		ev := NewEvent("AttachmentAdded", data)
		ev.ContentType = "application/octet-stream"
		ev.Metadata = shapes[len(shapes)-1-i]
		evs = append(evs, ev)
	}
	roundTrip(t, ctx, s, "case-binary", evs)
}

func testStoredEventsDoNotShareMemory(t *testing.T, ctx context.Context, s eventstore.Store) {
	const stream = "case-1"
	ev := NewEvent("NoteWritten", []byte(`{"text":"original"}`))
	ev.Metadata = []byte(`{"m":"original"}`)
	want := ev
	want.Data, want.Metadata = bytes.Clone(ev.Data), bytes.Clone(ev.Metadata)
	appendOK(t, ctx, s, stream, eventstore.Any, ev)

	// Callers reuse their buffers once Append has returned.
	clear(ev.Data)
	clear(ev.Metadata)
	got := readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{})
	checkRecords(t, "ReadStream after the caller reused its buffers", got, stream, 0, []eventstore.EventData{want})

	// A reader may scribble over what it was given. (A backend that hands
	// out memory it does not own, such as a read-only mmap, crashes here;
	// that is the bug this catches.)
	clear(got[0].Data)
	clear(got[0].Metadata)
	all := readAll(t, ctx, s, eventstore.ReadAllOptions{})
	clear(all[0].Data)
	got = readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{})
	checkRecords(t, "ReadStream after readers modified earlier results", got, stream, 0, []eventstore.EventData{want})
}

func testLimitsAtMaximumAreAccepted(t *testing.T, ctx context.Context, s eventstore.Store) {
	stream := strings.Repeat("s", eventstore.MaxStreamNameLen)
	ev := NewEvent(strings.Repeat("T", eventstore.MaxTypeLen), []byte(`{}`))
	roundTrip(t, ctx, s, stream, []eventstore.EventData{ev})
}

func testEventAtMaxSizeIsAccepted(t *testing.T, ctx context.Context, s eventstore.Store) {
	const metaLen = 1000
	ev := NewEvent("DocumentAttached", bytes.Repeat([]byte{'d'}, eventstore.DefaultMaxEventSize-metaLen))
	ev.ContentType = "application/octet-stream"
	ev.Metadata = bytes.Repeat([]byte{'m'}, metaLen)
	appendOK(t, ctx, s, "case-big", eventstore.NoStream, ev)
	got := readStream(t, ctx, s, "case-big", eventstore.ReadStreamOptions{})
	checkRecords(t, "ReadStream", got, "case-big", 0, []eventstore.EventData{ev})
}

func testStreamNamesAreExact(t *testing.T, ctx context.Context, s eventstore.Store) {
	// Names that are prefixes of one another, differ in case only, or hold
	// bytes that are special somewhere (a key separator, a path, UTF-8).
	streams := []string{"case-1", "case-10", "case-1-a", "case-", "Case-1", "case-1/2", "sak-ærøå-1", "tiltak 2025 ø"}
	sent := make(map[string][]eventstore.EventData)
	for range 2 {
		for _, stream := range streams {
			ev := NewEvent("NoteWritten", fmt.Appendf(nil, `{"stream":%q}`, stream))
			appendOK(t, ctx, s, stream, eventstore.Any, ev)
			sent[stream] = append(sent[stream], ev)
		}
	}
	for _, stream := range streams {
		got := readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{})
		checkRecords(t, fmt.Sprintf("ReadStream(%q)", stream), got, stream, 0, sent[stream])
		back := readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{Backwards: true, From: eventstore.End})
		assertSameEvents(t, fmt.Sprintf("ReadStream(%q) backwards", stream), back, reversed(got))
	}
	for _, missing := range []string{"case", "case-1 ", "CASE-1", "case-2", "sak-"} {
		assertNotFound(t, ctx, s, missing, eventstore.ReadStreamOptions{})
		assertNotFound(t, ctx, s, missing, eventstore.ReadStreamOptions{Backwards: true, From: eventstore.End})
	}
}

func testInterleavedStreams(t *testing.T, ctx context.Context, s eventstore.Store) {
	var (
		order     []eventstore.EventData
		perStream = make(map[string][]eventstore.EventData)
		lastPos   uint64
	)
	for i, c := range "abacbaccbabc" {
		stream := "case-" + string(c)
		evs := NewEvents(1+i%2, "Step")
		// Each stream's expectation follows its own revisions, whatever the
		// other streams hold.
		exp := eventstore.NoStream
		if n := len(perStream[stream]); n > 0 {
			exp = eventstore.AtRevision(uint64(n - 1))
		}
		res := appendOK(t, ctx, s, stream, exp, evs...)
		if res.Position <= lastPos {
			t.Fatalf("append %d landed at position %d, after an earlier append at %d", i, res.Position, lastPos)
		}
		lastPos = res.Position
		order = append(order, evs...)
		perStream[stream] = append(perStream[stream], evs...)
	}
	for stream, evs := range perStream {
		checkRecords(t, "ReadStream("+stream+")", readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{}), stream, 0, evs)
	}
	all := wholeLog(t, ctx, s)
	if len(all) != len(order) {
		t.Fatalf("global log holds %d events, %d were appended", len(all), len(order))
	}
	for i, ev := range all {
		if ev.ID != order[i].ID {
			t.Fatalf("global log event %d is %s (%s), want %s in commit order", i, ev.ID, describe(ev), order[i].ID)
		}
	}
}

func testMultiEventAppendIsAtomicForReaders(t *testing.T, ctx context.Context, s eventstore.Store) {
	const (
		stream  = "case-atomic"
		batches = 25
		size    = 4
	)
	c := newCrew(t)
	done := make(chan struct{})
	c.run(func() {
		defer close(done)
		for i := range batches {
			if _, err := s.Append(ctx, stream, eventstore.Any, NewEvents(size, "Step")...); err != nil {
				reportf(t, ctx, "append %d: %v", i, err)
				return
			}
		}
	})
	// Readers racing the writer must only ever see whole batches.
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		evs, err := s.ReadStream(ctx, stream, eventstore.ReadStreamOptions{})
		if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
			t.Fatalf("ReadStream: %v", err)
		}
		if len(evs)%size != 0 {
			t.Fatalf("ReadStream saw %d events: part of a %d-event append", len(evs), size)
		}
		all := readAll(t, ctx, s, eventstore.ReadAllOptions{})
		if len(all)%size != 0 {
			t.Fatalf("ReadAll saw %d events: part of a %d-event append", len(all), size)
		}
	}
	evs := readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{})
	if len(evs) != batches*size {
		t.Fatalf("stream holds %d events, want %d", len(evs), batches*size)
	}
	for i, ev := range evs {
		if ev.Revision != uint64(i) {
			t.Fatalf("event %d has revision %d", i, ev.Revision)
		}
	}
}

func testExpectationsThatHold(t *testing.T, ctx context.Context, s eventstore.Store) {
	const stream = "case-1"
	steps := []struct {
		exp  eventstore.Expected
		n    int
		want uint64
	}{
		{eventstore.NoStream, 1, 0},
		{eventstore.StreamExists, 1, 1},
		{eventstore.AtRevision(1), 1, 2},
		{eventstore.Any, 1, 3},
		{eventstore.AtRevision(3), 2, 5},
	}
	var sent []eventstore.EventData
	for _, st := range steps {
		evs := NewEvents(st.n, "Step")
		res := appendOK(t, ctx, s, stream, st.exp, evs...)
		if res.Revision != st.want {
			t.Fatalf("append with %s: result revision %d, want %d", st.exp, res.Revision, st.want)
		}
		sent = append(sent, evs...)
	}
	checkRecords(t, "ReadStream", readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{}), stream, 0, sent)
}

// testConflict appends with exp to a stream holding seeded events (none:
// the stream is missing) and expects a conflict that writes nothing.
func testConflict(seeded int, exp eventstore.Expected) func(*testing.T, context.Context, eventstore.Store) {
	return func(t *testing.T, ctx context.Context, s eventstore.Store) {
		const stream = "case-1"
		if seeded > 0 {
			appendOK(t, ctx, s, stream, eventstore.Any, NewEvents(seeded, "Step")...)
		} else {
			// The log is not empty, so that "nothing written" is not
			// trivially true of a store that ignores the stream name.
			appendOK(t, ctx, s, "case-other", eventstore.Any, NewEvent("Step", nil))
		}
		before := wholeLog(t, ctx, s)
		_, err := s.Append(ctx, stream, exp, NewEvents(2, "Late")...)
		assertConflict(t, err, stream, exp, seeded > 0, uint64(seeded-1))
		assertLogUnchanged(t, ctx, s, before)
		if seeded == 0 {
			assertNotFound(t, ctx, s, stream, eventstore.ReadStreamOptions{})
		}
	}
}

func testConcurrentWritersAtSameRevision(t *testing.T, ctx context.Context, s eventstore.Store) {
	const (
		stream  = "case-race"
		writers = 16
	)
	seed := appendOK(t, ctx, s, stream, eventstore.NoStream, NewEvents(3, "Seeded")...)
	exp := eventstore.AtRevision(seed.Revision)

	type outcome struct {
		ev  eventstore.EventData
		res eventstore.AppendResult
		err error
	}
	out := make([]outcome, writers)
	start := make(chan struct{})
	c := newCrew(t)
	for i := range out {
		out[i].ev = NewEvent("Raced", fmt.Appendf(nil, `{"writer":%d}`, i))
		c.run(func() {
			<-start
			out[i].res, out[i].err = s.Append(ctx, stream, exp, out[i].ev)
		})
	}
	close(start)
	c.wait(t, ctx, "racing writers")

	winner := -1
	for i, o := range out {
		if o.err == nil {
			if winner >= 0 {
				t.Fatalf("writers %d and %d both appended with %s", winner, i, exp)
			}
			winner = i
			continue
		}
		// Whoever lost did so because the winner had moved the stream on.
		assertConflict(t, o.err, stream, exp, true, seed.Revision+1)
	}
	if winner < 0 {
		t.Fatalf("none of %d writers appended with %s", writers, exp)
	}
	got := readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{})
	if len(got) != int(seed.Revision)+2 {
		t.Fatalf("stream holds %d events, want %d: %s", len(got), seed.Revision+2, summary(got))
	}
	last := got[len(got)-1]
	checkRecord(t, "winning event", last, stream, seed.Revision+1, out[winner].ev)
	if out[winner].res.Revision != last.Revision || out[winner].res.Position != last.Position {
		t.Fatalf("winner's result %+v, its event is %s", out[winner].res, describe(last))
	}
}

func testConcurrentNoStreamCreators(t *testing.T, ctx context.Context, s eventstore.Store) {
	const (
		stream  = "case-new"
		writers = 16
		size    = 2
	)
	errs := make([]error, writers)
	batches := make([][]eventstore.EventData, writers)
	start := make(chan struct{})
	c := newCrew(t)
	for i := range writers {
		batches[i] = NewEvents(size, "CaseOpened")
		c.run(func() {
			<-start
			_, errs[i] = s.Append(ctx, stream, eventstore.NoStream, batches[i]...)
		})
	}
	close(start)
	c.wait(t, ctx, "racing creators")

	winner := -1
	for i, err := range errs {
		if err == nil {
			if winner >= 0 {
				t.Fatalf("creators %d and %d both appended with no stream", winner, i)
			}
			winner = i
			continue
		}
		assertConflict(t, err, stream, eventstore.NoStream, true, size-1)
	}
	if winner < 0 {
		t.Fatal("no creator appended to the new stream")
	}
	checkRecords(t, "ReadStream", readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{}), stream, 0, batches[winner])
}

func testConcurrentAnyAppends(t *testing.T, ctx context.Context, s eventstore.Store) {
	const (
		stream  = "case-busy"
		writers = 8
		appends = 8
	)
	type call struct {
		evs []eventstore.EventData
		res eventstore.AppendResult
	}
	calls := make([][]call, writers)
	start := make(chan struct{})
	c := newCrew(t)
	total := 0
	for w := range calls {
		calls[w] = make([]call, appends)
		for a := range calls[w] {
			calls[w][a].evs = NewEvents(1+(w+a)%2, fmt.Sprintf("Writer%d", w))
			total += len(calls[w][a].evs)
		}
		c.run(func() {
			<-start
			for a := range calls[w] {
				res, err := s.Append(ctx, stream, eventstore.Any, calls[w][a].evs...)
				if err != nil {
					reportf(t, ctx, "writer %d, append %d: %v", w, a, err)
					return
				}
				calls[w][a].res = res
			}
		})
	}
	close(start)
	c.wait(t, ctx, "concurrent writers")
	if t.Failed() {
		t.FailNow()
	}

	got := readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{})
	if len(got) != total {
		t.Fatalf("stream holds %d events, %d were appended", len(got), total)
	}
	assertLogOrder(t, "ReadStream", got)
	index := make(map[string]int, len(got))
	for i, ev := range got {
		if ev.Revision != uint64(i) {
			t.Fatalf("event %d has revision %d; revisions must be contiguous", i, ev.Revision)
		}
		index[ev.ID.String()] = i
	}
	for w := range calls {
		prev := -1
		for a, cl := range calls[w] {
			for j, ev := range cl.evs {
				i, ok := index[ev.ID.String()]
				if !ok {
					t.Fatalf("writer %d, append %d: event %d is missing", w, a, j)
				}
				// One append's events are contiguous in the stream, and a
				// writer's appends land in the order it made them.
				if i != prev+1 && (j > 0 || i <= prev) {
					t.Fatalf("writer %d, append %d: event %d at revision %d, after revision %d", w, a, j, i, prev)
				}
				prev = i
			}
			last := got[prev]
			if cl.res.Revision != last.Revision || cl.res.Position != last.Position {
				t.Fatalf("writer %d, append %d: result %+v, last event %s", w, a, cl.res, describe(last))
			}
		}
	}
	assertSameEvents(t, "ReadAll", wholeLog(t, ctx, s), got)
}

func testIdempotentRetry(t *testing.T, ctx context.Context, s eventstore.Store) {
	const stream = "case-1"
	evs := NewEvents(3, "MeetingHeld")
	first := appendOK(t, ctx, s, stream, eventstore.Any, evs...)
	before := wholeLog(t, ctx, s)
	for i := range 2 {
		again := appendOK(t, ctx, s, stream, eventstore.Any, evs...)
		if again != first {
			t.Fatalf("retry %d: result %+v, the original append's was %+v", i, again, first)
		}
	}
	assertLogUnchanged(t, ctx, s, before)
}

func testIdempotentRetryAfterOtherAppends(t *testing.T, ctx context.Context, s eventstore.Store) {
	const stream = "case-1"
	evs := NewEvents(2, "MeetingHeld")
	first := appendOK(t, ctx, s, stream, eventstore.Any, evs...)
	appendOK(t, ctx, s, stream, eventstore.Any, NewEvents(3, "NoteWritten")...)
	appendOK(t, ctx, s, "case-2", eventstore.Any, NewEvents(2, "NoteWritten")...)
	appendOK(t, ctx, s, stream, eventstore.StreamExists, NewEvent("NoteWritten", nil))
	before := wholeLog(t, ctx, s)
	again := appendOK(t, ctx, s, stream, eventstore.Any, evs...)
	if again != first {
		t.Fatalf("retry after later appends: result %+v, the original append's was %+v", again, first)
	}
	assertLogUnchanged(t, ctx, s, before)
}

func testIdempotentRetryWithStaleExpectation(t *testing.T, ctx context.Context, s eventstore.Store) {
	const stream = "case-1"
	evs := NewEvents(3, "CaseOpened")
	first := appendOK(t, ctx, s, stream, eventstore.NoStream, evs...)
	appendOK(t, ctx, s, stream, eventstore.AtRevision(2), NewEvent("NoteWritten", nil))
	before := wholeLog(t, ctx, s)
	// Each expectation fails on the stream as it is now; idempotency is
	// decided first, so the retry still succeeds.
	for _, exp := range []eventstore.Expected{
		eventstore.NoStream,
		eventstore.AtRevision(2),
		eventstore.AtRevision(0),
		eventstore.AtRevision(7),
	} {
		again, err := s.Append(ctx, stream, exp, evs...)
		if err != nil {
			t.Fatalf("retry with stale expectation %s: %v, want the original result %+v", exp, err, first)
		}
		if again != first {
			t.Fatalf("retry with stale expectation %s: result %+v, the original append's was %+v", exp, again, first)
		}
	}
	assertLogUnchanged(t, ctx, s, before)
}

func testIdempotentRetryOfSubset(t *testing.T, ctx context.Context, s eventstore.Store) {
	const stream = "case-1"
	a := NewEvents(3, "MeetingPlanned")
	appendOK(t, ctx, s, stream, eventstore.Any, a...)
	b := NewEvent("MeetingHeld", nil)
	appendOK(t, ctx, s, stream, eventstore.Any, b)
	appendOK(t, ctx, s, "case-2", eventstore.Any, NewEvent("NoteWritten", nil))
	before := wholeLog(t, ctx, s)
	recs := readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{})

	// The result names the stored event of highest revision among those of
	// the call, whatever their order in it and however they were appended.
	retries := []struct {
		name string
		evs  []eventstore.EventData
		want eventstore.RecordedEvent
	}{
		{"first two, reversed", []eventstore.EventData{a[1], a[0]}, recs[1]},
		{"middle one", []eventstore.EventData{a[1]}, recs[1]},
		{"across two appends", []eventstore.EventData{b, a[2]}, recs[3]},
		{"all four", []eventstore.EventData{a[0], a[1], a[2], b}, recs[3]},
	}
	for _, r := range retries {
		res := appendOK(t, ctx, s, stream, eventstore.Any, r.evs...)
		if res.Revision != r.want.Revision || res.Position != r.want.Position {
			t.Fatalf("retry of %s: result %+v, want revision %d and position %d", r.name, res, r.want.Revision, r.want.Position)
		}
	}
	assertLogUnchanged(t, ctx, s, before)
}

func testPartlyStoredRetryFails(t *testing.T, ctx context.Context, s eventstore.Store) {
	const stream = "case-1"
	stored := NewEvents(2, "MeetingHeld")
	appendOK(t, ctx, s, stream, eventstore.Any, stored...)
	before := wholeLog(t, ctx, s)
	fresh := NewEvent("NoteWritten", nil)
	// AtRevision(1) holds and AtRevision(0) does not: idempotency is decided
	// first, so neither matters.
	for _, exp := range []eventstore.Expected{eventstore.Any, eventstore.AtRevision(1), eventstore.AtRevision(0), eventstore.NoStream} {
		for _, evs := range [][]eventstore.EventData{
			{stored[1], fresh},
			{fresh, stored[0]},
		} {
			_, err := s.Append(ctx, stream, exp, evs...)
			if !errors.Is(err, eventstore.ErrIdempotency) {
				t.Fatalf("append with %s of one stored and one new event: %v, want ErrIdempotency", exp, err)
			}
		}
	}
	assertLogUnchanged(t, ctx, s, before)
}

func testConcurrentIdenticalRetries(t *testing.T, ctx context.Context, s eventstore.Store) {
	const (
		stream  = "case-retried"
		callers = 8
	)
	evs := NewEvents(3, "MeetingHeld")
	results := make([]eventstore.AppendResult, callers)
	errs := make([]error, callers)
	start := make(chan struct{})
	c := newCrew(t)
	for i := range callers {
		c.run(func() {
			<-start
			results[i], errs[i] = s.Append(ctx, stream, eventstore.Any, slices.Clone(evs)...)
		})
	}
	close(start)
	c.wait(t, ctx, "retrying callers")
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v; the same append made at once by several callers must succeed for each", i, err)
		}
		if results[i] != results[0] {
			t.Fatalf("caller %d got %+v, caller 0 got %+v", i, results[i], results[0])
		}
	}
	checkRecords(t, "ReadStream", readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{}), stream, 0, evs)
	if all := wholeLog(t, ctx, s); len(all) != len(evs) {
		t.Fatalf("global log holds %d events, want %d", len(all), len(evs))
	}
}
