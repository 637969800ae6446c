package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/caseledger/caseledger/chain"
)

// maxBreaksShown bounds the broken events verify lists; the count says
// how many there are.
const maxBreaksShown = 20

func runVerify(ctx context.Context, e *env, args []string) (err error) {
	fs := newFlagSet("verify", "caseledger verify [--data DIR] [--heads]")
	var (
		dataDir  string
		pageSize int
		heads    bool
	)
	fs.StringVar(&dataDir, "data", defaultDataDir, "data directory holding the event store")
	fs.IntVar(&pageSize, "page-size", chain.DefaultPageSize, "events read from the log at a time")
	fs.BoolVar(&heads, "heads", false, "also print every stream's head digest, one \"stream digest\" line each")
	fs.fromEnv("data", "CASELEDGER_DATA")
	storeFlag := addStoreFlag(fs)
	if err := fs.parse(e, args); err != nil {
		return err
	}
	if err := fs.required("data"); err != nil {
		return err
	}
	if pageSize < 1 {
		return usageErrorf(fs.Name(), "--page-size must be positive")
	}
	store, err := openExistingStore(ctx, "verify", storeLocation(*storeFlag, dataDir), nil)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := store.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close event store: %w", cerr))
		}
	}()

	r, err := chain.Verify(ctx, store, pageSize)
	if err != nil {
		return err
	}
	for i, b := range r.Breaks {
		if i == maxBreaksShown {
			fmt.Fprintf(e.stdout, "BROKEN ... and %d more\n", len(r.Breaks)-maxBreaksShown)
			break
		}
		fmt.Fprintf(e.stdout, "BROKEN %s\n", b)
	}
	if heads {
		for _, s := range slices.Sorted(maps.Keys(r.Heads)) {
			fmt.Fprintf(e.stdout, "%s %s\n", s, r.Heads[s])
		}
	}
	fmt.Fprintf(e.stdout, "checked %d events in %d streams\n", r.Events, r.Streams)
	fmt.Fprintf(e.stdout, "heads digest: %s\n", r.HeadsDigest())
	if !r.OK() {
		first := r.Breaks[0]
		return fmt.Errorf("the hash chain is broken (%d broken events); the first is %s revision %d (event %s, position %d)",
			len(r.Breaks), first.Stream, first.Revision, first.EventID, first.Position)
	}
	fmt.Fprintln(e.stdout, "every link holds; keep the heads digest outside the store to detect a later change to the last event of a stream")
	return nil
}
