package domain

import (
	"strconv"

	"github.com/google/uuid"
)

// validateEvent checks a participant event on its own, against today only:
// what is wrong here is wrong in any state (422). Pointers are those of the
// command body, which mirrors the event.
func validateEvent(e Event, today Date) error {
	v := &validator{}
	switch e := e.(type) {
	case ParticipantEnrolled:
		validateEnrolled(v, e, today)
	case CaseworkerAssigned:
		v.line("/user_id", e.UserID, MaxIDLen, true)
		v.enum("/role", e.Role == "", e.Role.Valid())
		v.date("/date", e.Date, today)
	case CaseworkerUnassigned:
		v.line("/user_id", e.UserID, MaxIDLen, true)
		v.optEnum("/role", e.Role == "", e.Role.Valid())
		v.date("/date", e.Date, today)
	case ConsentGiven:
		v.enum("/scope", e.Scope == "", e.Scope.Valid())
		v.date("/date", e.Date, today)
	case ConsentWithdrawn:
		v.enum("/scope", e.Scope == "", e.Scope.Valid())
		v.date("/date", e.Date, today)
	case GoalSet:
		v.id("/goal_id", e.GoalID)
		if e.ParentGoalID == e.GoalID && e.GoalID != uuid.Nil {
			v.fail("/parent_goal_id", CodeMismatch, "a goal cannot be its own parent")
		}
		v.enum("/area", e.Area == "", e.Area.Valid())
		v.date("/date", e.Date, today)
		v.notBefore("/target_date", e.TargetDate, e.Date, "the date the goal is set")
		if e.Personal == nil {
			v.fail("/personal/title", CodeRequired, "is required")
		} else {
			v.line("/personal/title", e.Personal.Title, MaxTitleLen, true)
			v.text("/personal/note", e.Personal.Note, MaxNoteLen, false)
		}
	case GoalClosed:
		v.id("/goal_id", e.GoalID)
		v.enum("/outcome", e.Outcome == "", e.Outcome.Valid())
		v.date("/date", e.Date, today)
		validateNote(v, e.Personal)
	case MeetingHeld:
		v.date("/date", e.Date, today)
		v.enum("/kind", e.Kind == "", e.Kind.Valid())
		v.notBefore("/next_meeting_on", e.NextMeetingOn, e.Date, "the meeting")
		if p := e.Personal; p != nil {
			if len(p.Attendees) > MaxAttendees {
				v.fail("/personal/attendees", CodeTooLong, "must list at most 50 people")
			}
			for i, a := range p.Attendees {
				v.line("/personal/attendees/"+strconv.Itoa(i), a, MaxNameLen, true)
			}
			v.text("/personal/minutes", p.Minutes, MaxNoteLen, false)
			v.text("/personal/note", p.Note, MaxNoteLen, false)
		}
	case IndicatorScored:
		v.date("/date", e.Date, today)
		v.enum("/timepoint", e.Timepoint == "", e.Timepoint.Valid())
		v.enum("/instrument", e.Instrument == "", e.Instrument == InstrumentIndicatorIndex)
		if e.InstrumentVersion != IndicatorIndexVersion {
			v.fail("/instrument_version", CodeNotAllowed, "must be 1, the only version of the indicator index")
		}
		v.between("/scores/hope", e.Scores.Hope, IndicatorIndexMin, IndicatorIndexMax)
		v.between("/scores/well_being", e.Scores.WellBeing, IndicatorIndexMin, IndicatorIndexMax)
		v.between("/scores/network", e.Scores.Network, IndicatorIndexMin, IndicatorIndexMax)
		v.between("/scores/work_attachment", e.Scores.WorkAttachment, IndicatorIndexMin, IndicatorIndexMax)
	case EmployerContacted:
		v.id("/employer_id", e.EmployerID)
		v.date("/date", e.Date, today)
		v.enum("/purpose", e.Purpose == "", e.Purpose.Valid())
		validateNote(v, e.Personal)
	case PlacementStarted:
		v.id("/placement_id", e.PlacementID)
		v.enum("/kind", e.Kind == "", e.Kind.Valid())
		v.date("/started_on", e.StartedOn, today)
		v.between("/hours_percentage", e.HoursPercentage, 1, 100)
		v.optEnum("/contract", e.Contract == "", e.Contract.Valid())
		v.notBefore("/planned_end", e.PlannedEnd, e.StartedOn, "the start of the placement")
		if p := e.Personal; p != nil {
			v.line("/personal/title", p.Title, MaxNameLen, false)
			v.text("/personal/note", p.Note, MaxNoteLen, false)
		}
	case PlacementChanged:
		v.id("/placement_id", e.PlacementID)
		v.date("/date", e.Date, today)
		v.between("/hours_percentage", e.HoursPercentage, 1, 100)
		v.optEnum("/contract", e.Contract == "", e.Contract.Valid())
		// A planned end before the change itself is an end that has
		// happened: that is PlacementEnded's to record.
		v.notBefore("/planned_end", e.PlannedEnd, e.Date, "the date of the change")
		validateNote(v, e.Personal)
	case PlacementEnded:
		v.id("/placement_id", e.PlacementID)
		v.date("/ended_on", e.EndedOn, today)
		v.enum("/reason", e.Reason == "", e.Reason.Valid())
		validateNote(v, e.Personal)
	case IncomeSourceChanged:
		v.date("/date", e.Date, today)
		v.enum("/income_source", e.IncomeSource == "", e.IncomeSource.Valid())
	case ParticipationPaused:
		v.date("/date", e.Date, today)
		v.enum("/reason", e.Reason == "", e.Reason.Valid())
		validateNote(v, e.Personal)
	case ParticipationResumed:
		v.date("/date", e.Date, today)
		validateNote(v, e.Personal)
	case ParticipantExited:
		v.date("/date", e.Date, today)
		v.enum("/reason", e.Reason == "", e.Reason.Valid())
		v.enum("/destination", e.Destination == "", e.Destination.Valid())
		validateNote(v, e.Personal)
	case PersonalDataErased:
		v.date("/date", e.Date, today)
		v.enum("/legal_basis", e.LegalBasis == "", e.LegalBasis.Valid())
		v.enum("/requested_by", e.RequestedBy == "", e.RequestedBy.Valid())
	default:
		v.fail("", CodeNotAllowed, "is not a participant entry")
	}
	return v.result()
}

