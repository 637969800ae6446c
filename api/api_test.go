package api_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/api/identity"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
)

// syncBuffer collects log output; handlers may log from the server's
// goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines decodes the JSON log lines.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

type fixture struct {
	key    *ecdsa.PrivateKey
	api    *api.API
	issuer *identity.LocalIssuer
	logs   *syncBuffer
}

func newFixture(t *testing.T, cfg api.Config) *fixture {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	li, err := identity.NewLocalIssuer(key, identity.Config{})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if cfg.Verifier == nil {
		cfg.Verifier = li.Verifier()
	}
	a, err := api.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{key: key, api: a, issuer: li, logs: logs}
}

func (f *fixture) token(t *testing.T, id identity.Identity) string {
	t.Helper()
	tok, err := f.issuer.Mint(id, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f *fixture) do(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	f.api.ServeHTTP(w, r)
	return w
}

// failing is the answer to a caseworker's POST /v1/things/p-1 whose
// handler fails with err.
func (f *fixture) failing(t *testing.T, err error) *httptest.ResponseRecorder {
	t.Helper()
	f.api.Handle(http.MethodPost, "/things/{id}", func(http.ResponseWriter, *http.Request) error { return err })
	r := httptest.NewRequest(http.MethodPost, "/v1/things/p-1", nil)
	r.Header.Set("Authorization", "Bearer "+f.token(t, kari))
	return f.do(r)
}

// problemType is the type of a problem of code, about:blank for "".
func problemType(code string) string {
	if code == "" {
		return "about:blank"
	}
	return api.ProblemTypeBase + code
}

func decodeProblem(t *testing.T, w *httptest.ResponseRecorder) api.Problem {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != api.ContentTypeProblem {
		t.Fatalf("Content-Type %q, want %q (body %s)", ct, api.ContentTypeProblem, w.Body)
	}
	var p api.Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body %s: %v", w.Body, err)
	}
	if p.Status != w.Code {
		t.Fatalf("problem status %d, response status %d", p.Status, w.Code)
	}
	return p
}

var (
	kari    = identity.Identity{UserID: "u-kari", Role: identity.Caseworker, Office: "oslo"}
	auditor = identity.Identity{UserID: "u-aud", Role: identity.Auditor}
)

func TestHealth(t *testing.T) {
	ready := errors.New("event store closed")
	tests := []struct {
		name   string
		ready  func(context.Context) error
		path   string
		status int
	}{
		{"live", nil, "/livez", 200},
		{"live while not ready", func(context.Context) error { return ready }, "/livez", 200},
		{"ready without a check", nil, "/readyz", 200},
		{"ready", func(context.Context) error { return nil }, "/readyz", 200},
		{"not ready", func(context.Context) error { return ready }, "/readyz", 503},
		{"readiness check hangs", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, "/readyz", 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, api.Config{Ready: tt.ready})
			r := httptest.NewRequest(http.MethodGet, tt.path, nil)
			if tt.name == "readiness check hangs" {
				ctx, cancel := context.WithTimeout(r.Context(), 50*time.Millisecond)
				defer cancel()
				r = r.WithContext(ctx)
			}
			w := f.do(r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.status == 503 {
				p := decodeProblem(t, w)
				if tt.name == "not ready" && p.Detail != ready.Error() {
					t.Errorf("detail %q, want the reason %q", p.Detail, ready.Error())
				}
			}
		})
	}
}

