package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/stats"
)

// The outcome statistics from the store itself, with the options of
// GET /v1/stats/outcomes as flags (--as-of for as_of, and so on); the body
// written is byte for byte the API's for the same request as an evaluator
// makes it. Statistics read public members only: no master key is needed.

func runStats(ctx context.Context, e *env, args []string) (err error) {
	fs := newFlagSet("stats", "caseledger stats [--data DIR] [--store CONNECTION] [--programme SLUG] [--office ID] [--enrolled-from DATE] [--enrolled-to DATE] [--gender G] [--region-of-birth R] [--income-source S] [--as-of DATE] [--known-at POSITION|TIME] [--k N] [--format json|csv|html]")
	var dataDir string
	fs.StringVar(&dataDir, "data", defaultDataDir, "data directory holding the event store")
	fs.fromEnv("data", "CASELEDGER_DATA")
	storeFlag := addStoreFlag(fs)
	get := paramFlags(fs, stats.Params(), "GET /v1/stats/outcomes")
	if err := fs.parse(e, args); err != nil {
		return err
	}
	req, err := stats.ParseRequest(get, osloToday())
	if err != nil {
		return paramUsageError(fs.Name(), err)
	}
	store, err := openExistingStore(ctx, "stats", storeLocation(*storeFlag, dataDir), nil)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := store.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close event store: %w", cerr)
		}
	}()
	report, err := stats.Compute(ctx, store, req)
	if err != nil {
		return paramUsageError(fs.Name(), err)
	}
	body, _, err := stats.Encode(report, get(stats.ParamFormat))
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(body)
	return err
}

// flagName is a parameter's flag: as_of is --as-of.
func flagName(param string) string { return strings.ReplaceAll(param, "_", "-") }

// osloToday is the default as_of, as the server's.
func osloToday() domain.Date {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		loc = time.UTC
	}
	return domain.DateIn(time.Now(), loc)
}
