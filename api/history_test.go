package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/chain"
	"github.com/caseledger/caseledger/domain"
)

// historyDoc is GET /v1/participants/{id}/history, read strictly: the test
// spells out every member the history has.
type historyDoc struct {
	ParticipantID uuid.UUID      `json:"participant_id"`
	Stream        string         `json:"stream"`
	KnownAt       string         `json:"known_at"`
	PersonalData  bool           `json:"personal_data"`
	Erased        bool           `json:"erased"`
	Events        []historyEvent `json:"events"`
}

type historyEvent struct {
	EventID    uuid.UUID `json:"event_id"`
	Type       string    `json:"type"`
	Revision   uint64    `json:"revision"`
	Position   uint64    `json:"position"`
	OccurredOn string    `json:"occurred_on"`
	RecordedAt time.Time `json:"recorded_at"`
	Actor      struct {
		UserID string `json:"user_id"`
		Role   string `json:"role"`
		Office string `json:"office"`
	} `json:"actor"`
	CorrelationID uuid.UUID       `json:"correlation_id"`
	CausationID   uuid.UUID       `json:"causation_id"`
	SchemaVersion int             `json:"schema_version"`
	PrevDigest    string          `json:"prev_digest"`
	Data          json.RawMessage `json:"data"`
	Personal      json.RawMessage `json:"personal"`
	Corrects      uuid.UUID       `json:"corrects"`
	Voids         uuid.UUID       `json:"voids"`
	CorrectedBy   []uuid.UUID     `json:"corrected_by"`
	VoidedBy      []uuid.UUID     `json:"voided_by"`
}

// history reads a participant's history as who (auditors with a purpose).
func (h *harness) history(t *testing.T, who string, id uuid.UUID, query string) historyDoc {
	t.Helper()
	r := h.get(t, who, participantPath(id, "/history"+query), "Purpose", "quality review")
	if r.status != http.StatusOK {
		t.Fatalf("GET history as %s: %s", who, r)
	}
	var doc historyDoc
	strictUnmarshal(t, r.body, &doc)
	return doc
}

// casefile is a participant with a history worth replaying: written by a
// caseworker and a team lead, a minute apart, with a correction and a
// void.
type casefile struct {
	id                           uuid.UUID
	enrolment, meeting, score    uuid.UUID
	correction, void, lastMeet   uuid.UUID
	corrAt                       time.Time // when the correction was recorded
	corrPosition                 uint64
	enrolCorrelation, corrOfCorr uuid.UUID
}

func writeCasefile(t *testing.T, h *auditHarness) casefile {
	t.Helper()
	h.setupProgramme(t, "hope-oslo")
	var f casefile
	f.enrolCorrelation = uuid.New()
	r := h.post(t, "caseworker", "/v1/participants", enrolBody("oslo", nationalID(t, "1990-04-12", 100), "2026-03-02"),
		"X-Correlation-ID", f.enrolCorrelation.String())
	f.enrolment = r.written(t, http.StatusCreated).EventIDs[0]
	f.id = locationID(t, r, "/v1/participants/")
	write := func(who, route string, body any) writeResult {
		t.Helper()
		h.clock.advance(time.Minute)
		return h.ok(t, http.StatusOK, who, participantPath(f.id, route), body)
	}
	write("team-lead", "/caseworkers/assign", object{"user_id": "u-kari", "role": "job_specialist", "date": "2026-03-02"})
	f.meeting = write("caseworker", "/meetings", object{"date": "2026-03-05", "kind": "guidance",
		"personal": object{"minutes": "Test minutes: talked about a kitchen job"}}).EventIDs[0]
	f.score = write("caseworker", "/scores", object{"date": "2026-03-05", "timepoint": "baseline", "instrument": "indicator_index",
		"instrument_version": 1, "scores": object{"hope": 4, "well_being": 5, "network": 3, "work_attachment": 2}}).EventIDs[0]
	h.clock.advance(time.Minute)
	f.corrOfCorr = uuid.New()
	res := h.ok(t, http.StatusOK, "team-lead", participantPath(f.id, "/corrections"), object{"entry_id": f.meeting, "entry_type": "MeetingHeld",
		"reason": "wrong_date", "replacement": object{"date": "2026-03-04", "kind": "guidance"},
		"personal": object{"note": "Test note: the meeting was a day earlier"}},
		"X-Correlation-ID", f.corrOfCorr.String())
	f.correction, f.corrAt, f.corrPosition = res.EventIDs[0], h.clock.Now(), res.Position
	f.void = write("caseworker", "/voids", object{"entry_id": f.score, "reason": "duplicate"}).EventIDs[0]
	f.lastMeet = write("caseworker", "/meetings", object{"date": "2026-03-12", "kind": "phone"}).EventIDs[0]
	return f
}

