package esdb_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/esdb"
	"github.com/caseledger/caseledger/eventstore/esdb/esdbtest"
	"github.com/caseledger/caseledger/eventstore/storetest"
)

// TestIdempotencyAcrossProcesses retries, from a second store with its own
// client (another API process), appends the first one made. The second
// store knows nothing of the stream, and the server's own idempotency
// would write several of these retries again: with ExpectedVersion.Any it
// looks only at the first id, and at the stream's current revision not at
// all.
func TestIdempotencyAcrossProcesses(t *testing.T) {
	t.Parallel()
	srv := esdbtest.New(t, esdbtest.Options{})
	ctx := t.Context()
	a := openStore(t, srv.ConnectionString(), esdb.Options{})
	const stream = "case-1"
	first := storetest.NewEvents(3, "MeetingPlanned")
	res, err := a.Append(ctx, stream, eventstore.NoStream, first...)
	if err != nil {
		t.Fatal(err)
	}
	second := storetest.NewEvent("MeetingHeld", nil)
	res2, err := a.Append(ctx, stream, eventstore.AtRevision(2), second)
	if err != nil {
		t.Fatal(err)
	}
	log, err := a.ReadStream(ctx, stream, eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		exp  eventstore.Expected
		evs  []eventstore.EventData
		want eventstore.AppendResult
	}{
		{"whole first append with Any", eventstore.Any, first, res},
		{"whole first append at the current revision", eventstore.AtRevision(3), first, res},
		{"whole first append with its own expectation", eventstore.NoStream, first, res},
		{"middle event alone", eventstore.Any, first[1:2], eventstore.AppendResult{Revision: 1, Position: log[1].Position}},
		{"across appends, out of order", eventstore.AtRevision(3), []eventstore.EventData{second, first[0]}, res2},
	} {
		b := openStore(t, srv.ConnectionString(), esdb.Options{})
		got, err := b.Append(ctx, stream, tc.exp, tc.evs...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got != tc.want {
			t.Fatalf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	for _, exp := range []eventstore.Expected{eventstore.Any, eventstore.AtRevision(3)} {
		b := openStore(t, srv.ConnectionString(), esdb.Options{})
		// The first id is new, so the server would write both.
		_, err := b.Append(ctx, stream, exp, storetest.NewEvent("NoteWritten", nil), first[0])
		if !errors.Is(err, eventstore.ErrIdempotency) {
			t.Fatalf("partly stored retry with %s from a new store: %v, want ErrIdempotency", exp, err)
		}
	}
	after, err := a.ReadStream(ctx, stream, eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(log) {
		t.Fatalf("the stream grew from %d to %d events through retries", len(log), len(after))
	}

	// A stale expectation from a store that has not seen the stream move.
	b := openStore(t, srv.ConnectionString(), esdb.Options{})
	if _, err := b.ReadStream(ctx, stream, eventstore.ReadStreamOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Append(ctx, stream, eventstore.AtRevision(3), storetest.NewEvent("NoteWritten", nil)); err != nil {
		t.Fatal(err)
	}
	_, err = b.Append(ctx, stream, eventstore.AtRevision(3), storetest.NewEvent("NoteWritten", nil))
	var ce *eventstore.ConflictError
	if !errors.As(err, &ce) || !ce.Exists || ce.Actual != 4 {
		t.Fatalf("append with a stale expectation: %v, want a conflict naming revision 4", err)
	}
}

// TestContentTypesEventStoreDBCannotKeep: the server keeps only whether
// content is JSON, so any other content type would come back changed.
func TestContentTypesEventStoreDBCannotKeep(t *testing.T) {
	t.Parallel()
	srv := esdbtest.New(t, esdbtest.Options{})
	s := openStore(t, srv.ConnectionString(), esdb.Options{})
	ev := storetest.NewEvent("NoteWritten", []byte("hello"))
	ev.ContentType = "text/plain"
	_, err := s.Append(t.Context(), "case-1", eventstore.Any, ev)
	if !errors.Is(err, eventstore.ErrInvalidEvent) {
		t.Fatalf("append with content type text/plain: %v, want ErrInvalidEvent", err)
	}
	if _, err := s.ReadStream(t.Context(), "case-1", eventstore.ReadStreamOptions{}); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("after the refused append: %v, want ErrStreamNotFound", err)
	}
}

// TestAppendLargerThanTheServerTakes: EventStoreDB's default MaxAppendSize
// (1 MiB, counted with the type twice) is below one event at the port's
// limit. The server's refusal, or the adapter's own check when told the
// server's limit, is ErrEventTooLarge.
func TestAppendLargerThanTheServerTakes(t *testing.T) {
	t.Parallel()
	srv := esdbtest.New(t, esdbtest.Options{})
	big := storetest.NewEvent("DocumentAttached", bytes.Repeat([]byte{'d'}, eventstore.DefaultMaxEventSize))
	big.ContentType = "application/octet-stream"
	for _, opts := range []esdb.Options{{}, {MaxAppendSize: esdbtest.DefaultMaxAppendSize}} {
		s := openStore(t, srv.ConnectionString(), opts)
		head := srv.Head()
		_, err := s.Append(t.Context(), "case-big", eventstore.Any, big)
		if !errors.Is(err, eventstore.ErrEventTooLarge) {
			t.Fatalf("MaxAppendSize %d: append of one maximal event: %v, want ErrEventTooLarge", opts.MaxAppendSize, err)
		}
		if srv.Head() != head {
			t.Fatalf("MaxAppendSize %d: the refused append wrote something", opts.MaxAppendSize)
		}
		// The store is still usable.
		if _, err := s.Append(t.Context(), "case-small", eventstore.Any, storetest.NewEvent("Small", nil)); err != nil {
			t.Fatalf("append after the refused one: %v", err)
		}
	}
}
