package api_test

// The harness of the casework HTTP tests: the real bolt store in a
// temporary directory, the real local token issuer, the real command
// handler with a fixed clock, and the API served by httptest. Everything
// a test sends is synthetic: names like "Test Person", synthetic national
// id numbers (month + 80), organisation numbers computed here.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/api/identity"
	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/bolt"
	"github.com/caseledger/caseledger/personaldata/keystoretest"
	"github.com/caseledger/caseledger/projections"
	"github.com/caseledger/caseledger/projections/caseload"
	"github.com/caseledger/caseledger/projections/overview"
)

// caseNow is the command handler's clock: 15 May 2026, midday in Oslo.
// Business dates after caseToday are in the future.
var caseNow = time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC)

const caseToday = "2026-05-15"

// The callers a test can send as, by name. The names below are special:
// "" sends no Authorization header, "garbage" a token that is no JWS,
// "expired" a token of the right issuer whose lifetime is over, and
// "long-user" a caseworker whose user id is longer than the log records.
var callers = map[string]identity.Identity{
	"caseworker":        {UserID: "u-kari", Role: identity.Caseworker, Office: "oslo"},
	"caseworker-2":      {UserID: "u-ola", Role: identity.Caseworker, Office: "oslo"},
	"team-lead":         {UserID: "u-tor", Role: identity.TeamLead, Office: "oslo"},
	"caseworker-bergen": {UserID: "u-berit", Role: identity.Caseworker, Office: "bergen"},
	"volunteer":         {UserID: "u-vera", Role: identity.Volunteer, Office: "oslo"},
	"volunteer-2":       {UserID: "u-vilde", Role: identity.Volunteer, Office: "oslo"},
	"auditor":           {UserID: "u-aud", Role: identity.Auditor},
	"evaluator":         {UserID: "u-eva", Role: identity.Evaluator},
	"admin":             {UserID: "u-adm", Role: identity.Admin},
	"long-user":         {UserID: "u-" + strings.Repeat("x", domain.MaxIDLen), Role: identity.Caseworker, Office: "oslo"},
}

type harness struct {
	store   *bolt.Store
	dir     string // holds the store, the master key and the data keys (keys/)
	svc     *casework.Service
	api     *api.API // its Routes are what the access matrix covers
	srv     *httptest.Server
	tokens  map[string]string
	expired string
}

func newHarness(t *testing.T) *harness { return newHarnessWith(t, harnessSetup{}) }

// harnessSetup is what the harnesses of the api tests vary; the zero value
// is the plain harness.
type harnessSetup struct {
	// wrap wraps the store the command handler writes through.
	wrap func(eventstore.Store) eventstore.Store
	// now is the command handler's clock; caseNow when nil.
	now func() time.Time
	// logger receives the server's log; discarded when nil.
	logger *slog.Logger
	// caseload feeds the caseload list: its read model, what serves
	// min_position, and the server's readiness. An empty model, never
	// waited for, when nil.
	caseload func(t *testing.T, store *bolt.Store) (*caseload.Model, api.PositionWaiter, func(context.Context) error)
	// overview feeds the participant overview: its read model and what
	// serves min_position. A model kept by a runner of its own (runOverview)
	// when nil.
	overview func(t *testing.T, store *bolt.Store) (*overview.Model, api.PositionWaiter)
}

