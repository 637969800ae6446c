package api_test

// The access matrix: every registered route, called as every kind of
// caller, on every kind of participant, with real tokens, the real store
// and the real command handler. The table below is the specification; the
// test checks the server against it, and docs/security.md is rendered
// from it (go test ./api -run TestSecurityDocument -update writes it; the
// normal run fails when the file differs).

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

var update = flag.Bool("update", false, "rewrite docs/security.md from the access matrix")

// matrixCaller is a column of the matrix: who calls, and whether they
// state a purpose.
type matrixCaller struct {
	key, who, purpose, label string
}

var matrixCallers = []matrixCaller{
	{"cw", "caseworker", "", "caseworker (oslo)"},
	{"cw-other", "caseworker-bergen", "", "caseworker of another office (bergen)"},
	{"lead", "team-lead", "", "team lead (oslo)"},
	{"aud", "auditor", "matrix review", "auditor with a Purpose"},
	{"aud-nop", "auditor", "", "auditor without a Purpose"},
	{"eval", "evaluator", "", "evaluator"},
	{"vol", "volunteer", "", "volunteer assigned to the participant (oslo)"},
	{"vol-un", "volunteer-2", "", "volunteer not assigned (oslo)"},
	{"admin", "admin", "", "admin"},
	{"anon", "", "", "no token"},
}

// Participant kinds, the rows within a route. Each has its own
// synthetic name, which the leak check looks for in every answer.
const (
	kOwn   = "own"          // oslo, not protected
	kProtA = "prot-as"      // oslo, address protection, the oslo caseworker and team lead in the team
	kProtU = "prot-unas"    // oslo, address protection, no caseworker of the callers in the team
	kOther = "other-office" // bergen, not protected
)

var matrixKinds = []string{kOwn, kProtA, kProtU, kOther}

var kindLabel = map[string]string{
	kOwn:   "own office",
	kProtA: "own office, protected, caller assigned",
	kProtU: "own office, protected, caller not assigned",
	kOther: "other office",
}

var kindName = map[string]string{
	kOwn:   "Test Person Own",
	kProtA: "Test Person Protected Assigned",
	kProtU: "Test Person Protected Unassigned",
	kOther: "Test Person Bergen",
}

// matrixRow is one route's expectations. A cell is a status, for a read
// of a participant followed by what came back:
//
//	full    the record with personal data and notes
//	label   the record with the neutral label, no personal data
//	mentor  the volunteer's view: name, phone, their own meetings
//	mlabel  the volunteer's view under protection: label, own meetings
//
// For a route on a participant, cells lists one cell per kind (in the
// order of matrixKinds) as "200:full 200:full 200:label 404"; for any
// other route one cell. planned marks a route the policy is ready for
// that is not registered yet; it is checked the day it is.
type matrixRow struct {
	method, path string
	action       api.Action
	participant  bool
	planned      bool
	cells        map[string]string // by matrixCaller.key
}

// everyone gives all callers the same cells, then applies the pairs of
// overrides (caller key, cells).
func everyone(cells string, overrides ...string) map[string]string {
	m := map[string]string{}
	for _, c := range matrixCallers {
		m[c.key] = cells
	}
	for i := 0; i+1 < len(overrides); i += 2 {
		m[overrides[i]] = overrides[i+1]
	}
	return m
}

const (
	deny4 = "403 403 403 403"
	miss4 = "404 404 404 404"
	anon4 = "401 401 401 401"
	nop4  = "400 400 400 400"
)

// writeCells: caseworkers and team leads write for their office's
// participants, protected or not; nobody else writes.
func writeCells() map[string]string {
	return everyone(deny4, "cw", "200 200 200 404", "cw-other", "404 404 404 200", "lead", "200 200 200 404", "anon", anon4)
}