func validateEnrolled(v *validator, e ParticipantEnrolled, today Date) {
	v.slug("/programme", e.Programme)
	v.line("/office", e.Office, MaxIDLen, true)
	v.date("/enrolled_on", e.EnrolledOn, today)
	v.enum("/referral_source", e.ReferralSource == "", e.ReferralSource.Valid())

	pr := e.Profile
	year := today.Year()
	if !e.EnrolledOn.IsZero() && e.EnrolledOn.Before(today) {
		year = e.EnrolledOn.Year()
	}
	if pr.BirthYear == 0 {
		v.fail("/profile/birth_year", CodeRequired, "is required")
	}
	v.between("/profile/birth_year", pr.BirthYear, 1900, year)
	v.enum("/profile/gender", pr.Gender == "", pr.Gender.Valid())
	v.enum("/profile/region_of_birth", pr.RegionOfBirth == "", pr.RegionOfBirth.Valid())
	if pr.YearsInNorway != nil {
		v.between("/profile/years_in_norway", *pr.YearsInNorway, 0, max(0, min(MaxYearsInNorway, year-pr.BirthYear)))
	}
	v.enum("/profile/income_source", pr.IncomeSource == "", pr.IncomeSource.Valid())
	v.between("/profile/children_to_provide_for", pr.ChildrenToProvideFor, 0, MaxChildren)
	v.enum("/profile/norwegian_level", pr.NorwegianLevel == "", pr.NorwegianLevel.Valid())
	v.enum("/profile/education_level", pr.EducationLevel == "", pr.EducationLevel.Valid())

	p := e.Personal
	if p == nil {
		v.fail("/personal/name", CodeRequired, "is required")
		return
	}
	v.line("/personal/name", p.Name, MaxNameLen, true)
	if p.NationalID != "" {
		id, err := ParseNationalID(p.NationalID)
		if err != nil {
			v.failWith("/personal/national_id", err.(*InvalidError))
		} else if pr.BirthYear != 0 && id.Birth.Year() != pr.BirthYear {
			v.fail("/profile/birth_year", CodeMismatch, "does not match the birth date in the national id number")
		}
	}
	v.phone("/personal/phone", p.Phone)
	v.line("/personal/email", p.Email, 254, false)
	v.email("/personal/email", p.Email)
	v.text("/personal/address", p.Address, MaxAddressLen, false)
	if e.AddressProtection && p.Address != "" {
		v.fail("/personal/address", CodeAddressProtect, "must not be recorded for a person under address protection")
	}
	v.language("/personal/preferred_language", p.PreferredLanguage)
}

func validateNote(v *validator, p *NotePersonal) {
	if p != nil {
		v.text("/personal/note", p.Note, MaxNoteLen, false)
	}
}
