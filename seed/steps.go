package seed

import (
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
)

// The second pass of planning an episode: turning its skeleton into dated
// steps, each of which fits the state the steps before it leave.

type plannedGoal struct {
	id     uuid.UUID
	closed day // never while open
}

// planGoals writes the action plan: a main goal with sub-goals, closed as
// they are reached.
func (p *planner) planGoals(e *episode, prefix string) []plannedGoal {
	r := p.r
	if e.plan >= e.exit {
		return nil
	}
	main := pick(r, []weighted[domain.GoalArea]{{domain.AreaWork, 75}, {domain.AreaEducation, 15}, {domain.AreaLanguage, 10}})
	if e.prog.volunteers {
		main = pick(r, []weighted[domain.GoalArea]{{domain.AreaHousing, 50}, {domain.AreaWork, 30}, {domain.AreaEconomy, 20}})
	}
	js := p.actorOn(e, e.plan, domain.RoleJobSpecialist)
	var goals []plannedGoal
	var cmds []Command
	set := func(area domain.GoalArea, parent uuid.UUID, on day) uuid.UUID {
		p.goals++
		id := p.newID("goal", p.goals)
		titles := goalTitles(area)
		cmds = append(cmds, domain.SetGoalCommand{
			GoalID: id, ParentGoalID: parent, Area: area, Date: on.date(),
			TargetDate: (on + day(90+r.IntN(300))).date(),
			Personal:   &domain.GoalPersonal{Title: titles[r.IntN(len(titles))]},
		})
		return id
	}
	mainID := set(main, uuid.Nil, e.plan)
	mainGoal := plannedGoal{id: mainID, closed: never}
	if main == domain.AreaWork {
		for _, s := range e.segs {
			if s.kind == domain.PlacementOrdinaryJob {
				mainGoal.closed = s.start + day(r.IntN(15))
				break
			}
		}
	}
	if main == domain.AreaEducation {
		for _, s := range e.segs {
			if s.kind == domain.PlacementEducation {
				mainGoal.closed = s.start
			}
		}
	}
	goals = append(goals, mainGoal)
	areas := []domain.GoalArea{domain.AreaLanguage, domain.AreaEconomy, domain.AreaHousing, domain.AreaFamily, domain.AreaHealth, domain.AreaNetwork, domain.AreaWork}
	for range 1 + r.IntN(3) {
		area := areas[r.IntN(len(areas))]
		id := set(area, mainID, e.plan)
		g := plannedGoal{id: id, closed: never}
		if r.Float64() < 0.6 {
			g.closed = (e.plan + 30 + day(r.IntN(240))).workday()
		}
		goals = append(goals, g)
	}
	p.add(e.plan, prioPlan, prefix+"plan", js, cmds...)
	if r.Float64() < 0.3 {
		// The plan is revised: a new sub-goal some months on.
		on := (e.plan + 60 + day(r.IntN(150))).workday()
		if on < e.exit {
			cmds = nil
			id := set(areas[r.IntN(len(areas))], mainID, on)
			p.add(on, prioPlan, prefix+"plan-revised", p.actorOn(e, on, domain.RoleJobSpecialist), cmds...)
			goals = append(goals, plannedGoal{id: id, closed: never})
		}
	}
	for i, g := range goals {
		if g.closed >= e.exit {
			goals[i].closed = never
			continue
		}
		outcome := domain.OutcomeAchieved
		if r.Float64() < 0.2 {
			outcome = domain.OutcomeRevised
		}
		p.add(g.closed, prioGoalClose, fmt.Sprintf("%sgoal-%d-close", prefix, i+1), p.actorOn(e, g.closed, domain.RoleJobSpecialist),
			domain.CloseGoalCommand{GoalID: g.id, Outcome: outcome, Date: g.closed.date()})
	}
	// The exit closes what is left: report those as closing on the exit day.
	for i := range goals {
		if goals[i].closed == never {
			goals[i].closed = e.exit
		}
	}
	return goals
}

