package main

import (
	"context"
	"errors"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/stats"
)

// runExport writes the pseudonymised export from the store itself, with
// the query parameters of GET /v1/exports/episodes.csv as flags; the body
// is byte for byte the API's for the same request. Pseudonyms are keyed by
// the installation's master key, so the command needs it, and like every
// look at what leaves the system the export is recorded in the access log,
// as the operator who ran it, before a row is written.
func runExport(ctx context.Context, e *env, args []string) (err error) {
	fs := newFlagSet("export", "caseledger export --purpose TEXT [--data DIR] [--programme SLUG] [--office ID] [--enrolled-from DATE] [--enrolled-to DATE] [--as-of DATE] [--known-at POSITION|TIME] [--k N] [--operator USER] [--master-key-file FILE]")
	rf := addReaderFlags(fs)
	get := paramFlags(fs, stats.ExportParams(), "GET /v1/exports/episodes.csv")
	if err := fs.parse(e, args); err != nil {
		return err
	}
	req, err := stats.ParseExport(get, osloToday())
	if err != nil {
		return paramUsageError(fs.Name(), err)
	}
	reader, purpose, err := rf.reader(e, fs)
	if err != nil {
		return err
	}

	d, err := rf.openData(ctx, e, fs.Name())
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, d.close()) }()
	pseudonyms, err := d.keys.Pseudonyms()
	if err != nil {
		return err
	}
	export, err := stats.ExportEpisodes(ctx, d.store, pseudonyms, req)
	if err != nil {
		return paramUsageError(fs.Name(), err)
	}
	body, err := export.CSV()
	if err != nil {
		return err
	}
	rec := export.AccessRecord(req, "caseledger export", purpose)
	if err := audit.New(d.svc, audit.Options{}).Record(ctx, audit.Access{Reader: reader, Record: rec}); err != nil {
		return err // nothing leaves that is not recorded
	}
	_, err = e.stdout.Write(body)
	return err
}
