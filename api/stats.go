package api

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/caseledger/caseledger/api/identity"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/stats"
)

// The outcome statistics, GET /v1/stats/outcomes: a cohort's measures
// (measures.md, definitions v1) computed from the log as known at a point,
// every figure under disclosure control. Caseworkers and team leads read
// their own office's cohorts (the office filter is theirs, another office
// is refused with 403); evaluators any cohort. The body, JSON, CSV or an
// HTML page, is the same bytes as `caseledger stats` writes for the same
// request.

// StatsOptions configure RegisterStats.
type StatsOptions struct {
	// Today is the default as_of; today in Europe/Oslo when nil.
	Today func() domain.Date
	// Model, the outcome read model Waiter runs, answers a report at the
	// head of the log once it has reached the head, waiting at most Wait
	// (DefaultReadYourWritesWait when 0) for it; a past known_at, or a
	// model not there in time, is recomputed from the log, in the same
	// bytes (stats.Reports). Nil recomputes every report.
	Model  *stats.Model
	Waiter PositionWaiter
	Wait   time.Duration
}

// RegisterStats adds GET /v1/stats/outcomes, read from store.
func RegisterStats(a *API, store stats.LogReader, opts StatsOptions) {
	if opts.Today == nil {
		opts.Today = osloToday
	}
	if opts.Wait <= 0 {
		opts.Wait = DefaultReadYourWritesWait
	}
	s := &statsRoutes{opts: opts, reports: stats.Reports{Log: store, Model: opts.Model, Waiter: opts.Waiter, Wait: opts.Wait, Logger: a.log}}
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
	opts    StatsOptions
	reports stats.Reports
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
	if err != nil {
		return statsParamError(err)
	}
	if err := scopeCohort(caller, &req.Cohort); err != nil {
		return err
	}
	report, err := s.reports.Compute(r.Context(), req)
	if err != nil {
		return statsParamError(err)
	}
	format := q.Get(stats.ParamFormat)
	if format == "" {
		format = acceptedFormat(r.Header.Get("Accept"))
	}
	body, ctype, err := stats.Encode(report, format)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Accept")
	if format == "html" {
		// The page needs its inline styles and nothing else; it may not
		// be framed, and links from it say nothing of where it was.
		h.Set("Content-Security-Policy", stats.HTMLPolicy+"; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) // a failed write means the client left
	return nil
}

// acceptedFormat is the report format an Accept header prefers when the
// query names none: html for a browser, which weighs text/html above */*,
// csv for text/csv, json for application/json or */*. An Accept header
// naming none of them still gets json, as before there was a choice.
func acceptedFormat(accept string) string {
	best, bestQ, wild := "json", -1.0, true
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil || q <= 0 {
				continue
			}
		}
		format := ""
		switch mt {
		case "application/json", "*/*":
			format = "json"
		case "text/csv":
			format = "csv"
		case "text/html":
			format = "html"
		}
		// A named type outranks */* of the same weight.
		if format != "" && (q > bestQ || q == bestQ && wild && mt != "*/*") {
			best, bestQ, wild = format, q, mt == "*/*"
		}
	}
	return best
}
