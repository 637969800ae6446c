package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
)

// TestCaseworkLifecycle walks one participant through every casework
// route, from enrolment to re-enrolment, and reads the state back after
// each write.
func TestCaseworkLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setupProgramme(t, "hope-oslo")
	employer := h.setupEmployer(t, orgNumber(91234567))
	nid := nationalID(t, "1990-04-12", 100)

	// Enrol: 201, Location, ETag "0", Log-Position, the write's body.
	before := h.head(t)
	r := h.post(t, "caseworker", "/v1/participants", enrolBody("oslo", nid, "2026-03-02"))
	res := r.written(t, http.StatusCreated)
	id := locationID(t, r, "/v1/participants/")
	if res.Stream != domain.ParticipantStream(id) || res.Revision != 0 || len(res.EventIDs) != 1 || res.Position != before+1 {
		t.Fatalf("enrol answered %+v (head was %d)", res, before)
	}
	path := func(rest string) string { return participantPath(id, rest) }
	p := h.participant(t, "caseworker", id)
	if p.ID != id || p.Status != "active" || p.Name != "Test Person" || p.Personal == nil || p.Personal.NationalID != nid ||
		len(p.Episodes) != 1 || p.Episodes[0].Office != "oslo" || p.Episodes[0].Programme != "hope-oslo" ||
		p.Episodes[0].EnrolmentID != res.EventIDs[0] || p.Revision != 0 {
		t.Fatalf("after enrolment: %+v", p)
	}

	// Every later write answers 200 with the next revision.
	rev := uint64(0)
	writeAs := func(who, route string, body any) writeResult {
		t.Helper()
		res := h.ok(t, http.StatusOK, who, path(route), body)
		rev++
		if res.Revision != rev || res.Stream != domain.ParticipantStream(id) {
			t.Fatalf("%s: answered %+v, want revision %d", route, res, rev)
		}
		return res
	}
	write := func(route string, body any) writeResult {
		t.Helper()
		return writeAs("caseworker", route, body)
	}

	// The team is the team lead's to (re)assign (access.md).
	writeAs("team-lead", "/caseworkers/assign", object{"user_id": "u-kari", "role": "job_specialist", "date": "2026-03-02"})
	writeAs("team-lead", "/caseworkers/assign", object{"user_id": "u-ola", "role": "social_worker", "date": "2026-03-02"})
	writeAs("team-lead", "/caseworkers/unassign", object{"user_id": "u-ola", "date": "2026-03-10"})
	p = h.participant(t, "caseworker", id)
	if len(p.Team) != 1 || p.Team[0].UserID != "u-kari" || p.Team[0].Role != "job_specialist" {
		t.Errorf("team %+v, want u-kari alone", p.Team)
	}

	write("/consents/give", object{"scope": "employer_disclosure", "date": "2026-03-03"})
	write("/consents/give", object{"scope": "evaluation", "date": "2026-03-03"})
	write("/consents/withdraw", object{"scope": "evaluation", "date": "2026-03-20"})
	p = h.participant(t, "caseworker", id)
	consents := map[string]bool{}
	for _, c := range p.Consents {
		consents[c.Scope] = c.InForce
	}
	if !consents["employer_disclosure"] || consents["evaluation"] || len(consents) != 2 {
		t.Errorf("consents %+v", p.Consents)
	}

	goal, sub := uuid.New(), uuid.New()
	write("/goals/set", object{"goal_id": goal, "area": "work", "date": "2026-03-04", "target_date": "2026-09-01",
		"personal": object{"title": "Test goal: a job in a kitchen"}})
	write("/goals/set", object{"goal_id": sub, "parent_goal_id": goal, "area": "language", "date": "2026-03-04",
		"personal": object{"title": "Test sub-goal: Norwegian B1"}})
	write("/goals/close", object{"goal_id": sub, "outcome": "achieved", "date": "2026-04-01"})
	p = h.participant(t, "caseworker", id)
	if len(p.Goals) != 2 || p.Goals[0].ID != goal || p.Goals[0].Outcome != "" || p.Goals[0].Personal == nil ||
		p.Goals[1].ParentID != goal || p.Goals[1].Outcome != "achieved" || p.Goals[1].ClosedOn != "2026-04-01" {
		t.Errorf("goals %+v", p.Goals)
	}

	kept := write("/meetings", object{"date": "2026-03-05", "kind": "guidance", "next_meeting_on": "2026-03-12",
		"personal": object{"attendees": []string{"Test Person"}, "minutes": "Test minutes"}}).EventIDs[0]
	mistaken := write("/meetings", object{"date": "2026-03-12", "kind": "phone"}).EventIDs[0]
	p = h.participant(t, "caseworker", id)
	if len(p.Meetings) != 2 || p.Meetings[0].EventID != kept || p.Meetings[1].EventID != mistaken || p.Meetings[1].Kind != "phone" {
		t.Errorf("meetings %+v", p.Meetings)
	}

	scores := object{"date": "2026-03-05", "timepoint": "baseline", "instrument": "indicator_index", "instrument_version": 1,
		"scores": object{"hope": 4, "well_being": 5, "network": 3, "work_attachment": 2}}
	score := write("/scores", scores).EventIDs[0]
	p = h.participant(t, "caseworker", id)
	if len(p.Scores) != 1 || p.Scores[0].EventID != score || p.Scores[0].Scores != (domain.Scores{Hope: 4, WellBeing: 5, Network: 3, WorkAttachment: 2}) {
		t.Errorf("scores %+v", p.Scores)
	}

	contact := write("/employer-contacts", object{"employer_id": employer, "date": "2026-03-06", "purpose": "present_candidate"}).EventIDs[0]
	p = h.participant(t, "caseworker", id)
	if len(p.EmployerContacts) != 1 || p.EmployerContacts[0].EventID != contact || p.EmployerContacts[0].EmployerID != employer {
		t.Errorf("employer contacts %+v", p.EmployerContacts)
	}

	practice, job := uuid.New(), uuid.New()
	write("/placements/start", object{"placement_id": practice, "kind": "work_practice", "employer_id": employer,
		"started_on": "2026-03-16", "hours_percentage": 50, "personal": object{"title": "Test kitchen assistant"}})
	write("/placements/change", object{"placement_id": practice, "date": "2026-04-01", "hours_percentage": 80, "contract": "temporary"})
	p = h.participant(t, "caseworker", id)
	if len(p.Placements) != 1 || p.Placements[0].HoursPercentage != 80 || p.Placements[0].Contract != "temporary" ||
		p.Placements[0].ChangedOn != "2026-04-01" || !slices.Equal(p.OpenPlacementIDs, []uuid.UUID{practice}) {
		t.Errorf("after the change: placements %+v, open %v", p.Placements, p.OpenPlacementIDs)
	}
	write("/placements/end", object{"placement_id": practice, "ended_on": "2026-04-30", "reason": "converted"})
	write("/placements/start", object{"placement_id": job, "kind": "ordinary_job", "employer_id": employer,
		"started_on": "2026-05-01", "hours_percentage": 100, "contract": "permanent"})
	p = h.participant(t, "caseworker", id)
	if len(p.Placements) != 2 || p.Placements[0].EndedOn != "2026-04-30" || p.Placements[0].EndReason != "converted" ||
		p.Placements[1].EmployerID != employer || !slices.Equal(p.OpenPlacementIDs, []uuid.UUID{job}) {
		t.Errorf("after the end: placements %+v, open %v", p.Placements, p.OpenPlacementIDs)
	}

	write("/income-source", object{"date": "2026-05-01", "income_source": "work"})
	p = h.participant(t, "caseworker", id)
	if n := len(p.IncomeSources); n != 2 || p.IncomeSources[1].Source != "work" || p.IncomeSources[1].From != "2026-05-01" {
		t.Errorf("income sources %+v", p.IncomeSources)
	}

	write("/pause", object{"date": "2026-05-04", "reason": "health"})
	if p = h.participant(t, "caseworker", id); p.Status != "paused" {
		t.Errorf("status %s after the pause, want paused", p.Status)
	}
	write("/resume", object{"date": "2026-05-08"})
	p = h.participant(t, "caseworker", id)
	if p.Status != "active" || len(p.Pauses) != 1 || p.Pauses[0].From != "2026-05-04" || p.Pauses[0].To != "2026-05-08" {
		t.Errorf("after resuming: status %s, pauses %+v", p.Status, p.Pauses)
	}

	// A correction changes what GET shows; the entry keeps its event id.
	write("/corrections", object{"entry_id": score, "entry_type": "IndicatorScored", "reason": "wrong_value",
		"replacement": json.RawMessage(scores.with("/scores/hope", 7))})
	p = h.participant(t, "caseworker", id)
	if len(p.Scores) != 1 || p.Scores[0].EventID != score || p.Scores[0].Scores.Hope != 7 || p.Scores[0].Scores.WellBeing != 5 {
		t.Errorf("after the correction: scores %+v", p.Scores)
	}

	// A void takes the meeting out of GET; the stream still holds it.
	write("/voids", object{"entry_id": mistaken, "reason": "recorded_in_error", "personal": object{"note": "Test: wrong person"}})
	p = h.participant(t, "caseworker", id)
	if len(p.Meetings) != 1 || p.Meetings[0].EventID != kept {
		t.Errorf("after the void: meetings %+v, want only %s", p.Meetings, kept)
	}
	stored := h.events(t, domain.ParticipantStream(id))
	if !slices.ContainsFunc(stored, func(e eventstore.RecordedEvent) bool { return e.ID == mistaken && e.Type == domain.TypeMeetingHeld }) {
		t.Errorf("the voided meeting %s is gone from the stream", mistaken)
	}
	if uint64(len(stored)) != rev+1 {
		t.Errorf("stream holds %d events, want %d", len(stored), rev+1)
	}

	exit := write("/exit", object{"date": "2026-05-11", "reason": "completed", "destination": "ordinary_job"})
	p = h.participant(t, "caseworker", id)
	if p.Status != "exited" || p.Episodes[0].Exit == nil || p.Episodes[0].Exit.Destination != "ordinary_job" {
		t.Errorf("after the exit: %+v", p)
	}
	exitEvent := stored[0] // any event; replaced below by the exit itself
	for _, e := range h.events(t, domain.ParticipantStream(id)) {
		if e.ID == exit.EventIDs[0] {
			exitEvent = e
		}
	}
	if exitEvent.Type != domain.TypeParticipantExited || !bytes.Contains(exitEvent.Data, []byte(job.String())) {
		t.Errorf("the exit %s does not report the open placement %s: %s", exitEvent.Type, job, exitEvent.Data)
	}

	// Re-enrolment after the exit starts episode 2.
	again := write("/enrolments", enrolBody("oslo", nid, "2026-05-12"))
	p = h.participant(t, "caseworker", id)
	if p.Status != "active" || len(p.Episodes) != 2 || p.Episodes[1].Number != 2 || p.Episodes[1].EnrolmentID != again.EventIDs[0] ||
		p.DaysInProgramme != 3 {
		t.Errorf("after re-enrolment: %+v", p)
	}

	// Auditors read too, with a purpose; the team lead of the office as well.
	if a := h.participant(t, "auditor", id); a.Revision != rev || a.Name != "Test Person" {
		t.Errorf("auditor sees %+v", a)
	}
	if tl := h.participant(t, "team-lead", id); tl.Revision != rev {
		t.Errorf("team lead sees revision %d, want %d", tl.Revision, rev)
	}
}

