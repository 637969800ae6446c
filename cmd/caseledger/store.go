package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/bolt"
	"github.com/caseledger/caseledger/eventstore/esdb"
)

// storeFile is the embedded store's file in the data directory.
const storeFile = "events.db"

// addStoreFlag lets a command run on EventStoreDB instead of the embedded
// file; the value is empty (embedded) or a connection string.
func addStoreFlag(fs *flagSet) *string {
	s := fs.String("store", "", "event store: empty for the embedded file in the data directory, or an EventStoreDB / KurrentDB connection string (esdb://host:2113?tls=false)")
	fs.fromEnv("store", "CASELEDGER_STORE")
	return s
}

// storeLocation is where a command's events are: the connection string when
// one is given, else the embedded file in dataDir.
func storeLocation(store, dataDir string) string {
	if store != "" {
		return store
	}
	return filepath.Join(dataDir, storeFile)
}

// isConnectionString tells an EventStoreDB connection string from a path.
func isConnectionString(location string) bool {
	for _, scheme := range []string{"esdb://", "esdb+discover://", "kurrentdb://", "kurrentdb+discover://", "kurrent://", "kurrent+discover://"} {
		if strings.HasPrefix(location, scheme) {
			return true
		}
	}
	return false
}

// openStore opens the event store at location. It is the one place that
// names a concrete backend.
func openStore(ctx context.Context, location string, log *slog.Logger) (eventstore.Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open event store: %w", err)
	}
	if isConnectionString(location) {
		return esdb.Open(ctx, location, esdb.Options{Logger: log})
	}
	return bolt.Open(location, bolt.Options{Logger: log})
}
