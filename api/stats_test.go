package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// Caseworkers and team leads read their own office only; every query
// parameter is validated and a bad one named.
func TestStatsOutcomesScopeAndParams(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, c := range []struct {
		who, query string
		status     int
		want       string
	}{
		{"caseworker", "", http.StatusOK, `"office":"oslo"`},
		{"team-lead", "?office=oslo", http.StatusOK, `"office":"oslo"`},
		{"caseworker", "?office=bergen", http.StatusForbidden, ""},
		{"evaluator", "?office=bergen&as_of=2026-01-01", http.StatusOK, `"as_of":"2026-01-01"`},
		{"evaluator", "", http.StatusOK, `"episodes":0`},
		{"evaluator", "?format=csv", http.StatusOK, "figure,value"},
		{"evaluator", "?as_of=yesterday", http.StatusBadRequest, "as_of"},
		{"evaluator", "?k=0", http.StatusBadRequest, `"k"`},
		{"evaluator", "?gender=x", http.StatusBadRequest, "gender"},
		{"evaluator", "?known_at=-1", http.StatusBadRequest, "known_at"},
		{"evaluator", "?enrolled_from=2026-02-01&enrolled_to=2026-01-01", http.StatusBadRequest, "enrolled_to"},
		{"evaluator", "?colour=red", http.StatusBadRequest, "colour"},
		{"volunteer", "", http.StatusForbidden, ""},
	} {
		r := h.do(t, http.MethodGet, "/v1/stats/outcomes"+c.query, c.who, nil, "")
		if r.status != c.status || !strings.Contains(string(r.body), c.want) {
			t.Errorf("%s %s: %d %s, want %d with %s", c.who, c.query, r.status, r.body, c.status, c.want)
		}
	}
}