func TestEmployerRoutes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	orgnr := orgNumber(98765432)
	r := h.post(t, "admin", "/v1/employers", employerBody(orgnr))
	res := r.written(t, http.StatusCreated)
	id := locationID(t, r, "/v1/employers/")
	if res.Revision != 0 || res.Stream != domain.EmployerStream(id) {
		t.Fatalf("register answered %+v", res)
	}

	type employerDoc struct {
		ID                 uuid.UUID `json:"id"`
		Revision           uint64    `json:"revision"`
		OrganisationNumber string    `json:"organisation_number"`
		Name               string    `json:"name"`
		IndustryCode       string    `json:"industry_code"`
		Municipality       string    `json:"municipality"`
		Personal           *struct {
			ContactName string `json:"contact_name"`
		} `json:"personal"`
	}
	read := func(who string) employerDoc {
		t.Helper()
		// Auditors state a purpose on every request.
		r := h.get(t, who, "/v1/employers/"+id.String(), "Purpose", "employer review")
		if r.status != http.StatusOK {
			t.Fatalf("GET employer as %s: %s", who, r)
		}
		var e employerDoc
		if err := json.Unmarshal(r.body, &e); err != nil {
			t.Fatal(err)
		}
		if got, want := r.header.Get("ETag"), strconv.Quote(strconv.FormatUint(e.Revision, 10)); got != want {
			t.Errorf("ETag %s, want %s", got, want)
		}
		return e
	}
	e := read("admin")
	if e.ID != id || e.OrganisationNumber != orgnr || e.Name != "Test Employer AS" || e.Municipality != "0301" ||
		e.Personal == nil || e.Personal.ContactName != "Test Contact" {
		t.Fatalf("employer %+v", e)
	}

	up := h.ok(t, http.StatusOK, "admin", "/v1/employers/"+id.String()+"/update",
		object{"name": "Test Employer Renamed AS", "industry_code": "56.101", "municipality": "4601"})
	if up.Revision != 1 {
		t.Errorf("update answered revision %d, want 1", up.Revision)
	}
	for _, who := range []string{"admin", "caseworker", "team-lead", "auditor"} {
		e := read(who)
		if e.Revision != 1 || e.Name != "Test Employer Renamed AS" || e.IndustryCode != "56.101" || e.Municipality != "4601" ||
			e.OrganisationNumber != orgnr || e.Personal != nil {
			t.Errorf("as %s after the update: %+v", who, e)
		}
	}
}

