package stats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/domain"
)

// The comparison of two cohorts (two offices, two intake years): for every
// proportion of measures.md, each cohort's rate as its own report shows
// it, and the difference a - b with its 95 % interval by Newcombe's hybrid
// score method. Disclosure control is the single report's, side by side: a
// difference is suppressed when either of its rates is.

// DifferenceMethod names how the interval of a difference is computed.
const DifferenceMethod = "newcombe_hybrid_score"

// The sides of a comparison: every cohort parameter is given once for
// each, as "a.office" and "b.office".
const (
	SideA = "a."
	SideB = "b."
)

// ComparisonRequest is what a comparison is computed for: two cohorts on
// one as_of, knowledge cut-off and disclosure threshold.
type ComparisonRequest struct {
	A, B    Cohort
	AsOf    domain.Date
	KnownAt audit.KnownAt
	K       int
}

// side is the single report's request of one side.
func (r ComparisonRequest) side(c Cohort) Request {
	return Request{Cohort: c, AsOf: r.AsOf, KnownAt: r.KnownAt, K: r.K}
}

// Comparison is the comparison of two cohorts. Like a report, its JSON is
// deterministic and carries what reproduces it.
type Comparison struct {
	DefinitionsVersion string           `json:"definitions_version"`
	AsOf               domain.Date      `json:"as_of"`
	KnownAt            string           `json:"known_at"`
	LogPosition        uint64           `json:"log_position"`
	EventsRead         int              `json:"events_read"`
	K                  int              `json:"k"`
	Method             string           `json:"difference_method"`
	A                  Side             `json:"a"`
	B                  Side             `json:"b"`
	Rates              []RateDifference `json:"rates"`
}

// Side is one cohort of a comparison, with what its own report says of
// the events that fed it.
type Side struct {
	Cohort       Cohort `json:"cohort"`
	Episodes     Count  `json:"episodes"`
	EventsUsed   int    `json:"events_used"`
	EventsDigest string `json:"events_digest"`
}

// RateDifference is one proportion in both cohorts, and their difference
// a - b with its 95 % interval.
type RateDifference struct {
	Measure    string `json:"measure"`
	A          Rate   `json:"a"`
	B          Rate   `json:"b"`
	Difference Value  `json:"difference"`
	Lower      Value  `json:"lower"`
	Upper      Value  `json:"upper"`
}

// proportion is a rate measure of measures.md: its name as the report's
// JSON path has it, the rate a report shows, and its numerator and
// denominator over a cohort's episodes.
type proportion struct {
	name   string
	shown  func(Measures) Rate
	counts func(eps []Episode, asOf domain.Date) (x, n int)
}

// proportions lists the rate measures, in the order of measures.md.
func proportions() []proportion {
	return []proportion{
		{"job_within_183d", func(m Measures) Rate { return m.JobWithin183d }, jobWithin183d},
		{"work_or_education_at_exit", func(m Measures) Rate { return m.WorkOrEducationAtExit },
			func(eps []Episode, _ domain.Date) (int, int) { return workOrEducationAtExit(eps) }},
		{"retention_90d", func(m Measures) Rate { return m.Retention90d },
			func(eps []Episode, asOf domain.Date) (int, int) { return retention(eps, asOf, retentionShortDay) }},
		{"retention_180d", func(m Measures) Rate { return m.Retention180d },
			func(eps []Episode, asOf domain.Date) (int, int) { return retention(eps, asOf, retentionLongDay) }},
		{"off_social_assistance_at_exit", func(m Measures) Rate { return m.OffSocialAssistanceAtExit },
			func(eps []Episode, _ domain.Date) (int, int) { return offSocialAssistance(eps) }},
		{"contact_intensity.weeks_with_meeting", func(m Measures) Rate { return m.ContactIntensity.Weeks }, weeksWithMeeting},
	}
}

// weeksWithMeeting sums the counted weeks of the episodes, and those with
// a meeting, as contact_intensity counts them.
func weeksWithMeeting(eps []Episode, asOf domain.Date) (met, counted int) {
	for _, e := range eps {
		c, m := weeks(e, asOf)
		counted += c
		met += m
	}
	return met, counted
}

// Compare reads the log up to req.KnownAt once and compares the cohorts.
func Compare(ctx context.Context, store LogReader, req ComparisonRequest) (Comparison, error) {
	// A side's request carries the as_of and k that both sides share.
	shared, err := req.side(Cohort{}).checked()
	if err != nil {
		return Comparison{}, err
	}
	req.K = shared.K
	if err := knownAtInLog(ctx, store, req.KnownAt); err != nil {
		return Comparison{}, err
	}
	log, err := ReadLog(ctx, store, req.KnownAt)
	if err != nil {
		return Comparison{}, err
	}
	return CompareFromLog(log, req), nil
}

