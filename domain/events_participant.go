package domain

import "github.com/google/uuid"

// Participant stream events. Public members carry what statistics and
// phases need; everything that identifies or describes a person in words
// is in Personal, encoded as the "personal" member.

// ParticipantEnrolled starts an episode: one enrolment, up to its exit.
type ParticipantEnrolled struct {
	// Episode numbers a participant's enrolments from 1; the decision sets
	// it. Episodes are identified by the enrolment's event id; the number
	// is for people.
	Episode           int                `json:"episode"`
	Programme         string             `json:"programme"` // slug of the programme stream
	Office            string             `json:"office"`
	EnrolledOn        Date               `json:"enrolled_on"`
	ReferralSource    ReferralSource     `json:"referral_source"`
	AddressProtection bool               `json:"address_protection"`
	Profile           Profile            `json:"profile"`
	Personal          *EnrolmentPersonal `json:"personal,omitempty"`
}

// Profile is the statistical profile taken at intake; cohorts are filtered
// by it.
type Profile struct {
	BirthYear     int           `json:"birth_year"`
	Gender        Gender        `json:"gender"`
	RegionOfBirth RegionOfBirth `json:"region_of_birth"`
	// YearsInNorway is whole years lived in Norway; nil when not known.
	YearsInNorway        *int           `json:"years_in_norway,omitempty"`
	IncomeSource         IncomeSource   `json:"income_source"`
	ChildrenToProvideFor int            `json:"children_to_provide_for"`
	NorwegianLevel       NorwegianLevel `json:"norwegian_level"`
	EducationLevel       EducationLevel `json:"education_level"`
}

// EnrolmentPersonal is who the participant is and how to reach them.
type EnrolmentPersonal struct {
	Name              string `json:"name"`
	NationalID        string `json:"national_id,omitempty"` // fødselsnummer or D-number; some participants have neither
	Phone             string `json:"phone,omitempty"`
	Email             string `json:"email,omitempty"`
	Address           string `json:"address,omitempty"` // never given under address protection
	PreferredLanguage string `json:"preferred_language,omitempty"`
	InterpreterNeeded bool   `json:"interpreter_needed"`
}

// CaseworkerAssigned adds a user to the participant's team.
type CaseworkerAssigned struct {
	UserID string         `json:"user_id"`
	Role   CaseworkerRole `json:"role"`
	Date   Date           `json:"date"`
}

// CaseworkerUnassigned removes a user from the team; Role is the role they
// had.
type CaseworkerUnassigned struct {
	UserID string         `json:"user_id"`
	Role   CaseworkerRole `json:"role"`
	Date   Date           `json:"date"`
}

// ConsentGiven records a consent for one scope.
type ConsentGiven struct {
	Scope ConsentScope `json:"scope"`
	Date  Date         `json:"date"`
}

// ConsentWithdrawn records that a consent no longer holds.
type ConsentWithdrawn struct {
	Scope ConsentScope `json:"scope"`
	Date  Date         `json:"date"`
}

// GoalSet adds a goal, or a sub-goal under ParentGoalID, to the plan.
type GoalSet struct {
	GoalID       uuid.UUID     `json:"goal_id"`
	ParentGoalID uuid.UUID     `json:"parent_goal_id,omitzero"`
	Area         GoalArea      `json:"area"`
	Date         Date          `json:"date"`
	TargetDate   Date          `json:"target_date,omitzero"`
	Personal     *GoalPersonal `json:"personal,omitempty"`
}

// GoalPersonal is the goal in the participant's words.
type GoalPersonal struct {
	Title string `json:"title"`
	Note  string `json:"note,omitempty"`
}

// GoalClosed closes a goal with its outcome.
type GoalClosed struct {
	GoalID   uuid.UUID     `json:"goal_id"`
	Outcome  GoalOutcome   `json:"outcome"`
	Date     Date          `json:"date"`
	Personal *NotePersonal `json:"personal,omitempty"`
}

// NotePersonal is the free text of events that have nothing personal but
// a note (which may be a free-text reason).
type NotePersonal struct {
	Note string `json:"note,omitempty"`
}