func TestProgrammeRoutes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.post(t, "admin", "/v1/programmes", programmeBody("hope-bergen"))
	res := r.written(t, http.StatusCreated)
	if loc := r.header.Get("Location"); loc != "/v1/programmes/hope-bergen" {
		t.Errorf("Location %q", loc)
	}
	if res.Stream != domain.ProgrammeStream("hope-bergen") || res.Revision != 0 {
		t.Errorf("define answered %+v", res)
	}
	type programmeDoc struct {
		Slug     string          `json:"slug"`
		Revision uint64          `json:"revision"`
		Name     string          `json:"name"`
		Targets  []domain.Target `json:"targets"`
		Version  int             `json:"version"`
	}
	// Any role reads a programme: it holds nothing about a person.
	for _, who := range []string{"admin", "caseworker", "auditor", "evaluator", "volunteer"} {
		// Auditors state a purpose on every request.
		r := h.get(t, who, "/v1/programmes/hope-bergen", "Purpose", "target review")
		if r.status != http.StatusOK {
			t.Fatalf("GET programme as %s: %s", who, r)
		}
		var p programmeDoc
		strictUnmarshal(t, r.body, &p)
		if p.Slug != "hope-bergen" || p.Name != "Hope hope-bergen" || p.Version != 1 || p.Revision != 0 ||
			len(p.Targets) != 1 || p.Targets[0].Measure != domain.MeasureJobWithin183d || p.Targets[0].Rate != 0.6 {
			t.Errorf("as %s: %+v", who, p)
		}
		if r.header.Get("ETag") != `"0"` {
			t.Errorf("ETag %q, want \"0\"", r.header.Get("ETag"))
		}
	}
	// Redefining replaces the targets; the programme existed, so 200.
	h.ok(t, http.StatusOK, "admin", "/v1/programmes", programmeBody("hope-bergen").with("/targets", []object{{"measure": "retention_90d", "rate": 0.5}}))
	var p programmeDoc
	strictUnmarshal(t, h.get(t, "caseworker", "/v1/programmes/hope-bergen").body, &p)
	if p.Version != 2 || p.Revision != 1 || len(p.Targets) != 1 || p.Targets[0].Measure != domain.MeasureRetention90d {
		t.Errorf("after redefinition: %+v", p)
	}
}