func TestHistoryReplaysEveryEventWithItsMetadata(t *testing.T) {
	t.Parallel()
	h := newAuditHarness(t)
	f := writeCasefile(t, h)
	doc := h.history(t, "auditor", f.id, "")

	if doc.ParticipantID != f.id || doc.Stream != domain.ParticipantStream(f.id) || !doc.PersonalData || doc.Erased || doc.KnownAt != "" {
		t.Fatalf("history header %+v", doc)
	}
	wantTypes := []string{"ParticipantEnrolled", "CaseworkerAssigned", "MeetingHeld", "IndicatorScored", "EntryCorrected", "EntryVoided", "MeetingHeld"}
	var types []string
	for _, ev := range doc.Events {
		types = append(types, ev.Type)
	}
	if !slices.Equal(types, wantTypes) {
		t.Fatalf("types %v, want %v", types, wantTypes)
	}
	stored := h.events(t, domain.ParticipantStream(f.id))
	for i, ev := range doc.Events {
		if ev.Revision != uint64(i) || ev.EventID != stored[i].ID || ev.Position != stored[i].Position {
			t.Errorf("event %d: id %s revision %d position %d, stored %s %d %d", i, ev.EventID, ev.Revision, ev.Position,
				stored[i].ID, stored[i].Revision, stored[i].Position)
		}
		if ev.SchemaVersion != domain.SchemaVersion || ev.CorrelationID == uuid.Nil || ev.OccurredOn == "" || ev.RecordedAt.IsZero() {
			t.Errorf("event %d lacks metadata: %+v", i, ev)
		}
		link := chain.Genesis(doc.Stream)
		if i > 0 {
			link = chain.OfRecorded(stored[i-1])
		}
		if ev.PrevDigest != link.String() {
			t.Errorf("event %d: prev_digest %s, want %s", i, ev.PrevDigest, link)
		}
	}

	enrol, corr := doc.Events[0], doc.Events[4]
	if enrol.Actor.UserID != "u-kari" || enrol.Actor.Role != "caseworker" || enrol.Actor.Office != "oslo" ||
		enrol.CorrelationID != f.enrolCorrelation || enrol.OccurredOn != "2026-03-02" || !enrol.RecordedAt.Equal(caseNow) {
		t.Errorf("enrolment metadata %+v", enrol)
	}
	if corr.Actor.UserID != "u-tor" || corr.Actor.Role != "team_lead" || corr.CorrelationID != f.corrOfCorr ||
		!corr.RecordedAt.Equal(f.corrAt) || corr.OccurredOn != caseToday {
		t.Errorf("correction metadata %+v", corr)
	}

	// The personal part is apart from the public payload, and shown to
	// the auditor.
	meeting := doc.Events[2]
	if bytes.Contains(meeting.Data, []byte("Test minutes")) || !bytes.Contains(meeting.Personal, []byte("Test minutes")) ||
		!bytes.Contains(meeting.Data, []byte(`"date":"2026-03-05"`)) {
		t.Errorf("meeting data %s, personal %s", meeting.Data, meeting.Personal)
	}
	if !bytes.Contains(enrol.Personal, []byte("Test Person")) || bytes.Contains(enrol.Data, []byte("Test Person")) {
		t.Errorf("enrolment data %s, personal %s", enrol.Data, enrol.Personal)
	}

	// Corrections and voids are linked both ways.
	if !slices.Equal(meeting.CorrectedBy, []uuid.UUID{f.correction}) || corr.Corrects != f.meeting || corr.EventID != f.correction {
		t.Errorf("correction links: meeting corrected by %v, correction corrects %s", meeting.CorrectedBy, corr.Corrects)
	}
	score, void := doc.Events[3], doc.Events[5]
	if !slices.Equal(score.VoidedBy, []uuid.UUID{f.void}) || void.Voids != f.score || void.EventID != f.void {
		t.Errorf("void links: score voided by %v, void voids %s", score.VoidedBy, void.Voids)
	}
	for i, ev := range doc.Events {
		if i != 2 && len(ev.CorrectedBy) > 0 || i != 3 && len(ev.VoidedBy) > 0 || i != 4 && ev.Corrects != uuid.Nil || i != 5 && ev.Voids != uuid.Nil {
			t.Errorf("event %d (%s) has links it should not: %+v", i, ev.Type, ev)
		}
	}
	if !bytes.Contains(corr.Personal, []byte("a day earlier")) || !bytes.Contains(corr.Data, []byte(`"replacement":{"date":"2026-03-04"`)) {
		t.Errorf("correction data %s, personal %s", corr.Data, corr.Personal)
	}
}