// MeetingHeld records a meeting with or about the participant.
type MeetingHeld struct {
	Date          Date             `json:"date"`
	Kind          MeetingKind      `json:"kind"`
	NextMeetingOn Date             `json:"next_meeting_on,omitzero"`
	Personal      *MeetingPersonal `json:"personal,omitempty"`
}

// MeetingPersonal is who took part and what was said.
type MeetingPersonal struct {
	Attendees []string `json:"attendees,omitempty"`
	Minutes   string   `json:"minutes,omitempty"`
	Note      string   `json:"note,omitempty"`
}

// IndicatorScored records the participant's self-scores on the indicator
// index at one timepoint.
type IndicatorScored struct {
	Date              Date      `json:"date"`
	Timepoint         Timepoint `json:"timepoint"`
	Instrument        string    `json:"instrument"`
	InstrumentVersion int       `json:"instrument_version"`
	Scores            Scores    `json:"scores"`
}

// Scores holds one integer per dimension of the indicator index.
type Scores struct {
	Hope           int `json:"hope"`
	WellBeing      int `json:"well_being"`
	Network        int `json:"network"`
	WorkAttachment int `json:"work_attachment"`
}

// The one instrument of v1: the indicator index, scored 1 to 10 per
// dimension.
const (
	InstrumentIndicatorIndex = "indicator_index"
	IndicatorIndexVersion    = 1
	IndicatorIndexMin        = 1
	IndicatorIndexMax        = 10
)

// EmployerContacted records a contact with an employer about the
// participant, which discloses them and so needs their consent.
type EmployerContacted struct {
	EmployerID uuid.UUID      `json:"employer_id"`
	Date       Date           `json:"date"`
	Purpose    ContactPurpose `json:"purpose"`
	Personal   *NotePersonal  `json:"personal,omitempty"`
}

// PlacementStarted opens a job, practice or education placement.
type PlacementStarted struct {
	PlacementID uuid.UUID     `json:"placement_id"`
	Kind        PlacementKind `json:"kind"`
	// EmployerID is optional (education, or a job the participant found
	// without disclosure); when given, it needs employer-disclosure consent.
	EmployerID      uuid.UUID `json:"employer_id,omitzero"`
	StartedOn       Date      `json:"started_on"`
	HoursPercentage int       `json:"hours_percentage"`
	Contract        Contract  `json:"contract,omitempty"`
	// PlannedEnd is the day the placement is agreed to end (a temporary
	// contract, a work practice of a set length); zero when none is set.
	// It is a plan: the end itself is recorded by PlacementEnded. Events
	// recorded before it existed decode without it.
	PlannedEnd Date               `json:"planned_end,omitzero"`
	Personal   *PlacementPersonal `json:"personal,omitempty"`
}

// PlacementPersonal is the job title and notes, which can identify the
// participant at a small workplace.
type PlacementPersonal struct {
	Title string `json:"title,omitempty"`
	Note  string `json:"note,omitempty"`
}

// PlacementChanged records new terms of an open placement from Date on; it
// carries the terms in full, not a difference: a change without a planned
// end leaves the placement without one.
type PlacementChanged struct {
	PlacementID     uuid.UUID     `json:"placement_id"`
	Date            Date          `json:"date"`
	HoursPercentage int           `json:"hours_percentage"`
	Contract        Contract      `json:"contract,omitempty"`
	PlannedEnd      Date          `json:"planned_end,omitzero"`
	Personal        *NotePersonal `json:"personal,omitempty"`
}

// PlacementEnded closes an open placement.
type PlacementEnded struct {
	PlacementID uuid.UUID          `json:"placement_id"`
	EndedOn     Date               `json:"ended_on"`
	Reason      PlacementEndReason `json:"reason"`
	Personal    *NotePersonal      `json:"personal,omitempty"`
}

// IncomeSourceChanged records a new main income source from Date on.
type IncomeSourceChanged struct {
	Date         Date         `json:"date"`
	IncomeSource IncomeSource `json:"income_source"`
}

// ParticipationPaused starts a pause; contact-intensity weeks with a
// paused day do not count.
type ParticipationPaused struct {
	Date     Date          `json:"date"`
	Reason   PauseReason   `json:"reason"`
	Personal *NotePersonal `json:"personal,omitempty"`
}

// ParticipationResumed ends a pause.
type ParticipationResumed struct {
	Date     Date          `json:"date"`
	Personal *NotePersonal `json:"personal,omitempty"`
}