// TestIdempotencyKey: a retried write is answered as the first time and
// stores nothing twice, however many writes came between.
func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setupProgramme(t, "hope-oslo")
	nid := nationalID(t, "1990-04-12", 100)
	body := enrolBody("oslo", nid, "2026-03-02")

	first := h.post(t, "caseworker", "/v1/participants", body, "Idempotency-Key", "enrol-test-person-1")
	first.written(t, http.StatusCreated)
	id := locationID(t, first, "/v1/participants/")
	head := h.head(t)
	again := h.post(t, "caseworker", "/v1/participants", body, "Idempotency-Key", "enrol-test-person-1")
	again.written(t, http.StatusCreated)
	if again.header.Get("Location") != first.header.Get("Location") || !bytes.Equal(again.body, first.body) {
		t.Fatalf("retried enrolment answered %s at %s, first %s at %s",
			again.body, again.header.Get("Location"), first.body, first.header.Get("Location"))
	}
	if h.head(t) != head || len(h.events(t, domain.ParticipantStream(id))) != 1 {
		t.Fatal("the retried enrolment stored an event")
	}

	meetings := participantPath(id, "/meetings")
	meeting := object{"date": "2026-03-05", "kind": "guidance"}
	m1 := h.post(t, "caseworker", meetings, meeting, "Idempotency-Key", "meeting-1")
	m1.written(t, http.StatusOK)

	// Other writes come between, with and without keys.
	h.ok(t, http.StatusOK, "caseworker", meetings, meeting.with("/date", "2026-03-06"))
	h.ok(t, http.StatusOK, "caseworker", meetings, meeting.with("/date", "2026-03-07"), "Idempotency-Key", "meeting-2")
	h.ok(t, http.StatusOK, "caseworker", participantPath(id, "/consents/give"), object{"scope": "processing", "date": "2026-03-02"})
	stream := len(h.events(t, domain.ParticipantStream(id)))
	head = h.head(t)

	for range 2 {
		r := h.post(t, "caseworker", meetings, meeting, "Idempotency-Key", "meeting-1")
		if r.status != m1.status || !bytes.Equal(r.body, m1.body) || r.header.Get("ETag") != m1.header.Get("ETag") ||
			r.header.Get("Log-Position") != m1.header.Get("Log-Position") {
			t.Fatalf("retry answered %s (ETag %s), first %s (ETag %s)", r, r.header.Get("ETag"), m1, m1.header.Get("ETag"))
		}
	}
	if got := len(h.events(t, domain.ParticipantStream(id))); got != stream || h.head(t) != head {
		t.Fatalf("retries stored events: stream %d -> %d, head %d -> %d", stream, got, head, h.head(t))
	}

	// The same key for a different request is refused, and names the header.
	for _, tt := range []struct {
		name, path string
		body       any
	}{
		{"other body", meetings, meeting.with("/kind", "phone")},
		{"other route", participantPath(id, "/scores"), object{"date": "2026-03-05", "timepoint": "baseline",
			"instrument": "indicator_index", "instrument_version": 1,
			"scores": object{"hope": 4, "well_being": 5, "network": 3, "work_attachment": 2}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := h.post(t, "caseworker", tt.path, tt.body, "Idempotency-Key", "meeting-1")
			p := r.problem(t, http.StatusUnprocessableEntity)
			if len(p.Errors) != 1 || p.Errors[0].Header != "Idempotency-Key" {
				t.Errorf("errors %+v, want the Idempotency-Key header", p.Errors)
			}
			if h.head(t) != head {
				t.Error("the refused request stored an event")
			}
		})
	}
	reused := h.post(t, "caseworker", "/v1/participants", body.with("/enrolled_on", "2026-03-03"), "Idempotency-Key", "enrol-test-person-1")
	if p := reused.problem(t, http.StatusUnprocessableEntity); len(p.Errors) != 1 || p.Errors[0].Header != "Idempotency-Key" {
		t.Errorf("enrolment with a reused key: %+v", p.Errors)
	}

	// A key is the caller's own: another user's same key is a new request.
	other := h.post(t, "caseworker-2", "/v1/participants", body, "Idempotency-Key", "enrol-test-person-1")
	other.written(t, http.StatusCreated)
	if other.header.Get("Location") == first.header.Get("Location") {
		t.Error("two users' enrolments under the same key name one participant")
	}
}

