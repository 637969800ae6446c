package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/bolt"
)

// openExistingStore opens the data directory's store for a command that
// works on what is there (verify, erase): a missing store is an error,
// not a new empty one, and a store held by a server says so.
func openExistingStore(ctx context.Context, cmd, dataDir string, log *slog.Logger) (eventstore.Store, error) {
	path := filepath.Join(dataDir, storeFile)
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
