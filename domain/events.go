package domain

// Event is a fact recorded in a stream. Events are plain values; their
// EventType is the type name the store keeps beside the JSON payload.
type Event interface {
	EventType() string
}

// Type names of the v1 events, as stored.
const (
	TypeParticipantEnrolled  = "ParticipantEnrolled"
	TypeCaseworkerAssigned   = "CaseworkerAssigned"
	TypeCaseworkerUnassigned = "CaseworkerUnassigned"
	TypeConsentGiven         = "ConsentGiven"
	TypeConsentWithdrawn     = "ConsentWithdrawn"
	TypeGoalSet              = "GoalSet"
	TypeGoalClosed           = "GoalClosed"
	TypeMeetingHeld          = "MeetingHeld"
	TypeIndicatorScored      = "IndicatorScored"
	TypeEmployerContacted    = "EmployerContacted"
	TypePlacementStarted     = "PlacementStarted"
	TypePlacementChanged     = "PlacementChanged"
	TypePlacementEnded       = "PlacementEnded"
	TypeIncomeSourceChanged  = "IncomeSourceChanged"
	TypeParticipationPaused  = "ParticipationPaused"
	TypeParticipationResumed = "ParticipationResumed"
	TypeParticipantExited    = "ParticipantExited"
	TypeEntryCorrected       = "EntryCorrected"
	TypeEntryVoided          = "EntryVoided"
	TypePersonalDataErased   = "PersonalDataErased"
	TypeEmployerRegistered   = "EmployerRegistered"
	TypeEmployerUpdated      = "EmployerUpdated"
	TypeProgrammeDefined     = "ProgrammeDefined"
)

// EventTypes lists every v1 event type name, participant stream first.
func EventTypes() []string {
	return []string{
		TypeParticipantEnrolled, TypeCaseworkerAssigned, TypeCaseworkerUnassigned,
		TypeConsentGiven, TypeConsentWithdrawn, TypeGoalSet, TypeGoalClosed,
		TypeMeetingHeld, TypeIndicatorScored, TypeEmployerContacted,
		TypePlacementStarted, TypePlacementChanged, TypePlacementEnded,
		TypeIncomeSourceChanged, TypeParticipationPaused, TypeParticipationResumed,
		TypeParticipantExited, TypeEntryCorrected, TypeEntryVoided, TypePersonalDataErased,
		TypeEmployerRegistered, TypeEmployerUpdated,
		TypeProgrammeDefined,
		TypeAccessRecorded,
	}
}

// eventFor is the zero value of a type name; a switch rather than a map so
// that the package holds no mutable state.
func eventFor(typ string) Event {
	switch typ {
	case TypeParticipantEnrolled:
		return ParticipantEnrolled{}
	case TypeCaseworkerAssigned:
		return CaseworkerAssigned{}
	case TypeCaseworkerUnassigned:
		return CaseworkerUnassigned{}
	case TypeConsentGiven:
		return ConsentGiven{}
	case TypeConsentWithdrawn:
		return ConsentWithdrawn{}
	case TypeGoalSet:
		return GoalSet{}
	case TypeGoalClosed:
		return GoalClosed{}
	case TypeMeetingHeld:
		return MeetingHeld{}
	case TypeIndicatorScored:
		return IndicatorScored{}
	case TypeEmployerContacted:
		return EmployerContacted{}
	case TypePlacementStarted:
		return PlacementStarted{}
	case TypePlacementChanged:
		return PlacementChanged{}
	case TypePlacementEnded:
		return PlacementEnded{}
	case TypeIncomeSourceChanged:
		return IncomeSourceChanged{}
	case TypeParticipationPaused:
		return ParticipationPaused{}
	case TypeParticipationResumed:
		return ParticipationResumed{}
	case TypeParticipantExited:
		return ParticipantExited{}
	case TypeEntryCorrected:
		return EntryCorrected{}
	case TypeEntryVoided:
		return EntryVoided{}
	case TypePersonalDataErased:
		return PersonalDataErased{}
	case TypeEmployerRegistered:
		return EmployerRegistered{}
	case TypeEmployerUpdated:
		return EmployerUpdated{}
	case TypeProgrammeDefined:
		return ProgrammeDefined{}
	case TypeAccessRecorded:
		return AccessRecorded{}
	}
	return nil
}

// StreamKind is the kind of stream an event type belongs to.
type StreamKind string

// Stream kinds.
const (
	StreamParticipant StreamKind = "participant"
	StreamEmployer    StreamKind = "employer"
	StreamProgramme   StreamKind = "programme"
)

// StreamKindOf is the kind of stream events of type typ are appended to,
// or "" for a type this package does not know.
func StreamKindOf(typ string) StreamKind {
	switch typ {
	case TypeEmployerRegistered, TypeEmployerUpdated:
		return StreamEmployer
	case TypeProgrammeDefined:
		return StreamProgramme
	case TypeAccessRecorded:
		return StreamAudit
	}
	if eventFor(typ) != nil {
		return StreamParticipant
	}
	return ""
}

// BusinessDate is the day an event says it happened (enrolled_on, date,
// started_on, ended_on), and false for events that carry none
// (corrections, voids, employer and programme events), whose business date
// is the day they were recorded.
func BusinessDate(e Event) (Date, bool) {
	var d Date
	switch e := deref(e).(type) {
	case ParticipantEnrolled:
		d = e.EnrolledOn
	case CaseworkerAssigned:
		d = e.Date
	case CaseworkerUnassigned:
		d = e.Date
	case ConsentGiven:
		d = e.Date
	case ConsentWithdrawn:
		d = e.Date
	case GoalSet:
		d = e.Date
	case GoalClosed:
		d = e.Date
	case MeetingHeld:
		d = e.Date
	case IndicatorScored:
		d = e.Date
	case EmployerContacted:
		d = e.Date
	case PlacementStarted:
		d = e.StartedOn
	case PlacementChanged:
		d = e.Date
	case PlacementEnded:
		d = e.EndedOn
	case IncomeSourceChanged:
		d = e.Date
	case ParticipationPaused:
		d = e.Date
	case ParticipationResumed:
		d = e.Date
	case ParticipantExited:
		d = e.Date
	case PersonalDataErased:
		d = e.Date
	}
	return d, !d.IsZero()
}

// datePointer is the JSON pointer of an event's business date.
func datePointer(e Event) string {
	switch deref(e).(type) {
	case ParticipantEnrolled:
		return "/enrolled_on"
	case PlacementStarted:
		return "/started_on"
	case PlacementEnded:
		return "/ended_on"
	}
	return "/date"
}