// CompareFromLog compares the cohorts on what was read of the log. Each
// side's rates are its single report's, so that they are disclosed
// exactly as that report discloses them.
func CompareFromLog(log Log, req ComparisonRequest) Comparison {
	if req.K == 0 {
		req.K = DefaultK
	}
	ra, rb := FromLog(log, req.side(req.A)), FromLog(log, req.side(req.B))
	var epsA, epsB []Episode
	for _, e := range log.Episodes(req.AsOf) {
		if req.A.Includes(e) {
			epsA = append(epsA, e)
		}
		if req.B.Includes(e) {
			epsB = append(epsB, e)
		}
	}
	out := Comparison{
		DefinitionsVersion: DefinitionsVersion,
		AsOf:               req.AsOf,
		KnownAt:            req.KnownAt.String(),
		LogPosition:        log.Position,
		EventsRead:         log.EventsRead,
		K:                  req.K,
		Method:             DifferenceMethod,
		A:                  sideOf(ra),
		B:                  sideOf(rb),
	}
	for _, p := range proportions() {
		xa, na := p.counts(epsA, req.AsOf)
		xb, nb := p.counts(epsB, req.AsOf)
		d := RateDifference{Measure: p.name, A: withoutTarget(p.shown(ra.Measures)), B: withoutTarget(p.shown(rb.Measures))}
		switch {
		case rateSuppressed(xa, na, req.K) || rateSuppressed(xb, nb, req.K):
			d.Difference, d.Lower, d.Upper = Value{Suppressed: true}, Value{Suppressed: true}, Value{Suppressed: true}
		case na > 0 && nb > 0:
			diff, lo, hi := Newcombe(xa, na, xb, nb)
			d.Difference, d.Lower, d.Upper = value(diff), value(lo), value(hi)
		}
		out.Rates = append(out.Rates, d)
	}
	return out
}

func sideOf(r Report) Side {
	return Side{Cohort: r.Cohort, Episodes: r.Measures.Enrolled.Episodes, EventsUsed: r.EventsUsed, EventsDigest: r.EventsDigest}
}

// withoutTarget is a rate as a comparison shows it: the programme's
// target belongs to a single report.
func withoutTarget(r Rate) Rate {
	r.Target, r.MeetsTarget = nil, nil
	return r
}

// Newcombe returns the difference x1/n1 - x2/n2 of two independent
// proportions and its 95 % interval by Newcombe's hybrid score method
// (method 10 of Newcombe 1998, Statistics in Medicine 17:873-890), built
// from the two Wilson intervals (l1, u1) and (l2, u2):
//
//	lower = d - sqrt((p1 - l1)² + (u2 - p2)²)
//	upper = d + sqrt((u1 - p1)² + (p2 - l2)²)
//
// n1 and n2 must be positive.
func Newcombe(x1, n1, x2, n2 int) (diff, lo, hi float64) {
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	l1, u1 := Wilson(x1, n1)
	l2, u2 := Wilson(x2, n2)
	diff = p1 - p2
	lo = diff - math.Hypot(p1-l1, u2-p2)
	hi = diff + math.Hypot(u1-p1, p2-l2)
	return diff, lo, hi
}

// shared reports whether a comparison takes parameter p once for both
// sides.
func shared(p string) bool {
	return p == ParamAsOf || p == ParamKnownAt || p == ParamK || p == ParamFormat
}

// ComparisonParams lists every parameter of a comparison: each cohort
// parameter of a report for side a and for side b, then the shared ones.
func ComparisonParams() []string {
	var out, both []string
	for _, side := range []string{SideA, SideB} {
		for _, p := range Params() {
			if !shared(p) {
				out = append(out, side+p)
			}
		}
	}
	for _, p := range Params() {
		if shared(p) {
			both = append(both, p)
		}
	}
	return append(out, both...)
}

// ParseComparison reads a comparison from parameter values, each side's
// cohort as a report's (ParseRequest) under its prefix. Errors are
// *ParamError naming the parameter as given ("a.office").
func ParseComparison(get func(string) string, today domain.Date) (ComparisonRequest, error) {
	// Checked first: a report's formats (html among them) are not all a
	// comparison's.
	if v := get(ParamFormat); v != "" && v != "json" && v != "csv" {
		return ComparisonRequest{}, &ParamError{ParamFormat, "enum", "json or csv"}
	}
	var out ComparisonRequest
	for _, side := range []string{SideA, SideB} {
		req, err := ParseRequest(func(p string) string {
			if shared(p) {
				return get(p)
			}
			return get(side + p)
		}, today)
		var perr *ParamError
		if errors.As(err, &perr) && !shared(perr.Param) {
			return ComparisonRequest{}, &ParamError{side + perr.Param, perr.Code, perr.Detail}
		}
		if err != nil {
			return ComparisonRequest{}, err
		}
		out.AsOf, out.KnownAt, out.K = req.AsOf, req.KnownAt, req.K
		if side == SideA {
			out.A = req.Cohort
		} else {
			out.B = req.Cohort
		}
	}
	return out, nil
}

// EncodeComparison is the comparison's body in format ("json", the
// default, or "csv": "figure,value" rows as a report's) and its content
// type. The same comparison always gives the same bytes.
func EncodeComparison(c Comparison, format string) ([]byte, string, error) {
	if format == "csv" {
		b, err := figuresCSV(c, "the comparison")
		return b, "text/csv; charset=utf-8", err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, "", fmt.Errorf("statistics: encode the comparison: %w", err)
	}
	return append(b, '\n'), "application/json", nil
}