func TestHistoryAccess(t *testing.T) {
	t.Parallel()
	h := newAuditHarness(t)
	f := writeCasefile(t, h)
	protected := h.enrol(t, "caseworker", enrolBody("oslo", nationalID(t, "1990-01-20", 200), "2026-03-02").with("/address_protection", true))
	h.ok(t, http.StatusOK, "team-lead", participantPath(protected, "/caseworkers/assign"), object{"user_id": "u-kari", "role": "job_specialist", "date": "2026-03-02"})
	bergen := h.enrol(t, "caseworker-bergen", enrolBody("bergen", nationalID(t, "1990-07-01", 300), "2026-03-02"))

	for _, tt := range []struct {
		name      string
		who       string
		id        uuid.UUID
		purpose   string
		status    int
		personal  bool   // personal parts shown
		decision  string // the access record's, "" when none is written
		reason    string
		recPurpos string
	}{
		{"auditor", "auditor", f.id, "complaint 2026-17", 200, true, "permit", "", "complaint 2026-17"},
		{"caseworker of the office", "caseworker", f.id, "", 200, true, "permit", "", "casework"},
		{"team lead of the office", "team-lead", f.id, "", 200, true, "permit", "", "casework"},
		{"caseworker with a purpose", "caseworker-2", f.id, "correction check", 200, true, "permit", "", "correction check"},
		{"assigned caseworker, address protection", "caseworker", protected, "", 200, true, "permit", "", "casework"},
		{"unassigned caseworker, address protection", "caseworker-2", protected, "", 200, false, "permit", "", "casework"},
		{"caseworker of another office", "caseworker-bergen", f.id, "", 404, false, "deny", "other_office", "casework"},
		{"team lead of another office", "team-lead", bergen, "on call", 404, false, "deny", "other_office", "on call"},
		{"unknown participant", "caseworker", uuid.New(), "", 404, false, "deny", "unknown_participant", "casework"},
		{"evaluator", "evaluator", f.id, "", 403, false, "deny", "role", ""},
		{"volunteer", "volunteer", f.id, "", 403, false, "deny", "role", ""},
		{"admin", "admin", f.id, "curious", 403, false, "deny", "role", "curious"},
		{"auditor without a purpose", "auditor", f.id, "", 400, false, "", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := h.head(t)
			var hdr []string
			if tt.purpose != "" {
				hdr = []string{"Purpose", tt.purpose}
			}
			r := h.get(t, tt.who, participantPath(tt.id, "/history"), hdr...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			leaks := bytes.Contains(r.body, []byte("Test Person")) || bytes.Contains(r.body, []byte("Test minutes"))
			if r.status == http.StatusOK {
				var doc historyDoc
				strictUnmarshal(t, r.body, &doc)
				if doc.PersonalData != tt.personal || leaks != tt.personal || len(doc.Events) == 0 {
					t.Errorf("personal_data %v, names shown %v, want %v: %s", doc.PersonalData, leaks, tt.personal, r.body)
				}
			} else {
				r.problem(t, tt.status)
				if leaks {
					t.Errorf("a refusal shows personal data: %s", r.body)
				}
			}
			if tt.decision == "" {
				if h.head(t) != before {
					t.Error("a request refused before the look recorded something")
				}
				return
			}
			rec := h.lastAccess(t, before)
			caller := callers[tt.who]
			want := domain.AccessRecorded{ParticipantID: tt.id, View: domain.ViewHistory, PersonalData: tt.personal,
				Purpose: tt.recPurpos, Decision: domain.AccessDecision(tt.decision), Reason: domain.DenyReason(tt.reason),
				Via: "GET /v1/participants/{id}/history"}
			if !reflect.DeepEqual(rec.access, want) || rec.meta.Actor.UserID != caller.UserID || rec.meta.Actor.Role != string(caller.Role) ||
				rec.meta.Actor.Office != caller.Office {
				t.Errorf("access record %+v by %+v, want %+v by %+v", rec.access, rec.meta.Actor, want, caller)
			}
			if got, want := rec.meta.CorrelationID.String(), r.header.Get("X-Correlation-ID"); got != want {
				t.Errorf("access record correlation id %s, response's %s", got, want)
			}
		})
	}
}

