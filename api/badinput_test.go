package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api"
)

// world is the state the bad requests are sent against.
type world struct {
	employer         uuid.UUID // registered, organisation number orgnr
	orgnr            string
	active           uuid.UUID // oslo, enrolled 2026-03-02, no employer-disclosure consent
	exited           uuid.UUID // oslo, exited 2026-04-01
	bergen           uuid.UUID // bergen's participant
	nidActive        string
	enrolment        uuid.UUID // active's ParticipantEnrolled
	placementStarted uuid.UUID // the PlacementStarted of closedPlacement
	score            uuid.UUID // active's baseline score
	meeting          uuid.UUID // active's meeting of 2026-03-05
	voided           uuid.UUID // active's voided meeting
	correction       uuid.UUID // active's correction of meeting
	otherMeeting     uuid.UUID // a meeting in exited's stream
	goal             uuid.UUID // active's open goal
	closedPlacement  uuid.UUID // active's placement, ended 2026-04-01
	openPlacement    uuid.UUID // active's placement, open since 2026-04-02
	keyedMeetingBody object    // written to active with Idempotency-Key "used-key"
}

func newWorld(t *testing.T, h *harness) *world {
	t.Helper()
	w := &world{orgnr: orgNumber(81234567)}
	h.setupProgramme(t, "hope-oslo")
	w.employer = h.setupEmployer(t, w.orgnr)

	w.nidActive = nationalID(t, "1990-04-12", 100)
	w.active = h.enrol(t, "caseworker", enrolBody("oslo", w.nidActive, "2026-03-02"))
	at := func(rest string) string { return participantPath(w.active, rest) }
	h.ok(t, http.StatusOK, "team-lead", at("/caseworkers/assign"), object{"user_id": "u-kari", "role": "job_specialist", "date": "2026-03-02"})
	w.score = h.ok(t, http.StatusOK, "caseworker", at("/scores"), object{"date": "2026-03-05", "timepoint": "baseline",
		"instrument": "indicator_index", "instrument_version": 1,
		"scores": object{"hope": 4, "well_being": 5, "network": 3, "work_attachment": 2}}).EventIDs[0]
	w.meeting = h.ok(t, http.StatusOK, "caseworker", at("/meetings"), object{"date": "2026-03-05", "kind": "guidance"}).EventIDs[0]
	w.voided = h.ok(t, http.StatusOK, "caseworker", at("/meetings"), object{"date": "2026-03-06", "kind": "phone"}).EventIDs[0]
	h.ok(t, http.StatusOK, "caseworker", at("/voids"), object{"entry_id": w.voided, "reason": "duplicate"})
	w.correction = h.ok(t, http.StatusOK, "caseworker", at("/corrections"), object{"entry_id": w.meeting,
		"entry_type": "MeetingHeld", "reason": "wrong_value", "replacement": object{"date": "2026-03-05", "kind": "home_visit"}}).EventIDs[0]
	w.goal = uuid.New()
	h.ok(t, http.StatusOK, "caseworker", at("/goals/set"), object{"goal_id": w.goal, "area": "work", "date": "2026-03-04",
		"personal": object{"title": "Test goal"}})
	w.closedPlacement, w.openPlacement = uuid.New(), uuid.New()
	w.enrolment = h.events(t, "participant-"+w.active.String())[0].ID
	w.placementStarted = h.ok(t, http.StatusOK, "caseworker", at("/placements/start"), object{"placement_id": w.closedPlacement, "kind": "education",
		"started_on": "2026-03-10", "hours_percentage": 40}).EventIDs[0]
	h.ok(t, http.StatusOK, "caseworker", at("/placements/end"), object{"placement_id": w.closedPlacement, "ended_on": "2026-04-01", "reason": "completed"})
	h.ok(t, http.StatusOK, "caseworker", at("/placements/start"), object{"placement_id": w.openPlacement, "kind": "language_training",
		"started_on": "2026-04-02", "hours_percentage": 60})
	w.keyedMeetingBody = object{"date": "2026-03-20", "kind": "digital"}
	h.ok(t, http.StatusOK, "caseworker", at("/meetings"), w.keyedMeetingBody, "Idempotency-Key", "used-key")

	w.exited = h.enrol(t, "caseworker", enrolBody("oslo", nationalID(t, "1985-11-30", 200), "2026-03-02").
		with("/profile/birth_year", 1985))
	w.otherMeeting = h.ok(t, http.StatusOK, "caseworker", participantPath(w.exited, "/meetings"), object{"date": "2026-03-03", "kind": "guidance"}).EventIDs[0]
	h.ok(t, http.StatusOK, "caseworker", participantPath(w.exited, "/exit"), object{"date": "2026-04-01", "reason": "moved", "destination": "unknown"})

	w.bergen = h.enrol(t, "caseworker-bergen", enrolBody("bergen", nationalID(t, "1992-01-20", 300), "2026-03-02").
		with("/profile/birth_year", 1992))
	return w
}

