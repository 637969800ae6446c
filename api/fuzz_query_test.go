package api

import (
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/projections/caseload"
)

// caseloadParams are the parameters GET /v1/caseload takes.
var caseloadParams = []string{"programme", "caseworker", "phase", "status", "placement_kind", "consent_missing",
	"address_protection", "flag", paramSearch, paramSort, paramLimit, paramCursor, paramMinPosition}

// queryProblem checks that err is the 400 a bad query string gets, naming
// the parameter when it is about one.
func queryProblem(t *testing.T, raw string, err error) {
	t.Helper()
	var p *Problem
	if !errors.As(err, &p) || p.Status != http.StatusBadRequest {
		t.Fatalf("query %q: %v (%T), want a 400 problem", raw, err, err)
	}
	for _, fe := range p.Errors {
		if fe.Parameter == "" || fe.Code == "" || fe.Detail == "" {
			t.Fatalf("query %q: field error %+v does not name a parameter, a code and what is wrong", raw, fe)
		}
	}
}

func requestWithQuery(raw string) *http.Request {
	return &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/v1/caseload", RawQuery: raw}}
}

// FuzzQueryValues: whatever the query string, queryValues answers the
// parameters a resource takes, each once and with a value, or a 400
// problem; what it accepts encodes and reads back the same.
func FuzzQueryValues(f *testing.F) {
	for _, s := range []string{"", "status=active", "status=active&limit=50", "status=", "status=a&status=b", "nope=1",
		"status", "%zz", "status=%zz", "a;b=c", "&&&", "status=active&&limit=5", "limit=5%00", "LIMIT=5", "+status=x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := queryValues(requestWithQuery(raw), caseloadParams...)
		if err != nil {
			queryProblem(t, raw, err)
			return
		}
		for name, vs := range q {
			if !slices.Contains(caseloadParams, name) || len(vs) != 1 || vs[0] == "" {
				t.Fatalf("query %q accepted with %s=%q", raw, name, vs)
			}
		}
		again, err := queryValues(requestWithQuery(q.Encode()), caseloadParams...)
		if err != nil || !reflect.DeepEqual(again, q) {
			t.Fatalf("query %q = %v, which reads back from %q as %v, %v", raw, q, q.Encode(), again, err)
		}
	})
}

// FuzzCaseloadQuery: the caseload's filters, sort, limit and cursor parse
// into a query whose every value is one the list knows, and which reads
// back as itself from its own parameters; or a 400 problem naming the
// parameter.
func FuzzCaseloadQuery(f *testing.F) {
	for _, s := range []string{"", "status=active&limit=50", "status=active,paused,exited&phase=engagement,job_finding",
		"programme=hope,city-mission-work-inclusion&caseworker=u-1,u-2", "programme=,", "placement_kind=ordinary_job",
		"consent_missing=employer_disclosure", "address_protection=true", "address_protection=T", "address_protection=yes",
		"flag=no_contact_14d,midway_due", "flag=unknown", "sort=-days_since_contact", "sort=--flags", "sort=name",
		"limit=0", "limit=500", "limit=501", "limit=+5", "limit=007", "limit=-1", "cursor=AQ", "q=kari", "phase=none",
		"status=Active", "min_position=18342"} {
		f.Add(s)
	}
	scope := caseload.Scope{Office: "hope-bergen", Caseworker: "u-1"}
	f.Fuzz(func(t *testing.T, raw string) {
		values, err := queryValues(requestWithQuery(raw), caseloadParams...)
		if err != nil {
			return // FuzzQueryValues covers these
		}
		q, err := caseloadQuery(values.Get, scope)
		if err != nil {
			queryProblem(t, raw, err)
			return
		}
		switch {
		case q.Scope != scope:
			t.Fatalf("query %q changed the scope to %+v", raw, q.Scope)
		case q.Limit < 0 || q.Limit > caseload.MaxLimit:
			t.Fatalf("query %q: limit %d", raw, q.Limit)
		case q.Sort != "" && !slices.Contains(caseload.Sorts(), q.Sort), q.Sort == "" && q.Desc:
			t.Fatalf("query %q: sort %q, descending %v", raw, q.Sort, q.Desc)
		}
		for _, ph := range q.Phases {
			if ph < domain.PhaseEngagement || ph > domain.PhaseOngoingSupport {
				t.Fatalf("query %q: phase %v", raw, ph)
			}
		}
		for _, st := range q.Statuses {
			if st != domain.StatusActive && st != domain.StatusPaused && st != domain.StatusExited {
				t.Fatalf("query %q: status %q", raw, st)
			}
		}
		for _, k := range q.PlacementKinds {
			if !k.Valid() {
				t.Fatalf("query %q: placement kind %q", raw, k)
			}
		}
		for _, s := range q.ConsentsMissing {
			if !s.Valid() {
				t.Fatalf("query %q: consent scope %q", raw, s)
			}
		}
		for _, fl := range q.Flags {
			if !slices.Contains(caseload.Flags(), fl) {
				t.Fatalf("query %q: flag %q", raw, fl)
			}
		}

		again := url.Values{}
		list := func(name string, vs []string) {
			if vs != nil {
				again.Set(name, strings.Join(vs, ","))
			}
		}
		strs := func(n int, s func(int) string) []string {
			if n == 0 {
				return nil
			}
			out := make([]string, n)
			for i := range out {
				out[i] = s(i)
			}
			return out
		}
		list("programme", q.Programmes)
		list("caseworker", q.Caseworkers)
		list("phase", strs(len(q.Phases), func(i int) string { return q.Phases[i].String() }))
		list("status", strs(len(q.Statuses), func(i int) string { return string(q.Statuses[i]) }))
		list("placement_kind", strs(len(q.PlacementKinds), func(i int) string { return string(q.PlacementKinds[i]) }))
		list("consent_missing", strs(len(q.ConsentsMissing), func(i int) string { return string(q.ConsentsMissing[i]) }))
		list("flag", strs(len(q.Flags), func(i int) string { return string(q.Flags[i]) }))
		if q.AddressProtected != nil {
			again.Set("address_protection", strconv.FormatBool(*q.AddressProtected))
		}
		if q.Sort != "" {
			sort := string(q.Sort)
			if q.Desc {
				sort = "-" + sort
			}
			again.Set(paramSort, sort)
		}
		if q.Limit != 0 {
			again.Set(paramLimit, strconv.Itoa(q.Limit))
		}
		if q.After != "" {
			again.Set(paramCursor, q.After)
		}
		q2, err := caseloadQuery(again.Get, scope)
		if err != nil || !reflect.DeepEqual(q2, q) {
			t.Fatalf("query %q = %+v, which reads back from %q as %+v, %v", raw, q, again.Encode(), q2, err)
		}
	})
}
