package domain

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestAccessLogStream(t *testing.T) {
	day := d("2026-05-15")
	if got := AccessLogStream(day); got != "audit-access-2026-05-15" {
		t.Errorf("AccessLogStream = %q", got)
	}
	if got, err := ParseAccessLogStream("audit-access-2026-05-15"); err != nil || got != day {
		t.Errorf("ParseAccessLogStream = %v, %v", got, err)
	}
	for _, bad := range []string{"audit-access-", "audit-access-2026-02-30", "audit-access-2026-5-15", "participant-2026-05-15", "audit-access-2026-05-15x"} {
		if _, err := ParseAccessLogStream(bad); err == nil {
			t.Errorf("ParseAccessLogStream(%q) accepted", bad)
		}
	}
	if StreamKindOf(TypeAccessRecorded) != StreamAudit || correctable(TypeAccessRecorded) {
		t.Error("an access record is an audit event, and cannot be corrected")
	}
}

func caseloadPage(e *AccessRecorded, shown ...uuid.UUID) {
	e.View, e.ParticipantID, e.Participants, e.Via = ViewCaseload, uuid.Nil, shown, "GET /v1/caseload"
}

func TestAccessRecordedValidate(t *testing.T) {
	participant := uuid.MustParse("e0000000-0000-4000-8000-000000000009")
	ok := AccessRecorded{ParticipantID: participant, View: ViewParticipant, PersonalData: true, Purpose: "casework",
		Decision: AccessPermitted, Via: "GET /v1/participants/{id}"}
	for _, tt := range []struct {
		name    string
		edit    func(*AccessRecorded)
		pointer string // "" when valid
	}{
		{"a permitted look", func(*AccessRecorded) {}, ""},
		{"a denial", func(e *AccessRecorded) { e.Decision, e.Reason, e.PersonalData = AccessDenied, DenyOtherOffice, false }, ""},
		{"a denial of a malformed id", func(e *AccessRecorded) {
			e.ParticipantID, e.Decision, e.Reason, e.PersonalData = uuid.Nil, AccessDenied, DenyRole, false
		}, ""},
		{"an access-log query", func(e *AccessRecorded) {
			e.ParticipantID, e.View, e.PersonalData, e.SubjectUser = uuid.Nil, ViewAccessLog, false, "u-kari"
		}, ""},
		{"as known at", func(e *AccessRecorded) { e.KnownAt = "2026-05-15T10:00:00.123456789Z" }, ""},
		{"no purpose", func(e *AccessRecorded) { e.Purpose = "" }, ""},
		{"the longest purpose", func(e *AccessRecorded) { e.Purpose = strings.Repeat("å", MaxPurposeLen) }, ""},
		{"no view", func(e *AccessRecorded) { e.View = "" }, "/view"},
		{"an unknown view", func(e *AccessRecorded) { e.View = "notes" }, "/view"},
		{"a permitted look at nobody", func(e *AccessRecorded) { e.ParticipantID = uuid.Nil }, "/participant_id"},
		{"a purpose too long", func(e *AccessRecorded) { e.Purpose = strings.Repeat("p", MaxPurposeLen+1) }, "/purpose"},
		{"a purpose of two lines", func(e *AccessRecorded) { e.Purpose = "one\ntwo" }, "/purpose"},
		{"no decision", func(e *AccessRecorded) { e.Decision = "" }, "/decision"},
		{"an unknown decision", func(e *AccessRecorded) { e.Decision = "maybe" }, "/decision"},
		{"a denial without a reason", func(e *AccessRecorded) { e.Decision, e.PersonalData = AccessDenied, false }, "/reason"},
		{"a denial for an unknown reason", func(e *AccessRecorded) { e.Decision, e.Reason, e.PersonalData = AccessDenied, "bored", false }, "/reason"},
		{"a permit with a reason", func(e *AccessRecorded) { e.Reason = DenyRole }, "/reason"},
		{"a denial that showed personal data", func(e *AccessRecorded) { e.Decision, e.Reason = AccessDenied, DenyRole }, "/personal_data"},
		{"no route", func(e *AccessRecorded) { e.Via = "" }, "/via"},
		{"a route with a control character", func(e *AccessRecorded) { e.Via = "GET \x00" }, "/via"},
		{"a known_at too long", func(e *AccessRecorded) { e.KnownAt = strings.Repeat("9", 41) }, "/known_at"},
		{"a subject user too long", func(e *AccessRecorded) { e.SubjectUser = strings.Repeat("u", MaxIDLen+1) }, "/subject_user"},
		{"an export", func(e *AccessRecorded) { exportRecord(e, "as_of=2026-05-01&k=5", 12) }, ""},
		{"an export of no rows", func(e *AccessRecorded) { exportRecord(e, "as_of=2026-05-01&k=5", 0) }, ""},
		{"an export refused", func(e *AccessRecorded) {
			exportRecord(e, "", 0)
			e.Rows, e.Decision, e.Reason = nil, AccessDenied, DenyRole
		}, ""},
		{"an export without its rows", func(e *AccessRecorded) { exportRecord(e, "k=5", 0); e.Rows = nil }, "/rows"},
		{"an export of fewer than no rows", func(e *AccessRecorded) { exportRecord(e, "k=5", -1) }, "/rows"},
		{"a cohort too long", func(e *AccessRecorded) { exportRecord(e, strings.Repeat("c", 1001), 1) }, "/cohort"},
		{"a look at a participant with a cohort", func(e *AccessRecorded) { e.Cohort = "k=5" }, "/cohort"},
		{"a look at a participant with rows", func(e *AccessRecorded) { e.Rows = new(int) }, "/cohort"},
		{"a caseload page", func(e *AccessRecorded) { caseloadPage(e, participant, uuid.New()) }, ""},
		{"a caseload page of the longest", func(e *AccessRecorded) {
			caseloadPage(e, make([]uuid.UUID, MaxListedParticipants)...)
			for i := range e.Participants {
				e.Participants[i] = uuid.New()
			}
		}, ""},
		{"a caseload page too long", func(e *AccessRecorded) {
			caseloadPage(e, make([]uuid.UUID, MaxListedParticipants+1)...)
			for i := range e.Participants {
				e.Participants[i] = uuid.New()
			}
		}, "/participants"},
		{"a caseload page listing nobody", func(e *AccessRecorded) { caseloadPage(e, participant, uuid.Nil) }, "/participants"},
		{"a caseload page that also names one", func(e *AccessRecorded) { caseloadPage(e, participant); e.ParticipantID = participant }, "/participants"},
		{"a look at one participant listing others", func(e *AccessRecorded) { e.Participants = []uuid.UUID{participant} }, "/participants"},
		{"a caseload row, as logs before pages recorded it", func(e *AccessRecorded) { e.View = ViewCaseload }, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := ok
			tt.edit(&e)
			err := e.Validate()
			events, derr := RecordAccess(e)
			if tt.pointer == "" {
				if err != nil || derr != nil || len(events) != 1 || !reflect.DeepEqual(events[0], Event(e)) {
					t.Fatalf("refused: %v, %v", err, derr)
				}
				return
			}
			var inv *InvalidError
			if !errors.As(err, &inv) || inv.Pointer != tt.pointer || derr == nil || events != nil {
				t.Fatalf("error %v (decide: %v), want one at %s", err, derr, tt.pointer)
			}
		})
	}
}

// exportRecord makes e the record of an export of rows rows.
func exportRecord(e *AccessRecorded, cohort string, rows int) {
	e.ParticipantID, e.View, e.PersonalData, e.Via = uuid.Nil, ViewExport, false, "GET /v1/exports/episodes.csv"
	e.Cohort, e.Rows = cohort, &rows
}
