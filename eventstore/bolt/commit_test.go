package bolt

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/eventstore"
)

func newEvents(n int) []eventstore.EventData {
	evs := make([]eventstore.EventData, n)
	for i := range evs {
		evs[i] = eventstore.EventData{ID: uuid.New(), Type: "Step", Data: []byte(`{}`)}
	}
	return evs
}

func req(ctx context.Context, stream string, exp eventstore.Expected, evs []eventstore.EventData) *request {
	return &request{ctx: ctx, stream: stream, expected: exp, events: evs, done: make(chan outcome, 1)}
}

// TestOneBatchMixesOutcomes drives one group commit directly, since which
// appends share a transaction is otherwise up to the scheduler: requests
// that fail their checks must write nothing and leave the others alone, and
// later requests must see what earlier ones in the same transaction wrote.
func TestOneBatchMixesOutcomes(t *testing.T) {
	ctx := t.Context()
	s, err := Open(filepath.Join(t.TempDir(), "events.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seed := newEvents(2)
	if _, err := s.Append(ctx, "case-1", eventstore.NoStream, seed...); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	a := newEvents(3)
	batch := []*request{
		req(ctx, "case-2", eventstore.NoStream, a),                              // writes 3..5
		req(ctx, "case-1", eventstore.NoStream, newEvents(1)),                   // conflict
		req(ctx, "case-2", eventstore.AtRevision(2), newEvents(1)),              // sees the first: writes 6
		req(ctx, "case-2", eventstore.NoStream, a),                              // retry of the first
		req(ctx, "case-1", eventstore.Any, append(newEvents(1), seed[0])),       // partly stored
		req(cancelled, "case-3", eventstore.Any, newEvents(1)),                  // caller gave up
		req(ctx, "case-1", eventstore.AtRevision(1), newEvents(2)),              // writes 7..8
		req(ctx, "case-1", eventstore.AtRevision(1), newEvents(1)),              // conflict with the one before
		req(ctx, "case-2", eventstore.StreamExists, append(newEvents(0), a[1])), // retry of a subset
	}
	s.commit(batch)
	got := make([]outcome, len(batch))
	for i, r := range batch {
		got[i] = <-r.done
	}
	want := []struct {
		res eventstore.AppendResult
		err error
	}{
		{eventstore.AppendResult{Revision: 2, Position: 5}, nil},
		{eventstore.AppendResult{}, eventstore.ErrConflict},
		{eventstore.AppendResult{Revision: 3, Position: 6}, nil},
		{eventstore.AppendResult{Revision: 2, Position: 5}, nil},
		{eventstore.AppendResult{}, eventstore.ErrIdempotency},
		{eventstore.AppendResult{}, context.Canceled},
		{eventstore.AppendResult{Revision: 3, Position: 8}, nil},
		{eventstore.AppendResult{}, eventstore.ErrConflict},
		{eventstore.AppendResult{Revision: 1, Position: 4}, nil},
	}
	for i, w := range want {
		if got[i].res != w.res || !errors.Is(got[i].err, w.err) || (w.err == nil) != (got[i].err == nil) {
			t.Errorf("request %d: %+v, %v; want %+v, %v", i, got[i].res, got[i].err, w.res, w.err)
		}
	}
	var ce *eventstore.ConflictError
	if !errors.As(got[7].err, &ce) || !ce.Exists || ce.Actual != 3 {
		t.Errorf("conflict after an earlier write in the batch: %v, want actual revision 3", got[7].err)
	}
	all, err := s.ReadAll(ctx, eventstore.ReadAllOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 8 {
		t.Fatalf("log holds %d events, want 8", len(all))
	}
	for i, ev := range all {
		if ev.Position != uint64(i+1) {
			t.Fatalf("event %d at position %d: the log has a gap", i, ev.Position)
		}
	}
	if st := s.Stats(); st.Commits != 2 || st.Appends != 4 || st.Events != 2+3+1+2 {
		t.Errorf("stats %+v, want 2 commits of 4 appends and 8 events", st)
	}
}

// TestBatchWithoutWritesSkipsCommit: a batch of retries and refusals must
// not cost an fsync.
func TestBatchWithoutWritesSkipsCommit(t *testing.T) {
	ctx := t.Context()
	s, err := Open(filepath.Join(t.TempDir(), "events.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs := newEvents(1)
	if _, err := s.Append(ctx, "case-1", eventstore.Any, evs...); err != nil {
		t.Fatal(err)
	}
	batch := []*request{req(ctx, "case-1", eventstore.Any, evs), req(ctx, "case-1", eventstore.NoStream, newEvents(1))}
	s.commit(batch)
	for _, r := range batch {
		<-r.done
	}
	if st := s.Stats(); st.Commits != 1 {
		t.Fatalf("%d commits, want 1: the batch without writes committed", st.Commits)
	}
}