// TestKnownAt shows a participant as known at a point of the log: a
// correction recorded later is absent before it and present after it, by
// position and by time, in the state and in the history.
func TestKnownAt(t *testing.T) {
	t.Parallel()
	h := newAuditHarness(t)
	f := writeCasefile(t, h)

	meetingDate := func(known string) (string, participantDocKnown) {
		t.Helper()
		query := ""
		if known != "" {
			query = "?known_at=" + known
		}
		r := h.get(t, "auditor", participantPath(f.id, query), "Purpose", "what was known")
		if r.status != http.StatusOK {
			t.Fatalf("known_at=%s: %s", known, r)
		}
		var p participantDocKnown
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
		if len(p.Meetings) == 0 {
			t.Fatalf("known_at=%s: no meetings: %s", known, r.body)
		}
		return p.Meetings[0].Date, p
	}
	before, after := strconv.FormatUint(f.corrPosition-1, 10), strconv.FormatUint(f.corrPosition, 10)
	for _, tt := range []struct {
		known    string
		date     string // of the first meeting
		scores   int
		revision uint64
	}{
		{before, "2026-03-05", 1, 3},
		{after, "2026-03-04", 1, 4},
		{f.corrAt.Add(-time.Second).Format(time.RFC3339), "2026-03-05", 1, 3},
		{f.corrAt.Format(time.RFC3339), "2026-03-04", 1, 4},
		{f.corrAt.Add(time.Minute).Format(time.RFC3339Nano), "2026-03-04", 0, 5}, // the void too
		{"", "2026-03-04", 0, 6},
	} {
		date, p := meetingDate(tt.known)
		if date != tt.date || len(p.Scores) != tt.scores || p.Revision != tt.revision || p.KnownAt != tt.known {
			t.Errorf("known_at=%q: meeting on %s, %d scores, revision %d, known_at %q; want %s, %d, %d",
				tt.known, date, len(p.Scores), p.Revision, p.KnownAt, tt.date, tt.scores, tt.revision)
		}
	}

	// The history as known before the correction ends before it, and the
	// meeting is not yet corrected.
	doc := h.history(t, "auditor", f.id, "?known_at="+before)
	if n := len(doc.Events); n != 4 || doc.KnownAt != before || len(doc.Events[2].CorrectedBy) != 0 {
		t.Errorf("history before the correction: %d events, known_at %q, meeting %+v", n, doc.KnownAt, doc.Events[2])
	}
	doc = h.history(t, "auditor", f.id, "?known_at="+after)
	if n := len(doc.Events); n != 5 || !slices.Equal(doc.Events[2].CorrectedBy, []uuid.UUID{f.correction}) {
		t.Errorf("history after the correction: %d events, meeting %+v", n, doc.Events[2])
	}

	// Before the first event nothing was known: the state is not found
	// (and the look recorded), the history is empty.
	first := h.events(t, domain.ParticipantStream(f.id))[0].Position
	at := h.head(t)
	r := h.get(t, "auditor", participantPath(f.id, "?known_at="+strconv.FormatUint(first-1, 10)), "Purpose", "what was known")
	checkParam(t, r.problem(t, http.StatusNotFound), "known_at")
	if rec := h.lastAccess(t, at); rec.access.Decision != domain.AccessPermitted || rec.access.PersonalData {
		t.Errorf("look before the first event recorded as %+v", rec.access)
	}
	if doc := h.history(t, "auditor", f.id, "?known_at="+caseNow.Add(-time.Hour).Format(time.RFC3339)); len(doc.Events) != 0 {
		t.Errorf("history before the first event has %d events", len(doc.Events))
	}

	// The look records the point asked for.
	at = h.head(t)
	meetingDate(before)
	if rec := h.lastAccess(t, at); rec.access.KnownAt != before || rec.access.View != domain.ViewParticipant {
		t.Errorf("access record %+v, want known_at %s", rec.access, before)
	}
}

