package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/caseledger/caseledger/eventstore"
)

func testReadStreamForwardsFromRevision(t *testing.T, ctx context.Context, s eventstore.Store) {
	stream, evs := seedReads(t, ctx, s)
	for _, from := range []uint64{0, 1, 4, 9} {
		got := readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{From: from})
		assertSameEvents(t, fmt.Sprintf("forwards from %d", from), got, evs[from:])
	}
}

func testReadStreamBackwardsFromRevision(t *testing.T, ctx context.Context, s eventstore.Store) {
	stream, evs := seedReads(t, ctx, s)
	for _, from := range []uint64{0, 3, 8, 9} {
		got := readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{Backwards: true, From: from})
		assertSameEvents(t, fmt.Sprintf("backwards from %d", from), got, reversed(evs[:from+1]))
	}
}

func testReadStreamBackwardsFromEnd(t *testing.T, ctx context.Context, s eventstore.Store) {
	stream, evs := seedReads(t, ctx, s)
	got := readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{Backwards: true, From: eventstore.End})
	assertSameEvents(t, "backwards from End", got, reversed(evs))
	got = readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{Backwards: true, From: eventstore.End, Limit: 1})
	assertSameEvents(t, "backwards from End, limit 1", got, evs[len(evs)-1:])
}

func testReadStreamWithLimit(t *testing.T, ctx context.Context, s eventstore.Store) {
	stream, evs := seedReads(t, ctx, s)
	cases := []struct {
		opts eventstore.ReadStreamOptions
		want []eventstore.RecordedEvent
	}{
		{eventstore.ReadStreamOptions{Limit: 3}, evs[:3]},
		{eventstore.ReadStreamOptions{From: 2, Limit: 2}, evs[2:4]},
		{eventstore.ReadStreamOptions{From: 8, Limit: 5}, evs[8:]},
		{eventstore.ReadStreamOptions{Limit: 100}, evs},
		{eventstore.ReadStreamOptions{Backwards: true, From: 6, Limit: 3}, reversed(evs[4:7])},
		{eventstore.ReadStreamOptions{Backwards: true, From: 1, Limit: 5}, reversed(evs[:2])},
		{eventstore.ReadStreamOptions{Backwards: true, From: eventstore.End, Limit: 4}, reversed(evs[6:])},
	}
	for _, c := range cases {
		got := readStream(t, ctx, s, stream, c.opts)
		assertSameEvents(t, fmt.Sprintf("ReadStream(%+v)", c.opts), got, c.want)
	}
}

func testReadStreamForwardsBeyondLast(t *testing.T, ctx context.Context, s eventstore.Store) {
	stream, evs := seedReads(t, ctx, s)
	for _, from := range []uint64{uint64(len(evs)), uint64(len(evs)) + 5, eventstore.End} {
		got := readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{From: from})
		if len(got) != 0 {
			t.Fatalf("forwards from %d, past the last revision %d: %s, want nothing", from, len(evs)-1, summary(got))
		}
	}
}

// The port makes From inclusive and reads "From and earlier" backwards, so a
// From past the end reads from the last event; only End is named for that,
// but nothing makes a larger From an error.
func testReadStreamBackwardsBeyondLast(t *testing.T, ctx context.Context, s eventstore.Store) {
	stream, evs := seedReads(t, ctx, s)
	got := readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{Backwards: true, From: uint64(len(evs)) + 5})
	assertSameEvents(t, "backwards from past the last revision", got, reversed(evs))
}

func testReadStreamMissingStream(t *testing.T, ctx context.Context, s eventstore.Store) {
	seedReads(t, ctx, s)
	for _, opts := range []eventstore.ReadStreamOptions{
		{},
		{From: 3, Limit: 2},
		{Backwards: true, From: eventstore.End},
		{Backwards: true, From: 0},
	} {
		assertNotFound(t, ctx, s, "case-missing", opts)
	}
}