// TestIfMatch: a write that names a revision the stream has left is
// refused without appending; the current revision is accepted.
func TestIfMatch(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setupProgramme(t, "hope-oslo")
	id := h.enrol(t, "caseworker", enrolBody("oslo", nationalID(t, "1990-04-12", 100), "2026-03-02"))
	meetings := participantPath(id, "/meetings")
	meeting := object{"date": "2026-03-05", "kind": "guidance"}

	res := h.ok(t, http.StatusOK, "caseworker", meetings, meeting, "If-Match", `"0"`)
	if res.Revision != 1 {
		t.Fatalf("revision %d, want 1", res.Revision)
	}
	head := h.head(t)
	for _, stale := range []string{`"0"`, `"7"`, `"-1"`} {
		r := h.post(t, "caseworker", meetings, meeting, "If-Match", stale)
		p := r.problem(t, http.StatusPreconditionFailed)
		if len(p.Errors) != 1 || p.Errors[0].Header != "If-Match" {
			t.Errorf("If-Match %s: errors %+v", stale, p.Errors)
		}
		if h.head(t) != head {
			t.Fatalf("If-Match %s: a refused write stored an event", stale)
		}
	}
	etag := h.get(t, "caseworker", participantPath(id, "")).header.Get("ETag")
	if etag != `"1"` {
		t.Fatalf("GET ETag %s, want \"1\"", etag)
	}
	if res := h.ok(t, http.StatusOK, "caseworker", meetings, meeting, "If-Match", etag); res.Revision != 2 {
		t.Errorf("revision %d, want 2", res.Revision)
	}

	// The employer streams take If-Match as well.
	employer := h.setupEmployer(t, orgNumber(91234567))
	update := object{"name": "Test Employer Renamed AS", "industry_code": "88.990", "municipality": "0301"}
	r := h.post(t, "admin", "/v1/employers/"+employer.String()+"/update", update, "If-Match", `"3"`)
	r.problem(t, http.StatusPreconditionFailed)
	h.ok(t, http.StatusOK, "admin", "/v1/employers/"+employer.String()+"/update", update, "If-Match", `"0"`)
}