// participantDocKnown is the part of a participant's state TestKnownAt
// reads.
type participantDocKnown struct {
	Revision uint64 `json:"revision"`
	Position uint64 `json:"position"`
	KnownAt  string `json:"known_at"`
	Meetings []struct {
		Date string `json:"date"`
	} `json:"meetings"`
	Scores []struct{} `json:"scores"`
}

func TestKnownAtRefusesWhatItCannotRead(t *testing.T) {
	t.Parallel()
	h := newAuditHarness(t)
	f := writeCasefile(t, h)
	for _, tt := range []struct {
		name, query, field string
	}{
		{"a word", "?known_at=yesterday", "known_at"},
		{"a negative position", "?known_at=-1", "known_at"},
		{"position 0", "?known_at=0", "known_at"},
		{"a signed position", "?known_at=%2B5", "known_at"},
		{"a fraction", "?known_at=1.5", "known_at"},
		{"beyond uint64", "?known_at=18446744073709551616", "known_at"},
		{"a date without a time", "?known_at=2026-05-15", "known_at"},
		{"a time with an offset", "?known_at=2026-05-15T10:00:00%2B02:00", "known_at"},
		{"a time without a zone", "?known_at=2026-05-15T10:00:00", "known_at"},
		{"blank", "?known_at=", "known_at"},
		{"twice", "?known_at=3&known_at=4", "known_at"},
		{"an unknown parameter", "?as_of=3", "as_of"},
		{"a malformed query", "?known_at=%zz", ""},
	} {
		for _, view := range []string{"", "/history"} {
			t.Run(tt.name+view, func(t *testing.T) {
				before := h.head(t)
				r := h.get(t, "auditor", participantPath(f.id, view+tt.query), "Purpose", "review")
				p := r.problem(t, http.StatusBadRequest)
				checkParam(t, p, tt.field)
				if h.head(t) != before {
					t.Error("a refused query recorded an access")
				}
			})
		}
	}
}

