package domain

import "github.com/google/uuid"

// check decides whether a participant event fits the state p: 409 when it
// does not, 422 when one of its dates is out of order with what p holds.
// The same check runs for a new entry, for a correction's replacement at
// the corrected entry's place, and for the entries after a correction or
// void, so that the effective history always satisfies every rule.
func (p Participant) check(e Event) error {
	if p.Erased && hasPersonal(e) {
		return rejected("/personal", CodeErased, "personal data can no longer be recorded: this participant's personal data were erased")
	}
	if en, ok := e.(ParticipantEnrolled); ok {
		return p.checkEnrolled(en)
	}
	ep, ok := p.CurrentEpisode()
	if !ok {
		return rejected("", CodeNotEnrolled, "the participant has never been enrolled")
	}
	switch e.(type) {
	case CaseworkerUnassigned, ConsentWithdrawn, PersonalDataErased:
		// Taking away access or consent and erasing data stay possible after exit.
	default:
		if !ep.Open() {
			return rejected("", CodeExited, "the participant has exited; enrol them again to record more")
		}
	}
	if d, ok := BusinessDate(e); ok && d.Before(ep.EnrolledOn) {
		return invalid(datePointer(e), CodeDateOrder, "must not be before the enrolment date")
	}

	switch e := e.(type) {
	case CaseworkerAssigned:
		if _, ok := p.Team[e.UserID]; ok {
			return rejected("/user_id", CodeAlreadyAssigned, "the user is already in the participant's team")
		}
	case CaseworkerUnassigned:
		if _, ok := p.Team[e.UserID]; !ok {
			return rejected("/user_id", CodeNotAssigned, "the user is not in the participant's team")
		}
	case ConsentGiven:
		if p.Consents[e.Scope].InForce {
			return rejected("/scope", CodeConsentGiven, "consent for this scope is already in force")
		}
	case ConsentWithdrawn:
		c := p.Consents[e.Scope]
		if !c.InForce {
			return rejected("/scope", CodeConsentNotGiven, "no consent for this scope is in force")
		}
		if e.Date.Before(c.GivenOn) {
			return invalid("/date", CodeDateOrder, "must not be before the consent was given")
		}
	case GoalSet:
		if p.goalIndex(e.GoalID) >= 0 {
			return rejected("/goal_id", CodeGoalExists, "a goal with this id exists")
		}
		if e.ParentGoalID != (uuid.Nil) && p.goalIndex(e.ParentGoalID) < 0 {
			return rejected("/parent_goal_id", CodeUnknownGoal, "the parent goal is not in this participant's plan")
		}
	case GoalClosed:
		g, ok := p.Goal(e.GoalID)
		switch {
		case !ok:
			return rejected("/goal_id", CodeUnknownGoal, "the goal is not in this participant's plan")
		case !g.Open():
			return rejected("/goal_id", CodeGoalClosed, "the goal is already closed")
		case e.Date.Before(g.SetOn):
			return invalid("/date", CodeDateOrder, "must not be before the goal was set")
		}
	case IndicatorScored:
		if (e.Timepoint == TimepointBaseline || e.Timepoint == TimepointEnd) && len(p.ScoresAt(ep.Number, e.Timepoint)) > 0 {
			return rejected("/timepoint", CodeDuplicateScore, "this episode has a score at this timepoint already; correct that entry instead")
		}
	case EmployerContacted:
		if !p.ConsentInForce(ConsentEmployerDisclosure, e.Date) {
			return rejected("/employer_id", CodeNoEmployerConsent, "contacting an employer needs the participant's employer-disclosure consent, given on or before the contact and not withdrawn")
		}
	case PlacementStarted:
		if p.placementIndex(e.PlacementID) >= 0 {
			return rejected("/placement_id", CodePlacementExists, "a placement with this id exists")
		}
		if e.EmployerID != (uuid.Nil) && !p.ConsentInForce(ConsentEmployerDisclosure, e.StartedOn) {
			return rejected("/employer_id", CodeNoEmployerConsent, "a placement with an employer needs the participant's employer-disclosure consent, given on or before the start and not withdrawn")
		}
	case PlacementChanged:
		pl, err := p.openPlacement(e.PlacementID, ep)
		switch {
		case err != nil:
			return err
		case e.Date.Before(pl.StartedOn):
			return invalid("/date", CodeDateOrder, "must not be before the placement started")
		case e.Date.Before(pl.ChangedOn):
			return invalid("/date", CodeDateOrder, "must not be before the placement's latest change")
		}
	case PlacementEnded:
		pl, err := p.openPlacement(e.PlacementID, ep)
		switch {
		case err != nil:
			return err
		case e.EndedOn.Before(pl.StartedOn):
			return invalid("/ended_on", CodeDateOrder, "the end must not be before the start of the placement")
		case e.EndedOn.Before(pl.ChangedOn):
			return invalid("/ended_on", CodeDateOrder, "the end must not be before the placement's latest change")
		}
	case ParticipationPaused:
		if p.Paused() {
			return rejected("", CodeAlreadyPaused, "participation is already paused")
		}
		if n := len(p.Pauses); n > 0 && p.Pauses[n-1].Episode == ep.Number && e.Date.Before(p.Pauses[n-1].To) {
			return invalid("/date", CodeDateOrder, "must not be before the end of the previous pause")
		}
	case ParticipationResumed:
		if !p.Paused() {
			return rejected("", CodeNotPaused, "participation is not paused")
		}
		if e.Date.Before(p.Pauses[len(p.Pauses)-1].From) {
			return invalid("/date", CodeDateOrder, "must not be before the pause began")
		}
	case ParticipantExited:
		if e.Date.Before(ep.LastEntryOn) {
			return invalid("/date", CodeDateOrder, "must not be before the latest entry of the episode")
		}
	case PersonalDataErased:
		if p.Erased {
			return rejected("", CodeAlreadyErased, "the personal data are already erased")
		}
	}
	return nil
}