func TestAuthentication(t *testing.T) {
	f := newFixture(t, api.Config{})
	var seen identity.Identity
	f.api.Handle(http.MethodGet, "/participants/{id}", func(w http.ResponseWriter, r *http.Request) error {
		seen, _ = identity.FromContext(r.Context())
		f.api.JSON(w, r, http.StatusOK, map[string]string{"id": api.Var(r, "id")})
		return nil
	}, identity.Caseworker, identity.TeamLead)

	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	stranger, _ := identity.NewLocalIssuer(otherKey, identity.Config{})
	strangerToken, _ := stranger.Mint(kari, time.Hour)
	expiredIssuer, _ := identity.NewLocalIssuer(f.key, identity.Config{Now: func() time.Time { return time.Now().Add(-3 * time.Hour) }})
	expired, _ := expiredIssuer.Mint(kari, time.Hour)

	good := f.token(t, kari)
	tests := []struct {
		name      string
		headers   []string
		status    int
		problem   string
		challenge string
	}{
		{"no header", nil, 401, api.ProblemMissingToken, `Bearer realm="caseledger"`},
		{"basic auth", []string{"Basic dTpw"}, 401, api.ProblemMissingToken, `Bearer realm="caseledger"`},
		{"empty bearer", []string{"Bearer "}, 401, api.ProblemMissingToken, `Bearer realm="caseledger"`},
		{"garbage", []string{"Bearer not.a.jwt"}, 401, api.ProblemInvalidToken, `Bearer realm="caseledger", error="invalid_token"`},
		{"another issuer's key", []string{"Bearer " + strangerToken}, 401, api.ProblemInvalidToken, `Bearer realm="caseledger", error="invalid_token"`},
		{"expired", []string{"Bearer " + expired}, 401, api.ProblemInvalidToken, `Bearer realm="caseledger", error="invalid_token"`},
		{"two headers", []string{"Bearer " + good, "Bearer " + good}, 401, api.ProblemInvalidToken, `Bearer realm="caseledger", error="invalid_token"`},
		{"wrong role", []string{"Bearer " + f.token(t, auditor)}, 403, api.ProblemForbidden, ""},
		{"caseworker", []string{"Bearer " + good}, 200, "", ""},
		{"scheme in lower case", []string{"bearer " + good}, 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen = identity.Identity{}
			r := httptest.NewRequest(http.MethodGet, "/v1/participants/p-42", nil)
			for _, h := range tt.headers {
				r.Header.Add("Authorization", h)
			}
			w := f.do(r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.status == 200 {
				if seen != kari {
					t.Fatalf("handler saw %+v, want %+v", seen, kari)
				}
				return
			}
			if seen != (identity.Identity{}) {
				t.Fatal("handler ran")
			}
			p := decodeProblem(t, w)
			if p.Type != api.ProblemTypeBase+tt.problem {
				t.Errorf("type %q, want %q", p.Type, api.ProblemTypeBase+tt.problem)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tt.challenge)
			}
			// The caller learns only "missing" or "invalid", never why.
			if tt.status == 401 && p.Detail != "missing bearer token" && p.Detail != "invalid token" {
				t.Errorf("detail %q says too much", p.Detail)
			}
		})
	}
	if strings.Contains(f.logs.String(), good) || strings.Contains(f.logs.String(), expired) {
		t.Fatal("a token was logged")
	}
	if !strings.Contains(f.logs.String(), `"error":"invalid token: expired"`) {
		t.Errorf("the log does not say why a token was refused:\n%s", f.logs)
	}
}

func TestMe(t *testing.T) {
	f := newFixture(t, api.Config{})
	r := httptest.NewRequest(http.MethodGet, "/v1/me", nil)
	r.Header.Set("Authorization", "Bearer "+f.token(t, kari))
	w := f.do(r)
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, type %q", w.Code, w.Header().Get("Content-Type"))
	}
	var got map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"userId": "u-kari", "role": "caseworker", "office": "oslo"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("body %v, want %v", got, want)
	}
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		status   int
		problem  string // "" for about:blank
		logLevel string
	}{
		{"problem as it is", api.NewProblem(422, "invalid_meeting", "no date", api.BodyError("/date", "required", "required")), 422, "invalid_meeting", "DEBUG"},
		{"not found", fmt.Errorf("load participant p-1: %w", api.ErrNotFound), 404, api.ProblemNotFound, "DEBUG"},
		{"forbidden", fmt.Errorf("read participant: %w", api.ErrForbidden), 403, api.ProblemForbidden, "INFO"},
		{"invalid command", fmt.Errorf("record meeting: %w", &domain.InvalidError{Pointer: "/scores/hope", Code: domain.CodeOutOfRange, Message: "must be 1 to 5"}), 422, api.ProblemInvalidCommand, "DEBUG"},
		{"rejected command", fmt.Errorf("record meeting: %w", &domain.RejectedError{Code: domain.CodeNotEnrolled, Message: "participant is not enrolled"}), 409, domain.CodeNotEnrolled, "DEBUG"},
		{"store conflict", fmt.Errorf("record meeting: %w", &eventstore.ConflictError{Stream: "participant-p-1"}), 409, api.ProblemConflict, "INFO"},
		{"store unavailable", fmt.Errorf("record meeting: %w", eventstore.ErrUnavailable), 503, api.ProblemUnavailable, "ERROR"},
		{"deadline", fmt.Errorf("record meeting: %w", context.DeadlineExceeded), 503, api.ProblemUnavailable, "WARN"},
		{"unexpected", errors.New("fold participant p-1: bad event 7"), 500, "", "ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, api.Config{})
			w := f.failing(t, tt.err)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			p := decodeProblem(t, w)
			wantType := problemType(tt.problem)
			if p.Type != wantType || p.Title == "" || p.Instance != "/v1/things/p-1" {
				t.Errorf("problem %+v, want type %q, a title and the path as instance", p, wantType)
			}
			cid := w.Header().Get(api.HeaderCorrelationID)
			if p.CorrelationID != cid || cid == "" {
				t.Errorf("problem correlation id %q, header %q", p.CorrelationID, cid)
			}
			if tt.name == "invalid command" && (len(p.Errors) != 1 || p.Errors[0].Pointer != "/scores/hope" || p.Errors[0].Code != domain.CodeOutOfRange) {
				t.Errorf("422 errors %+v, want the domain's pointer and code", p.Errors)
			}
			if tt.status == 500 {
				if strings.Contains(w.Body.String(), "bad event") {
					t.Errorf("500 problem reveals the error: %s", w.Body)
				}
				if !strings.Contains(p.Detail, cid) {
					t.Errorf("500 detail %q does not quote the correlation id", p.Detail)
				}
			}
			var logged bool
			for _, l := range f.logs.lines(t) {
				if l["msg"] == "request failed" {
					logged = true
					if l["level"] != tt.logLevel || l["error"] != tt.err.Error() || l[api.LogKeyCorrelationID] != cid || l["route"] != "/v1/things/{id}" {
						t.Errorf("log line %v, want level %s with the error, the route and the correlation id", l, tt.logLevel)
					}
				}
			}
			if !logged {
				t.Errorf("no log line for the failure:\n%s", f.logs)
			}
		})
	}
}

