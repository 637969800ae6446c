package domain

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Decisions take the folded state, a command and today's date (in
// Europe/Oslo), and return the events to append or an *InvalidError (422)
// or *RejectedError (409). They never read a clock or a store.

// decide derives what the decision sets, validates the event on its own,
// then against the state.
func decide(p Participant, e Event, today Date) ([]Event, error) {
	e = p.derive(e)
	if err := validateEvent(e, today); err != nil {
		return nil, err
	}
	if err := p.check(e); err != nil {
		return nil, err
	}
	return []Event{e}, nil
}

// Enrol starts an episode: the first, or a new one after an exit.
func Enrol(p Participant, cmd EnrolCommand, today Date) ([]Event, error) {
	return decide(p, ParticipantEnrolled{
		Programme: cmd.Programme, Office: cmd.Office, EnrolledOn: cmd.EnrolledOn,
		ReferralSource: cmd.ReferralSource, AddressProtection: cmd.AddressProtection,
		Profile: cmd.Profile, Personal: cmd.Personal,
	}, today)
}

// AssignCaseworker adds a user to the participant's team.
func AssignCaseworker(p Participant, cmd AssignCaseworkerCommand, today Date) ([]Event, error) {
	return decide(p, CaseworkerAssigned(cmd), today)
}

// UnassignCaseworker removes a user from the team; possible after exit.
func UnassignCaseworker(p Participant, cmd UnassignCaseworkerCommand, today Date) ([]Event, error) {
	return decide(p, CaseworkerUnassigned{UserID: cmd.UserID, Date: cmd.Date}, today)
}

// GiveConsent records a consent for one scope.
func GiveConsent(p Participant, cmd GiveConsentCommand, today Date) ([]Event, error) {
	return decide(p, ConsentGiven(cmd), today)
}

// WithdrawConsent records the withdrawal of a consent in force; possible
// after exit.
func WithdrawConsent(p Participant, cmd WithdrawConsentCommand, today Date) ([]Event, error) {
	return decide(p, ConsentWithdrawn(cmd), today)
}

// SetGoal adds a goal or sub-goal to the plan.
func SetGoal(p Participant, cmd SetGoalCommand, today Date) ([]Event, error) {
	return decide(p, GoalSet(cmd), today)
}

// CloseGoal closes an open goal with its outcome.
func CloseGoal(p Participant, cmd CloseGoalCommand, today Date) ([]Event, error) {
	return decide(p, GoalClosed(cmd), today)
}

// RecordMeeting records a meeting held.
func RecordMeeting(p Participant, cmd RecordMeetingCommand, today Date) ([]Event, error) {
	return decide(p, MeetingHeld(cmd), today)
}

// RecordScore records indicator-index scores at one timepoint.
func RecordScore(p Participant, cmd RecordScoreCommand, today Date) ([]Event, error) {
	return decide(p, IndicatorScored(cmd), today)
}

// RecordEmployerContact records a contact with an employer about the
// participant.
func RecordEmployerContact(p Participant, cmd RecordEmployerContactCommand, today Date) ([]Event, error) {
	return decide(p, EmployerContacted(cmd), today)
}

// StartPlacement opens a placement.
func StartPlacement(p Participant, cmd StartPlacementCommand, today Date) ([]Event, error) {
	return decide(p, PlacementStarted(cmd), today)
}

// ChangePlacement records new terms of an open placement.
func ChangePlacement(p Participant, cmd ChangePlacementCommand, today Date) ([]Event, error) {
	return decide(p, PlacementChanged(cmd), today)
}

// EndPlacement closes an open placement.
func EndPlacement(p Participant, cmd EndPlacementCommand, today Date) ([]Event, error) {
	return decide(p, PlacementEnded(cmd), today)
}

// ChangeIncomeSource records a new main income source.
func ChangeIncomeSource(p Participant, cmd ChangeIncomeSourceCommand, today Date) ([]Event, error) {
	return decide(p, IncomeSourceChanged(cmd), today)
}

// PauseParticipation starts a pause.
func PauseParticipation(p Participant, cmd PauseParticipationCommand, today Date) ([]Event, error) {
	return decide(p, ParticipationPaused(cmd), today)
}

// ResumeParticipation ends a pause.
func ResumeParticipation(p Participant, cmd ResumeParticipationCommand, today Date) ([]Event, error) {
	return decide(p, ParticipationResumed(cmd), today)
}

// Exit ends the open episode and reports the placements still open.
func Exit(p Participant, cmd ExitCommand, today Date) ([]Event, error) {
	return decide(p, ParticipantExited{Date: cmd.Date, Reason: cmd.Reason, Destination: cmd.Destination, Personal: cmd.Personal}, today)
}

// ErasePersonalData records that the participant's personal data are to
// be made unreadable for ever. After it, no entry with a personal section
// is accepted.
func ErasePersonalData(p Participant, cmd ErasePersonalDataCommand, today Date) ([]Event, error) {
	return decide(p, PersonalDataErased(cmd), today)
}