func testReadStreamPaging(t *testing.T, ctx context.Context, s eventstore.Store) {
	stream, evs := seedReads(t, ctx, s)
	const page = 3

	var fwd []eventstore.RecordedEvent
	for from := uint64(0); len(fwd) <= len(evs); {
		got := readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{From: from, Limit: page})
		if len(got) == 0 {
			break
		}
		if len(got) > page {
			t.Fatalf("page from %d with limit %d holds %d events", from, page, len(got))
		}
		fwd = append(fwd, got...)
		from = got[len(got)-1].Revision + 1
	}
	assertSameEvents(t, "forward pages", fwd, evs)

	var back []eventstore.RecordedEvent
	for from := eventstore.End; len(back) <= len(evs); {
		got := readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{Backwards: true, From: from, Limit: page})
		if len(got) > page {
			t.Fatalf("page back from %d with limit %d holds %d events", from, page, len(got))
		}
		back = append(back, got...)
		// Revision 0 has no page before it; From 0-1 would wrap to End.
		if len(got) == 0 || got[len(got)-1].Revision == 0 {
			break
		}
		from = got[len(got)-1].Revision - 1
	}
	assertSameEvents(t, "backward pages", back, reversed(evs))
}

func testReadAllForwardsFromStart(t *testing.T, ctx context.Context, s eventstore.Store) {
	stream, evs := seedReads(t, ctx, s)
	all := wholeLog(t, ctx, s)
	if len(all) != 14 {
		t.Fatalf("global log holds %d events, 14 were appended: %s", len(all), summary(all))
	}
	var ours []eventstore.RecordedEvent
	for _, ev := range all {
		if ev.Stream == stream {
			ours = append(ours, ev)
		}
	}
	assertSameEvents(t, "the stream's events in the global log", ours, evs)
	// Zero is before the first position, so it is the same as no From.
	assertSameEvents(t, "ReadAll from 0", readAll(t, ctx, s, eventstore.ReadAllOptions{From: 0}), all)
}

func testReadAllForwardsFromMiddle(t *testing.T, ctx context.Context, s eventstore.Store) {
	seedReads(t, ctx, s)
	all := wholeLog(t, ctx, s)
	for _, i := range []int{0, 5, len(all) - 2} {
		got := readAll(t, ctx, s, eventstore.ReadAllOptions{From: all[i].Position})
		assertSameEvents(t, fmt.Sprintf("forwards from the position of event %d", i), got, all[i+1:])
	}
}

func testReadAllForwardsFromHead(t *testing.T, ctx context.Context, s eventstore.Store) {
	seedReads(t, ctx, s)
	all := wholeLog(t, ctx, s)
	for _, from := range []uint64{all[len(all)-1].Position, eventstore.End} {
		if got := readAll(t, ctx, s, eventstore.ReadAllOptions{From: from}); len(got) != 0 {
			t.Fatalf("forwards from %d, the head or past it: %s, want nothing", from, summary(got))
		}
	}
}

func testReadAllBackwardsFromEnd(t *testing.T, ctx context.Context, s eventstore.Store) {
	seedReads(t, ctx, s)
	all := wholeLog(t, ctx, s)
	got := readAll(t, ctx, s, eventstore.ReadAllOptions{Backwards: true, From: eventstore.End})
	assertSameEvents(t, "backwards from End", got, reversed(all))
}

func testReadAllBackwardsFromMiddle(t *testing.T, ctx context.Context, s eventstore.Store) {
	seedReads(t, ctx, s)
	all := wholeLog(t, ctx, s)
	for _, i := range []int{len(all) - 1, 6, 1} {
		got := readAll(t, ctx, s, eventstore.ReadAllOptions{Backwards: true, From: all[i].Position})
		assertSameEvents(t, fmt.Sprintf("backwards from the position of event %d", i), got, reversed(all[:i]))
	}
	if got := readAll(t, ctx, s, eventstore.ReadAllOptions{Backwards: true, From: all[0].Position}); len(got) != 0 {
		t.Fatalf("backwards from the first position: %s, want nothing", summary(got))
	}
}