// TestOtherOfficeIsAnsweredAsMissing: a participant of another office is
// answered exactly as one that does not exist, whatever the request says.
func TestOtherOfficeIsAnsweredAsMissing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setupProgramme(t, "hope-oslo")
	bergen := h.enrol(t, "caseworker-bergen", enrolBody("bergen", nationalID(t, "1990-04-12", 100), "2026-03-02"))
	missing := uuid.New()
	head := h.caseworkHead(t)

	meeting := object{"date": "2026-03-05", "kind": "guidance"}
	for _, tt := range []struct {
		name, method, rest string
		body               string
		hdr                []string
	}{
		{"GET", http.MethodGet, "", "", nil},
		{"meeting", http.MethodPost, "/meetings", meeting.String(), nil},
		{"meeting with a key", http.MethodPost, "/meetings", meeting.String(), []string{"Idempotency-Key", "k-1"}},
		{"meeting if new", http.MethodPost, "/meetings", meeting.String(), []string{"If-Match", `"-1"`}},
		{"meeting if at 0", http.MethodPost, "/meetings", meeting.String(), []string{"If-Match", `"0"`}},
		{"re-enrolment", http.MethodPost, "/enrolments", enrolBody("oslo", nationalID(t, "1990-04-12", 100), "2026-03-02").String(), nil},
		{"correction", http.MethodPost, "/corrections", object{"entry_id": uuid.New(), "entry_type": "MeetingHeld",
			"reason": "wrong_date", "replacement": meeting}.String(), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			for i := 0; i+1 < len(tt.hdr); i += 2 {
				hdr[tt.hdr[i]] = tt.hdr[i+1]
			}
			for _, who := range []string{"caseworker", "team-lead"} {
				a := h.do(t, tt.method, participantPath(bergen, tt.rest), who, hdr, tt.body)
				b := h.do(t, tt.method, participantPath(missing, tt.rest), who, hdr, tt.body)
				pa, pb := a.problem(t, http.StatusNotFound), b.problem(t, http.StatusNotFound)
				pa.Instance, pa.CorrelationID, pb.Instance, pb.CorrelationID = "", "", "", ""
				ja, _ := json.Marshal(pa)
				jb, _ := json.Marshal(pb)
				if !bytes.Equal(ja, jb) {
					t.Errorf("as %s: other office %s, missing %s", who, ja, jb)
				}
				for _, k := range []string{"ETag", "Log-Position", "Location", "Content-Type", "Cache-Control"} {
					if a.header.Get(k) != b.header.Get(k) {
						t.Errorf("as %s: header %s %q for the other office, %q for a missing one", who, k, a.header.Get(k), b.header.Get(k))
					}
				}
			}
			if h.caseworkHead(t) != head {
				t.Fatal("a refused request stored an event")
			}
		})
	}
	// The office's own caseworker reads the participant.
	if p := h.participant(t, "caseworker-bergen", bergen); p.Episodes[0].Office != "bergen" {
		t.Errorf("bergen sees %+v", p)
	}
}

