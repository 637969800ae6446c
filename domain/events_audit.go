package domain

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// The access log. Every look at a participant's data or history, and at the
// access log itself, is recorded as an AccessRecorded event before anything
// is shown (access.md). The reader is the event's metadata actor (user,
// role, office) and the moment is its recorded_at; the payload holds ids,
// the view and the purpose, never personal data.
//
// Records are appended to one stream per business day (Europe/Oslo) of
// recording, "audit-access-2026-05-15", so that a query over a period reads
// only that period's streams, and no stream grows without bound.

// TypeAccessRecorded is the type name of AccessRecorded.
const TypeAccessRecorded = "AccessRecorded"

// StreamAudit is the kind of the audit streams.
const StreamAudit StreamKind = "audit"

// AccessLogStreamPrefix prefixes the access log's day streams; it is also
// a subscription filter for the whole access log.
const AccessLogStreamPrefix = "audit-access-"

// MaxPurposeLen bounds the purpose a reader states, in characters.
const MaxPurposeLen = 200

// MaxListedParticipants bounds the participants one record lists: a
// caseload page holds at most 500 rows.
const MaxListedParticipants = 500

// maxViaLen bounds the route or command an access was made through.
const maxViaLen = 255

// maxCohortLen bounds the cohort of an export record: a query string of
// its filter parameters.
const maxCohortLen = 1000

// maxKnownAtLen bounds the canonical text of a known_at point: a position
// (at most 20 digits) or an RFC 3339 time (at most 30 characters).
const maxKnownAtLen = 40

// AccessLogStream is the stream of the access records of one day.
func AccessLogStream(day Date) string { return AccessLogStreamPrefix + day.String() }

// ParseAccessLogStream returns the day of an access log stream name.
func ParseAccessLogStream(name string) (Date, error) {
	s, ok := strings.CutPrefix(name, AccessLogStreamPrefix)
	if ok {
		if d, err := ParseDate(s); err == nil {
			return d, nil
		}
	}
	return Date{}, fmt.Errorf("not an access log stream name: want %sYYYY-MM-DD", AccessLogStreamPrefix)
}

// AccessView is what a reader looked at.
type AccessView string

// Views.
const (
	// ViewParticipant is a participant's state, current or as known at a
	// point of the log.
	ViewParticipant AccessView = "participant"
	// ViewHistory is a participant's events with their metadata.
	ViewHistory AccessView = "history"
	// ViewAccessLog is the access log itself.
	ViewAccessLog AccessView = "access_log"
	// ViewCasework is a command on a participant's record (a write or an
	// erasure). Only its denials are access records: a permitted write is
	// recorded by the events it appends.
	ViewCasework AccessView = "casework"
	// ViewConfiguration is the installation's configuration: programmes
	// and employers. Only its denials are access records.
	ViewConfiguration AccessView = "configuration"
	// ViewCaseload is a page of a caseload list, recorded with the
	// participants whose rows showed who they are.
	ViewCaseload AccessView = "caseload"
	// ViewExport is the pseudonymised export: row-level data leaving the
	// system, recorded with the cohort asked for and the rows given.
	ViewExport AccessView = "export"
)

// AccessViews lists the valid views.
func AccessViews() []AccessView {
	return []AccessView{ViewParticipant, ViewHistory, ViewAccessLog, ViewCasework, ViewConfiguration, ViewCaseload, ViewExport}
}

// Valid reports whether v is a listed value.
func (v AccessView) Valid() bool { return slices.Contains(AccessViews(), v) }

// AccessDecision is whether the reader was shown what they asked for.
type AccessDecision string

// Decisions.
const (
	AccessPermitted AccessDecision = "permit"
	AccessDenied    AccessDecision = "deny"
)

// AccessDecisions lists the valid decisions.
func AccessDecisions() []AccessDecision { return []AccessDecision{AccessPermitted, AccessDenied} }

// Valid reports whether d is a listed value.
func (d AccessDecision) Valid() bool { return slices.Contains(AccessDecisions(), d) }

// DenyReason says why an access was denied. The reader was told nothing of
// it: a participant of another office is answered like one that does not
// exist.
type DenyReason string

// Reasons for denying an access.
const (
	// DenyRole: the reader's role may never see this view.
	DenyRole DenyReason = "role"
	// DenyOtherOffice: the participant belongs to another office.
	DenyOtherOffice DenyReason = "other_office"
	// DenyUnknownParticipant: the log holds no such participant.
	DenyUnknownParticipant DenyReason = "unknown_participant"
	// DenyNotAssigned: the reader may act only for participants assigned
	// to them (a volunteer mentor), and this one is not.
	DenyNotAssigned DenyReason = "not_assigned"
)

// DenyReasons lists the valid reasons.
func DenyReasons() []DenyReason {
	return []DenyReason{DenyRole, DenyOtherOffice, DenyUnknownParticipant, DenyNotAssigned}
}

