package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/api/identity"
	"github.com/caseledger/caseledger/domain"
)

func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openAPIDoc()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestOpenAPIRoutes: the document and the API name the same operations,
// /metrics included when the API serves it.
func TestOpenAPIRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	h := newHarness(t)
	reg := prometheus.NewRegistry()
	m, err := api.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	withMetrics, err := api.New(api.Config{Verifier: refuseAll{}, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	registered := map[string]bool{}
	for _, rt := range append(h.api.Routes(), withMetrics.Routes()...) {
		registered[rt.Method+" "+rt.Path] = true
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	for k := range registered {
		if !documented[k] {
			t.Errorf("route %s is registered but not in api/openapi.yaml", k)
		}
	}
	for k := range documented {
		if !registered[k] {
			t.Errorf("api/openapi.yaml documents %s, which no route serves", k)
		}
	}
}

// TestOpenAPIEnums: the document's enumerations are domain/enums.go's.
func TestOpenAPIEnums(t *testing.T) {
	doc := loadOpenAPI(t)
	want := map[string][]string{
		"ReferralSource":     strs(domain.ReferralSources()),
		"Gender":             strs(domain.Genders()),
		"RegionOfBirth":      strs(domain.RegionsOfBirth()),
		"IncomeSource":       strs(domain.IncomeSources()),
		"NorwegianLevel":     strs(domain.NorwegianLevels()),
		"EducationLevel":     strs(domain.EducationLevels()),
		"CaseworkerRole":     strs(domain.CaseworkerRoles()),
		"ConsentScope":       strs(domain.ConsentScopes()),
		"GoalArea":           strs(domain.GoalAreas()),
		"GoalOutcome":        strs(domain.GoalOutcomes()),
		"MeetingKind":        strs(domain.MeetingKinds()),
		"Timepoint":          strs(domain.Timepoints()),
		"ContactPurpose":     strs(domain.ContactPurposes()),
		"PlacementKind":      strs(domain.PlacementKinds()),
		"Contract":           strs(domain.Contracts()),
		"PlacementEndReason": strs(domain.PlacementEndReasons()),
		"PauseReason":        strs(domain.PauseReasons()),
		"ExitReason":         strs(domain.ExitReasons()),
		"Destination":        strs(domain.Destinations()),
		"CorrectionReason":   strs(domain.CorrectionReasons()),
		"VoidReason":         strs(domain.VoidReasons()),
		"ErasureBasis":       strs(domain.ErasureBases()),
		"Requester":          strs(domain.Requesters()),
		"MeasureID":          strs(domain.TargetMeasures()),
		"EventType":          domain.EventTypes(),
		"AccessView":         strs(domain.AccessViews()),
		"AccessDecision":     strs(domain.AccessDecisions()),
		"DenyReason":         strs(domain.DenyReasons()),
		"AccessRole":         strs(identity.Roles()),
	}
	for name, values := range want {
		ref := doc.Components.Schemas[name]
		if ref == nil || ref.Value == nil {
			t.Errorf("api/openapi.yaml has no schema %s", name)
			continue
		}
		var got []string
		for _, v := range ref.Value.Enum {
			got = append(got, fmt.Sprint(v))
		}
		if !slices.Equal(got, values) {
			t.Errorf("schema %s: enum %v, domain lists %v", name, got, values)
		}
	}
}

func strs[S ~string](vs []S) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// TestOpenAPIServed: the document is served without a token, as YAML.
func TestOpenAPIServed(t *testing.T) {
	h := newHarness(t)
	res := h.get(t, "", "/openapi.yaml")
	if res.status != http.StatusOK {
		t.Fatalf("GET /openapi.yaml: %s", res)
	}
	if ct := res.header.Get("Content-Type"); ct != api.ContentTypeYAML {
		t.Errorf("Content-Type %q, want %q", ct, api.ContentTypeYAML)
	}
	if string(res.body) != string(api.OpenAPI()) {
		t.Error("the served document differs from api.OpenAPI()")
	}
}

// TestOpenAPICheckerCatchesMismatches: the harness's checking client
// fails an exchange the document does not describe.
func TestOpenAPICheckerCatchesMismatches(t *testing.T) {
	tests := []struct {
		name, method, path, body string
		handler                  http.HandlerFunc
		want                     string
	}{
		{
			name: "undocumented route answered", method: http.MethodGet, path: "/v1/nowhere",
			handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) },
			want:    "no such operation",
		},
		{
			name: "response member not in the schema", method: http.MethodGet, path: "/livez",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"status":"live","extra":1}`))
			},
			want: "not the document's",
		},
		{
			name: "write without its ETag", method: http.MethodPost, path: "/v1/programmes", body: `{"slug":"p","name":"P"}`,
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Log-Position", "3")
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write([]byte(`{"stream":"programme-p","revision":1,"position":3,"event_ids":[]}`))
			},
			want: "ETag",
		},
		{
			name: "problem without its status", method: http.MethodGet, path: "/v1/me",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", api.ContentTypeProblem)
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"type":"about:blank","title":"Unauthorized"}`))
			},
			want: "not the document's",
		},
		{
			name: "refused request accepted", method: http.MethodPost, path: "/v1/programmes", body: `{"slug":"p","colour":"red"}`,
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("ETag", `"0"`)
				w.Header().Set("Log-Position", "3")
				w.Header().Set("Location", "/v1/programmes/p")
				w.WriteHeader(http.StatusCreated)
				_, _ = w.Write([]byte(`{"stream":"programme-p","revision":0,"position":3,"event_ids":[]}`))
			},
			want: "document refuses the request",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer x")
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			res, err := openAPIClient(srv).Do(req)
			if err == nil {
				res.Body.Close()
				t.Fatalf("no error; want one saying %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v; want one saying %q", err, tt.want)
			}
		})
	}
}

// refuseAll is a verifier for an API whose routes are only listed.
type refuseAll struct{}

func (refuseAll) Verify(context.Context, string) (identity.Identity, error) {
	return identity.Identity{}, identity.ErrInvalidToken
}
