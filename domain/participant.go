package domain

import (
	"maps"
	"reflect"
	"slices"

	"github.com/google/uuid"
)

// Participant is the state of one participant stream, folded from its
// effective events (corrections applied, voided entries left out). Items
// carry the event id that recorded them, so that a client can correct or
// void them, and the episode they belong to.
type Participant struct {
	Episodes      []Episode // in order; the last one is current
	Team          map[string]CaseworkerRole
	Consents      map[ConsentScope]Consent
	Goals         []Goal // the plan as a tree: see Goal.ParentID
	Meetings      []Meeting
	Scores        []Score
	Contacts      []Contact
	Placements    []Placement
	IncomeSources []IncomeSourcePeriod // at intake, then each change
	Pauses        []Pause
	// AddressProtection and Personal are from the latest enrolment, as
	// corrected. Personal is nil once erased.
	AddressProtection bool
	Personal          *EnrolmentPersonal
	Erased            bool
	ErasedOn          Date
}

// Episode is one enrolment up to its exit.
type Episode struct {
	Number         int
	EnrolmentID    uuid.UUID // the ParticipantEnrolled event: the episode's identity
	Programme      string
	Office         string
	EnrolledOn     Date
	ReferralSource ReferralSource
	Profile        Profile
	Exit           *EpisodeExit // nil while open
	// LastEntryOn is the latest business date recorded in the episode; an
	// exit may not come before it.
	LastEntryOn Date
}

// Open reports whether the episode has not been exited.
func (e Episode) Open() bool { return e.Exit == nil }

// EpisodeExit is how an episode ended.
type EpisodeExit struct {
	EventID     uuid.UUID
	Date        Date
	Reason      ExitReason
	Destination Destination
	Personal    *NotePersonal
}

// Consent is the state of one consent scope.
type Consent struct {
	InForce     bool
	GivenOn     Date // the latest ConsentGiven
	WithdrawnOn Date // the latest ConsentWithdrawn, zero if never
}

// Goal is a goal or, with a ParentID, a sub-goal of the plan.
type Goal struct {
	ID          uuid.UUID
	ParentID    uuid.UUID // uuid.Nil for a top-level goal
	EventID     uuid.UUID
	Episode     int
	Area        GoalArea
	SetOn       Date
	TargetDate  Date
	Outcome     GoalOutcome // "" while open
	ClosedOn    Date
	Personal    *GoalPersonal
	ClosingNote *NotePersonal
}

// Open reports whether the goal has not been closed.
func (g Goal) Open() bool { return g.Outcome == "" }

// Meeting is a MeetingHeld as state keeps it.
type Meeting struct {
	EventID       uuid.UUID
	Episode       int
	Date          Date
	Kind          MeetingKind
	NextMeetingOn Date
	Personal      *MeetingPersonal
}

// Score is an IndicatorScored as state keeps it.
type Score struct {
	EventID           uuid.UUID
	Episode           int
	Date              Date
	Timepoint         Timepoint
	Instrument        string
	InstrumentVersion int
	Scores            Scores
}

// Contact is an EmployerContacted as state keeps it.
type Contact struct {
	EventID    uuid.UUID
	Episode    int
	EmployerID uuid.UUID
	Date       Date
	Purpose    ContactPurpose
	Personal   *NotePersonal
}

// Placement is a placement with its latest terms.
type Placement struct {
	ID              uuid.UUID
	EventID         uuid.UUID // the PlacementStarted event
	Episode         int
	Kind            PlacementKind
	EmployerID      uuid.UUID
	StartedOn       Date
	HoursPercentage int
	Contract        Contract
	ChangedOn       Date // the latest PlacementChanged, zero if none
	PlannedEnd      Date // as the latest terms set it; zero when none
	EndedOn         Date // zero while open
	EndReason       PlacementEndReason
	Personal        *PlacementPersonal
}

// Open reports whether the placement has not ended.
func (p Placement) Open() bool { return p.EndedOn.IsZero() }

// IncomeSourcePeriod is a main income source from a date on.
type IncomeSourcePeriod struct {
	Episode int
	From    Date
	Source  IncomeSource
}

// Pause is a period of paused participation; To is zero while it lasts.
type Pause struct {
	EventID  uuid.UUID // the ParticipationPaused event
	Episode  int
	From     Date
	To       Date
	Reason   PauseReason
	Personal *NotePersonal
}

// Status is where a participant stands, beside their phase.
type Status string