// Valid reports whether r is a listed value.
func (r DenyReason) Valid() bool { return slices.Contains(DenyReasons(), r) }

// AccessRecorded is one look at a participant's data or history, or at the
// access log, permitted or denied. Who looked and when is in the event's
// metadata.
type AccessRecorded struct {
	// ParticipantID is whose data was asked for; nil for a look at the
	// access log that named no participant, and for a list page.
	ParticipantID uuid.UUID `json:"participant_id,omitzero"`
	// Participants are those a caseload page showed by name, in the
	// order shown: one record for the page, which is one look. (Logs
	// written before it have a record per row, with ParticipantID.)
	Participants []uuid.UUID `json:"participants,omitempty"`
	View         AccessView  `json:"view"`
	// PersonalData says whether personal data or notes were shown: false
	// for a redacted view (address protection) and for every denial.
	PersonalData bool `json:"personal_data"`
	// Purpose is why the reader looked, as they stated it (auditors must),
	// or the role's default ("casework").
	Purpose  string         `json:"purpose,omitempty"`
	Decision AccessDecision `json:"decision"`
	// Reason is set for denials only.
	Reason DenyReason `json:"reason,omitempty"`
	// Via is the route pattern ("GET /v1/participants/{id}") or command
	// ("caseledger history") the look was made through; never a raw path
	// or query string.
	Via string `json:"via"`
	// KnownAt is the point of the log the view was as of (a position or an
	// RFC 3339 time), empty for the current state.
	KnownAt string `json:"known_at,omitempty"`
	// SubjectUser is the user whose accesses an access-log query asked
	// for, if it named one.
	SubjectUser string `json:"subject_user,omitempty"`
	// Cohort is what an export asked for, as a query string of its
	// parameters ("as_of=2026-05-01&k=5&office=oslo"); Rows how many rows
	// it gave. Both are for exports only.
	Cohort string `json:"cohort,omitempty"`
	Rows   *int   `json:"rows,omitempty"`
}

// EventType names the event.
func (AccessRecorded) EventType() string { return TypeAccessRecorded }

// RecordAccess decides the event of one access: the record itself, if it
// is well formed.
func RecordAccess(e AccessRecorded) ([]Event, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return []Event{e}, nil
}

// Validate reports a record that must not be written: an unknown view or
// decision, a denial without a reason or a permit with one, a denial that
// claims personal data were shown, a permitted participant view without
// the participant, or text that is too long or holds control characters.
func (e AccessRecorded) Validate() error {
	var v validator
	v.enum("/view", e.View == "", e.View.Valid())
	if (e.View == ViewParticipant || e.View == ViewHistory) && e.Decision == AccessPermitted && e.ParticipantID == uuid.Nil {
		v.fail("/participant_id", CodeRequired, "a permitted look at a participant names the participant")
	}
	switch {
	case len(e.Participants) > 0 && e.View != ViewCaseload:
		v.fail("/participants", CodeMismatch, "only a caseload page lists participants")
	case len(e.Participants) > 0 && e.ParticipantID != uuid.Nil:
		v.fail("/participants", CodeMismatch, "a record names one participant or lists several, not both")
	case len(e.Participants) > MaxListedParticipants:
		v.fail("/participants", CodeTooLong, fmt.Sprintf("at most %d participants", MaxListedParticipants))
	case slices.Contains(e.Participants, uuid.Nil):
		v.fail("/participants", CodeRequired, "every participant listed is named")
	}
	v.line("/purpose", e.Purpose, MaxPurposeLen, false)
	v.enum("/decision", e.Decision == "", e.Decision.Valid())
	switch {
	case e.Decision == AccessDenied && e.Reason == "":
		v.fail("/reason", CodeRequired, "a denial states its reason")
	case e.Decision == AccessDenied && !e.Reason.Valid():
		v.fail("/reason", CodeNotAllowed, "is not one of the listed values")
	case e.Decision != AccessDenied && e.Reason != "":
		v.fail("/reason", CodeMismatch, "only a denial has a reason")
	case e.Decision == AccessDenied && e.PersonalData:
		v.fail("/personal_data", CodeMismatch, "a denial shows no personal data")
	}
	v.line("/via", e.Via, maxViaLen, true)
	v.line("/known_at", e.KnownAt, maxKnownAtLen, false)
	v.line("/subject_user", e.SubjectUser, MaxIDLen, false)
	v.line("/cohort", e.Cohort, maxCohortLen, false)
	switch {
	case e.View != ViewExport && (e.Cohort != "" || e.Rows != nil):
		v.fail("/cohort", CodeMismatch, "only an export has a cohort and rows")
	case e.View == ViewExport && e.Decision == AccessPermitted && e.Rows == nil:
		v.fail("/rows", CodeRequired, "a permitted export states how many rows it gave")
	case e.Rows != nil && *e.Rows < 0:
		v.fail("/rows", CodeOutOfRange, "a count of rows is not negative")
	}
	return v.result()
}
