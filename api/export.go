package api

import (
	"net/http"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/stats"
)

// The pseudonymised export, GET /v1/exports/episodes.csv: one row per
// episode of a cohort whose participant's evaluation consent is in force,
// named by a keyed hash, with what the cohort filter and the measures use
// (docs/evaluation.md has the codebook). It is the one place row-level
// data leave the system, so evaluators alone may take it (the access
// policy's ActExport) and every export is recorded in the access log, with
// its cohort, the log position it read and its number of rows, before a
// byte of it is sent. The body is the same bytes as `caseledger export`
// writes for the same request.

// exportPurpose is the purpose recorded for an export whose caller states
// none: evaluators export to evaluate.
const exportPurpose = "evaluation"

// RegisterExport adds GET /v1/exports/episodes.csv, read from store, with
// pseudonyms from pseudonyms. Register the casework routes first: exports
// are recorded in their access log, and none is sent that is not.
func RegisterExport(a *API, store stats.LogReader, pseudonyms stats.Pseudonymiser, opts StatsOptions) {
	if opts.Today == nil {
		opts.Today = osloToday
	}
	x := &exportRoutes{api: a, store: store, pseudonyms: pseudonyms, today: opts.Today}
	a.HandleAction(http.MethodGet, "/exports/episodes.csv", ActExport, x.episodes)
}

type exportRoutes struct {
	api        *API
	store      stats.LogReader
	pseudonyms stats.Pseudonymiser
	today      func() domain.Date
}

func (x *exportRoutes) episodes(w http.ResponseWriter, r *http.Request) error {
	g, _ := GrantFrom(r.Context())
	q, err := queryValues(r, stats.ExportParams()...)
	if err != nil {
		return err
	}
	req, err := stats.ParseExport(q.Get, x.today())
	if err != nil {
		return statsParamError(err)
	}
	if err := scopeCohort(g.Caller, &req.Cohort); err != nil {
		return err
	}
	export, err := stats.ExportEpisodes(r.Context(), x.store, x.pseudonyms, req)
	if err != nil {
		return statsParamError(err)
	}
	body, err := export.CSV()
	if err != nil {
		return err
	}
	purpose := g.Purpose
	if len(r.Header.Values(headerPurpose)) == 0 {
		purpose = exportPurpose
	}
	// The route is filled in by record.
	if err := x.api.record(r, g.Caller, export.AccessRecord(req, "", purpose)); err != nil {
		return err // nothing leaves that is not recorded
	}
	writeFigures(w, "text/csv; charset=utf-8", body)
	return nil
}