// Statuses.
const (
	StatusNotEnrolled Status = "not_enrolled"
	StatusActive      Status = "active"
	StatusPaused      Status = "paused"
	StatusExited      Status = "exited"
)

// FoldParticipant computes a participant's state from their whole stream.
// It never rejects a well-formed event: what does not fit (a change to an
// unknown placement, say) is left out, because the stream is the truth and
// the decisions, not the fold, keep it consistent.
func FoldParticipant(history []Recorded) Participant {
	var p Participant
	if !amended(history) {
		// Nothing corrected or voided: the history is its own effective
		// history (a stream's event ids are unique), folded as it stands
		// without the bookkeeping of corrections, which is most of what a
		// fold costs.
		for _, r := range history {
			p.Extend(r)
		}
		return p
	}
	for _, r := range effective(history).events {
		p.apply(r)
	}
	return p
}

// amended reports whether history holds a correction or a void.
func amended(history []Recorded) bool {
	for _, r := range history {
		switch deref(r.Event).(type) {
		case EntryCorrected, EntryVoided:
			return true
		}
	}
	return false
}

// Extend folds one more event of the stream into p, the state of the
// history before it: p becomes FoldParticipant of the history with r
// appended. A read model can so keep a participant's state event by event
// with the fold itself. Corrections and voids change entries before them,
// which only a fold of the whole history can take into account: for those
// Extend returns false and leaves p as it was.
func (p *Participant) Extend(r Recorded) bool {
	ev := deref(r.Event)
	switch ev.(type) {
	case nil:
		return true // the fold skips it too
	case EntryCorrected, EntryVoided:
		return false
	}
	r.Event = ev
	p.apply(r)
	return true
}

// Clone returns a copy of p that shares nothing Extend changes, so that a
// state shared by readers can be extended into the next one without
// folding the whole history again. What Extend replaces rather than
// changes (an exit, a personal section) stays shared.
func (p Participant) Clone() Participant {
	c := p
	c.Episodes = slices.Clone(p.Episodes)
	c.Team = maps.Clone(p.Team)
	c.Consents = maps.Clone(p.Consents)
	c.Goals = slices.Clone(p.Goals)
	c.Meetings = slices.Clone(p.Meetings)
	c.Scores = slices.Clone(p.Scores)
	c.Contacts = slices.Clone(p.Contacts)
	c.Placements = slices.Clone(p.Placements)
	c.IncomeSources = slices.Clone(p.IncomeSources)
	c.Pauses = slices.Clone(p.Pauses)
	return c
}

// CloneFor is Clone for a copy that is to be extended with newer only:
// it copies what those events change in place, and shares the rest with
// p, clipped, so that an append to a shared slice copies it. A new
// version of a participant then costs about what its own events add.
func (p Participant) CloneFor(newer []Recorded) Participant {
	c := p
	// Every event with a business date may move the open episode's last
	// entry, so the episodes are always copied; they are few.
	c.Episodes = slices.Clone(p.Episodes)
	c.Goals, c.Meetings, c.Scores = slices.Clip(p.Goals), slices.Clip(p.Meetings), slices.Clip(p.Scores)
	c.Contacts, c.Placements = slices.Clip(p.Contacts), slices.Clip(p.Placements)
	c.IncomeSources, c.Pauses = slices.Clip(p.IncomeSources), slices.Clip(p.Pauses)
	for _, r := range newer {
		switch deref(r.Event).(type) {
		case CaseworkerAssigned, CaseworkerUnassigned:
			c.Team = maps.Clone(p.Team)
		case ConsentGiven, ConsentWithdrawn:
			c.Consents = maps.Clone(p.Consents)
		case GoalClosed:
			c.Goals = slices.Clone(p.Goals)
		case PlacementChanged, PlacementEnded:
			c.Placements = slices.Clone(p.Placements)
		case ParticipationResumed, ParticipantExited:
			c.Pauses = slices.Clone(p.Pauses)
		case PersonalDataErased, EntryCorrected, EntryVoided:
			return p.Clone() // erasure changes every item; the others refold
		}
	}
	return c
}

// EffectiveHistory is the history as the fold sees it: every corrected
// entry replaced by its latest correction at its own place, voided entries
// and the corrections and voids themselves left out. Each item of
// Participant that names an EventID was folded from the event of that id
// here, personal section included. A history that holds no correction or
// void and only decoded events (not pointers to them) is its own effective
// history, and is returned as it is: every overview read asks, and nearly
// no history is amended. The result must not be modified.
func EffectiveHistory(history []Recorded) []Recorded {
	for _, r := range history {
		switch r.Event.(type) {
		case EntryCorrected, EntryVoided, nil:
			return effective(history).events
		}
		if reflect.TypeOf(r.Event).Kind() == reflect.Pointer {
			return effective(history).events
		}
	}
	return history
}

