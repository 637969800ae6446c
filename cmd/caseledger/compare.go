package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/caseledger/caseledger/stats"
)

// The comparison of two cohorts from the store itself, with the query
// parameters of GET /v1/stats/comparison as flags (--a.office for
// a.office, --as-of for as_of); the body written is byte for byte the
// API's for the same request as an evaluator makes it. Like stats, it
// reads public members only: no master key is needed.

func runCompare(ctx context.Context, e *env, args []string) (err error) {
	fs := newFlagSet("compare", "caseledger compare [--data DIR] [--store CONNECTION] [--a.office ID] [--b.office ID] [--a.programme SLUG] [--a.enrolled-from DATE] [--a.enrolled-to DATE] [--a.gender G] [--a.region-of-birth R] [--a.income-source S] [--b.…] [--as-of DATE] [--known-at POSITION|TIME] [--k N] [--format json|csv]")
	var dataDir string
	fs.StringVar(&dataDir, "data", defaultDataDir, "data directory holding the event store")
	fs.fromEnv("data", "CASELEDGER_DATA")
	storeFlag := addStoreFlag(fs)
	get := paramFlags(fs, stats.ComparisonParams(), "GET /v1/stats/comparison")
	if err := fs.parse(e, args); err != nil {
		return err
	}
	req, err := stats.ParseComparison(get, osloToday())
	if err != nil {
		return paramUsageError(fs.Name(), err)
	}
	store, err := openExistingStore(ctx, fs.Name(), storeLocation(*storeFlag, dataDir), nil)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := store.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close event store: %w", cerr)
		}
	}()
	cmp, err := stats.Compare(ctx, store, req)
	if err != nil {
		return paramUsageError(fs.Name(), err)
	}
	body, _, err := stats.EncodeComparison(cmp, get(stats.ParamFormat))
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(body)
	return err
}

// paramFlags adds a flag for each query parameter of route (as_of is
// --as-of) and returns what reads them back by parameter name.
func paramFlags(fs *flagSet, params []string, route string) func(string) string {
	values := map[string]*string{}
	for _, p := range params {
		values[p] = fs.String(flagName(p), "", "as the query parameter "+p+" of "+route)
	}
	return func(p string) string {
		if v, ok := values[p]; ok {
			return *v
		}
		return ""
	}
}

// paramUsageError is a statistics parameter's error as a usage error
// naming its flag.
func paramUsageError(cmd string, err error) error {
	var perr *stats.ParamError
	if errors.As(err, &perr) {
		return usageErrorf(cmd, "--%s: %s", flagName(perr.Param), perr.Detail)
	}
	return err
}