func testReadAllWithLimit(t *testing.T, ctx context.Context, s eventstore.Store) {
	seedReads(t, ctx, s)
	all := wholeLog(t, ctx, s)
	cases := []struct {
		opts eventstore.ReadAllOptions
		want []eventstore.RecordedEvent
	}{
		{eventstore.ReadAllOptions{Limit: 4}, all[:4]},
		{eventstore.ReadAllOptions{From: all[4].Position, Limit: 3}, all[5:8]},
		{eventstore.ReadAllOptions{From: all[10].Position, Limit: 10}, all[11:]},
		{eventstore.ReadAllOptions{Limit: 1000}, all},
		{eventstore.ReadAllOptions{Backwards: true, From: eventstore.End, Limit: 3}, reversed(all[len(all)-3:])},
		{eventstore.ReadAllOptions{Backwards: true, From: all[7].Position, Limit: 2}, reversed(all[5:7])},
		{eventstore.ReadAllOptions{Backwards: true, From: all[2].Position, Limit: 5}, reversed(all[:2])},
	}
	for _, c := range cases {
		got := readAll(t, ctx, s, c.opts)
		assertSameEvents(t, fmt.Sprintf("ReadAll(%+v)", c.opts), got, c.want)
	}
}

func testReadAllPaging(backwards bool) func(*testing.T, context.Context, eventstore.Store) {
	return func(t *testing.T, ctx context.Context, s eventstore.Store) {
		seedReads(t, ctx, s)
		all := wholeLog(t, ctx, s)
		want := all
		from := uint64(0)
		if backwards {
			want, from = reversed(all), eventstore.End
		}
		// Each page starts where the last one ended, which is what positions
		// being exclusive is for.
		for _, page := range []int{1, 3, 5, len(all)} {
			var got []eventstore.RecordedEvent
			for cursor := from; len(got) <= len(all); {
				evs := readAll(t, ctx, s, eventstore.ReadAllOptions{Backwards: backwards, From: cursor, Limit: page})
				if len(evs) == 0 {
					break
				}
				if len(evs) > page {
					t.Fatalf("page from %d with limit %d holds %d events", cursor, page, len(evs))
				}
				got = append(got, evs...)
				cursor = evs[len(evs)-1].Position
			}
			assertSameEvents(t, fmt.Sprintf("pages of %d", page), got, want)
		}
	}
}

func testReadStreamAndReadAllAgree(t *testing.T, ctx context.Context, s eventstore.Store) {
	seedReads(t, ctx, s)
	all := wholeLog(t, ctx, s)
	streams := make(map[string][]eventstore.RecordedEvent)
	for _, ev := range all {
		streams[ev.Stream] = append(streams[ev.Stream], ev)
	}
	for stream, want := range streams {
		assertSameEvents(t, "ReadStream("+stream+")", readStream(t, ctx, s, stream, eventstore.ReadStreamOptions{}), want)
		for i, ev := range want {
			if ev.Revision != uint64(i) {
				t.Fatalf("%s in the global log has revision %d, want %d", describe(ev), ev.Revision, i)
			}
		}
	}
}

// The port names ErrInvalidReadRange without saying what triggers it; a
// negative Limit is the one read option no backend can honour, so every
// backend must refuse it the same way.
func testNegativeLimitIsInvalid(t *testing.T, ctx context.Context, s eventstore.Store) {
	stream, _ := seedReads(t, ctx, s)
	for _, opts := range []eventstore.ReadStreamOptions{{Limit: -1}, {Backwards: true, From: eventstore.End, Limit: -1}} {
		if evs, err := s.ReadStream(ctx, stream, opts); !errors.Is(err, eventstore.ErrInvalidReadRange) {
			t.Fatalf("ReadStream(%+v): %d events, %v; want ErrInvalidReadRange", opts, len(evs), err)
		}
	}
	for _, opts := range []eventstore.ReadAllOptions{{Limit: -1}, {Backwards: true, From: eventstore.End, Limit: -1}} {
		if evs, err := s.ReadAll(ctx, opts); !errors.Is(err, eventstore.ErrInvalidReadRange) {
			t.Fatalf("ReadAll(%+v): %d events, %v; want ErrInvalidReadRange", opts, len(evs), err)
		}
	}
}