// planMeetings schedules meetings about weekly, less often once someone
// works, none during a pause or once contact is lost, with the odd gap.
func (p *planner) planMeetings(e *episode, prefix string) {
	r := p.r
	end := min(e.exit, e.quiet, p.today+1)
	minutes := meetingMinutes()
	k := 0
	var last day
	var kinds []domain.MeetingKind
	for t := e.start; t < end; {
		if e.paused(t) {
			t = e.pauseTo
			continue
		}
		job := e.jobAt(t)
		gap := day(7)
		switch x := r.Float64(); {
		case job != nil && x < 0.6:
			gap = 14 // follow-up at work needs less
		case x < 0.1:
			gap = 14 // a missed week
		case x < 0.14:
			gap = day(21 + r.IntN(14)) // holidays, illness, no answer
		case x < 0.3:
			gap = day(3 + r.IntN(4))
		}
		next := (t + gap).workday()
		kinds = kinds[:0]
		switch {
		case job != nil:
			kinds = append(kinds, domain.MeetingFollowUpAtWork, domain.MeetingFollowUpAtWork, domain.MeetingPhone, domain.MeetingGuidance, domain.MeetingDigital)
		case e.prog.volunteers:
			kinds = append(kinds, domain.MeetingHomeVisit, domain.MeetingHomeVisit, domain.MeetingGuidance, domain.MeetingPhone, domain.MeetingNetwork)
		default:
			kinds = append(kinds, domain.MeetingGuidance, domain.MeetingGuidance, domain.MeetingGuidance, domain.MeetingPhone, domain.MeetingDigital, domain.MeetingHomeVisit)
			if e.consent <= t {
				kinds = append(kinds, domain.MeetingEmployer)
			}
			if r.IntN(10) == 0 {
				kinds = append(kinds, domain.MeetingNetwork)
			}
		}
		if t == e.start {
			kinds = append(kinds[:0], domain.MeetingGuidance)
		}
		m := domain.RecordMeetingCommand{Date: t.date(), Kind: kinds[r.IntN(len(kinds))]}
		if r.Float64() < 0.8 {
			m.NextMeetingOn = next.date()
		}
		actor := p.meetingActor(e, t)
		if r.Float64() < 0.3 {
			m.Personal = &domain.MeetingPersonal{Attendees: []string{"deltaker", attendee(actorRole(e, actor))}, Minutes: minutes[r.IntN(len(minutes))]}
		}
		k++
		p.add(t, prioMeeting, fmt.Sprintf("%smeeting-%03d", prefix, k), actor, m)
		last = t
		t = next
	}
	// The exit meeting, when the end was agreed.
	if e.exit <= p.today && e.reason == domain.ExitCompleted && e.exit-last > 3 && !e.paused(e.exit) {
		k++
		p.add(e.exit, prioMeeting, fmt.Sprintf("%smeeting-%03d", prefix, k), p.actorOn(e, e.exit, domain.RoleJobSpecialist),
			domain.RecordMeetingCommand{Date: e.exit.date(), Kind: domain.MeetingGuidance})
	}
	if last == 0 {
		return
	}
	// A few meetings are recorded on the wrong participant or twice, and
	// voided once someone notices.
	switch x := r.Float64(); {
	case x < 0.02:
		on := e.start + day(r.IntN(int(last-e.start)+1))
		if e.paused(on) {
			return
		}
		on = min(on.workday(), last)
		actor := p.meetingActor(e, on)
		name := prefix + "meeting-misfiled"
		p.add(on, prioMeeting, name, actor, domain.RecordMeetingCommand{Date: on.date(), Kind: domain.MeetingGuidance,
			Personal: &domain.MeetingPersonal{Minutes: "Samtale om jobbsøking."}})
		p.add(on+1+day(r.IntN(14)), prioFix, prefix+"void-misfiled", actor, VoidEntry{
			Step: name, Reason: domain.VoidWrongParticipant, Note: "Registrert på feil deltaker.",
		})
	case x < 0.03:
		actor := p.meetingActor(e, last)
		name := prefix + "meeting-duplicate"
		p.add(last, prioMeeting, name, actor, domain.RecordMeetingCommand{Date: last.date(), Kind: domain.MeetingGuidance})
		p.add(last+day(r.IntN(8)), prioFix, prefix+"void-duplicate", actor, VoidEntry{Step: name, Reason: domain.VoidDuplicate})
	}
}

func actorRole(e *episode, a domain.Actor) domain.CaseworkerRole {
	for _, m := range e.members {
		if m.actor == a {
			return m.role
		}
	}
	return domain.RoleJobSpecialist
}

// attendee is how minutes name a team member: by role, not by name.
func attendee(r domain.CaseworkerRole) string {
	switch r {
	case domain.RoleSocialWorker:
		return "sosialkonsulent"
	case domain.RoleCoordinator:
		return "koordinator"
	case domain.RoleVolunteerMentor:
		return "frivillig"
	}
	return "jobbspesialist"
}

func (p *planner) meetingActor(e *episode, d day) domain.Actor {
	team := p.teamAt(e, d)
	if len(team) > 1 && p.r.Float64() < 0.3 {
		return team[1+p.r.IntN(len(team)-1)].actor
	}
	return team[0].actor
}