// CorrectEntry replaces an earlier entry of the stream. It takes the
// stream's history, not just its state, because the entry must exist in
// it, must not be a correction, void or erasure, and must not be voided.
// The replacement is validated like a new entry at the corrected entry's
// place in the history, and every later entry must still satisfy the
// rules with the replacement in force.
func CorrectEntry(history []Recorded, cmd CorrectEntryCommand, today Date) ([]Event, error) {
	v := &validator{}
	v.id("/entry_id", cmd.EntryID)
	v.enum("/reason", cmd.Reason == "", cmd.Reason.Valid())
	if cmd.Personal != nil {
		v.text("/personal/note", cmd.Personal.Note, MaxNoteLen, false)
	}
	if err := v.result(); err != nil {
		return nil, err
	}
	var personal []byte
	if cmd.Personal != nil {
		personal = cmd.Personal.Replacement
	}
	repl, ierr := mergeReplacement(cmd.EntryType, cmd.Replacement, personal)
	if ierr != nil {
		return nil, ierr
	}
	h := effective(history)
	target, err := h.target(cmd.EntryID)
	if err != nil {
		return nil, err
	}
	if target.typ != cmd.EntryType {
		return nil, rejected("/entry_type", CodeEntryType, "must be the type of the corrected entry, "+target.typ)
	}
	corrected := EntryCorrected{EntryID: cmd.EntryID, Reason: cmd.Reason, Replacement: repl}
	if cmd.Personal != nil && cmd.Personal.Note != "" {
		corrected.Personal = &NotePersonal{Note: cmd.Personal.Note}
	}
	if foldResolved(h).Erased && hasPersonal(corrected) {
		return nil, rejected("/personal", CodeErased, "personal data can no longer be recorded: this participant's personal data were erased")
	}
	original := deref(history[target.index].Event)
	final, err := replayWith(history, target, func(p Participant) (Event, error) {
		r := p.derive(repl)
		if en, ok := r.(ParticipantEnrolled); ok {
			en.Episode = original.(ParticipantEnrolled).Episode
			r = en
		}
		if err := validateEvent(r, today); err != nil {
			return nil, intoReplacement(err)
		}
		if err := p.check(r); err != nil {
			return nil, intoReplacement(err)
		}
		return r, nil
	})
	if err != nil {
		return nil, err
	}
	corrected.Replacement = final
	return []Event{corrected}, nil
}

// VoidEntry takes an earlier entry out of state and measures. Like
// CorrectEntry it takes the stream's history, and it refuses a void that
// would leave a later entry breaking a rule (void that one first).
func VoidEntry(history []Recorded, cmd VoidEntryCommand, today Date) ([]Event, error) {
	v := &validator{}
	v.id("/entry_id", cmd.EntryID)
	v.enum("/reason", cmd.Reason == "", cmd.Reason.Valid())
	validateNote(v, cmd.Personal)
	if err := v.result(); err != nil {
		return nil, err
	}
	h := effective(history)
	target, err := h.target(cmd.EntryID)
	if err != nil {
		return nil, err
	}
	voided := EntryVoided{EntryID: cmd.EntryID, EntryType: target.typ, Reason: cmd.Reason, Personal: cmd.Personal}
	if foldResolved(h).Erased && cmd.Personal != nil {
		return nil, rejected("/personal", CodeErased, "personal data can no longer be recorded: this participant's personal data were erased")
	}
	if _, err := replayWith(history, target, nil); err != nil {
		return nil, err
	}
	return []Event{voided}, nil
}

// target finds the entry a correction or void points at.
func (h resolved) target(id uuid.UUID) (*entry, error) {
	e, ok := h.entries[id]
	switch {
	case ok && e.voided:
		return nil, rejected("/entry_id", CodeEntryVoided, "the entry has been voided")
	case ok && correctable(e.typ):
		return e, nil
	case ok || h.ids[id] != "":
		return nil, rejected("/entry_id", CodeNotCorrectable, "corrections, voids and erasures cannot be corrected or voided")
	}
	return nil, rejected("/entry_id", CodeUnknownEntry, "no entry with this id in the participant's stream")
}

func foldResolved(h resolved) Participant {
	var p Participant
	for _, r := range h.events {
		p.apply(r)
	}
	return p
}

// replayWith folds the effective history with the target entry replaced
// by what at returns (or left out when at is nil), checking every entry
// from the target on against the state before it. It returns the
// replacement at produced.
func replayWith(history []Recorded, target *entry, at func(Participant) (Event, error)) (Event, error) {
	h := effective(history)
	var p Participant
	var replacement Event
	for _, r := range h.events {
		idx := h.entries[r.ID].index
		switch {
		case idx < target.index:
			p.apply(r)
			continue
		case idx == target.index:
			if at == nil {
				continue
			}
			ev, err := at(p)
			if err != nil {
				return nil, err
			}
			replacement, r.Event = ev, ev
		default:
			if err := p.check(r.Event); err != nil {
				return nil, rejected("/entry_id", CodeBreaksHistory, fmt.Sprintf("the later %s entry %s would break a rule: %s", r.Event.EventType(), r.ID, ruleOf(err)))
			}
		}
		p.apply(r)
	}
	return replacement, nil
}

func ruleOf(err error) string {
	switch e := err.(type) {
	case *InvalidError:
		return pointerOrBody(e.Pointer) + " " + e.Message + " (" + e.Code + ")"
	case *RejectedError:
		return e.Message + " (" + e.Code + ")"
	}
	return err.Error()
}

// intoReplacement moves an error's pointer from the replacement event into
// the correction command: public members under /replacement, personal ones
// under /personal/replacement.
func intoReplacement(err error) error {
	move := func(p string) string {
		if rest, ok := strings.CutPrefix(p, "/personal"); ok && (rest == "" || rest[0] == '/') {
			return "/personal/replacement" + rest
		}
		return "/replacement" + p
	}
	switch e := err.(type) {
	case *InvalidError:
		return &InvalidError{Pointer: move(e.Pointer), Code: e.Code, Message: e.Message}
	case *RejectedError:
		return &RejectedError{Pointer: move(e.Pointer), Code: e.Code, Message: e.Message}
	}
	return err
}