func matrixRows() []matrixRow {
	participantWrite := func(path string, act api.Action) matrixRow {
		return matrixRow{method: http.MethodPost, path: "/v1/participants/{id}" + path, action: act, participant: true, cells: writeCells()}
	}
	rows := []matrixRow{
		{method: http.MethodGet, path: "/livez", cells: everyone("200")},
		{method: http.MethodHead, path: "/livez", cells: everyone("200")},
		{method: http.MethodGet, path: "/readyz", cells: everyone("200")},
		{method: http.MethodHead, path: "/readyz", cells: everyone("200")},
		{method: http.MethodGet, path: "/openapi.yaml", cells: everyone("200")},
		{method: http.MethodGet, path: "/v1/me", action: api.ActReadIdentity, cells: everyone("200", "anon", "401")},
		{method: http.MethodPost, path: "/v1/participants", action: api.ActEnrol,
			cells: everyone("403", "cw", "201", "lead", "201", "anon", "401")},
		{method: http.MethodGet, path: "/v1/participants/{id}", action: api.ActReadParticipant, participant: true,
			cells: everyone(deny4,
				"cw", "200:full 200:full 200:label 404",
				"cw-other", "404 404 404 200:full",
				"lead", "200:full 200:full 200:label 404",
				"aud", "200:full 200:full 200:full 200:full",
				"aud-nop", nop4,
				"vol", "200:mentor 200:mlabel 200:mlabel 404",
				"vol-un", miss4,
				"anon", anon4)},
		{method: http.MethodGet, path: "/v1/participants/{id}/history", action: api.ActReadHistory, participant: true,
			cells: everyone(deny4,
				"cw", "200:full 200:full 200:label 404",
				"cw-other", "404 404 404 200:full",
				"lead", "200:full 200:full 200:label 404",
				"aud", "200:full 200:full 200:full 200:full",
				"aud-nop", nop4,
				"anon", anon4)},
		{method: http.MethodGet, path: "/v1/audit/access", action: api.ActReadAccessLog,
			cells: everyone("403", "aud", "200", "aud-nop", "400", "anon", "401")},
		{method: http.MethodGet, path: "/v1/audit/access.cef", action: api.ActReadAccessLog,
			cells: everyone("403", "aud", "200", "aud-nop", "400", "anon", "401")},
		// A re-enrolment names its office, the participant's: another
		// office's caseworker is refused on what they sent (403 naming
		// /office), before the participant is looked at.
		{method: http.MethodPost, path: "/v1/participants/{id}/enrolments", action: api.ActWriteCasework, participant: true,
			cells: func() map[string]string {
				m := writeCells()
				m["cw"], m["lead"], m["cw-other"] = "200 200 200 403", "200 200 200 403", "403 403 403 200"
				return m
			}()},
		{method: http.MethodPost, path: "/v1/participants/{id}/caseworkers/assign", action: api.ActAssign, participant: true,
			cells: everyone(deny4, "lead", "200 200 200 404", "anon", anon4)},
		{method: http.MethodPost, path: "/v1/participants/{id}/caseworkers/unassign", action: api.ActAssign, participant: true,
			cells: everyone(deny4, "lead", "200 200 200 404", "anon", anon4)},
		participantWrite("/consents/give", api.ActWriteCasework),
		participantWrite("/consents/withdraw", api.ActWriteCasework),
		participantWrite("/goals/set", api.ActWriteCasework),
		participantWrite("/goals/close", api.ActWriteCasework),
		{method: http.MethodPost, path: "/v1/participants/{id}/meetings", action: api.ActRecordMeeting, participant: true,
			cells: func() map[string]string {
				m := writeCells()
				m["vol"], m["vol-un"] = "200 200 200 404", miss4
				return m
			}()},
		participantWrite("/scores", api.ActWriteCasework),
		participantWrite("/employer-contacts", api.ActWriteCasework),
		participantWrite("/placements/start", api.ActWriteCasework),
		participantWrite("/placements/change", api.ActWriteCasework),
		participantWrite("/placements/end", api.ActWriteCasework),
		participantWrite("/income-source", api.ActWriteCasework),
		participantWrite("/pause", api.ActWriteCasework),
		participantWrite("/resume", api.ActWriteCasework),
		participantWrite("/exit", api.ActWriteCasework),
		participantWrite("/corrections", api.ActWriteCasework),
		participantWrite("/voids", api.ActWriteCasework),
		{method: http.MethodPost, path: "/v1/employers", action: api.ActManageConfiguration,
			cells: everyone("403", "admin", "201", "anon", "401")},
		{method: http.MethodGet, path: "/v1/employers/{id}", action: api.ActReadEmployer,
			cells: everyone("403", "cw", "200", "cw-other", "200", "lead", "200", "aud", "200", "aud-nop", "400", "admin", "200", "anon", "401")},
		{method: http.MethodPost, path: "/v1/employers/{id}/update", action: api.ActManageConfiguration,
			cells: everyone("403", "admin", "200", "anon", "401")},
		{method: http.MethodPost, path: "/v1/programmes", action: api.ActManageConfiguration,
			cells: everyone("403", "admin", "201", "anon", "401")},
		{method: http.MethodGet, path: "/v1/programmes/{slug}", action: api.ActReadProgramme,
			cells: everyone("200", "aud-nop", "400", "anon", "401")},
		{method: http.MethodDelete, path: "/v1/participants/{id}/personal-data", action: api.ActErase, participant: true,
			cells: everyone(deny4, "aud", "200 200 200 200", "aud-nop", nop4, "admin", "200 200 200 200", "anon", anon4)},

		{method: http.MethodGet, path: "/v1/caseload", action: api.ActReadCaseload,
			cells: everyone("403", "cw", "200", "cw-other", "200", "lead", "200", "aud-nop", "403", "anon", "401")},

		{method: http.MethodGet, path: "/v1/stats/outcomes", action: api.ActReadStatistics,
			cells: everyone("403", "cw", "200", "cw-other", "200", "lead", "200", "eval", "200", "aud-nop", "403", "anon", "401")},
		{method: http.MethodGet, path: "/v1/stats/comparison", action: api.ActReadStatistics,
			cells: everyone("403", "cw", "200", "cw-other", "200", "lead", "200", "eval", "200", "aud-nop", "403", "anon", "401")},

		// Row-level data: evaluators only.
		{method: http.MethodGet, path: "/v1/exports/episodes.csv", action: api.ActExport,
			cells: everyone("403", "eval", "200", "anon", "401")},
	}
	return rows
}