// planContacts has the job specialist contact employers while the
// participant searches, before each placement and during a job; only ever
// with employer-disclosure consent.
func (p *planner) planContacts(e *episode, prefix string) {
	if e.consent == never {
		return
	}
	r := p.r
	k := 0
	contact := func(on day, emp *employer, purpose domain.ContactPurpose) {
		if on < e.consent || on < e.start || on >= e.exit || e.paused(on) {
			return
		}
		k++
		p.add(on, prioContact, fmt.Sprintf("%scontact-%03d", prefix, k), p.actorOn(e, on, domain.RoleJobSpecialist),
			domain.RecordEmployerContactCommand{EmployerID: emp.id, Date: on.date(), Purpose: purpose})
	}
	end := min(e.exit, e.quiet)
	for t := max(e.consent, e.plan) + day(r.IntN(10)); t < end; t = (t + day(7+r.IntN(18))).workday() {
		if e.placementAt(t) != nil {
			continue
		}
		purpose := pick(r, []weighted[domain.ContactPurpose]{{domain.PurposePresentCandidate, 7}, {domain.PurposeArrangePlacement, 2}, {domain.PurposeOther, 1}})
		contact(t.workday(), p.pickEmployer(e), purpose)
	}
	for _, s := range e.segs {
		if s.employer == nil {
			continue
		}
		if !s.converted {
			contact((s.start - day(2+r.IntN(12))).workday(), s.employer, domain.PurposeArrangePlacement)
		}
		for t := s.start + day(14+r.IntN(20)); t < min(s.end, end); t += day(30 + r.IntN(40)) {
			purpose := domain.PurposeFollowUp
			if r.IntN(8) == 0 {
				purpose = domain.PurposeWorkplaceAdaptation
			}
			contact(t.workday(), s.employer, purpose)
		}
	}
}

// planPlacementSteps records each placement's start, change and end.
func (p *planner) planPlacementSteps(e *episode, prefix string) {
	r := p.r
	for i := range e.segs {
		s := &e.segs[i]
		p.places++
		id := p.newID("placement", p.places)
		start := domain.StartPlacementCommand{PlacementID: id, Kind: s.kind, StartedOn: s.start.date(), HoursPercentage: s.hours}
		if s.kind.IsJob() {
			start.Contract = s.contract
		}
		if s.employer != nil {
			start.EmployerID = s.employer.id
		}
		if r.Float64() < 0.7 {
			titles := placementTitles(s.kind)
			start.Personal = &domain.PlacementPersonal{Title: titles[r.IntN(len(titles))]}
		}
		name := fmt.Sprintf("%splacement-%d", prefix, i+1)
		actor := p.actorOn(e, s.start, domain.RoleJobSpecialist)
		if s.converted && i > 0 {
			// The practice becomes the job: one decision, two entries.
			prevID := p.newID("placement", p.places-1)
			p.add(s.start, prioPlacementEnd, name+"-start", actor,
				domain.EndPlacementCommand{PlacementID: prevID, EndedOn: s.start.date(), Reason: domain.EndConverted},
				start)
		} else {
			p.add(s.start, prioPlacementStart, name+"-start", actor, start)
		}
		if s.change != 0 {
			p.add(s.change, prioPlacementChange, name+"-change", p.actorOn(e, s.change, domain.RoleJobSpecialist),
				domain.ChangePlacementCommand{PlacementID: id, Date: s.change.date(), HoursPercentage: s.changeHours, Contract: s.changeContract})
		}
		if s.end != never && s.reason != domain.EndConverted {
			p.add(s.end, prioPlacementEnd, name+"-end", p.actorOn(e, s.end, domain.RoleJobSpecialist),
				domain.EndPlacementCommand{PlacementID: id, EndedOn: s.end.date(), Reason: s.reason})
		}
	}
}