func TestCorrelationID(t *testing.T) {
	given := uuid.New()
	tests := []struct {
		name, header string
		keep         bool
	}{
		{"none", "", false},
		{"a uuid", given.String(), true},
		{"a uuid in upper case", strings.ToUpper(given.String()), true},
		{"free text", "hello; drop table", false},
		{"the nil uuid", uuid.Nil.String(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, api.Config{})
			var inHandler string
			f.api.Handle(http.MethodGet, "/echo", func(w http.ResponseWriter, r *http.Request) error {
				inHandler = api.CorrelationID(r.Context())
				f.api.Logger().InfoContext(r.Context(), "handled")
				w.WriteHeader(http.StatusNoContent)
				return nil
			})
			r := httptest.NewRequest(http.MethodGet, "/v1/echo", nil)
			r.Header.Set("Authorization", "Bearer "+f.token(t, kari))
			if tt.header != "" {
				r.Header.Set(api.HeaderCorrelationID, tt.header)
			}
			w := f.do(r)
			got := w.Header().Get(api.HeaderCorrelationID)
			if _, err := uuid.Parse(got); err != nil {
				t.Fatalf("response correlation id %q is not a UUID", got)
			}
			if tt.keep && got != given.String() {
				t.Errorf("correlation id %q, want the caller's %q", got, given)
			}
			if !tt.keep && strings.EqualFold(got, tt.header) {
				t.Errorf("correlation id %q taken from the caller", got)
			}
			if inHandler != got {
				t.Errorf("handler saw %q, response says %q", inHandler, got)
			}
			lines := f.logs.lines(t)
			if len(lines) != 2 {
				t.Fatalf("%d log lines, want 2:\n%s", len(lines), f.logs)
			}
			for _, l := range lines {
				if l[api.LogKeyCorrelationID] != got {
					t.Errorf("log line %v lacks correlation id %s", l, got)
				}
			}
		})
	}
}

func TestRequestLogKeepsPersonalDataOut(t *testing.T) {
	f := newFixture(t, api.Config{})
	f.api.Handle(http.MethodPost, "/participants/{id}/notes", func(w http.ResponseWriter, r *http.Request) error {
		var body struct {
			Text string `json:"text"`
		}
		if err := f.api.Decode(w, r, &body); err != nil {
			return err
		}
		w.WriteHeader(http.StatusCreated)
		return nil
	})
	for _, body := range []string{`{"text": "PII-note"}`, `{"text": "PII-note", "PII-key": 1}`, `{"text": 7, "x": "PII-value"`} {
		r := httptest.NewRequest(http.MethodPost, "/v1/participants/PII-fnr/notes?name=PII-name", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+f.token(t, kari))
		f.do(r)
	}
	if strings.Contains(f.logs.String(), "PII") {
		t.Fatalf("personal data in the log:\n%s", f.logs)
	}
	var statuses []float64
	for _, l := range f.logs.lines(t) {
		if l["msg"] != "request" {
			continue
		}
		if l["route"] != "/v1/participants/{id}/notes" || l["method"] != "POST" || l["role"] != "caseworker" {
			t.Errorf("request line %v lacks the route pattern, method or role", l)
		}
		if _, ok := l["duration_ms"].(float64); !ok {
			t.Errorf("request line %v lacks a duration", l)
		}
		statuses = append(statuses, l["status"].(float64))
	}
	if fmt.Sprint(statuses) != "[201 400 400]" {
		t.Errorf("logged statuses %v, want [201 400 400]", statuses)
	}
}