// Status is not_enrolled, active, paused or exited.
func (p Participant) Status() Status {
	ep, ok := p.CurrentEpisode()
	switch {
	case !ok:
		return StatusNotEnrolled
	case !ep.Open():
		return StatusExited
	case p.Paused():
		return StatusPaused
	}
	return StatusActive
}

// CurrentEpisode is the latest episode, open or exited.
func (p Participant) CurrentEpisode() (Episode, bool) {
	if len(p.Episodes) == 0 {
		return Episode{}, false
	}
	return p.Episodes[len(p.Episodes)-1], true
}

// OpenEpisode is the episode in progress, if any.
func (p Participant) OpenEpisode() (Episode, bool) {
	ep, ok := p.CurrentEpisode()
	if !ok || !ep.Open() {
		return Episode{}, false
	}
	return ep, true
}

// Enrolled reports whether an episode is in progress.
func (p Participant) Enrolled() bool {
	_, ok := p.OpenEpisode()
	return ok
}

// Exited reports whether the latest episode has ended.
func (p Participant) Exited() bool {
	ep, ok := p.CurrentEpisode()
	return ok && !ep.Open()
}

// Paused reports whether participation is paused now.
func (p Participant) Paused() bool {
	return len(p.Pauses) > 0 && p.Pauses[len(p.Pauses)-1].To.IsZero() && p.Enrolled()
}

// Goal returns the goal with id.
func (p Participant) Goal(id uuid.UUID) (Goal, bool) {
	i := p.goalIndex(id)
	if i < 0 {
		return Goal{}, false
	}
	return p.Goals[i], true
}

// SubGoals returns the goals whose parent is id, in the order they were set.
func (p Participant) SubGoals(id uuid.UUID) []Goal {
	var out []Goal
	for _, g := range p.Goals {
		if g.ParentID == id && id != uuid.Nil {
			out = append(out, g)
		}
	}
	return out
}

// Placement returns the placement with id.
func (p Participant) Placement(id uuid.UUID) (Placement, bool) {
	i := p.placementIndex(id)
	if i < 0 {
		return Placement{}, false
	}
	return p.Placements[i], true
}

// OpenPlacements are the placements of the current episode that have not
// ended (after an exit: those open at exit).
func (p Participant) OpenPlacements() []Placement {
	ep, ok := p.CurrentEpisode()
	if !ok {
		return nil
	}
	var out []Placement
	for _, pl := range p.Placements {
		if pl.Episode == ep.Number && pl.Open() {
			out = append(out, pl)
		}
	}
	return out
}

// ScoresAt returns an episode's scores at one timepoint, in recorded order.
func (p Participant) ScoresAt(episode int, tp Timepoint) []Score {
	var out []Score
	for _, s := range p.Scores {
		if s.Episode == episode && s.Timepoint == tp {
			out = append(out, s)
		}
	}
	return out
}

// ConsentInForce reports whether consent for scope holds now and was given
// on or before day.
func (p Participant) ConsentInForce(scope ConsentScope, day Date) bool {
	c, ok := p.Consents[scope]
	return ok && c.InForce && !c.GivenOn.After(day)
}

// IncomeSourceOn is the main income source in force on day in the current
// episode: the latest change dated on or before it, else the one at intake.
func (p Participant) IncomeSourceOn(day Date) IncomeSource {
	ep, ok := p.CurrentEpisode()
	if !ok {
		return ""
	}
	src := ep.Profile.IncomeSource
	var best Date
	for _, s := range p.IncomeSources {
		if s.Episode == ep.Number && !s.From.After(day) && !s.From.Before(best) {
			src, best = s.Source, s.From
		}
	}
	return src
}

func (p Participant) goalIndex(id uuid.UUID) int {
	return slices.IndexFunc(p.Goals, func(g Goal) bool { return g.ID == id })
}

func (p Participant) placementIndex(id uuid.UUID) int {
	return slices.IndexFunc(p.Placements, func(pl Placement) bool { return pl.ID == id })
}

func (p Participant) episodeNumber() int {
	if ep, ok := p.CurrentEpisode(); ok {
		return ep.Number
	}
	return 0
}
