package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/bolt"
)

// openStore opens the event store the binary serves. It is the one place
// that names a concrete backend: today the embedded bbolt file; an
// EventStoreDB connection string will choose that backend here.
func openStore(ctx context.Context, path string, log *slog.Logger) (eventstore.Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open event store %s: %w", path, err)
	}
	return bolt.Open(path, bolt.Options{Logger: log})
}
