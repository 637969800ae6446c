package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/caseledger/caseledger/api/identity"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/stats"
)

// The outcome statistics, GET /v1/stats/outcomes: a cohort's measures
// (measures.md, definitions v1) computed from the log as known at a point,
// every figure under disclosure control. Caseworkers and team leads read
// their own office's cohorts (the office filter is theirs, another office
// is refused with 403); evaluators any cohort. The body is the same bytes
// as `caseledger stats` writes for the same request.

// StatsOptions configure RegisterStats.
type StatsOptions struct {
	// Today is the default as_of; today in Europe/Oslo when nil.
	Today func() domain.Date
}

// RegisterStats adds GET /v1/stats/outcomes, read from store.
func RegisterStats(a *API, store stats.LogReader, opts StatsOptions) {
	if opts.Today == nil {
		opts.Today = osloToday
	}
	s := &statsRoutes{store: store, opts: opts}
	a.HandleAction(http.MethodGet, "/stats/outcomes", ActReadStatistics, s.outcomes)
}

func osloToday() domain.Date {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		loc = time.UTC
	}
	return domain.DateIn(time.Now(), loc)
}

type statsRoutes struct {
	store stats.LogReader
	opts  StatsOptions
}

func (s *statsRoutes) outcomes(w http.ResponseWriter, r *http.Request) error {
	caller, ok := identity.FromContext(r.Context())
	if !ok {
		return identity.ErrMissingToken
	}
	q, err := queryValues(r, stats.Params()...)
	if err != nil {
		return err
	}
	req, err := stats.ParseRequest(q.Get, s.opts.Today())
	var perr *stats.ParamError
	if errors.As(err, &perr) {
		return badParam(perr.Param, perr.Code, perr.Detail)
	}
	if err != nil {
		return err
	}
	switch caller.Role {
	case identity.Caseworker, identity.TeamLead:
		// Their own office only: the filter is forced, another refused.
		if req.Cohort.Office != "" && req.Cohort.Office != caller.Office {
			return fmt.Errorf("statistics of another office: %w", ErrForbidden)
		}
		req.Cohort.Office = caller.Office
	case identity.Evaluator:
	default:
		return fmt.Errorf("statistics as %s: %w", caller.Role, ErrForbidden)
	}
	report, err := stats.Compute(r.Context(), s.store, req)
	if err != nil {
		return err
	}
	body, ctype, err := stats.Encode(report, q.Get(stats.ParamFormat))
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) // a failed write means the client left
	return nil
}