// badRow is one request that must be refused.
type badRow struct {
	name   string
	method string
	path   string
	who    string            // a caller of callers, or "", "garbage", "expired"
	hdr    map[string]string // "" removes a header
	body   string
	status int
	// field is where the problem's errors must point: a JSON pointer
	// ("/scores/hope"), "#" for the whole body, "header:Name" for a
	// header, or "" for a problem without errors.
	field string
}

func badRows(t *testing.T, w *world) []badRow {
	p := func(id uuid.UUID, rest string) string { return participantPath(id, rest) }
	a := func(rest string) string { return participantPath(w.active, rest) }
	hdr := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	employer := "/v1/employers/" + w.employer.String()
	missing := uuid.New()

	meeting := object{"date": "2026-03-05", "kind": "guidance"}
	score := object{"date": "2026-03-05", "timepoint": "midway", "instrument": "indicator_index", "instrument_version": 1,
		"scores": object{"hope": 4, "well_being": 5, "network": 3, "work_attachment": 2}}
	enrol := enrolBody("oslo", nationalID(t, "1990-06-01", 100), "2026-03-02")
	goal := object{"goal_id": uuid.New(), "area": "work", "date": "2026-03-04", "personal": object{"title": "Test goal"}}
	start := object{"placement_id": uuid.New(), "kind": "work_practice", "started_on": "2026-04-10", "hours_percentage": 50}
	change := object{"placement_id": w.openPlacement, "date": "2026-04-20", "hours_percentage": 80}
	end := object{"placement_id": w.openPlacement, "ended_on": "2026-04-20", "reason": "completed"}
	contact := object{"employer_id": w.employer, "date": "2026-03-06", "purpose": "present_candidate"}
	correction := object{"entry_id": w.score, "entry_type": "IndicatorScored", "reason": "wrong_value", "replacement": score.with("/timepoint", "baseline")}
	correction["replacement"] = json.RawMessage(score.with("/timepoint", "baseline"))
	void := object{"entry_id": w.meeting, "reason": "recorded_in_error"}
	employerBody := employerBody(orgNumber(71234567))
	update := object{"name": "Test Employer AS", "industry_code": "88.990", "municipality": "0301"}
	programme := programmeBody("hope-trondheim")
	longText := strings.Repeat("Test text ", 1001) // 10,010 characters
	// A correction of the enrolment: its public members under
	// replacement, its personal ones under personal/replacement.
	enrolment := object{"entry_id": w.enrolment, "entry_type": "ParticipantEnrolled", "reason": "wrong_value",
		"replacement": json.RawMessage(enrol.with("/personal", drop{})),
		"personal":    object{"replacement": object{"name": "Test Person"}}}
	placement := object{"entry_id": w.placementStarted, "entry_type": "PlacementStarted", "reason": "wrong_value",
		"replacement": object{"placement_id": w.closedPlacement, "kind": "education", "started_on": "2026-03-10", "hours_percentage": 40}}
	// 40 nested arrays where the replacement takes any JSON: the decoder
	// stops at level 33 (the body's object is level 1).
	deep := `{"entry_id": "` + w.meeting.String() + `", "entry_type": "MeetingHeld", "reason": "other", "replacement": ` +
		strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`
	deepAt := "/replacement" + strings.Repeat("/0", 31)

	return []badRow{
		// 400: the body or a header is not acceptable as such.
		{"malformed JSON, cut short", "POST", a("/meetings"), "caseworker", nil, `{"date": "2026-03-05",`, 400, "#"},
		{"malformed JSON, missing colon", "POST", a("/meetings"), "caseworker", nil, `{"date" "2026-03-05"}`, 400, "#"},
		{"malformed JSON, single quotes", "POST", "/v1/employers", "admin", nil, `{'name': 'Test'}`, 400, "#"},
		{"unknown field", "POST", a("/meetings"), "caseworker", nil, meeting.with("/mood", "good"), 400, "/mood"},
		{"unknown nested field", "POST", "/v1/participants", "caseworker", nil, enrol.with("/profile/shoe_size", 42), 400, "/profile/shoe_size"},
		{"member in the wrong case", "POST", a("/meetings"), "caseworker", nil, `{"Date": "2026-03-05", "kind": "guidance"}`, 400, "/Date"},
		{"unknown field in a programme", "POST", "/v1/programmes", "admin", nil, programme.with("/colour", "blue"), 400, "/colour"},
		{"wrong type, string score", "POST", a("/scores"), "caseworker", nil, score.with("/scores/hope", "seven"), 400, "/scores/hope"},
		{"wrong type, quoted hours", "POST", a("/placements/start"), "caseworker", nil, start.with("/hours_percentage", "50"), 400, "/hours_percentage"},
		{"wrong type, string for a boolean", "POST", "/v1/participants", "caseworker", nil, enrol.with("/address_protection", "yes"), 400, "/address_protection"},
		{"wrong type, fractional hours", "POST", a("/placements/change"), "caseworker", nil, change.with("/hours_percentage", 50.5), 400, "/hours_percentage"},
		{"wrong type, object for a string", "POST", employer + "/update", "admin", nil, update.with("/name", object{"first": "Test"}), 400, "/name"},
		{"integer out of range", "POST", "/v1/participants", "caseworker", nil, strings.Replace(enrol.String(), `"birth_year":1990`, `"birth_year":99999999999999999999`, 1), 400, "/profile/birth_year"},
		{"duplicate member", "POST", a("/meetings"), "caseworker", nil, `{"date": "2026-03-05", "date": "2026-03-06", "kind": "guidance"}`, 400, "/date"},
		{"duplicate nested member", "POST", a("/scores"), "caseworker", nil, strings.Replace(score.String(), `"hope":4`, `"hope":4,"hope":5`, 1), 400, "/scores/hope"},
		{"trailing object", "POST", a("/meetings"), "caseworker", nil, meeting.String() + `{}`, 400, "#"},
		{"trailing garbage", "POST", a("/resume"), "caseworker", nil, `{"date": "2026-03-05"} x`, 400, "#"},
		{"empty body", "POST", a("/meetings"), "caseworker", nil, "", 400, "#"},
		{"blank body", "POST", "/v1/employers", "admin", nil, " \n\t ", 400, "#"},
		{"array body", "POST", a("/meetings"), "caseworker", nil, `[` + meeting.String() + `]`, 400, "#"},
		{"null body", "POST", a("/exit"), "caseworker", nil, `null`, 400, "#"},
		{"impossible date", "POST", a("/meetings"), "caseworker", nil, meeting.with("/date", "2026-02-30"), 400, "/date"},
		{"nested too deep", "POST", a("/corrections"), "caseworker", nil, deep, 400, deepAt},
		{"invalid UTF-8", "POST", a("/meetings"), "caseworker", nil, "{\"date\": \"2026-03-05\", \"kind\": \"guid\xffance\"}", 400, "#"},
		{"date in another format", "POST", a("/pause"), "caseworker", nil, object{"date": "15.05.2026", "reason": "health"}.String(), 400, "/date"},
		{"malformed uuid", "POST", a("/goals/set"), "caseworker", nil, goal.with("/goal_id", "not-a-uuid"), 400, "/goal_id"},
		{"Idempotency-Key too long", "POST", a("/meetings"), "caseworker", hdr("Idempotency-Key", strings.Repeat("k", 256)), meeting.String(), 400, "header:Idempotency-Key"},
		{"Idempotency-Key not ASCII", "POST", a("/meetings"), "caseworker", hdr("Idempotency-Key", "nøkkel-1"), meeting.String(), 400, "header:Idempotency-Key"},
		{"If-Match weak", "POST", a("/meetings"), "caseworker", hdr("If-Match", `W/"3"`), meeting.String(), 400, "header:If-Match"},
		{"If-Match unquoted", "POST", a("/meetings"), "caseworker", hdr("If-Match", `3`), meeting.String(), 400, "header:If-Match"},
		{"If-Match a list", "POST", a("/meetings"), "caseworker", hdr("If-Match", `"3", "4"`), meeting.String(), 400, "header:If-Match"},
		{"If-Match below -1", "POST", a("/meetings"), "caseworker", hdr("If-Match", `"-2"`), meeting.String(), 400, "header:If-Match"},
		{"If-Match star", "POST", employer + "/update", "admin", hdr("If-Match", `*`), update.String(), 400, "header:If-Match"},
		{"auditor without Purpose", "GET", a(""), "auditor", nil, "", 400, "header:Purpose"},
		{"auditor with a blank Purpose", "GET", a(""), "auditor", hdr("Purpose", "   "), "", 400, "header:Purpose"},
		{"auditor with a Purpose too long", "GET", a(""), "auditor", hdr("Purpose", strings.Repeat("p", 201)), "", 400, "header:Purpose"},

		// 401: no caller.
		{"no token", "POST", a("/meetings"), "", nil, meeting.String(), 401, ""},
		{"no token on a read", "GET", a(""), "", nil, "", 401, ""},
		{"garbage token", "POST", a("/meetings"), "garbage", nil, meeting.String(), 401, ""},
		{"expired token", "POST", a("/meetings"), "expired", nil, meeting.String(), 401, ""},
		{"expired token on a programme", "GET", "/v1/programmes/hope-oslo", "expired", nil, "", 401, ""},
		{"basic credentials", "POST", "/v1/employers", "", hdr("Authorization", "Basic dTpw"), employerBody.String(), 401, ""},

		// 403: a caller whose role or office may not do this.
		{"auditor writing casework", "POST", a("/meetings"), "auditor", nil, meeting.String(), 403, ""},
		{"evaluator writing casework", "POST", a("/scores"), "evaluator", nil, score.String(), 403, ""},
		{"admin writing casework", "POST", a("/meetings"), "admin", nil, meeting.String(), 403, ""},
		{"admin enrolling", "POST", "/v1/participants", "admin", nil, enrol.String(), 403, ""},
		{"volunteer writing casework", "POST", a("/scores"), "volunteer", nil, score.String(), 403, ""},
		{"volunteer assigning", "POST", a("/caseworkers/assign"), "volunteer", nil, object{"user_id": "u-vera", "role": "volunteer_mentor", "date": "2026-03-03"}.String(), 403, ""},
		{"caseworker assigning", "POST", a("/caseworkers/assign"), "caseworker", nil, object{"user_id": "u-ola", "role": "coordinator", "date": "2026-03-03"}.String(), 403, ""},
		{"caseworker unassigning", "POST", a("/caseworkers/unassign"), "caseworker", nil, object{"user_id": "u-kari", "date": "2026-03-03"}.String(), 403, ""},
		{"caseworker registering an employer", "POST", "/v1/employers", "caseworker", nil, employerBody.String(), 403, ""},
		{"caseworker updating an employer", "POST", employer + "/update", "caseworker", nil, update.String(), 403, ""},
		{"team lead defining a programme", "POST", "/v1/programmes", "team-lead", nil, programme.String(), 403, ""},
		{"evaluator reading a participant", "GET", a(""), "evaluator", nil, "", 403, ""},
		{"admin reading a participant", "GET", a(""), "admin", nil, "", 403, ""},
		{"evaluator reading an employer", "GET", employer, "evaluator", nil, "", 403, ""},
		{"user id too long to record", "POST", a("/meetings"), "long-user", nil, meeting.String(), 403, ""},
		{"correction moving the enrolment to another office", "POST", a("/corrections"), "caseworker", nil, enrolment.with("/replacement/office", "bergen"), 403, "/replacement/office"},
		{"enrolling into another office", "POST", "/v1/participants", "caseworker", nil, enrol.with("/office", "bergen"), 403, "/office"},
		{"re-enrolling into another office", "POST", p(w.exited, "/enrolments"), "caseworker", nil, enrol.with("/office", "bergen", "/enrolled_on", "2026-04-02"), 403, "/office"},

		// 404: nothing the caller may see.
		{"unknown participant", "POST", p(missing, "/meetings"), "caseworker", nil, meeting.String(), 404, ""},
		{"unknown participant read", "GET", p(missing, ""), "caseworker", nil, "", 404, ""},
		{"unknown participant, auditor", "GET", p(missing, ""), "auditor", hdr("Purpose", "review"), "", 404, ""},
		{"malformed participant id", "GET", "/v1/participants/not-a-uuid", "caseworker", nil, "", 404, ""},
		{"malformed participant id on a write", "POST", "/v1/participants/123/meetings", "caseworker", nil, meeting.String(), 404, ""},
		{"participant id in upper case", "GET", "/v1/participants/" + strings.ToUpper(w.active.String()), "caseworker", nil, "", 404, ""},
		{"nil participant id", "POST", p(uuid.Nil, "/meetings"), "caseworker", nil, meeting.String(), 404, ""},
		{"participant of another office", "POST", p(w.bergen, "/meetings"), "caseworker", nil, meeting.String(), 404, ""},
		{"volunteer, participant not assigned to them", "POST", a("/meetings"), "volunteer", nil, meeting.String(), 404, ""},
		{"volunteer, participant not assigned to them, read", "GET", a(""), "volunteer", nil, "", 404, ""},
		{"participant of another office read", "GET", p(w.bergen, ""), "team-lead", nil, "", 404, ""},
		{"participant of another office, If-Match", "POST", p(w.bergen, "/meetings"), "caseworker", hdr("If-Match", `"-1"`), meeting.String(), 404, ""},
		{"unknown employer", "GET", "/v1/employers/" + missing.String(), "caseworker", nil, "", 404, ""},
		{"unknown employer update", "POST", "/v1/employers/" + missing.String() + "/update", "admin", nil, update.String(), 404, ""},
		{"malformed employer id", "GET", "/v1/employers/" + w.orgnr, "admin", nil, "", 404, ""},
		{"unknown programme", "GET", "/v1/programmes/hope-tromso", "caseworker", nil, "", 404, ""},
		{"malformed programme slug", "GET", "/v1/programmes/Hope_Oslo", "caseworker", nil, "", 404, ""},
		{"unknown route", "POST", a("/notes"), "caseworker", nil, meeting.String(), 404, ""},

		// 405: the route exists, the method does not.
		{"PUT a participant", "PUT", a(""), "caseworker", nil, meeting.String(), 405, ""},
		{"DELETE a participant", "DELETE", a(""), "caseworker", nil, "", 405, ""},
		{"GET a command", "GET", a("/meetings"), "caseworker", nil, "", 405, ""},
		{"GET the participant collection", "GET", "/v1/participants", "caseworker", nil, "", 405, ""},
		{"PATCH an employer", "PATCH", employer, "admin", nil, update.String(), 405, ""},
		{"DELETE a programme", "DELETE", "/v1/programmes/hope-oslo", "admin", nil, "", 405, ""},

		// 409: does not fit the participant's state.
		{"meeting after exit", "POST", p(w.exited, "/meetings"), "caseworker", nil, meeting.String(), 409, "#"},
		{"score after exit", "POST", p(w.exited, "/scores"), "caseworker", nil, score.String(), 409, "#"},
		{"enrol twice", "POST", a("/enrolments"), "caseworker", nil, enrol.String(), 409, "#"},
		{"change a closed placement", "POST", a("/placements/change"), "caseworker", nil, change.with("/placement_id", w.closedPlacement), 409, "/placement_id"},
		{"end a closed placement", "POST", a("/placements/end"), "caseworker", nil, end.with("/placement_id", w.closedPlacement), 409, "/placement_id"},
		{"change an unknown placement", "POST", a("/placements/change"), "caseworker", nil, change.with("/placement_id", uuid.New()), 409, "/placement_id"},
		{"start a placement id twice", "POST", a("/placements/start"), "caseworker", nil, start.with("/placement_id", w.openPlacement), 409, "/placement_id"},
		{"employer contact without consent", "POST", a("/employer-contacts"), "caseworker", nil, contact.String(), 409, "/employer_id"},
		{"placement at an employer without consent", "POST", a("/placements/start"), "caseworker", nil, start.with("/employer_id", w.employer), 409, "/employer_id"},
		{"duplicate baseline score", "POST", a("/scores"), "caseworker", nil, score.with("/timepoint", "baseline"), 409, "/timepoint"},
		{"sub-goal with unknown parent", "POST", a("/goals/set"), "caseworker", nil, goal.with("/parent_goal_id", uuid.New()), 409, "/parent_goal_id"},
		{"goal id twice", "POST", a("/goals/set"), "caseworker", nil, goal.with("/goal_id", w.goal), 409, "/goal_id"},
		{"close an unknown goal", "POST", a("/goals/close"), "caseworker", nil, object{"goal_id": uuid.New(), "outcome": "achieved", "date": "2026-04-01"}.String(), 409, "/goal_id"},
		{"assign a team member twice", "POST", a("/caseworkers/assign"), "team-lead", nil, object{"user_id": "u-kari", "role": "coordinator", "date": "2026-03-03"}.String(), 409, "/user_id"},
		{"unassign someone not in the team", "POST", a("/caseworkers/unassign"), "team-lead", nil, object{"user_id": "u-nobody", "date": "2026-03-03"}.String(), 409, "/user_id"},
		{"withdraw a consent never given", "POST", a("/consents/withdraw"), "caseworker", nil, object{"scope": "evaluation", "date": "2026-03-03"}.String(), 409, "/scope"},
		{"resume without a pause", "POST", a("/resume"), "caseworker", nil, object{"date": "2026-04-03"}.String(), 409, "#"},
		{"correct an event of another stream", "POST", a("/corrections"), "caseworker", nil, correction.with("/entry_id", w.otherMeeting, "/entry_type", "MeetingHeld", "/replacement", meeting), 409, "/entry_id"},
		{"correct an unknown event", "POST", a("/corrections"), "caseworker", nil, correction.with("/entry_id", uuid.New()), 409, "/entry_id"},
		{"correct with the wrong entry type", "POST", a("/corrections"), "caseworker", nil, correction.with("/entry_id", w.meeting), 409, "/entry_type"},
		{"correct a correction", "POST", a("/corrections"), "caseworker", nil, correction.with("/entry_id", w.correction, "/entry_type", "MeetingHeld", "/replacement", meeting), 409, "/entry_id"},
		{"void a voided entry", "POST", a("/voids"), "caseworker", nil, void.with("/entry_id", w.voided), 409, "/entry_id"},
		{"void an unknown entry", "POST", a("/voids"), "caseworker", nil, void.with("/entry_id", uuid.New()), 409, "/entry_id"},
		{"register an employer twice", "POST", "/v1/employers", "admin", nil, employerBody.with("/organisation_number", w.orgnr), 409, "#"},

		// 412: the stream has moved on.
		{"stale If-Match", "POST", a("/meetings"), "caseworker", hdr("If-Match", `"0"`), meeting.String(), 412, "header:If-Match"},
		{"If-Match of a new stream", "POST", a("/pause"), "caseworker", hdr("If-Match", `"-1"`), object{"date": "2026-04-03", "reason": "health"}.String(), 412, "header:If-Match"},
		{"If-Match on a new enrolment", "POST", "/v1/participants", "caseworker", hdr("If-Match", `"0"`), enrol.String(), 412, "header:If-Match"},
		{"stale If-Match on an employer", "POST", employer + "/update", "admin", hdr("If-Match", `"5"`), update.String(), 412, "header:If-Match"},

		// 413: over the body limit.
		{"meeting over the limit", "POST", a("/meetings"), "caseworker", nil, meeting.with("/personal/minutes", strings.Repeat("m", api.DefaultMaxBodyBytes)), 413, "#"},
		{"enrolment over the limit", "POST", "/v1/participants", "caseworker", nil, enrol.with("/personal/address", strings.Repeat("a", 2*api.DefaultMaxBodyBytes)), 413, "#"},

		// 415: not declared as JSON.
		{"text/plain", "POST", a("/meetings"), "caseworker", hdr("Content-Type", "text/plain"), meeting.String(), 415, "header:Content-Type"},
		{"no Content-Type", "POST", a("/meetings"), "caseworker", hdr("Content-Type", ""), meeting.String(), 415, "header:Content-Type"},
		{"JSON in Latin-1", "POST", a("/meetings"), "caseworker", hdr("Content-Type", "application/json; charset=iso-8859-1"), meeting.String(), 415, "header:Content-Type"},
		{"form data", "POST", "/v1/employers", "admin", hdr("Content-Type", "application/x-www-form-urlencoded"), "name=Test", 415, "header:Content-Type"},

		// 422: wrong in itself.
		{"national id check digit", "POST", "/v1/participants", "caseworker", nil, enrol.with("/personal/national_id", badCheckDigit(w.nidActive)), 422, "/personal/national_id"},
		{"national id too short", "POST", "/v1/participants", "caseworker", nil, enrol.with("/personal/national_id", w.nidActive[:10]), 422, "/personal/national_id"},
		{"birth year against the national id", "POST", "/v1/participants", "caseworker", nil, enrol.with("/profile/birth_year", 1991), 422, "/profile/birth_year"},
		{"address under address protection", "POST", "/v1/participants", "caseworker", nil, enrol.with("/address_protection", true, "/personal/address", "Testveien 1"), 422, "/personal/address"},
		{"name missing", "POST", "/v1/participants", "caseworker", nil, enrol.with("/personal/name", ""), 422, "/personal/name"},
		{"name too long", "POST", "/v1/participants", "caseworker", nil, enrol.with("/personal/name", strings.Repeat("Test ", 41)), 422, "/personal/name"},
		{"future enrolment", "POST", "/v1/participants", "caseworker", nil, enrol.with("/enrolled_on", "2026-05-16"), 422, "/enrolled_on"},
		{"unknown programme", "POST", "/v1/participants", "caseworker", nil, enrol.with("/programme", "hope-tromso"), 422, "/programme"},
		{"malformed programme slug", "POST", "/v1/participants", "caseworker", nil, enrol.with("/programme", "Hope Oslo"), 422, "/programme"},
		{"unknown referral source", "POST", "/v1/participants", "caseworker", nil, enrol.with("/referral_source", "friend"), 422, "/referral_source"},
		{"score 11", "POST", a("/scores"), "caseworker", nil, score.with("/scores/hope", 11), 422, "/scores/hope"},
		{"score 0", "POST", a("/scores"), "caseworker", nil, score.with("/scores/network", 0), 422, "/scores/network"},
		{"unknown instrument version", "POST", a("/scores"), "caseworker", nil, score.with("/instrument_version", 2), 422, "/instrument_version"},
		{"hours 0", "POST", a("/placements/start"), "caseworker", nil, start.with("/hours_percentage", 0), 422, "/hours_percentage"},
		{"hours 101", "POST", a("/placements/change"), "caseworker", nil, change.with("/hours_percentage", 101), 422, "/hours_percentage"},
		{"future meeting", "POST", a("/meetings"), "caseworker", nil, meeting.with("/date", "2026-05-16"), 422, "/date"},
		{"future exit", "POST", a("/exit"), "caseworker", nil, object{"date": "2027-01-01", "reason": "completed", "destination": "unknown"}.String(), 422, "/date"},
		{"meeting before enrolment", "POST", a("/meetings"), "caseworker", nil, meeting.with("/date", "2026-03-01"), 422, "/date"},
		{"end before start", "POST", a("/placements/end"), "caseworker", nil, end.with("/ended_on", "2026-04-01"), 422, "/ended_on"},
		{"next meeting before the meeting", "POST", a("/meetings"), "caseworker", nil, meeting.with("/next_meeting_on", "2026-03-04"), 422, "/next_meeting_on"},
		{"target date before the goal", "POST", a("/goals/set"), "caseworker", nil, goal.with("/target_date", "2026-03-01"), 422, "/target_date"},
		{"unknown meeting kind", "POST", a("/meetings"), "caseworker", nil, meeting.with("/kind", "chat"), 422, "/kind"},
		{"unknown consent scope", "POST", a("/consents/give"), "caseworker", nil, object{"scope": "everything", "date": "2026-03-03"}.String(), 422, "/scope"},
		{"unknown placement kind", "POST", a("/placements/start"), "caseworker", nil, start.with("/kind", "internship"), 422, "/kind"},
		{"unknown income source", "POST", a("/income-source"), "caseworker", nil, object{"date": "2026-04-03", "income_source": "lottery"}.String(), 422, "/income_source"},
		{"future income source change", "POST", a("/income-source"), "caseworker", nil, object{"date": "2026-05-16", "income_source": "work"}.String(), 422, "/date"},
		{"income source with a number for a date", "POST", a("/income-source"), "caseworker", nil, object{"date": 20260403, "income_source": "work"}.String(), 400, "/date"},
		{"unknown exit destination", "POST", a("/exit"), "caseworker", nil, object{"date": "2026-04-03", "reason": "completed", "destination": "abroad"}.String(), 422, "/destination"},
		{"goal without a title", "POST", a("/goals/set"), "caseworker", nil, goal.with("/personal", drop{}), 422, "/personal/title"},
		{"note too long", "POST", a("/pause"), "caseworker", nil, object{"date": "2026-04-03", "reason": "health", "personal": object{"note": longText}}.String(), 422, "/personal/note"},
		{"unknown employer in a contact", "POST", a("/employer-contacts"), "caseworker", nil, contact.with("/employer_id", uuid.New()), 422, "/employer_id"},
		{"unknown employer in a placement", "POST", a("/placements/start"), "caseworker", nil, start.with("/employer_id", uuid.New()), 422, "/employer_id"},
		{"nil employer id in a contact", "POST", a("/employer-contacts"), "caseworker", nil, contact.with("/employer_id", uuid.Nil), 422, "/employer_id"},
		{"correction naming an unknown employer", "POST", a("/corrections"), "caseworker", nil, placement.with("/replacement/employer_id", uuid.New()), 422, "/replacement/employer_id"},
		{"correction naming an unknown programme", "POST", a("/corrections"), "caseworker", nil, enrolment.with("/replacement/programme", "hope-tromso"), 422, "/replacement/programme"},
		{"correction with a replacement that is no object", "POST", a("/corrections"), "caseworker", nil, correction.with("/replacement", []int{1}), 422, "/replacement"},
		{"correction with personal data in public", "POST", a("/corrections"), "caseworker", nil, correction.with("/replacement", object{"date": "2026-03-05", "kind": "guidance", "personal": object{"note": "Test"}}, "/entry_id", w.meeting, "/entry_type", "MeetingHeld"), 422, "/replacement/personal"},
		{"name with a control character", "POST", "/v1/participants", "caseworker", nil, enrol.with("/personal/name", "Test\u0007Person"), 422, "/personal/name"},
		{"correction to an impossible score", "POST", a("/corrections"), "caseworker", nil, correction.with("/replacement/scores/hope", 11), 422, "/replacement/scores/hope"},
		{"correction of an unknown entry type", "POST", a("/corrections"), "caseworker", nil, correction.with("/entry_type", "CoffeeHad"), 422, "/entry_type"},
		{"void for an unknown reason", "POST", a("/voids"), "caseworker", nil, void.with("/reason", "changed_my_mind"), 422, "/reason"},
		{"invalid organisation number", "POST", "/v1/employers", "admin", nil, employerBody.with("/organisation_number", badCheckDigit(w.orgnr)), 422, "/organisation_number"},
		{"organisation number of 8 digits", "POST", "/v1/employers", "admin", nil, employerBody.with("/organisation_number", w.orgnr[:8]), 422, "/organisation_number"},
		{"malformed industry code", "POST", employer + "/update", "admin", nil, update.with("/industry_code", "88990"), 422, "/industry_code"},
		{"employer name too long", "POST", employer + "/update", "admin", nil, update.with("/name", strings.Repeat("Test AS ", 26)), 422, "/name"},
		{"malformed programme slug in a definition", "POST", "/v1/programmes", "admin", nil, programme.with("/slug", "Hope Trondheim"), 422, "/slug"},
		{"target rate above 1", "POST", "/v1/programmes", "admin", nil, programme.with("/targets", []object{{"measure": "job_within_183d", "rate": 1.5}}), 422, "/targets/0/rate"},
		{"Idempotency-Key reused for another body", "POST", a("/meetings"), "caseworker", hdr("Idempotency-Key", "used-key"), w.keyedMeetingBody.with("/kind", "phone"), 422, "header:Idempotency-Key"},
	}
}

// TestBadRequests sends requests that must be refused and checks each
// answer: its status, a problem+json body that points at what is wrong
// and quotes nothing personal, and a log that did not grow.
func TestBadRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := newWorld(t, h)
	rows := badRows(t, w)
	if len(rows) < 60 {
		t.Fatalf("%d rows, want at least 60", len(rows))
	}
	byStatus := map[int]int{}
	// Strings that must never come back in an error: the synthetic
	// personal data of the world and of the rows.
	secrets := []string{"Test Person", w.nidActive, "Testveien", "+47 400 00 000"}

	for _, row := range rows {
		byStatus[row.status]++
		t.Run(row.name, func(t *testing.T) {
			before := h.caseworkHead(t)
			r := h.do(t, row.method, row.path, row.who, row.hdr, row.body)
			if r.status >= 500 {
				t.Fatalf("server error: %s", r)
			}
			p := r.problem(t, row.status)
			if after := h.caseworkHead(t); after != before {
				t.Fatalf("the log moved from %d to %d", before, after)
			}
			checkField(t, p, row.field)
			for _, s := range append(personalStrings(row.body), secrets...) {
				if bytes.Contains(r.body, []byte(s)) {
					t.Errorf("the problem quotes %q from the request: %s", s, r.body)
				}
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", r.header.Get("Cache-Control"))
			}
			if row.status == http.StatusUnauthorized && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
			}
		})
	}
	statuses := make([]int, 0, len(byStatus))
	for s := range byStatus {
		statuses = append(statuses, s)
	}
	sort.Ints(statuses)
	var summary []string
	for _, s := range statuses {
		summary = append(summary, strconv.Itoa(s)+": "+strconv.Itoa(byStatus[s]))
	}
	t.Logf("%d rows; %s", len(rows), strings.Join(summary, ", "))
}

// checkField checks that the problem's errors point where want says (see
// badRow.field).
func checkField(t *testing.T, p api.Problem, want string) {
	t.Helper()
	if want == "" {
		if len(p.Errors) != 0 {
			t.Errorf("errors %+v, want none", p.Errors)
		}
		return
	}
	if len(p.Errors) == 0 {
		t.Fatalf("no errors in the problem, want %s", want)
	}
	for _, fe := range p.Errors {
		if fe.Code == "" || fe.Detail == "" {
			t.Errorf("field error %+v lacks a code or detail", fe)
		}
		switch header, isHeader := strings.CutPrefix(want, "header:"); {
		case isHeader && strings.EqualFold(fe.Header, header):
			return
		case want == "#" && fe.Pointer == "" && fe.Header == "" && fe.Parameter == "":
			return
		case !isHeader && want != "#" && fe.Pointer == want && fe.Header == "" && fe.Parameter == "":
			return
		}
	}
	t.Errorf("errors %+v do not point at %s", p.Errors, want)
}

// personalStrings are the string values under "personal" in a JSON body,
// the ones long enough to be recognised.
func personalStrings(body string) []string {
	var m map[string]any
	if json.Unmarshal([]byte(body), &m) != nil {
		return nil
	}
	var out []string
	var collect func(v any)
	collect = func(v any) {
		switch v := v.(type) {
		case string:
			if len(v) >= 6 {
				out = append(out, v)
			}
		case map[string]any:
			for _, x := range v {
				collect(x)
			}
		case []any:
			for _, x := range v {
				collect(x)
			}
		}
	}
	collect(m["personal"])
	return out
}
