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
		// Below the default k, small cells would be shown to whoever asks.
		{"evaluator", "?k=1", http.StatusBadRequest, `"k"`},
		{"evaluator", "?k=4", http.StatusBadRequest, `"k"`},
		{"evaluator", "?k=6", http.StatusOK, `"k":6`},
		// A point the log has not reached would make the report change.
		{"evaluator", "?known_at=99999999999", http.StatusBadRequest, "known_at"},
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

// The HTML report is served for format=html, or to a browser's Accept
// header when the query names no format, with the headers an HTML page
// needs; format wins over Accept, and a format not listed is refused
// naming the parameter.
func TestStatsOutcomesHTML(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
	for _, c := range []struct {
		name, query, accept string
		status              int
		ctype, body         string
	}{
		{"format html", "?format=html", "", http.StatusOK, "text/html; charset=utf-8", "<!DOCTYPE html>"},
		{"a browser", "", browser, http.StatusOK, "text/html; charset=utf-8", "<!DOCTYPE html>"},
		{"a browser asking for json", "?format=json", browser, http.StatusOK, "application/json", `"measures"`},
		{"json over html", "", "application/json, text/html;q=0.5", http.StatusOK, "application/json", `"measures"`},
		{"csv", "", "text/csv", http.StatusOK, "text/csv; charset=utf-8", "figure,value"},
		{"anything", "", "*/*", http.StatusOK, "application/json", `"measures"`},
		{"a type not served", "", "image/png", http.StatusOK, "application/json", `"measures"`},
		{"html refused", "", "text/html;q=0, */*", http.StatusOK, "application/json", `"measures"`},
		{"a format not listed", "?format=pdf", browser, http.StatusBadRequest, "application/problem+json", `"format"`},
	} {
		r := h.do(t, http.MethodGet, "/v1/stats/outcomes"+c.query, "evaluator", map[string]string{"Accept": c.accept}, "")
		if r.status != c.status || r.header.Get("Content-Type") != c.ctype || !strings.Contains(string(r.body), c.body) {
			t.Errorf("%s: %d %s %.200s, want %d %s with %s", c.name, r.status, r.header.Get("Content-Type"), r.body, c.status, c.ctype, c.body)
			continue
		}
		if r.status != http.StatusOK {
			continue
		}
		want := map[string]string{"X-Content-Type-Options": "nosniff", "Vary": "Accept", "Cache-Control": "no-store"}
		if strings.HasPrefix(c.ctype, "text/html") {
			want["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
			want["Referrer-Policy"] = "no-referrer"
		}
		for k, v := range want {
			if got := r.header.Get(k); got != v {
				t.Errorf("%s: %s: %q, want %q", c.name, k, got, v)
			}
		}
	}
}