func TestParticipantReadsAreRecorded(t *testing.T) {
	t.Parallel()
	h := newAuditHarness(t)
	f := writeCasefile(t, h)
	bergen := h.enrol(t, "caseworker-bergen", enrolBody("bergen", nationalID(t, "1990-07-01", 300), "2026-03-02"))
	for _, tt := range []struct {
		who      string
		id       uuid.UUID
		status   int
		decision domain.AccessDecision
		reason   domain.DenyReason
		personal bool
	}{
		{"caseworker", f.id, 200, domain.AccessPermitted, "", true},
		{"auditor", f.id, 200, domain.AccessPermitted, "", true},
		{"caseworker", bergen, 404, domain.AccessDenied, domain.DenyOtherOffice, false},
		{"team-lead", uuid.New(), 404, domain.AccessDenied, domain.DenyUnknownParticipant, false},
		{"evaluator", f.id, 403, domain.AccessDenied, domain.DenyRole, false},
		// A volunteer reads only participants they mentor: any other is
		// answered as missing, the reason recorded.
		{"volunteer", bergen, 404, domain.AccessDenied, domain.DenyOtherOffice, false},
		{"volunteer", f.id, 404, domain.AccessDenied, domain.DenyNotAssigned, false},
		{"admin", f.id, 403, domain.AccessDenied, domain.DenyRole, false},
	} {
		before := h.head(t)
		r := h.get(t, tt.who, participantPath(tt.id, ""), "Purpose", "review")
		if r.status != tt.status {
			t.Fatalf("%s: status %d, want %d: %s", tt.who, r.status, tt.status, r.body)
		}
		rec := h.lastAccess(t, before)
		want := domain.AccessRecorded{ParticipantID: tt.id, View: domain.ViewParticipant, PersonalData: tt.personal,
			Purpose: "review", Decision: tt.decision, Reason: tt.reason, Via: "GET /v1/participants/{id}"}
		if !reflect.DeepEqual(rec.access, want) || rec.meta.Actor.UserID != callers[tt.who].UserID {
			t.Errorf("%s reading: recorded %+v by %s, want %+v", tt.who, rec.access, rec.meta.Actor.UserID, want)
		}
		if want := domain.AccessLogStream(domain.DateIn(caseNow, time.UTC)); rec.stream != want {
			t.Errorf("recorded in %s, want %s", rec.stream, want)
		}
	}
}

// TestNoUnloggedLook: when the access log refuses the record, the read
// fails with 503 and shows nothing, for a permit and a denial alike; once
// the log takes records again, so does the read.
func TestNoUnloggedLook(t *testing.T) {
	t.Parallel()
	h := newAuditHarness(t)
	f := writeCasefile(t, h)
	bergen := h.enrol(t, "caseworker-bergen", enrolBody("bergen", nationalID(t, "1990-07-01", 300), "2026-03-02"))
	reads := []struct{ who, path string }{
		{"caseworker", participantPath(f.id, "")},
		{"auditor", participantPath(f.id, "")},
		{"auditor", participantPath(f.id, "?known_at=3")},
		{"caseworker", participantPath(f.id, "/history")},
		{"auditor", participantPath(f.id, "/history")},
		{"caseworker", participantPath(bergen, "")},
		{"evaluator", participantPath(f.id, "/history")},
		{"auditor", "/v1/audit/access"},
		{"auditor", "/v1/audit/access.cef"},
	}
	h.failer.fail.Store(true)
	for _, rd := range reads {
		before := h.head(t)
		r := h.get(t, rd.who, rd.path, "Purpose", "review")
		p := r.problem(t, http.StatusServiceUnavailable)
		if p.Type != "https://caseledger.invalid/problems/access_not_recorded" {
			t.Errorf("%s %s: problem type %s", rd.who, rd.path, p.Type)
		}
		for _, s := range []string{"Test Person", "Test minutes", "disk full", "u-kari", "oslo"} {
			if strings.Contains(string(r.body), s) {
				t.Errorf("%s %s: the refusal shows %q: %s", rd.who, rd.path, s, r.body)
			}
		}
		if r.header.Get("ETag") != "" {
			t.Errorf("%s %s: ETag %s on a refusal", rd.who, rd.path, r.header.Get("ETag"))
		}
		if h.head(t) != before {
			t.Errorf("%s %s: the log moved", rd.who, rd.path)
		}
	}
	h.failer.fail.Store(false)
	if p := h.participant(t, "caseworker", f.id); p.Name != "Test Person" {
		t.Errorf("after the log recovered: %+v", p)
	}

	// The server's log says why, and holds no personal data: neither the
	// data read nor the participant ids of the paths.
	logs := h.logs.String()
	if !strings.Contains(logs, "access could not be recorded") || !strings.Contains(logs, `"status":503`) {
		t.Errorf("the log does not say why reads failed:\n%s", logs)
	}
	for _, s := range []string{"Test Person", "Test minutes", "Test note", nationalID(t, "1990-04-12", 100), f.id.String(), bergen.String()} {
		if strings.Contains(logs, s) {
			t.Errorf("the server's log holds %q", s)
		}
	}
}
