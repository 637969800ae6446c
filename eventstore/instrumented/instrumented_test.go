package instrumented_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/bolt"
	"github.com/caseledger/caseledger/eventstore/instrumented"
	"github.com/caseledger/caseledger/eventstore/storetest"
)

func open(t *testing.T, reg prometheus.Registerer) *instrumented.Store {
	t.Helper()
	b, err := bolt.Open(filepath.Join(t.TempDir(), "events.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := instrumented.New(b, reg, instrumented.Options{EventTypes: []string{"MeetingHeld"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, eventstore.ErrClosed) {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// The decorator keeps the store's contract.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		return open(t, prometheus.NewRegistry())
	})
}

func TestMetrics(t *testing.T) {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	s := open(t, reg)

	evs := append(storetest.NewEvents(2, "MeetingHeld"), storetest.NewEvent("SomethingElse", []byte(`{}`)))
	if _, err := s.Append(ctx, "participant-1", eventstore.NoStream, evs...); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "participant-1", eventstore.NoStream, storetest.NewEvents(1, "MeetingHeld")...); !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("second append on NoStream: %v, want a conflict", err)
	}
	if _, err := s.ReadStream(ctx, "participant-2", eventstore.ReadStreamOptions{}); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("read a stream without events: %v", err)
	}

	want := `
# HELP caseledger_eventstore_appends_total Appends to the event store, by result (ok, conflict, idempotency, invalid, unavailable, closed, canceled, error).
# TYPE caseledger_eventstore_appends_total counter
caseledger_eventstore_appends_total{result="conflict"} 1
caseledger_eventstore_appends_total{result="ok"} 1
# HELP caseledger_eventstore_events_appended_total Events appended (in appends that succeeded), by event type.
# TYPE caseledger_eventstore_events_appended_total counter
caseledger_eventstore_events_appended_total{type="MeetingHeld"} 2
caseledger_eventstore_events_appended_total{type="other"} 1
# HELP caseledger_eventstore_reads_total Reads of the event store, by kind (stream, all) and result.
# TYPE caseledger_eventstore_reads_total counter
caseledger_eventstore_reads_total{kind="stream",result="not_found"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"caseledger_eventstore_appends_total", "caseledger_eventstore_events_appended_total", "caseledger_eventstore_reads_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(reg, "caseledger_eventstore_append_batch_size"); n != 1 {
		t.Errorf("batch size histogram: %d series, want 1", n)
	}
}