func (r matrixRow) key() string { return r.method + " " + r.path }

// cellsOf splits a caller's cells of the row into one per kind (one in
// all for a route on no participant).
func (r matrixRow) cellsOf(caller string) []string {
	return strings.Fields(r.cells[caller])
}

// TestAccessMatrixCoversEveryRoute: every registered route is in the
// table, with the action it is registered under; every row of the table
// is a registered route or marked planned; every row has a cell for every
// caller and kind.
func TestAccessMatrixCoversEveryRoute(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rows := map[string]matrixRow{}
	for _, r := range matrixRows() {
		if _, dup := rows[r.key()]; dup {
			t.Errorf("%s is in the table twice", r.key())
		}
		rows[r.key()] = r
		for _, c := range matrixCallers {
			want := 1
			if r.participant {
				want = len(matrixKinds)
			}
			if n := len(r.cellsOf(c.key)); n != want {
				t.Errorf("%s as %s: %d cells, want %d", r.key(), c.key, n, want)
			}
		}
	}
	registered := map[string]bool{}
	for _, rt := range h.api.Routes() {
		k := rt.Method + " " + rt.Path
		registered[k] = true
		row, ok := rows[k]
		switch {
		case !ok:
			t.Errorf("route %s is not in the access matrix (api/matrix_test.go): add its row", k)
		case row.planned:
			t.Errorf("route %s is registered: it is no longer planned", k)
		case row.action != rt.Action:
			t.Errorf("route %s is registered under action %q, the table says %q", k, rt.Action, row.action)
		case row.participant != rt.Action.ConcernsParticipant():
			t.Errorf("route %s: the table and the policy disagree on whether it is on a participant", k)
		}
		if strings.HasPrefix(rt.Path, api.Prefix+"/") && rt.Action == "" {
			t.Errorf("route %s is registered outside the access policy: use HandleAction", k)
		}
	}
	for k, r := range rows {
		if !registered[k] && !r.planned {
			t.Errorf("the table names %s, which is not registered", k)
		}
	}
}

