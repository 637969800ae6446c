package stats_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/stats"
)

// A comparison's parameters are a report's, each cohort parameter once
// per side; a bad one is named as it was given.
func TestParseComparison(t *testing.T) {
	today := day(t, "2026-05-15")
	for _, c := range []struct {
		query map[string]string
		param string // "" when valid
	}{
		{map[string]string{"a.office": "oslo", "b.office": "bergen", "as_of": "2026-01-01", "k": "7", "format": "csv"}, ""},
		{map[string]string{"a.enrolled_from": "2025-01-01", "a.enrolled_to": "2025-12-31", "b.enrolled_from": "2026-01-01"}, ""},
		{map[string]string{"a.office": " oslo"}, "a.office"},
		{map[string]string{"b.gender": "x"}, "b.gender"},
		{map[string]string{"b.enrolled_from": "2026-02-01", "b.enrolled_to": "2026-01-01"}, "b.enrolled_to"},
		{map[string]string{"a.programme": "Not A Slug"}, "a.programme"},
		{map[string]string{"as_of": "yesterday"}, "as_of"},
		{map[string]string{"k": "0"}, "k"},
		{map[string]string{"known_at": "-1"}, "known_at"},
		{map[string]string{"format": "html"}, "format"},
		{map[string]string{"format": "xml"}, "format"},
	} {
		req, err := stats.ParseComparison(func(p string) string { return c.query[p] }, today)
		var perr *stats.ParamError
		switch {
		case c.param == "" && err != nil:
			t.Errorf("%v: %v", c.query, err)
		case c.param != "" && (!errors.As(err, &perr) || perr.Param != c.param):
			t.Errorf("%v: %v, want an error naming %s", c.query, err, c.param)
		case c.param == stats.ParamFormat && perr.Detail != "json or csv":
			t.Errorf("%v: %q, want the comparison's formats", c.query, perr.Detail)
		case c.param == "" && (req.AsOf.IsZero() || req.K == 0):
			t.Errorf("%v: as_of and k not defaulted: %+v", c.query, req)
		}
	}
	req, err := stats.ParseComparison(func(p string) string {
		return map[string]string{"a.office": "oslo", "b.office": "bergen", "b.gender": "female", "as_of": "2026-01-01"}[p]
	}, today)
	if err != nil {
		t.Fatal(err)
	}
	if req.A != (stats.Cohort{Office: "oslo"}) || req.B != (stats.Cohort{Office: "bergen", Gender: domain.GenderFemale}) ||
		req.AsOf != day(t, "2026-01-01") || req.K != stats.DefaultK {
		t.Errorf("parsed %+v", req)
	}
	for _, p := range stats.ComparisonParams() {
		if p == "office" || p == "gender" {
			t.Errorf("ComparisonParams has the unprefixed cohort parameter %s", p)
		}
	}
}

// A comparison read from the store is deterministic, says what it read,
// and its CSV holds the rows of its JSON.
func TestCompareFromStore(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	for i := range 24 {
		office := []string{"oslo", "bergen"}[i%2]
		stream := domain.ParticipantStream(uuid.New())
		enrolled := day(t, "2025-01-06").AddDays(3 * i)
		appendEvent(t, store, stream, domain.ParticipantEnrolled{Episode: 1, Programme: "hope-oslo", Office: office,
			EnrolledOn: enrolled, ReferralSource: domain.ReferralSelf,
			Profile: domain.Profile{BirthYear: 1990, Gender: domain.GenderMale, RegionOfBirth: domain.RegionAsia,
				IncomeSource: domain.IncomeSocialAssistance}})
		if i%3 != 0 {
			appendEvent(t, store, stream, domain.PlacementStarted{PlacementID: uuid.New(), Kind: domain.PlacementOrdinaryJob,
				StartedOn: enrolled.AddDays(20 + i), HoursPercentage: 50})
		}
	}
	req := stats.ComparisonRequest{A: stats.Cohort{Office: "oslo"}, B: stats.Cohort{Office: "bergen"}, AsOf: day(t, "2026-01-06"), K: 3}
	encode := func(format string) []byte {
		t.Helper()
		c, err := stats.Compare(ctx, store, req)
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := stats.EncodeComparison(c, format)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	js := encode("json")
	if again := encode("json"); !bytes.Equal(js, again) {
		t.Errorf("two runs differ:\n%s\n%s", js, again)
	}
	// oslo: 12 episodes, 8 with a job (i = 2, 4, 8, 10, 14, 16, 20, 22);
	// bergen: 12, 8 (i = 1, 5, 7, 11, 13, 17, 19, 23).
	for _, want := range []string{`"log_position":`, `"events_read":`, `"difference_method":"newcombe_hybrid_score"`,
		`"a":{"cohort":{"office":"oslo"},"episodes":12,`, `"b":{"cohort":{"office":"bergen"},"episodes":12,`,
		`{"measure":"job_within_183d","a":{"numerator":8,"denominator":12,"rate":0.666667,`,
		`"difference":0.000000,`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("no %s in %s", want, js)
		}
	}
	csv := string(encode("csv"))
	for _, want := range []string{"figure,value\n", "rates.0.measure,job_within_183d\n", "rates.0.a.rate,0.666667\n",
		"rates.0.difference,0.000000\n", "a.cohort.office,oslo\n"} {
		if !strings.Contains(csv, want) {
			t.Errorf("no %q in %s", want, csv)
		}
	}
	if _, err := stats.Compare(ctx, store, stats.ComparisonRequest{}); !errors.Is(err, stats.ErrInvalidRequest) {
		t.Errorf("without as_of: %v", err)
	}
}
