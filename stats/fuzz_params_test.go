package stats_test

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
	"testing"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/stats"
)

// FuzzParseRequest: whatever query string a client sends to the outcome
// report, ParseRequest answers a request within its bounds, which reads
// back as itself from its own parameters, or a *ParamError naming one of
// the parameters.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		"",
		"programme=hope&office=hope-bergen&enrolled_from=2025-01-01&enrolled_to=2025-12-31&as_of=2026-05-15&k=5&format=csv",
		"gender=female&region_of_birth=norway&income_source=salary&known_at=18342",
		"known_at=2026-05-15T10:00:00Z", "known_at=2026-05-15T10:00:00%2B02:00", "known_at=0", "known_at=-1",
		"programme=Hope", "programme=-hope", "office=%20padded", "enrolled_from=2026-12-01&enrolled_to=2026-01-01",
		"enrolled_from=2026-02-30", "as_of=20260515", "k=0", "k=1001", "k=%2B5", "k=1e3", "format=xml", "gender=",
		"programme=a&programme=b", "%zz", "k=99999999999999999999999",
	} {
		f.Add(s)
	}
	today, err := domain.ParseDate("2026-05-15")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return // the API refuses a malformed query before it gets here
		}
		req, err := stats.ParseRequest(q.Get, today)
		if err != nil {
			var pe *stats.ParamError
			if !errors.As(err, &pe) || !slices.Contains(stats.Params(), pe.Param) || pe.Code == "" || pe.Detail == "" {
				t.Fatalf("ParseRequest(%q): %v, want a ParamError naming a parameter", raw, err)
			}
			return
		}
		c := req.Cohort
		switch {
		case c.Programme != "" && !domain.ValidSlug(c.Programme):
			t.Fatalf("programme %q accepted", c.Programme)
		case len(c.Office) > domain.MaxIDLen:
			t.Fatalf("office of %d bytes accepted", len(c.Office))
		case !c.EnrolledFrom.IsZero() && !c.EnrolledTo.IsZero() && c.EnrolledTo.Before(c.EnrolledFrom):
			t.Fatalf("enrolled_to %s before enrolled_from %s accepted", c.EnrolledTo, c.EnrolledFrom)
		case c.Gender != "" && !c.Gender.Valid(), c.RegionOfBirth != "" && !c.RegionOfBirth.Valid(), c.IncomeSource != "" && !c.IncomeSource.Valid():
			t.Fatalf("cohort %+v has a value out of its enumeration", c)
		case req.AsOf.IsZero():
			t.Fatal("no as_of")
		case req.K < 1 || req.K > 1000:
			t.Fatalf("k %d accepted", req.K)
		}

		again := url.Values{}
		set := func(name, v string) {
			if v != "" {
				again.Set(name, v)
			}
		}
		set(stats.ParamProgramme, c.Programme)
		set(stats.ParamOffice, c.Office)
		if !c.EnrolledFrom.IsZero() {
			set(stats.ParamEnrolledFrom, c.EnrolledFrom.String())
		}
		if !c.EnrolledTo.IsZero() {
			set(stats.ParamEnrolledTo, c.EnrolledTo.String())
		}
		set(stats.ParamGender, string(c.Gender))
		set(stats.ParamRegionOfBirth, string(c.RegionOfBirth))
		set(stats.ParamIncomeSource, string(c.IncomeSource))
		set(stats.ParamAsOf, req.AsOf.String())
		set(stats.ParamKnownAt, req.KnownAt.String())
		set(stats.ParamK, strconv.Itoa(req.K))
		req2, err := stats.ParseRequest(again.Get, today)
		if err != nil || req2.Cohort != req.Cohort || req2.AsOf != req.AsOf || req2.K != req.K ||
			req2.KnownAt.Position != req.KnownAt.Position || !req2.KnownAt.Time.Equal(req.KnownAt.Time) {
			t.Fatalf("ParseRequest(%q) = %+v, which reads back from %q as %+v, %v", raw, req, again.Encode(), req2, err)
		}
	})
}
