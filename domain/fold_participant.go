package domain

import "github.com/google/uuid"

// resolved is a stream's history with corrections and voids resolved.
type resolved struct {
	events  []Recorded           // effective events, in stream order
	entries map[uuid.UUID]*entry // every entry that is not a correction or void
	ids     map[uuid.UUID]string // every event id of the stream, with its type
}

type entry struct {
	index     int // in the stream
	typ       string
	voided    bool
	corrected bool
}

// effective resolves corrections and voids: a corrected entry is replaced
// by its latest correction at its own place in the stream, a voided entry
// is left out. A correction or void that does not point at an earlier
// entry of the same type is ignored, as is a correction of a voided entry.
func effective(recs []Recorded) resolved {
	h := resolved{entries: map[uuid.UUID]*entry{}, ids: map[uuid.UUID]string{}}
	replacements := map[uuid.UUID]Event{}
	for i, r := range recs {
		ev := deref(r.Event)
		if ev == nil {
			continue
		}
		h.ids[r.ID] = ev.EventType()
		switch ev := ev.(type) {
		case EntryVoided:
			if e, ok := h.entries[ev.EntryID]; ok && e.typ == ev.EntryType {
				e.voided = true
			}
		case EntryCorrected:
			if e, ok := h.entries[ev.EntryID]; ok && !e.voided && ev.EntryType() == e.typ {
				e.corrected = true
				replacements[ev.EntryID] = deref(ev.Replacement)
			}
		default:
			h.entries[r.ID] = &entry{index: i, typ: ev.EventType()}
		}
	}
	for i, r := range recs {
		e, ok := h.entries[r.ID]
		if !ok || e.index != i || e.voided {
			continue
		}
		if repl, ok := replacements[r.ID]; ok {
			r.Event = repl
		}
		r.Event = deref(r.Event)
		h.events = append(h.events, r)
	}
	return h
}