// matrixWorld is one route's participants and what their commands refer
// to.
type matrixWorld struct {
	h        *harness
	employer uuid.UUID
	slug     string
	orgs     atomic.Int64
	// shared holds one participant per kind, for the cells that must be
	// refused: a refusal changes nothing, so they can share.
	shared map[string]uuid.UUID
}

// owner is who enrols and prepares a participant of kind.
func owner(kind string) string {
	if kind == kOther {
		return "caseworker-bergen"
	}
	return "caseworker"
}

// participant enrols a participant of kind with its team, a meeting the
// volunteer recorded and one with a caseworker's notes, and returns its
// id and the caseworker's meeting.
func (w *matrixWorld) participant(t *testing.T, kind string) (uuid.UUID, uuid.UUID) {
	t.Helper()
	h := w.h
	office := "oslo"
	if kind == kOther {
		office = "bergen"
	}
	body := enrolBody(office, nationalID(t, "1990-04-12", 100), "2026-03-02").with(
		"/personal/name", kindName[kind], "/address_protection", kind == kProtA || kind == kProtU)
	id := h.enrol(t, owner(kind), body)
	at := func(rest string) string { return participantPath(id, rest) }
	if kind != kOther {
		team := []object{{"user_id": "u-vera", "role": "volunteer_mentor"}}
		if kind != kProtU {
			team = append(team, object{"user_id": "u-kari", "role": "job_specialist"}, object{"user_id": "u-tor", "role": "coordinator"})
		}
		for _, m := range team {
			m["date"] = "2026-03-02"
			h.ok(t, http.StatusOK, "team-lead", at("/caseworkers/assign"), m)
		}
		h.ok(t, http.StatusOK, "volunteer", at("/meetings"), object{"date": "2026-03-03", "kind": "phone",
			"personal": object{"minutes": "Test volunteer minutes"}})
	}
	meeting := h.ok(t, http.StatusOK, owner(kind), at("/meetings"), object{"date": "2026-03-04", "kind": "guidance",
		"personal": object{"minutes": "Test caseworker minutes"}}).EventIDs[0]
	return id, meeting
}

