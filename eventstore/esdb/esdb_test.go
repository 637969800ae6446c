package esdb_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/esdb"
	"github.com/caseledger/caseledger/eventstore/esdb/esdbtest"
	"github.com/caseledger/caseledger/eventstore/storetest"
)

// contractAppendSize is the server's MaxAppendSize for the contract suite:
// its largest append holds one event at the port's size limit, over
// EventStoreDB's default of 1 MiB. A deployment must raise the server's
// limit the same way.
const contractAppendSize = 4 << 20

// testLogger shows the store's messages with -v when CASELEDGER_TEST_LOG
// is set, and discards them otherwise.
func testLogger() *slog.Logger {
	if os.Getenv("CASELEDGER_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func openStore(t testing.TB, connectionString string, opts esdb.Options) *esdb.Store {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := esdb.Open(ctx, connectionString, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", connectionString, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestContract runs the contract suite through the official client
// against an in-process server, a fresh one for each case.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		srv := esdbtest.New(t, esdbtest.Options{MaxAppendSize: contractAppendSize})
		return openStore(t, srv.ConnectionString(), esdb.Options{})
	})
}

// TestContractNamespaced runs the suite with every case in a namespace of
// its own on one shared server, as it runs against a real server: the
// other cases' events are in the same $all and must stay invisible.
func TestContractNamespaced(t *testing.T) {
	srv := esdbtest.New(t, esdbtest.Options{MaxAppendSize: contractAppendSize})
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		return openStore(t, srv.ConnectionString(), esdb.Options{
			Namespace:  fmt.Sprintf("ns%d-", n.Add(1)),
			StartAfter: srv.Head(),
		})
	})
}

// TestContractColdIndex runs the suite with an idempotency index that
// holds a single id, so that nearly every append takes the path of a
// process that has not seen the stream: it reads the stream, and relies on
// the server refusing a write at a stale revision. (Appends under
// contention then read whole streams again and again; that is the price
// of the tiny index, not of the path.)
func TestContractColdIndex(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		srv := esdbtest.New(t, esdbtest.Options{MaxAppendSize: contractAppendSize})
		return openStore(t, srv.ConnectionString(), esdb.Options{IndexEvents: 1})
	})
}

// TestContractWithoutServerCaughtUp runs the suite against a server that,
// like EventStoreDB before 23.10, never says a subscription has caught up:
// the adapter must tell from the head it read when subscribing.
func TestContractWithoutServerCaughtUp(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		srv := esdbtest.New(t, esdbtest.Options{MaxAppendSize: contractAppendSize, NoCaughtUp: true})
		return openStore(t, srv.ConnectionString(), esdb.Options{})
	})
}

// TestContractRealServer runs the suite against the server named by
// CASELEDGER_TEST_ESDB, each case in a namespace of its own that starts at
// the head of the log as it was, so that the database need not be empty
// and cases need not scan what others wrote before. The server's
// MaxAppendSize must be above 1 MiB for EventAtMaxSizeIsAccepted (for
// instance EVENTSTORE_MAX_APPEND_SIZE=4194304).
func TestContractRealServer(t *testing.T) {
	conn := os.Getenv("CASELEDGER_TEST_ESDB")
	if conn == "" {
		t.Skip("CASELEDGER_TEST_ESDB not set: no EventStoreDB server to test against")
	}
	run := uuid.NewString()[:8]
	whole := openStore(t, conn, esdb.Options{})
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		ns := fmt.Sprintf("storetest-%s-%d-", run, n.Add(1))
		head, err := whole.ReadAll(t.Context(), eventstore.ReadAllOptions{Backwards: true, From: eventstore.End, Limit: 1})
		if err != nil {
			t.Fatalf("read the head of the log: %v", err)
		}
		var after uint64
		if len(head) > 0 {
			after = head[0].Position
		}
		return openStore(t, conn, esdb.Options{Namespace: ns, StartAfter: after})
	})
}
