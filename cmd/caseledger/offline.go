package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/bolt"
)

// openExistingStore opens the store at location for a command that
// works on what is there (verify, erase): a missing store is an error,
// not a new empty one, and a store held by a server says so.
func openExistingStore(ctx context.Context, cmd, location string, log *slog.Logger) (eventstore.Store, error) {
	if isConnectionString(location) {
		return openStore(ctx, location, log)
	}
	path := location
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no event store at %s", path)
	} else if err != nil {
		return nil, fmt.Errorf("open event store: %w", err)
	}
	store, err := openStore(ctx, path, log)
	if errors.Is(err, bolt.ErrLocked) {
		return nil, fmt.Errorf("%s: %w (a server has it open: stop it first, or use the API)", path, err)
	}
	if err != nil {
		return nil, err
	}
	return store, nil
}
