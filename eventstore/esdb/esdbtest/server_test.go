package esdbtest_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	kurrent "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/caseledger/caseledger/eventstore/esdb/esdbtest"
)

// These tests hold the server to the EventStoreDB behaviour the adapter
// is built around, through the official client.

func client(t *testing.T, srv *esdbtest.Server) *kurrent.Client {
	t.Helper()
	cfg, err := kurrent.ParseConnectionString(srv.ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = kurrent.NoopLogging()
	c, err := kurrent.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func events(types ...string) []kurrent.EventData {
	evs := make([]kurrent.EventData, len(types))
	for i, typ := range types {
		evs[i] = kurrent.EventData{EventID: uuid.New(), EventType: typ, ContentType: kurrent.ContentTypeJson, Data: []byte(`{}`)}
	}
	return evs
}

func readStream(t *testing.T, c *kurrent.Client, stream string) []*kurrent.RecordedEvent {
	t.Helper()
	rs, err := c.ReadStream(t.Context(), stream, kurrent.ReadStreamOptions{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []*kurrent.RecordedEvent
	for {
		e, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("read %s: %v", stream, err)
		}
		out = append(out, e.Event)
	}
}

func readAll(t *testing.T, c *kurrent.Client, opts kurrent.ReadAllOptions, count uint64) []*kurrent.RecordedEvent {
	t.Helper()
	rs, err := c.ReadAll(t.Context(), opts, count)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []*kurrent.RecordedEvent
	for {
		e, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("read $all: %v", err)
		}
		out = append(out, e.Event)
	}
}

func TestServerIdempotencyIsEventStoreDBs(t *testing.T) {
	srv := esdbtest.New(t, esdbtest.Options{})
	c := client(t, srv)
	ctx := t.Context()
	stored := events("A", "B")
	first, err := c.AppendToStream(ctx, "s", kurrent.AppendToStreamOptions{ExpectedRevision: kurrent.NoStream{}}, stored...)
	if err != nil {
		t.Fatal(err)
	}

	// An exact retry is recognised, with the original position.
	again, err := c.AppendToStream(ctx, "s", kurrent.AppendToStreamOptions{ExpectedRevision: kurrent.NoStream{}}, stored...)
	if err != nil || *again != *first {
		t.Fatalf("exact retry: %+v, %v; want %+v", again, err, first)
	}
	again, err = c.AppendToStream(ctx, "s", kurrent.AppendToStreamOptions{ExpectedRevision: kurrent.Any{}}, stored...)
	if err != nil || *again != *first {
		t.Fatalf("retry with Any: %+v, %v; want %+v", again, err, first)
	}
	// A retry whose first id matches and the rest does not is a wrong
	// expected version.
	_, err = c.AppendToStream(ctx, "s", kurrent.AppendToStreamOptions{ExpectedRevision: kurrent.Any{}}, stored[0], events("C")[0])
	if ee, ok := kurrent.FromError(err); ok || ee.Code() != kurrent.ErrorCodeWrongExpectedVersion {
		t.Fatalf("corrupted retry with Any: %v, want a wrong expected version", err)
	}
	// But the server does not look past the first id with Any, nor at ids
	// at all at the current revision: both write a stored event again.
	if _, err := c.AppendToStream(ctx, "s", kurrent.AppendToStreamOptions{ExpectedRevision: kurrent.Any{}}, events("C")[0], stored[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppendToStream(ctx, "s", kurrent.AppendToStreamOptions{ExpectedRevision: kurrent.Revision(3)}, stored[1]); err != nil {
		t.Fatal(err)
	}
	if n := len(readStream(t, c, "s")); n != 5 {
		t.Fatalf("stream holds %d events, want 5 (two of them duplicates)", n)
	}
}

func TestServerPositions(t *testing.T) {
	srv := esdbtest.New(t, esdbtest.Options{})
	c := client(t, srv)
	ctx := t.Context()
	for i := range 3 {
		if _, err := c.AppendToStream(ctx, "s", kurrent.AppendToStreamOptions{}, events("A", "B")...); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	all := readAll(t, c, kurrent.ReadAllOptions{}, 1000)
	var user []*kurrent.RecordedEvent
	for i, ev := range all {
		p := ev.Position
		if p.Commit == 0 || p.Commit != p.Prepare {
			t.Fatalf("event %d at %+v; want commit == prepare > 0", i, p)
		}
		if i > 0 && p.Commit <= all[i-1].Position.Commit+1 {
			t.Fatalf("event %d at %d follows %d: positions must increase with gaps", i, p.Commit, all[i-1].Position.Commit)
		}
		if ev.StreamID == "s" {
			user = append(user, ev)
		}
	}
	if len(user) != 6 || len(all) <= len(user) {
		t.Fatalf("$all holds %d events, %d of them the test's; want 6 and system events besides", len(all), len(user))
	}
	// Stream reads report the same positions.
	for i, ev := range readStream(t, c, "s") {
		if ev.Position != user[i].Position {
			t.Fatalf("stream read gives event %d position %+v, $all %+v", i, ev.Position, user[i].Position)
		}
	}
	mid := user[2].Position
	fwd := readAll(t, c, kurrent.ReadAllOptions{From: mid}, 1)
	if len(fwd) != 1 || fwd[0].EventID != user[2].EventID {
		t.Fatalf("forwards from an event's position must start with it")
	}
	back := readAll(t, c, kurrent.ReadAllOptions{From: mid, Direction: kurrent.Backwards}, 1)
	if len(back) != 1 || back[0].EventID != user[1].EventID {
		t.Fatalf("backwards from an event's position must start before it")
	}
	// Only event positions (and the head) are valid starting points.
	rs, err := c.ReadAll(ctx, kurrent.ReadAllOptions{From: kurrent.Position{Commit: mid.Commit + 1, Prepare: mid.Prepare + 1}}, 1)
	if err == nil {
		_, err = rs.Recv()
		rs.Close()
	}
	if err == nil {
		t.Fatal("a read from inside an event succeeded")
	}

	sub, err := c.SubscribeToAll(ctx, kurrent.SubscribeToAllOptions{From: mid})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if e := sub.Recv(); e.EventAppeared == nil || e.EventAppeared.Event.EventID != user[3].EventID {
		t.Fatalf("a subscription from an event's position must start after it: %+v", e)
	}
}

func TestServerStopStartKeepsLog(t *testing.T) {
	srv := esdbtest.New(t, esdbtest.Options{NoSystemEvents: true})
	c := client(t, srv)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := c.AppendToStream(ctx, "s", kurrent.AppendToStreamOptions{}, events("A")...); err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	srv.Stop()
	if _, err := c.AppendToStream(ctx, "s", kurrent.AppendToStreamOptions{}, events("B")...); err == nil {
		t.Fatal("append to a stopped server succeeded")
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if srv.Addr() != addr {
		t.Fatalf("restarted on %s, was %s", srv.Addr(), addr)
	}
	// The client may have given up on the stopped server; a new one
	// finds the log as it was.
	if n := len(readStream(t, client(t, srv), "s")); n != 1 {
		t.Fatalf("after a restart the stream holds %d events, want 1", n)
	}
}
