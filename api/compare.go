package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/caseledger/caseledger/api/identity"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/stats"
)

// The comparison of two cohorts, GET /v1/stats/comparison: for every rate
// of measures.md each cohort's rate, disclosed as its own report would
// disclose it, and the difference a - b with its 95 % interval (Newcombe's
// hybrid score method). Each cohort takes a report's filter under the
// prefix "a." or "b."; as_of, known_at, k and format are shared. Who may
// compare what is who may read what: caseworkers and team leads compare
// cohorts of their own office, evaluators any. The body is the same bytes
// as `caseledger compare` writes for the same request.

// RegisterComparison adds GET /v1/stats/comparison, read from store.
func RegisterComparison(a *API, store stats.LogReader, opts StatsOptions) {
	if opts.Today == nil {
		opts.Today = osloToday
	}
	c := &comparisonRoutes{store: store, today: opts.Today}
	a.HandleAction(http.MethodGet, "/stats/comparison", ActReadStatistics, c.compare)
}

type comparisonRoutes struct {
	store stats.LogReader
	today func() domain.Date
}

func (c *comparisonRoutes) compare(w http.ResponseWriter, r *http.Request) error {
	caller, ok := identity.FromContext(r.Context())
	if !ok {
		return identity.ErrMissingToken
	}
	q, err := queryValues(r, stats.ComparisonParams()...)
	if err != nil {
		return err
	}
	req, err := stats.ParseComparison(q.Get, c.today())
	if err != nil {
		return statsParamError(err)
	}
	for _, side := range []*stats.Cohort{&req.A, &req.B} {
		if err := scopeCohort(caller, side); err != nil {
			return err
		}
	}
	cmp, err := stats.Compare(r.Context(), c.store, req)
	if err != nil {
		return statsParamError(err)
	}
	body, ctype, err := stats.EncodeComparison(cmp, q.Get(stats.ParamFormat))
	if err != nil {
		return err
	}
	writeFigures(w, ctype, body)
	return nil
}

// statsParamError answers a statistics parameter that is not acceptable
// with a 400 naming it.
func statsParamError(err error) error {
	var perr *stats.ParamError
	if errors.As(err, &perr) {
		return badParam(perr.Param, perr.Code, perr.Detail)
	}
	return err
}

// scopeCohort narrows a cohort to what caller may read: caseworkers and
// team leads their own office (the filter is forced to it, another office
// refused), evaluators any.
func scopeCohort(caller identity.Identity, c *stats.Cohort) error {
	switch caller.Role {
	case identity.Caseworker, identity.TeamLead:
		if c.Office != "" && c.Office != caller.Office {
			return fmt.Errorf("statistics of another office: %w", ErrForbidden)
		}
		c.Office = caller.Office
	case identity.Evaluator:
	default:
		return fmt.Errorf("statistics as %s: %w", caller.Role, ErrForbidden)
	}
	return nil
}

// writeFigures writes a statistics body: figures that must not linger in
// a cache, of a type the client must not second-guess.
func writeFigures(w http.ResponseWriter, ctype string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) // a failed write means the client left
}