// planIncome records how the main income source changes: the
// qualification benefit replacing social assistance, salary some weeks
// into a job, benefits again after a job is lost, and what the end of the
// qualification programme leaves.
func (p *planner) planIncome(e *episode, prefix string) {
	r := p.r
	type change struct {
		on  day
		src domain.IncomeSource
		// lost marks the change after a job ends, which only happens when
		// the salary had become the main income.
		lost bool
	}
	var changes []change
	if e.prog.qualification {
		changes = append(changes, change{on: (e.start + 14 + day(r.IntN(30))).workday(), src: domain.IncomeQualificationBenefit})
	}
	for _, s := range e.segs {
		if !s.kind.IsJob() {
			continue
		}
		if s.hours >= 50 || r.Float64() < 0.35 {
			if on := (s.start + 25 + day(r.IntN(25))).workday(); on < s.end {
				changes = append(changes, change{on: on, src: domain.IncomeWork})
			}
		}
		if s.end != never {
			src := domain.IncomeSocialAssistance
			switch {
			case e.prog.qualification:
				src = domain.IncomeQualificationBenefit // the programme's benefit while enrolled
			case s.end-s.start > 180 && r.Float64() < 0.5:
				src = domain.IncomeUnemploymentBenefit
			}
			changes = append(changes, change{on: (s.end + 14 + day(r.IntN(30))).workday(), src: src, lost: true})
		}
	}
	switch {
	case e.dest == domain.DestinationEducation:
		changes = append(changes, change{on: e.exit, src: domain.IncomeStudentSupport})
	case e.prog.qualification && e.jobAt(e.exit) == nil:
		changes = append(changes, change{on: e.exit, src: domain.IncomeSocialAssistance})
	}
	slices.SortStableFunc(changes, func(a, b change) int { return int(a.on - b.on) })
	current := e.profile.IncomeSource
	k := 0
	for _, c := range changes {
		if c.on > e.exit || c.src == current || (c.lost && current != domain.IncomeWork) {
			continue
		}
		current = c.src
		k++
		p.add(c.on, prioIncome, fmt.Sprintf("%sincome-%d", prefix, k), p.actorOn(e, c.on, domain.RoleSocialWorker),
			domain.ChangeIncomeSourceCommand{Date: c.on.date(), IncomeSource: c.src})
	}
}

// planScores records the indicator index at the start, midway and at the
// end. Hope and network rise on average, with a wide spread; attachment
// to work rises most for those who found work. A few scores are mistyped
// and corrected days later.
func (p *planner) planScores(e *episode, prefix string) {
	r := p.r
	base := [4]float64{4.6 + 1.8*r.NormFloat64(), 5.0 + 1.7*r.NormFloat64(), 3.9 + 1.9*r.NormFloat64(), 3.4 + 2.0*r.NormFloat64()}
	change := [4]float64{1.3 + 1.9*r.NormFloat64(), 0.8 + 1.8*r.NormFloat64(), 1.1 + 1.8*r.NormFloat64(), 0.5 + 1.8*r.NormFloat64()}
	if e.jobAt(e.exit-1) != nil {
		change[3] += 1.8
		change[0] += 0.5
	}
	if e.reason == domain.ExitDroppedOut {
		for i := range change {
			change[i] *= 0.3
		}
	}
	at := func(frac float64, noise float64) domain.Scores {
		var v [4]int
		for i := range v {
			v[i] = clampScore(base[i] + frac*change[i] + noise*r.NormFloat64())
		}
		return domain.Scores{Hope: v[0], WellBeing: v[1], Network: v[2], WorkAttachment: v[3]}
	}
	score := func(on day, tp domain.Timepoint, s domain.Scores) {
		name := prefix + "score-" + string(tp)
		actor := p.actorOn(e, on, domain.RoleJobSpecialist)
		cmd := domain.RecordScoreCommand{Date: on.date(), Timepoint: tp, Instrument: domain.InstrumentIndicatorIndex,
			InstrumentVersion: domain.IndicatorIndexVersion, Scores: s}
		if r.Float64() >= 0.04 {
			p.add(on, prioScore, name, actor, cmd)
			return
		}
		// The scale was read backwards for hope: the form said 7, 4 went in.
		typed := cmd
		typed.Scores.Hope = domain.IndicatorIndexMax + domain.IndicatorIndexMin - s.Hope
		p.add(on, prioScore, name, actor, typed)
		p.add(on+1+day(r.IntN(10)), prioFix, name+"-corrected", actor, CorrectEntry{
			Step: name, Reason: domain.CorrectionTypingError, Note: "Feil tastet, rettet etter skjemaet.",
			Replacement: domain.IndicatorScored(cmd),
		})
	}
	first := (e.start + day(r.IntN(10))).workday()
	if first >= e.exit || e.paused(first) {
		return
	}
	score(first, domain.TimepointBaseline, at(0, 0))
	mid := (e.start + (e.exit-e.start)/2).workday()
	if e.exit > p.today {
		mid = (e.start + day(e.prog.durationDays/2)).workday()
	}
	if mid > first+30 && mid < e.exit && !e.paused(mid) && r.Float64() < 0.7 {
		score(mid, domain.TimepointMidway, at(0.5, 1))
	}
	endChance := 0.85
	if e.reason != domain.ExitCompleted {
		endChance = 0.25
	}
	if e.exit <= p.today && e.exit > first && r.Float64() < endChance {
		score(e.exit, domain.TimepointEnd, at(1, 0))
	}
}