func (p Participant) checkEnrolled(e ParticipantEnrolled) error {
	ep, ok := p.CurrentEpisode()
	switch {
	case !ok:
		return nil
	case ep.Open():
		return rejected("", CodeAlreadyEnrolled, "the participant is enrolled; one enrolment at a time")
	case e.EnrolledOn.Before(ep.Exit.Date):
		return invalid("/enrolled_on", CodeDateOrder, "must not be before the exit of the previous episode")
	}
	return nil
}

// openPlacement finds a placement that can still change: started in the
// current episode and not ended.
func (p Participant) openPlacement(id uuid.UUID, ep Episode) (Placement, error) {
	pl, ok := p.Placement(id)
	switch {
	case !ok:
		return Placement{}, rejected("/placement_id", CodeUnknownPlacement, "no placement with this id")
	case !pl.Open() || pl.Episode != ep.Number:
		return Placement{}, rejected("/placement_id", CodePlacementNotOpen, "the placement is not open")
	}
	return pl, nil
}

// derive fills the fields a decision sets, never the client: the episode
// number, the role of a user leaving the team, the placements open at exit.
func (p Participant) derive(e Event) Event {
	switch e := e.(type) {
	case ParticipantEnrolled:
		e.Episode = p.episodeNumber() + 1
		if ep, ok := p.CurrentEpisode(); ok && ep.Open() {
			e.Episode = ep.Number // rejected anyway; keep the number honest
		}
		return e
	case CaseworkerUnassigned:
		if role, ok := p.Team[e.UserID]; ok {
			e.Role = role
		}
		return e
	case ParticipantExited:
		e.OpenPlacements = nil
		for _, pl := range p.OpenPlacements() {
			e.OpenPlacements = append(e.OpenPlacements, OpenPlacement{PlacementID: pl.ID, Kind: pl.Kind})
		}
		return e
	}
	return e
}
