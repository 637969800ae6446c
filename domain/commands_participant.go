package domain

import (
	"encoding/json"

	"github.com/google/uuid"
)

// Commands are request bodies: decode them with DecodeCommand (or any
// strict JSON decoder). Most are the payload of the event they lead to,
// so their members are the event's; where the decision sets a member
// itself (an episode number, the placements open at exit) the command is
// its own struct without it.

// EnrolCommand is the body of Enrol: a ParticipantEnrolled without the
// episode number.
type EnrolCommand struct {
	Programme         string             `json:"programme"`
	Office            string             `json:"office"`
	EnrolledOn        Date               `json:"enrolled_on"`
	ReferralSource    ReferralSource     `json:"referral_source"`
	AddressProtection bool               `json:"address_protection"`
	Profile           Profile            `json:"profile"`
	Personal          *EnrolmentPersonal `json:"personal,omitempty"`
}

// AssignCaseworkerCommand is the body of AssignCaseworker.
type AssignCaseworkerCommand CaseworkerAssigned

// UnassignCaseworkerCommand is the body of UnassignCaseworker; the role is
// taken from the team.
type UnassignCaseworkerCommand struct {
	UserID string `json:"user_id"`
	Date   Date   `json:"date"`
}

// GiveConsentCommand is the body of GiveConsent.
type GiveConsentCommand ConsentGiven

// WithdrawConsentCommand is the body of WithdrawConsent.
type WithdrawConsentCommand ConsentWithdrawn

// SetGoalCommand is the body of SetGoal; the client chooses the goal id.
type SetGoalCommand GoalSet

// CloseGoalCommand is the body of CloseGoal.
type CloseGoalCommand GoalClosed

// RecordMeetingCommand is the body of RecordMeeting.
type RecordMeetingCommand MeetingHeld

// RecordScoreCommand is the body of RecordScore.
type RecordScoreCommand IndicatorScored

// RecordEmployerContactCommand is the body of RecordEmployerContact.
type RecordEmployerContactCommand EmployerContacted

// StartPlacementCommand is the body of StartPlacement; the client chooses
// the placement id.
type StartPlacementCommand PlacementStarted

// ChangePlacementCommand is the body of ChangePlacement.
type ChangePlacementCommand PlacementChanged

// EndPlacementCommand is the body of EndPlacement.
type EndPlacementCommand PlacementEnded

// ChangeIncomeSourceCommand is the body of ChangeIncomeSource.
type ChangeIncomeSourceCommand IncomeSourceChanged

// PauseParticipationCommand is the body of PauseParticipation.
type PauseParticipationCommand ParticipationPaused

// ResumeParticipationCommand is the body of ResumeParticipation.
type ResumeParticipationCommand ParticipationResumed

// ExitCommand is the body of Exit: a ParticipantExited without the open
// placements, which the decision reports.
type ExitCommand struct {
	Date        Date          `json:"date"`
	Reason      ExitReason    `json:"reason"`
	Destination Destination   `json:"destination"`
	Personal    *NotePersonal `json:"personal,omitempty"`
}

// CorrectEntryCommand is the body of CorrectEntry, in the JSON form of
// EntryCorrected: the replacement's public members in Replacement, its
// personal members in Personal.Replacement.
type CorrectEntryCommand struct {
	EntryID     uuid.UUID             `json:"entry_id"`
	EntryType   string                `json:"entry_type"`
	Reason      CorrectionReason      `json:"reason"`
	Replacement json.RawMessage       `json:"replacement"`
	Personal    *CorrectEntryPersonal `json:"personal,omitempty"`
}

// CorrectEntryPersonal is the personal section of a correction: the
// free-text reason and the replacement's own personal section.
type CorrectEntryPersonal struct {
	Note        string          `json:"note,omitempty"`
	Replacement json.RawMessage `json:"replacement,omitempty"`
}

// VoidEntryCommand is the body of VoidEntry; the entry type is taken from
// the stream.
type VoidEntryCommand struct {
	EntryID  uuid.UUID     `json:"entry_id"`
	Reason   VoidReason    `json:"reason"`
	Personal *NotePersonal `json:"personal,omitempty"`
}

// ErasePersonalDataCommand is the body of ErasePersonalData.
type ErasePersonalDataCommand PersonalDataErased