// prepare brings participant id of kind into the state the route's
// command needs and returns the body to send.
func (w *matrixWorld) prepare(t *testing.T, route string, kind string, id, meeting uuid.UUID) string {
	t.Helper()
	h, who := w.h, owner(kind)
	at := func(rest string) string { return participantPath(id, rest) }
	placement := func() uuid.UUID {
		p := uuid.New()
		h.ok(t, http.StatusOK, who, at("/placements/start"), object{"placement_id": p, "kind": "work_practice", "started_on": "2026-04-10", "hours_percentage": 50})
		return p
	}
	office := "oslo"
	if kind == kOther {
		office = "bergen"
	}
	switch strings.TrimPrefix(route, "POST /v1/participants/{id}") {
	case "/enrolments":
		h.ok(t, http.StatusOK, who, at("/exit"), object{"date": "2026-04-01", "reason": "moved", "destination": "unknown"})
		return enrolBody(office, nationalID(t, "1990-04-12", 100), "2026-04-10").with("/personal/name", kindName[kind])
	case "/caseworkers/assign":
		return object{"user_id": "u-ola", "role": "coordinator", "date": "2026-03-03"}.String()
	case "/caseworkers/unassign":
		return object{"user_id": "u-vera", "date": "2026-03-10"}.String()
	case "/consents/give":
		return object{"scope": "evaluation", "date": "2026-03-03"}.String()
	case "/consents/withdraw":
		h.ok(t, http.StatusOK, who, at("/consents/give"), object{"scope": "evaluation", "date": "2026-03-03"})
		return object{"scope": "evaluation", "date": "2026-03-04"}.String()
	case "/goals/set":
		return object{"goal_id": uuid.New(), "area": "work", "date": "2026-03-04", "personal": object{"title": "Test goal"}}.String()
	case "/goals/close":
		g := uuid.New()
		h.ok(t, http.StatusOK, who, at("/goals/set"), object{"goal_id": g, "area": "work", "date": "2026-03-04", "personal": object{"title": "Test goal"}})
		return object{"goal_id": g, "outcome": "achieved", "date": "2026-04-01"}.String()
	case "/meetings":
		return object{"date": "2026-03-05", "kind": "guidance"}.String()
	case "/scores":
		return object{"date": "2026-03-05", "timepoint": "baseline", "instrument": "indicator_index", "instrument_version": 1,
			"scores": object{"hope": 4, "well_being": 5, "network": 3, "work_attachment": 2}}.String()
	case "/employer-contacts":
		h.ok(t, http.StatusOK, who, at("/consents/give"), object{"scope": "employer_disclosure", "date": "2026-03-03"})
		return object{"employer_id": w.employer, "date": "2026-03-06", "purpose": "present_candidate"}.String()
	case "/placements/start":
		return object{"placement_id": uuid.New(), "kind": "work_practice", "started_on": "2026-04-10", "hours_percentage": 50}.String()
	case "/placements/change":
		return object{"placement_id": placement(), "date": "2026-04-20", "hours_percentage": 80}.String()
	case "/placements/end":
		return object{"placement_id": placement(), "ended_on": "2026-04-20", "reason": "completed"}.String()
	case "/income-source":
		return object{"date": "2026-04-01", "income_source": "work"}.String()
	case "/pause":
		return object{"date": "2026-04-03", "reason": "health"}.String()
	case "/resume":
		h.ok(t, http.StatusOK, who, at("/pause"), object{"date": "2026-04-03", "reason": "health"})
		return object{"date": "2026-04-05"}.String()
	case "/exit":
		return object{"date": "2026-04-01", "reason": "moved", "destination": "unknown"}.String()
	case "/corrections":
		return object{"entry_id": meeting, "entry_type": "MeetingHeld", "reason": "wrong_date",
			"replacement": object{"date": "2026-03-05", "kind": "guidance"}}.String()
	case "/voids":
		return object{"entry_id": meeting, "reason": "duplicate"}.String()
	}
	if route == "DELETE /v1/participants/{id}/personal-data" {
		return erasureBody().String()
	}
	return "" // reads
}

// request is what the cell of row sends: the path, the body.
func (w *matrixWorld) request(t *testing.T, row matrixRow, kind string, id, meeting uuid.UUID) (string, string) {
	t.Helper()
	switch row.key() {
	case "POST /v1/participants":
		return row.path, enrolBody("oslo", nationalID(t, "1990-04-12", 100), "2026-03-02").String()
	case "POST /v1/employers":
		return row.path, employerBody(orgNumber(60000000 + int(w.orgs.Add(100)))).String()
	case "POST /v1/employers/{id}/update":
		return "/v1/employers/" + w.employer.String() + "/update", object{"name": "Test Employer AS", "industry_code": "88.990", "municipality": "0301"}.String()
	case "GET /v1/employers/{id}":
		return "/v1/employers/" + w.employer.String(), ""
	case "POST /v1/programmes":
		return row.path, programmeBody(fmt.Sprintf("hope-matrix-%d", w.orgs.Add(1))).String()
	case "GET /v1/programmes/{slug}":
		return "/v1/programmes/" + w.slug, ""
	}
	path := strings.Replace(row.path, "{id}", id.String(), 1)
	if !row.participant {
		return path, ""
	}
	return path, w.prepare(t, row.key(), kind, id, meeting)
}