// apply folds one effective event into p, leniently.
func (p *Participant) apply(r Recorded) {
	ev := r.Event
	if p.Erased {
		ev = withoutPersonal(ev)
	}
	n := p.episodeNumber()
	switch e := ev.(type) {
	case ParticipantEnrolled:
		n = e.Episode
		if n <= 0 {
			n = p.episodeNumber() + 1
		}
		p.Episodes = append(p.Episodes, Episode{
			Number: n, EnrolmentID: r.ID, Programme: e.Programme, Office: e.Office,
			EnrolledOn: e.EnrolledOn, ReferralSource: e.ReferralSource, Profile: e.Profile,
			LastEntryOn: e.EnrolledOn,
		})
		p.AddressProtection = e.AddressProtection
		p.Personal = e.Personal
		p.IncomeSources = append(p.IncomeSources, IncomeSourcePeriod{Episode: n, From: e.EnrolledOn, Source: e.Profile.IncomeSource})
	case CaseworkerAssigned:
		if p.Team == nil {
			p.Team = map[string]CaseworkerRole{}
		}
		p.Team[e.UserID] = e.Role
	case CaseworkerUnassigned:
		delete(p.Team, e.UserID)
	case ConsentGiven:
		if p.Consents == nil {
			p.Consents = map[ConsentScope]Consent{}
		}
		c := p.Consents[e.Scope]
		c.InForce, c.GivenOn = true, e.Date
		p.Consents[e.Scope] = c
	case ConsentWithdrawn:
		if c, ok := p.Consents[e.Scope]; ok {
			c.InForce, c.WithdrawnOn = false, e.Date
			p.Consents[e.Scope] = c
		}
	case GoalSet:
		if p.goalIndex(e.GoalID) < 0 {
			p.Goals = append(p.Goals, Goal{
				ID: e.GoalID, ParentID: e.ParentGoalID, EventID: r.ID, Episode: n,
				Area: e.Area, SetOn: e.Date, TargetDate: e.TargetDate, Personal: e.Personal,
			})
		}
	case GoalClosed:
		if i := p.goalIndex(e.GoalID); i >= 0 {
			g := &p.Goals[i]
			g.Outcome, g.ClosedOn, g.ClosingNote = e.Outcome, e.Date, e.Personal
		}
	case MeetingHeld:
		p.Meetings = append(p.Meetings, Meeting{EventID: r.ID, Episode: n, Date: e.Date, Kind: e.Kind, NextMeetingOn: e.NextMeetingOn, Personal: e.Personal})
	case IndicatorScored:
		p.Scores = append(p.Scores, Score{
			EventID: r.ID, Episode: n, Date: e.Date, Timepoint: e.Timepoint,
			Instrument: e.Instrument, InstrumentVersion: e.InstrumentVersion, Scores: e.Scores,
		})
	case EmployerContacted:
		p.Contacts = append(p.Contacts, Contact{EventID: r.ID, Episode: n, EmployerID: e.EmployerID, Date: e.Date, Purpose: e.Purpose, Personal: e.Personal})
	case PlacementStarted:
		if p.placementIndex(e.PlacementID) < 0 {
			p.Placements = append(p.Placements, Placement{
				ID: e.PlacementID, EventID: r.ID, Episode: n, Kind: e.Kind, EmployerID: e.EmployerID,
				StartedOn: e.StartedOn, HoursPercentage: e.HoursPercentage, Contract: e.Contract, PlannedEnd: e.PlannedEnd,
				Personal: e.Personal,
			})
		}
	case PlacementChanged:
		if i := p.placementIndex(e.PlacementID); i >= 0 && p.Placements[i].Open() {
			pl := &p.Placements[i]
			pl.HoursPercentage, pl.Contract, pl.PlannedEnd, pl.ChangedOn = e.HoursPercentage, e.Contract, e.PlannedEnd, e.Date
		}
	case PlacementEnded:
		if i := p.placementIndex(e.PlacementID); i >= 0 && p.Placements[i].Open() {
			pl := &p.Placements[i]
			pl.EndedOn, pl.EndReason = e.EndedOn, e.Reason
		}
	case IncomeSourceChanged:
		p.IncomeSources = append(p.IncomeSources, IncomeSourcePeriod{Episode: n, From: e.Date, Source: e.IncomeSource})
	case ParticipationPaused:
		if !p.Paused() {
			p.Pauses = append(p.Pauses, Pause{EventID: r.ID, Episode: n, From: e.Date, Reason: e.Reason, Personal: e.Personal})
		}
	case ParticipationResumed:
		if p.Paused() {
			p.Pauses[len(p.Pauses)-1].To = e.Date
		}
	case ParticipantExited:
		if len(p.Episodes) > 0 && p.Episodes[len(p.Episodes)-1].Open() {
			if p.Paused() {
				p.Pauses[len(p.Pauses)-1].To = e.Date
			}
			p.Episodes[len(p.Episodes)-1].Exit = &EpisodeExit{EventID: r.ID, Date: e.Date, Reason: e.Reason, Destination: e.Destination, Personal: e.Personal}
		}
	case PersonalDataErased:
		p.erase(e.Date)
	}
	if d, ok := BusinessDate(ev); ok && len(p.Episodes) > 0 {
		last := &p.Episodes[len(p.Episodes)-1]
		if last.Open() && d.After(last.LastEntryOn) {
			last.LastEntryOn = d
		}
	}
}

// erase drops every personal section from state, as the key destruction
// does from the stored events.
func (p *Participant) erase(on Date) {
	p.Erased, p.ErasedOn = true, on
	p.Personal = nil
	for i := range p.Episodes {
		if p.Episodes[i].Exit != nil {
			x := *p.Episodes[i].Exit
			x.Personal = nil
			p.Episodes[i].Exit = &x
		}
	}
	for i := range p.Goals {
		p.Goals[i].Personal, p.Goals[i].ClosingNote = nil, nil
	}
	for i := range p.Meetings {
		p.Meetings[i].Personal = nil
	}
	for i := range p.Contacts {
		p.Contacts[i].Personal = nil
	}
	for i := range p.Placements {
		p.Placements[i].Personal = nil
	}
	for i := range p.Pauses {
		p.Pauses[i].Personal = nil
	}
}