// TestAddressProtection: a participant under strengthened address
// protection is shown by name only to their team and to auditors.
func TestAddressProtection(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setupProgramme(t, "hope-oslo")
	nid := nationalID(t, "1990-04-12", 100)
	id := h.enrol(t, "caseworker", enrolBody("oslo", nid, "2026-03-02").with("/address_protection", true))
	h.ok(t, http.StatusOK, "team-lead", participantPath(id, "/caseworkers/assign"), object{"user_id": "u-kari", "role": "job_specialist", "date": "2026-03-02"})
	h.ok(t, http.StatusOK, "caseworker", participantPath(id, "/goals/set"), object{"goal_id": uuid.New(), "area": "housing",
		"date": "2026-03-03", "personal": object{"title": "Test goal: a safe flat"}})

	for _, tt := range []struct {
		who      string
		identify bool
	}{
		{"caseworker", true}, // in the team
		{"auditor", true},
		{"caseworker-2", false}, // same office, not in the team
		{"team-lead", false},
	} {
		r := h.get(t, tt.who, participantPath(id, ""), "Purpose", "complaint handling")
		if r.status != http.StatusOK {
			t.Fatalf("as %s: %s", tt.who, r)
		}
		var p participantDoc
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
		leaks := bytes.Contains(r.body, []byte("Test Person")) || bytes.Contains(r.body, []byte(nid)) ||
			bytes.Contains(r.body, []byte("safe flat"))
		switch {
		case tt.identify && (p.Name != "Test Person" || p.Redacted || p.Personal == nil || p.Goals[0].Personal == nil):
			t.Errorf("as %s: not identified: %s", tt.who, r.body)
		case !tt.identify && (p.Name != api.ProtectedLabel || !p.Redacted || leaks || !p.AddressProtection):
			t.Errorf("as %s: identified: %s", tt.who, r.body)
		}
	}
}