func TestDecodeThroughTheAPI(t *testing.T) {
	f := newFixture(t, api.Config{MaxBodyBytes: 32})
	f.api.Handle(http.MethodPost, "/echo", func(w http.ResponseWriter, r *http.Request) error {
		var body struct {
			Text string `json:"text"`
		}
		if err := f.api.Decode(w, r, &body); err != nil {
			return err
		}
		f.api.JSON(w, r, http.StatusOK, body)
		return nil
	})
	tests := []struct {
		name, contentType, body string
		status                  int
	}{
		{"fits", "application/json", `{"text": "hei"}`, 200},
		{"too large for the configured limit", "application/json", `{"text": "` + strings.Repeat("x", 40) + `"}`, 413},
		{"wrong type", "text/plain", `{"text": "hei"}`, 415},
		{"unknown member", "application/json", `{"txt": "hei"}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/v1/echo", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", tt.contentType)
			r.Header.Set("Authorization", "Bearer "+f.token(t, kari))
			w := f.do(r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.status != 200 {
				p := decodeProblem(t, w)
				if len(p.Errors) != 1 {
					t.Errorf("problem %+v, want one field error", p)
				}
			}
		})
	}
}

func TestPanicRecovery(t *testing.T) {
	f := newFixture(t, api.Config{})
	f.api.Handle(http.MethodGet, "/boom", func(w http.ResponseWriter, r *http.Request) error {
		panic("PII-Kari Nordmann")
	})
	r := httptest.NewRequest(http.MethodGet, "/v1/boom", nil)
	r.Header.Set("Authorization", "Bearer "+f.token(t, kari))
	w := f.do(r)
	if w.Code != 500 {
		t.Fatalf("status %d, want 500", w.Code)
	}
	p := decodeProblem(t, w)
	if strings.Contains(w.Body.String(), "PII") {
		t.Errorf("problem reveals the panic: %+v", p)
	}
	if strings.Contains(f.logs.String(), "PII") {
		t.Errorf("log reveals the panic's value:\n%s", f.logs)
	}
	var found bool
	for _, l := range f.logs.lines(t) {
		if l["msg"] == "panic serving request" {
			found = l["panic_type"] == "string" && l["route"] == "/v1/boom" && strings.Contains(fmt.Sprint(l["stack"]), "api_test")
		}
	}
	if !found {
		t.Errorf("no panic log line with type, route and stack:\n%s", f.logs)
	}
}

func TestErrorAfterTheResponseStarted(t *testing.T) {
	f := newFixture(t, api.Config{})
	f.api.Handle(http.MethodGet, "/half", func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusAccepted)
		return errors.New("late failure")
	})
	r := httptest.NewRequest(http.MethodGet, "/v1/half", nil)
	r.Header.Set("Authorization", "Bearer "+f.token(t, kari))
	w := f.do(r)
	if w.Code != http.StatusAccepted || w.Body.Len() != 0 {
		t.Fatalf("status %d body %q: a problem was written over the response", w.Code, w.Body)
	}
	if !strings.Contains(f.logs.String(), "error after the response started") {
		t.Errorf("late error not logged:\n%s", f.logs)
	}
}

func TestUnroutedRequests(t *testing.T) {
	f := newFixture(t, api.Config{})
	tests := []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/nowhere", 404},
		{http.MethodGet, "/v1/nowhere", 404},
		{http.MethodPost, "/livez", 405},
		{http.MethodDelete, "/v1/me", 405},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			w := f.do(httptest.NewRequest(tt.method, tt.path, nil))
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			decodeProblem(t, w)
		})
	}
	for _, l := range f.logs.lines(t) {
		if l["msg"] == "request" && l["route"] != "unmatched" {
			t.Errorf("unrouted request logged with route %v", l["route"])
		}
	}
}

func TestNewNeedsAVerifier(t *testing.T) {
	if _, err := api.New(api.Config{}); err == nil {
		t.Fatal("New without a verifier succeeded")
	}
}

func TestFieldErrorJSON(t *testing.T) {
	tests := []struct {
		fe   api.FieldError
		want string
	}{
		{api.BodyError("", "empty_body", "empty"), `{"pointer":"","detail":"empty","code":"empty_body"}`},
		{api.BodyError("/scores/hope", "wrong_type", "expected an integer"), `{"pointer":"/scores/hope","detail":"expected an integer","code":"wrong_type"}`},
		{api.QueryError("since", "invalid_value", "expected a position"), `{"parameter":"since","detail":"expected a position","code":"invalid_value"}`},
		{api.HeaderError("If-Match", "invalid_value", "expected an ETag"), `{"header":"If-Match","detail":"expected an ETag","code":"invalid_value"}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.fe)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("%+v marshals to %s, want %s", tt.fe, b, tt.want)
		}
		var back api.FieldError
		if err := json.Unmarshal(b, &back); err != nil || back != tt.fe {
			t.Errorf("round trip gives %+v, %v", back, err)
		}
	}
}
