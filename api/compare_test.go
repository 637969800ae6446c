package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// Caseworkers and team leads compare cohorts of their own office only;
// every parameter is validated, and a bad one named as it was given.
func TestStatsComparisonScopeAndParams(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, c := range []struct {
		who, query string
		status     int
		want       string // in the body of a 200
		param      string // named by the problem of a 400
	}{
		{"caseworker", "", http.StatusOK, `"a":{"cohort":{"office":"oslo"}`, ""},
		{"caseworker", "", http.StatusOK, `"b":{"cohort":{"office":"oslo"}`, ""},
		{"team-lead", "?a.enrolled_to=2025-12-31&b.enrolled_from=2026-01-01&b.office=oslo", http.StatusOK,
			`"b":{"cohort":{"office":"oslo","enrolled_from":"2026-01-01"}`, ""},
		{"caseworker", "?b.office=bergen", http.StatusForbidden, "", ""},
		{"evaluator", "?a.office=oslo&b.office=bergen&as_of=2026-01-01", http.StatusOK, `"difference_method":"newcombe_hybrid_score"`, ""},
		{"evaluator", "?a.office=oslo&b.office=bergen&format=csv", http.StatusOK, "rates.0.measure,job_within_183d\n", ""},
		{"evaluator", "?office=oslo", http.StatusBadRequest, "", "office"},
		{"evaluator", "?a.gender=x", http.StatusBadRequest, "", "a.gender"},
		{"evaluator", "?b.enrolled_from=2026-02-01&b.enrolled_to=2026-01-01", http.StatusBadRequest, "", "b.enrolled_to"},
		{"evaluator", "?as_of=yesterday", http.StatusBadRequest, "", "as_of"},
		{"evaluator", "?k=1001", http.StatusBadRequest, "", "k"},
		{"evaluator", "?format=html", http.StatusBadRequest, "", "format"},
		{"volunteer", "", http.StatusForbidden, "", ""},
	} {
		r := h.get(t, c.who, "/v1/stats/comparison"+c.query)
		switch {
		case c.status == http.StatusBadRequest:
			checkParam(t, r.problem(t, c.status), c.param)
		case r.status != c.status || !strings.Contains(string(r.body), c.want):
			t.Errorf("%s %s: %s, want %d with %s", c.who, c.query, r, c.status, c.want)
		}
	}
}