// ParticipantExited ends the open episode.
type ParticipantExited struct {
	Date        Date        `json:"date"`
	Reason      ExitReason  `json:"reason"`
	Destination Destination `json:"destination"`
	// OpenPlacements reports, for auditors, the placements still open at
	// exit, as the decision saw them. State and measures derive openness
	// from the placement events themselves, so a later correction is not
	// contradicted by this list.
	OpenPlacements []OpenPlacement `json:"open_placements,omitempty"`
	Personal       *NotePersonal   `json:"personal,omitempty"`
}

// OpenPlacement names a placement open at exit.
type OpenPlacement struct {
	PlacementID uuid.UUID     `json:"placement_id"`
	Kind        PlacementKind `json:"kind"`
}

// EntryCorrected replaces an earlier entry of the same stream by a
// corrected one of the same type. Both stay in the stream; state and
// measures use the replacement.
//
// In Go the Replacement is a whole event, its personal section included.
// In JSON the replacement's public members sit under "replacement" and its
// personal section under "personal"."replacement", so that every personal
// byte is inside the one "personal" member:
//
//	{"entry_id": "…", "entry_type": "MeetingHeld", "reason": "wrong_date",
//	 "replacement": {"date": "2026-03-02", "kind": "guidance"},
//	 "personal": {"note": "…", "replacement": {"minutes": "…"}}}
type EntryCorrected struct {
	EntryID     uuid.UUID
	Reason      CorrectionReason
	Replacement Event
	Personal    *NotePersonal // the free-text reason for the correction
}

// EntryVoided takes an earlier entry of the same stream out of state and
// measures; it stays in the stream for auditors.
type EntryVoided struct {
	EntryID   uuid.UUID     `json:"entry_id"`
	EntryType string        `json:"entry_type"`
	Reason    VoidReason    `json:"reason"`
	Personal  *NotePersonal `json:"personal,omitempty"`
}

// PersonalDataErased records that the participant's personal data were
// made unreadable for ever; the events and their public members stay.
type PersonalDataErased struct {
	Date        Date         `json:"date"`
	LegalBasis  ErasureBasis `json:"legal_basis"`
	RequestedBy Requester    `json:"requested_by"`
}

// EventType names the event.
func (ParticipantEnrolled) EventType() string { return TypeParticipantEnrolled }

// EventType names the event.
func (CaseworkerAssigned) EventType() string { return TypeCaseworkerAssigned }

// EventType names the event.
func (CaseworkerUnassigned) EventType() string { return TypeCaseworkerUnassigned }

// EventType names the event.
func (ConsentGiven) EventType() string { return TypeConsentGiven }

// EventType names the event.
func (ConsentWithdrawn) EventType() string { return TypeConsentWithdrawn }

// EventType names the event.
func (GoalSet) EventType() string { return TypeGoalSet }

// EventType names the event.
func (GoalClosed) EventType() string { return TypeGoalClosed }

// EventType names the event.
func (MeetingHeld) EventType() string { return TypeMeetingHeld }

// EventType names the event.
func (IndicatorScored) EventType() string { return TypeIndicatorScored }

// EventType names the event.
func (EmployerContacted) EventType() string { return TypeEmployerContacted }

// EventType names the event.
func (PlacementStarted) EventType() string { return TypePlacementStarted }

// EventType names the event.
func (PlacementChanged) EventType() string { return TypePlacementChanged }

// EventType names the event.
func (PlacementEnded) EventType() string { return TypePlacementEnded }

// EventType names the event.
func (IncomeSourceChanged) EventType() string { return TypeIncomeSourceChanged }

// EventType names the event.
func (ParticipationPaused) EventType() string { return TypeParticipationPaused }

// EventType names the event.
func (ParticipationResumed) EventType() string { return TypeParticipationResumed }

// EventType names the event.
func (ParticipantExited) EventType() string { return TypeParticipantExited }

// EventType names the event.
func (EntryCorrected) EventType() string { return TypeEntryCorrected }

// EventType names the event.
func (EntryVoided) EventType() string { return TypeEntryVoided }

// EventType names the event.
func (PersonalDataErased) EventType() string { return TypePersonalDataErased }