// TestAccessMatrix calls every route of the table as every caller, on
// every kind of participant, and checks the status, what came back, that
// no answer shows a name the caller may not see, that every refusal on a
// participant is answered exactly as for a participant that does not
// exist, and that every denial is in the access log with its reason.
func TestAccessMatrix(t *testing.T) {
	t.Parallel()
	routes := map[string]bool{}
	for _, rt := range newHarness(t).api.Routes() {
		routes[rt.Method+" "+rt.Path] = true
	}
	for _, row := range matrixRows() {
		if !routes[row.key()] {
			continue // planned; TestAccessMatrixCoversEveryRoute keeps the table honest
		}
		t.Run(strings.ReplaceAll(row.key(), "/", "_"), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			w := &matrixWorld{h: h, slug: "hope-oslo", shared: map[string]uuid.UUID{}}
			h.setupProgramme(t, "hope-oslo")
			h.setupProgramme(t, "hope-bergen")
			w.employer = h.setupEmployer(t, orgNumber(91234567))
			kinds := []string{""}
			if row.participant {
				kinds = matrixKinds
			}
			// A refused request changes nothing, so the cells that must be
			// refused share one prepared participant of each kind; each
			// cell that must succeed gets a new one.
			type sharedP struct {
				id, meeting uuid.UUID
				path, body  string
			}
			shared := map[string]sharedP{}
			for _, c := range matrixCallers {
				cells := row.cellsOf(c.key)
				for i, kind := range kinds {
					cell := cells[i]
					status, shown, _ := strings.Cut(cell, ":")
					var (
						id         uuid.UUID
						path, body string
					)
					switch {
					case !row.participant:
						path, body = w.request(t, row, kind, id, uuid.Nil)
					case status[0] == '2':
						var meeting uuid.UUID
						id, meeting = w.participant(t, kind)
						path, body = w.request(t, row, kind, id, meeting)
					default:
						sp, ok := shared[kind]
						if !ok {
							sp.id, sp.meeting = w.participant(t, kind)
							sp.path, sp.body = w.request(t, row, kind, sp.id, sp.meeting)
							shared[kind] = sp
						}
						id, path, body = sp.id, sp.path, sp.body
					}
					hdr := map[string]string{}
					if c.purpose != "" {
						hdr["Purpose"] = c.purpose
					}
					before := h.head(t)
					r := h.do(t, row.method, path, c.who, hdr, body)
					where := fmt.Sprintf("%s as %s on %s", row.key(), c.key, kind)
					if fmt.Sprint(r.status) != status {
						t.Errorf("%s: status %d, want %s: %s", where, r.status, status, r.body)
						continue
					}
					checkShown(t, where, r, kind, shown)
					if !row.participant || r.status < 300 {
						continue
					}
					// Refused: exactly as for a participant that does not exist.
					missingPath := strings.Replace(path, id.String(), uuid.New().String(), 1)
					m := h.do(t, row.method, missingPath, c.who, hdr, body)
					if m.status != r.status || !sameProblem(r.body, m.body) {
						t.Errorf("%s: answered %s, a missing participant %s", where, r, m)
					}
					checkDenialRecorded(t, h, where, before, r.status, row.action, c, kind, id)
				}
			}
		})
	}
}