// newHarnessWith serves every route of the API over a new store.
func newHarnessWith(t *testing.T, setup harnessSetup) *harness {
	t.Helper()
	dir := t.TempDir()
	store, err := bolt.Open(filepath.Join(dir, "events.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := store.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := identity.NewLocalIssuer(key, identity.Config{})
	if err != nil {
		t.Fatal(err)
	}
	// The same key two hours ago: its tokens are genuine, and expired.
	past, err := identity.NewLocalIssuer(key, identity.Config{Now: func() time.Time { return time.Now().Add(-2 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	var writeTo eventstore.Store = store
	if setup.wrap != nil {
		writeTo = setup.wrap(store)
	}
	now := setup.now
	if now == nil {
		now = func() time.Time { return caseNow }
	}
	svc, err := casework.New(writeTo, casework.Options{Now: now, Keys: keystoretest.Keyring(t, dir)})
	if err != nil {
		t.Fatal(err)
	}
	model, waiter, ready := caseload.New(store), api.PositionWaiter(nil), func(context.Context) error { return nil }
	if setup.caseload != nil {
		model, waiter, ready = setup.caseload(t, store)
	}
	a, err := api.New(api.Config{Verifier: issuer.Verifier(), Logger: setup.logger, Ready: ready})
	if err != nil {
		t.Fatal(err)
	}
	today := func() domain.Date { return domain.DateIn(caseNow, time.UTC) }
	api.RegisterCasework(a, svc)
	if setup.overview == nil {
		setup.overview = runOverview
	}
	ovModel, ovWaiter := setup.overview(t, store)
	api.RegisterOverview(a, svc, ovModel, api.OverviewOptions{Waiter: ovWaiter, Wait: 200 * time.Millisecond})
	api.RegisterErasure(a, svc)
	api.RegisterCaseload(a, model, api.CaseloadOptions{Waiter: waiter, Names: api.CaseloadNames(svc), Today: today, Wait: 200 * time.Millisecond})
	api.RegisterStats(a, store, api.StatsOptions{Today: today})
	api.RegisterComparison(a, store, api.StatsOptions{Today: today})
	pseudonyms, err := keystoretest.Keyring(t, dir).Pseudonyms()
	if err != nil {
		t.Fatal(err)
	}
	api.RegisterExport(a, store, pseudonyms, api.StatsOptions{Today: today})
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)

	h := &harness{store: store, svc: svc, api: a, srv: srv, dir: dir, tokens: map[string]string{}}
	for name, id := range callers {
		if h.tokens[name], err = issuer.Mint(id, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if h.expired, err = past.Mint(callers["caseworker"], time.Hour); err != nil {
		t.Fatal(err)
	}
	return h
}

// runOverview keeps a participant overview model of store by a runner of
// its own, as the server does, until the test ends.
func runOverview(t *testing.T, store *bolt.Store) (*overview.Model, api.PositionWaiter) {
	t.Helper()
	model := overview.New(store)
	return model, runProjection(t, store, model)
}

// runProjection keeps p up to date with store by a runner of its own, as
// the server does, until the test ends.
func runProjection(t *testing.T, store *bolt.Store, p projections.Projection) *projections.Runner {
	t.Helper()
	runner, err := projections.New(store, projections.Options{}, p)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { runner.Run(ctx); close(done) }()
	// Registered after the store's cleanup, so it runs before it.
	t.Cleanup(func() { cancel(); <-done })
	return runner
}

// response is what the server answered.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// do sends a request as the named caller. A write's Content-Type is
// application/json unless hdr says otherwise; a header given as "" is
// left out.
func (h *harness) do(t *testing.T, method, path, who string, hdr map[string]string, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if method != http.MethodGet && method != http.MethodHead {
		req.Header.Set("Content-Type", "application/json")
	}
	switch who {
	case "":
	case "garbage":
		req.Header.Set("Authorization", "Bearer not.a.token")
	case "expired":
		req.Header.Set("Authorization", "Bearer "+h.expired)
	default:
		tok, ok := h.tokens[who]
		if !ok {
			t.Fatalf("no caller %q", who)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := openAPIClient(h.srv).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read response: %v", method, path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// post sends body (a string as it is, anything else as JSON) with the
// header pairs given.
func (h *harness) post(t *testing.T, who, path string, body any, hdr ...string) response {
	t.Helper()
	m := map[string]string{}
	for i := 0; i+1 < len(hdr); i += 2 {
		m[hdr[i]] = hdr[i+1]
	}
	return h.do(t, http.MethodPost, path, who, m, js(t, body))
}

func (h *harness) get(t *testing.T, who, path string, hdr ...string) response {
	t.Helper()
	m := map[string]string{}
	for i := 0; i+1 < len(hdr); i += 2 {
		m[hdr[i]] = hdr[i+1]
	}
	return h.do(t, http.MethodGet, path, who, m, "")
}

// writeResult is the body of a successful write.
type writeResult struct {
	Stream   string      `json:"stream"`
	Revision uint64      `json:"revision"`
	Position uint64      `json:"position"`
	EventIDs []uuid.UUID `json:"event_ids"`
}

// written checks a write's answer: the status, ETag and Log-Position
// headers that agree with the body, and a body naming the events.
func (r response) written(t *testing.T, status int) writeResult {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	var res writeResult
	strictUnmarshal(t, r.body, &res)
	if res.Stream == "" || res.Position == 0 || len(res.EventIDs) == 0 {
		t.Fatalf("write result %s lacks stream, position or event ids", r.body)
	}
	if got, want := r.header.Get("ETag"), strconv.Quote(strconv.FormatUint(res.Revision, 10)); got != want {
		t.Errorf("ETag %s, want %s", got, want)
	}
	if got, want := r.header.Get("Log-Position"), strconv.FormatUint(res.Position, 10); got != want {
		t.Errorf("Log-Position %s, want %s", got, want)
	}
	return res
}

// ok sends a write that must succeed with status.
func (h *harness) ok(t *testing.T, status int, who, path string, body any, hdr ...string) writeResult {
	t.Helper()
	return h.post(t, who, path, body, hdr...).written(t, status)
}

// problem checks that r is a problem+json response of status and returns it.
func (r response) problem(t *testing.T, status int) api.Problem {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != api.ContentTypeProblem {
		t.Fatalf("Content-Type %q, want %s", ct, api.ContentTypeProblem)
	}
	var p api.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem %s: %v", r.body, err)
	}
	if p.Status != status || p.Type == "" || p.Title != http.StatusText(status) || p.Detail == "" {
		t.Fatalf("problem %s lacks type, title, status or detail", r.body)
	}
	return p
}

// head is the position of the last event in the global log, 0 when empty.
func (h *harness) head(t *testing.T) uint64 {
	t.Helper()
	evs, err := h.store.ReadAll(context.Background(), eventstore.ReadAllOptions{Backwards: true, From: eventstore.End, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) == 0 {
		return 0
	}
	return evs[0].Position
}

// events is the stream's events as stored.
func (h *harness) events(t *testing.T, stream string) []eventstore.RecordedEvent {
	t.Helper()
	evs, err := h.store.ReadStream(context.Background(), stream, eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatalf("read %s: %v", stream, err)
	}
	return evs
}

// participantDoc is the part of GET /v1/participants/{id} the tests read.
type participantDoc struct {
	ID                uuid.UUID `json:"id"`
	Revision          uint64    `json:"revision"`
	Status            string    `json:"status"`
	AddressProtection bool      `json:"address_protection"`
	Name              string    `json:"name"`
	Redacted          bool      `json:"redacted"`
	Personal          *struct {
		Name       string `json:"name"`
		NationalID string `json:"national_id"`
		Address    string `json:"address"`
	} `json:"personal"`
	Episodes []struct {
		Number      int       `json:"number"`
		EnrolmentID uuid.UUID `json:"enrolment_id"`
		Programme   string    `json:"programme"`
		Office      string    `json:"office"`
		EnrolledOn  string    `json:"enrolled_on"`
		Exit        *struct {
			Date        string `json:"date"`
			Reason      string `json:"reason"`
			Destination string `json:"destination"`
		} `json:"exit"`
	} `json:"episodes"`
	Team []struct {
		UserID string `json:"user_id"`
		Role   string `json:"role"`
	} `json:"team"`
	Consents []struct {
		Scope       string `json:"scope"`
		InForce     bool   `json:"in_force"`
		GivenOn     string `json:"given_on"`
		WithdrawnOn string `json:"withdrawn_on"`
	} `json:"consents"`
	Goals []struct {
		ID       uuid.UUID `json:"id"`
		ParentID uuid.UUID `json:"parent_id"`
		Area     string    `json:"area"`
		Outcome  string    `json:"outcome"`
		ClosedOn string    `json:"closed_on"`
		Personal *struct {
			Title string `json:"title"`
		} `json:"personal"`
	} `json:"goals"`
	Meetings []struct {
		EventID uuid.UUID `json:"event_id"`
		Date    string    `json:"date"`
		Kind    string    `json:"kind"`
	} `json:"meetings"`
	Scores []struct {
		EventID   uuid.UUID     `json:"event_id"`
		Timepoint string        `json:"timepoint"`
		Scores    domain.Scores `json:"scores"`
	} `json:"scores"`
	EmployerContacts []struct {
		EventID    uuid.UUID `json:"event_id"`
		EmployerID uuid.UUID `json:"employer_id"`
		Purpose    string    `json:"purpose"`
	} `json:"employer_contacts"`
	Placements []struct {
		ID              uuid.UUID `json:"id"`
		EmployerID      uuid.UUID `json:"employer_id"`
		Kind            string    `json:"kind"`
		HoursPercentage int       `json:"hours_percentage"`
		Contract        string    `json:"contract"`
		ChangedOn       string    `json:"changed_on"`
		EndedOn         string    `json:"ended_on"`
		EndReason       string    `json:"end_reason"`
	} `json:"placements"`
	IncomeSources []struct {
		Episode int    `json:"episode"`
		From    string `json:"from"`
		Source  string `json:"source"`
	} `json:"income_sources"`
	Pauses []struct {
		From   string `json:"from"`
		To     string `json:"to"`
		Reason string `json:"reason"`
	} `json:"pauses"`
	DaysInProgramme  int         `json:"days_in_programme"`
	OpenPlacementIDs []uuid.UUID `json:"open_placement_ids"`
}

// participant reads a participant back as the named caller.
func (h *harness) participant(t *testing.T, who string, id uuid.UUID) participantDoc {
	t.Helper()
	var hdr []string
	if who == "auditor" {
		hdr = []string{"Purpose", "quality review"}
	}
	r := h.get(t, who, "/v1/participants/"+id.String(), hdr...)
	if r.status != http.StatusOK {
		t.Fatalf("GET participant: %s", r)
	}
	var p participantDoc
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("participant %s: %v", r.body, err)
	}
	if got, want := r.header.Get("ETag"), strconv.Quote(strconv.FormatUint(p.Revision, 10)); got != want {
		t.Errorf("GET participant: ETag %s, revision in the body %s", got, want)
	}
	return p
}

// participantPath is /v1/participants/{id} followed by rest.
func participantPath(id uuid.UUID, rest string) string {
	return "/v1/participants/" + id.String() + rest
}

// locationID reads the id at the end of a Location header under prefix.
func locationID(t *testing.T, r response, prefix string) uuid.UUID {
	t.Helper()
	loc := r.header.Get("Location")
	s, ok := strings.CutPrefix(loc, prefix)
	if !ok {
		t.Fatalf("Location %q is not under %s", loc, prefix)
	}
	id, err := uuid.Parse(s)
	if err != nil || id.String() != s {
		t.Fatalf("Location %q does not end in an id", loc)
	}
	return id
}

func strictUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// js is body as JSON: a string as it is, anything else marshalled.
func js(t *testing.T, body any) string {
	t.Helper()
	if s, ok := body.(string); ok {
		return s
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// object is a JSON object body that tests can vary member by member.
type object map[string]any

// drop, as a value given to with, removes the member.
type drop struct{}

// with returns o as JSON with the members at the given pointers (pairs of
// pointer and value) set, or removed by drop{}; o itself is not changed.
func (o object) with(edits ...any) string {
	b, err := json.Marshal(o)
	if err != nil {
		panic(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	for i := 0; i+1 < len(edits); i += 2 {
		parts := strings.Split(strings.TrimPrefix(edits[i].(string), "/"), "/")
		at := m
		for _, p := range parts[:len(parts)-1] {
			next, ok := at[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				at[p] = next
			}
			at = next
		}
		last := parts[len(parts)-1]
		if _, ok := edits[i+1].(drop); ok {
			delete(at, last)
		} else {
			at[last] = edits[i+1]
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(out)
}

// String is o as JSON, unchanged.
func (o object) String() string { return o.with() }

// nationalID is a synthetic national id number (month + 80) for someone
// born on birth, with the first individual number from 100 on that gives
// valid check digits.
func nationalID(t *testing.T, birth string, from int) string {
	t.Helper()
	d, err := domain.ParseDate(birth)
	if err != nil {
		t.Fatal(err)
	}
	for i := from; i < 500; i++ {
		if s, err := domain.SyntheticNationalID(d, i); err == nil {
			return s
		}
	}
	t.Fatalf("no synthetic national id for %s from %d", birth, from)
	return ""
}

// badCheckDigit returns s with its last digit changed.
func badCheckDigit(s string) string {
	last := (s[len(s)-1]-'0'+1)%10 + '0'
	return s[:len(s)-1] + string(last)
}

// orgNumber is a nine-digit organisation number whose check digit passes
// mod 11 (weights 3 2 7 6 5 4 3 2), from the first eight-digit base from
// base on that has one.
func orgNumber(base int) string {
	weights := [8]int{3, 2, 7, 6, 5, 4, 3, 2}
	for ; ; base++ {
		s := fmt.Sprintf("%08d", base)
		sum := 0
		for i, w := range weights {
			sum += int(s[i]-'0') * w
		}
		switch k := 11 - sum%11; k {
		case 10:
			continue // no valid check digit for this base
		case 11:
			return s + "0"
		default:
			return s + strconv.Itoa(k)
		}
	}
}

// enrolBody is a valid enrolment in office of someone born in 1990.
func enrolBody(office, nid, enrolledOn string) object {
	return object{
		"programme": "hope-oslo", "office": office, "enrolled_on": enrolledOn,
		"referral_source": "welfare_office", "address_protection": false,
		"profile": object{
			"birth_year": 1990, "gender": "female", "region_of_birth": "africa", "years_in_norway": 6,
			"income_source": "social_assistance", "children_to_provide_for": 1,
			"norwegian_level": "b1", "education_level": "primary",
		},
		"personal": object{"name": "Test Person", "national_id": nid, "phone": "+47 400 00 000", "preferred_language": "ti"},
	}
}

func programmeBody(slug string) object {
	return object{"slug": slug, "name": "Hope " + slug, "targets": []object{{"measure": "job_within_183d", "rate": 0.6}}}
}

func employerBody(orgnr string) object {
	return object{
		"organisation_number": orgnr, "name": "Test Employer AS", "industry_code": "88.990", "municipality": "0301",
		"personal": object{"contact_name": "Test Contact", "contact_phone": "+47 22 00 00 00"},
	}
}

// setupProgramme and setupEmployer are what enrolments and placements
// name; both are written by the admin.
func (h *harness) setupProgramme(t *testing.T, slug string) {
	t.Helper()
	h.ok(t, http.StatusCreated, "admin", "/v1/programmes", programmeBody(slug))
}

func (h *harness) setupEmployer(t *testing.T, orgnr string) uuid.UUID {
	t.Helper()
	r := h.post(t, "admin", "/v1/employers", employerBody(orgnr))
	r.written(t, http.StatusCreated)
	return locationID(t, r, "/v1/employers/")
}

// enrol enrols a new participant as who and returns their id.
func (h *harness) enrol(t *testing.T, who string, body any) uuid.UUID {
	t.Helper()
	r := h.post(t, who, "/v1/participants", body)
	r.written(t, http.StatusCreated)
	return locationID(t, r, "/v1/participants/")
}