// checkShown checks what a read came back with, and that no answer shows
// a name it may not.
func checkShown(t *testing.T, where string, r response, kind, shown string) {
	t.Helper()
	for k, name := range kindName {
		if bytes.Contains(r.body, []byte(name)) && (k != kind || (shown != "full" && shown != "mentor")) {
			t.Errorf("%s: the answer shows %q: %s", where, name, r.body)
		}
	}
	if shown == "" {
		return
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	has := func(s string) bool { return bytes.Contains(r.body, []byte(s)) }
	switch shown {
	case "full":
		if !has(kindName[kind]) || !has("Test caseworker minutes") {
			t.Errorf("%s: personal data missing: %s", where, r.body)
		}
	case "label":
		if has("Test caseworker minutes") || has("+47 400") || !(has(`"redacted":true`) || has(`"personal_data":false`)) {
			t.Errorf("%s: not redacted: %s", where, r.body)
		}
		if _, ok := doc["name"]; ok && !has(`"name":"`+api.ProtectedLabel+`"`) {
			t.Errorf("%s: name is not the neutral label: %s", where, r.body)
		}
	case "mentor", "mlabel":
		keys := make([]string, 0, len(doc))
		for k := range doc {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		allowed := []string{"erased", "id", "meetings", "name", "phone", "position", "redacted", "revision"}
		for _, k := range keys {
			if !slices.Contains(allowed, k) {
				t.Errorf("%s: the volunteer's view has %q", where, k)
			}
		}
		var meetings []json.RawMessage
		_ = json.Unmarshal(doc["meetings"], &meetings)
		if len(meetings) != 1 || has("Test caseworker minutes") {
			t.Errorf("%s: the volunteer sees other meetings than their own: %s", where, r.body)
		}
		identified := has(kindName[kind]) && has("+47 400") && has("Test volunteer minutes")
		if (shown == "mentor") != identified || (shown == "mlabel" && !has(api.ProtectedLabel)) {
			t.Errorf("%s: want %s: %s", where, shown, r.body)
		}
	}
}

// sameProblem compares two problems apart from what names the request.
func sameProblem(a, b []byte) bool {
	var pa, pb map[string]any
	if json.Unmarshal(a, &pa) != nil || json.Unmarshal(b, &pb) != nil {
		return bytes.Equal(a, b)
	}
	for _, k := range []string{"instance", "correlationId"} {
		delete(pa, k)
		delete(pb, k)
	}
	ja, _ := json.Marshal(pa)
	jb, _ := json.Marshal(pb)
	return bytes.Equal(ja, jb)
}

// checkDenialRecorded checks the access log after a refusal on a
// participant: a 403 or 404 is recorded with its reason, a 400 or 401 (the
// request was not acceptable, the caller unknown) is not.
func checkDenialRecorded(t *testing.T, h *harness, where string, before uint64, status int, act api.Action, c matrixCaller, kind string, id uuid.UUID) {
	t.Helper()
	if status == http.StatusBadRequest || status == http.StatusUnauthorized {
		if h.head(t) != before {
			t.Errorf("%s: a request refused before the policy recorded something", where)
		}
		return
	}
	var rec *accessRow
	for _, row := range h.accessLog(t) {
		if row.position > before && row.access.ParticipantID == id {
			rec = &row
		}
	}
	if rec == nil {
		t.Errorf("%s: the denial is not in the access log", where)
		return
	}
	office := "oslo"
	if kind == kOther {
		office = "bergen"
	}
	caller := callers[c.who]
	// A role the action is refused to is denied for its role; one that
	// may do it, for the participant's office or the team.
	want := domain.DenyRole
	switch {
	case api.Decide(caller, act, nil).Permit && caller.Office != office:
		want = domain.DenyOtherOffice
	case api.Decide(caller, act, nil).Permit:
		want = domain.DenyNotAssigned
	}
	if rec.access.Decision != domain.AccessDenied || rec.access.Reason != want || rec.meta.Actor.UserID != caller.UserID {
		t.Errorf("%s: recorded %+v by %s, want a denial for %s", where, rec.access, rec.meta.Actor.UserID, want)
	}
}

// TestSecurityDocument: docs/security.md is the access matrix as the
// table says; -update rewrites it.
func TestSecurityDocument(t *testing.T) {
	t.Parallel()
	const file = "../docs/security.md"
	got := securityDocument()
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./api -run TestSecurityDocument -update)", err)
	}
	if string(want) != got {
		t.Fatalf("%s differs from the access matrix: run go test ./api -run TestSecurityDocument -update", file)
	}
}
