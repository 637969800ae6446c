package seed

import (
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
)

// An episode is planned in two passes. The first draws its skeleton: the
// team, when employer-disclosure consent comes, the placements one after
// another (language training, work practice, jobs lost and found again,
// education), a pause, and which of completion, a stable job, dropping
// out, moving or ill health ends it first. The second turns the skeleton
// into dated steps (meetings about weekly, employer contacts while
// searching, scores, goals, income changes) and leaves out whatever falls
// after the exit, so that every step fits the state its predecessors
// leave.

// segment is one placement of an episode.
type segment struct {
	kind     domain.PlacementKind
	employer *employer
	start    day
	end      day // never while it runs
	reason   domain.PlacementEndReason
	hours    int
	contract domain.Contract
	// converted marks a job that a work practice turned into: the practice
	// ends "converted" on the day the job starts, in the same step.
	converted bool
	// change is the day new terms start (0 without), with the terms.
	change         day
	changeHours    int
	changeContract domain.Contract
}

func (s segment) runs(d day) bool { return s.start <= d && d < s.end }

// episode is the skeleton of one enrolment.
type episode struct {
	no     int
	prog   *programme
	off    *office
	start  day
	plan   day // the action plan is written
	exit   day // may lie after the reference date: then the episode is open
	reason domain.ExitReason
	dest   domain.Destination
	// consent is the day employer-disclosure consent holds from; never
	// when it is not given in this episode.
	consent day
	segs    []segment
	// pause is [pauseFrom, pauseTo); pauseFrom is never without a pause.
	pauseFrom, pauseTo day
	pauseReason        domain.PauseReason
	// quiet is the day contact was lost before a drop-out; never otherwise.
	quiet day
	// team: members by role; js changes hands on handover.
	members  []member
	handover day
	newJS    member
	profile  domain.Profile
	scored   bool // on the indicator index
}

type member struct {
	role  domain.CaseworkerRole
	actor domain.Actor
}

func (e *episode) jobAt(d day) *segment {
	for i := range e.segs {
		if e.segs[i].kind.IsJob() && e.segs[i].runs(d) {
			return &e.segs[i]
		}
	}
	return nil
}

func (e *episode) placementAt(d day) *segment {
	for i := range e.segs {
		if e.segs[i].runs(d) {
			return &e.segs[i]
		}
	}
	return nil
}

func (e *episode) paused(d day) bool { return e.pauseFrom <= d && d < e.pauseTo }

// episode plans one enrolment that starts on start and returns the day of
// a re-enrolment, if there is one.
func (p *planner) episode(prog *programme, start day) (next day, again bool) {
	r := p.r
	p.episodes++
	e := &episode{no: p.episodes, prog: prog, off: p.pickOffice(prog), start: start, consent: never, pauseFrom: never, pauseTo: never, quiet: never, handover: never}
	prefix := fmt.Sprintf("e%d/", e.no)
	profile, personal := p.profile(prog, e.off, start)
	e.profile = profile
	e.scored = r.Float64() < prog.index

	p.planTeam(e)
	teamLead := domain.Actor{UserID: e.off.id + "-lead-1", Role: "team_lead", Office: e.off.id}
	js := e.members[0].actor

	// Intake: enrolment, team and consents are one form at one sitting.
	intake := []Command{domain.EnrolCommand{
		Programme: prog.slug, Office: e.off.id, EnrolledOn: start.date(),
		ReferralSource: pick(r, prog.referrals), AddressProtection: p.person.addressProtection,
		Profile: profile, Personal: &personal,
	}}
	for _, m := range e.members {
		intake = append(intake, domain.AssignCaseworkerCommand{UserID: m.actor.UserID, Role: m.role, Date: start.date()})
	}
	give := func(scope domain.ConsentScope, chance float64) {
		if !p.consents[scope] && r.Float64() < chance {
			intake = append(intake, domain.GiveConsentCommand{Scope: scope, Date: start.date()})
			p.consents[scope] = true
		}
	}
	give(domain.ConsentProcessing, 1)
	give(domain.ConsentEvaluation, 0.88)
	give(domain.ConsentWelfareSharing, 0.6)
	give(domain.ConsentEmployerDisclosure, 0.62)
	if p.consents[domain.ConsentEmployerDisclosure] {
		e.consent = start
	}
	p.add(start, prioIntake, prefix+"intake", js, intake...)
	later := e.consent == never && r.Float64() < 0.55
	if later {
		// Many agree to employers being told once they trust the team.
		e.consent = (start + 14 + day(r.IntN(100))).workday()
	}

	e.plan = (start + 5 + day(r.IntN(21))).workday()
	planned := start + day(min(float64(prog.maxDays), max(90, lognormal(r, float64(prog.durationDays), 0.3))))
	p.planPlacements(e, planned)
	p.planExit(e, planned)
	p.planPause(e)
	if later && e.consent < e.exit {
		p.consents[domain.ConsentEmployerDisclosure] = true
		p.add(e.consent, prioConsent, prefix+"consent-employer", js,
			domain.GiveConsentCommand{Scope: domain.ConsentEmployerDisclosure, Date: e.consent.date()})
	} else if later {
		e.consent = never
	}
	if r.Float64() < 0.08 {
		// Staff turnover: the team lead hands the job specialist's cases on.
		on := (start + 60 + day(r.IntN(max(1, int(e.exit-start)-60)))).workday()
		lead := e.members[0]
		next := member{role: lead.role, actor: domain.Actor{UserID: p.staff(prog, e.off, staffCode(lead.role)), Role: lead.actor.Role, Office: e.off.id}}
		if on < e.exit && next.actor.UserID != js.UserID {
			e.handover, e.newJS = on, next
			p.add(on, prioTeam, prefix+"handover", teamLead,
				domain.UnassignCaseworkerCommand{UserID: js.UserID, Date: on.date()},
				domain.AssignCaseworkerCommand{UserID: next.actor.UserID, Role: next.role, Date: on.date()})
		}
	}

	goals := p.planGoals(e, prefix)
	p.planMeetings(e, prefix)
	p.planContacts(e, prefix)
	p.planPlacementSteps(e, prefix)
	p.planIncome(e, prefix)
	if e.pauseFrom < e.exit {
		p.add(e.pauseFrom, prioPause, prefix+"pause", js, domain.PauseParticipationCommand{
			Date: e.pauseFrom.date(), Reason: e.pauseReason,
		})
		if e.pauseTo < e.exit {
			p.add(e.pauseTo, prioResume, prefix+"resume", js, domain.ResumeParticipationCommand{Date: e.pauseTo.date()})
		}
	}
	if e.scored {
		p.planScores(e, prefix)
	}
	if e.exit > p.today {
		return 0, false // still enrolled on the reference date
	}

	// Exit: the plan's open goals are closed at the exit meeting.
	exitCmds := []Command{}
	for _, g := range goals {
		if g.closed < e.exit {
			continue
		}
		outcome := domain.OutcomeAbandoned
		switch {
		case e.dest == domain.DestinationOrdinaryJob || e.dest == domain.DestinationEducation:
			outcome = domain.OutcomeAchieved
		case e.reason == domain.ExitCompleted && r.IntN(2) == 0:
			outcome = domain.OutcomeRevised
		}
		exitCmds = append(exitCmds, domain.CloseGoalCommand{GoalID: g.id, Outcome: outcome, Date: e.exit.date()})
	}
	ex := domain.ExitCommand{Date: e.exit.date(), Reason: e.reason, Destination: e.dest}
	if r.Float64() < 0.4 {
		notes := exitNotes()
		ex.Personal = &domain.NotePersonal{Note: notes[r.IntN(len(notes))]}
	}
	exitCmds = append(exitCmds, ex)
	p.add(e.exit, prioExit, prefix+"exit", p.actorOn(e, e.exit, domain.RoleJobSpecialist), exitCmds...)

	// Re-enrolment is likelier after a drop-out or an exit without work.
	chance := 0.05
	switch {
	case e.reason == domain.ExitDroppedOut:
		chance = 0.14
	case e.dest == domain.DestinationUnemployed || e.dest == domain.DestinationUnknown:
		chance = 0.08
	}
	again = r.Float64() < chance
	next = (e.exit + 60 + day(r.IntN(480))).workday()

	// After the exit the team lets go of the case; consents mostly stay.
	// A re-enrolment needs the team assigned afresh, so the case is
	// always closed before one.
	if again || r.Float64() < 0.85 {
		closing := (e.exit + day(r.IntN(22))).workday()
		var cmds []Command
		for _, m := range p.teamAt(e, e.exit) {
			cmds = append(cmds, domain.UnassignCaseworkerCommand{UserID: m.actor.UserID, Date: closing.date()})
		}
		p.add(closing, prioAfterExit, prefix+"close-case", teamLead, cmds...)
	}
	for _, w := range []struct {
		scope  domain.ConsentScope
		chance float64
	}{{domain.ConsentEvaluation, 0.02}, {domain.ConsentEmployerDisclosure, 0.04}} {
		if p.consents[w.scope] && r.Float64() < w.chance {
			on := e.exit + 1 + day(r.IntN(50))
			p.add(on, prioAfterExit, prefix+"withdraw-"+string(w.scope), teamLead,
				domain.WithdrawConsentCommand{Scope: w.scope, Date: on.date()})
			p.consents[w.scope] = false
		}
	}
	if !again && r.Float64() < 0.006 {
		on := e.exit + 180 + day(r.IntN(720))
		basis, by := domain.ErasureRetentionExpired, domain.RequesterController
		if r.IntN(3) == 0 {
			basis, by = domain.ErasureConsentWithdrawn, domain.RequesterParticipant
		}
		p.add(on, prioAfterExit, "erase", teamLead, domain.ErasePersonalDataCommand{Date: on.date(), LegalBasis: basis, RequestedBy: by})
	}
	return next, again
}

// staffCode is how user ids name a team role: hope-bergen-js-003.
func staffCode(r domain.CaseworkerRole) string {
	switch r {
	case domain.RoleSocialWorker:
		return "sw"
	case domain.RoleCoordinator:
		return "coord"
	case domain.RoleVolunteerMentor:
		return "vol"
	}
	return "js"
}

// planTeam chooses the team: the programme's roles from the office's staff.
func (p *planner) planTeam(e *episode) {
	for _, role := range e.prog.team {
		access := "caseworker"
		if role == domain.RoleVolunteerMentor {
			access = "volunteer" // access.md: volunteers record the meetings they hold
		}
		e.members = append(e.members, member{role: role, actor: domain.Actor{UserID: p.staff(e.prog, e.off, staffCode(role)), Role: access, Office: e.off.id}})
	}
	if e.prog.volunteers && p.r.Float64() < 0.3 {
		e.members = append(e.members, member{role: domain.RoleJobSpecialist, actor: domain.Actor{UserID: p.staff(e.prog, e.off, "js"), Role: "caseworker", Office: e.off.id}})
	}
	// The first member records most of the casework; put the one who
	// leads the case first.
	slices.SortStableFunc(e.members, func(a, b member) int {
		return rank(a.role) - rank(b.role)
	})
}

func rank(r domain.CaseworkerRole) int {
	switch r {
	case domain.RoleJobSpecialist:
		return 0
	case domain.RoleCoordinator:
		return 1
	case domain.RoleSocialWorker:
		return 2
	}
	return 3
}

// teamAt is the team on day d.
func (p *planner) teamAt(e *episode, d day) []member {
	out := slices.Clone(e.members)
	if e.handover <= d {
		out[0] = e.newJS
	}
	return out
}

// actorOn is who records something on day d: the team member of the role
// if there is one, else the one who leads the case.
func (p *planner) actorOn(e *episode, d day, role domain.CaseworkerRole) domain.Actor {
	team := p.teamAt(e, d)
	for _, m := range team {
		if m.role == role {
			return m.actor
		}
	}
	return team[0].actor
}

// planPlacements lays out the placements one after another.
func (p *planner) planPlacements(e *episode, planned day) {
	r := p.r
	prog := e.prog
	t := e.plan + day(7+r.IntN(21))
	employerFrom := func(d day) day {
		if e.consent == never {
			return never
		}
		return max(d, e.consent+day(r.IntN(10)))
	}

	// Language training comes first for people with little Norwegian.
	if lowNorwegian(e.profile.NorwegianLevel) && r.Float64() < prog.language*1.6 {
		if s := employerFrom(t + day(r.IntN(40))); s < planned {
			s = s.workday()
			seg := segment{kind: domain.PlacementLanguageTraining, employer: p.pickEmployer(e), start: s, hours: pickHours(r, 40, 60),
				end: s + day(90+r.IntN(120)), reason: domain.EndCompleted}
			if r.Float64() < 0.12 {
				seg.reason = pick(r, []weighted[domain.PlacementEndReason]{{domain.EndHealth, 1}, {domain.EndOther, 2}, {domain.EndResigned, 1}})
				seg.end = s + day(20+r.IntN(60))
			}
			e.segs = append(e.segs, seg)
			t = seg.end + day(7+r.IntN(30))
		}
	}

	pJob := min(0.95, prog.jobRate*(0.45+1.1*p.person.employability))
	if lowNorwegian(e.profile.NorwegianLevel) {
		pJob *= 0.9
	}
	if r.Float64() >= pJob {
		// No job in this episode: perhaps a work practice, perhaps education.
		if r.Float64() < prog.practice {
			if s := employerFrom(t + day(r.IntN(90))); s < planned {
				s = s.workday()
				reason := pick(r, []weighted[domain.PlacementEndReason]{{domain.EndCompleted, 7}, {domain.EndResigned, 1}, {domain.EndHealth, 1}, {domain.EndOther, 1}})
				seg := segment{kind: domain.PlacementWorkPractice, employer: p.pickEmployer(e), start: s, hours: pickHours(r, 50, 100),
					end: s + day(60+r.IntN(120)), reason: reason}
				e.segs = append(e.segs, seg)
				t = seg.end + day(7+r.IntN(30))
			}
		}
		if r.Float64() < prog.education*2 {
			p.addEducation(e, (t + day(r.IntN(120))).workday())
		}
		return
	}

	first := e.start + day(lognormal(r, float64(prog.jobMedianDays)*(1.5-p.person.employability), 0.65))
	first = max(first, t+7).workday()
	// Work practice as the way into the job, often turned into the job.
	converted := false
	if e.consent != never && r.Float64() < prog.practice {
		s := employerFrom(max(t, first-day(45+r.IntN(100))))
		if s+21 < first {
			s = s.workday()
			seg := segment{kind: domain.PlacementWorkPractice, employer: p.pickEmployer(e), start: s, hours: pickHours(r, 50, 100),
				end: first, reason: domain.EndConverted}
			if end := first - day(7+r.IntN(35)); r.Float64() >= 0.45 && end > s+14 {
				seg.end, seg.reason = end, domain.EndCompleted
			}
			converted = seg.reason == domain.EndConverted
			e.segs = append(e.segs, seg)
		}
	}

	start := first
	for jobs := 0; jobs < 3; jobs++ {
		kind := domain.PlacementOrdinaryJob
		if r.Float64() < 0.09 {
			kind = domain.PlacementSubsidisedJob
		}
		seg := segment{kind: kind, start: start, end: never,
			hours:    pickHours(r, 20, 100),
			contract: pick(r, []weighted[domain.Contract]{{domain.ContractPermanent, 30}, {domain.ContractTemporary, 30}, {domain.ContractSubstitute, 15}, {domain.ContractHourly, 25}}),
		}
		if converted && jobs == 0 {
			seg.employer, seg.converted = e.segs[len(e.segs)-1].employer, true
		} else if e.consent != never && e.consent <= start && r.Float64() < 0.85 {
			seg.employer = p.pickEmployer(e)
		}
		loss := map[domain.Contract]float64{
			domain.ContractPermanent: 0.14, domain.ContractTemporary: 0.45,
			domain.ContractSubstitute: 0.5, domain.ContractHourly: 0.35,
		}[seg.contract]
		if r.Float64() < loss {
			seg.end = start + 14 + day(lognormal(r, 90, 0.8))
			switch seg.contract {
			case domain.ContractTemporary, domain.ContractSubstitute:
				seg.reason = pick(r, []weighted[domain.PlacementEndReason]{{domain.EndContractEnded, 8}, {domain.EndDismissed, 1}, {domain.EndResigned, 1}})
			default:
				seg.reason = pick(r, []weighted[domain.PlacementEndReason]{{domain.EndDismissed, 4}, {domain.EndResigned, 4}, {domain.EndHealth, 2}, {domain.EndContractEnded, 2}})
			}
		}
		if r.Float64() < 0.25 {
			// More hours, sometimes a permanent contract, once they prove themselves.
			seg.change = (start + 45 + day(r.IntN(120))).workday()
			seg.changeHours = min(100, seg.hours+20)
			seg.changeContract = seg.contract
			if r.Float64() < 0.4 {
				seg.changeContract = domain.ContractPermanent
			}
			if seg.change >= seg.end {
				seg.change = 0
			}
		}
		e.segs = append(e.segs, seg)
		if seg.end == never || r.Float64() >= 0.55 {
			break
		}
		// Found again: a fair share within the two weeks retention allows.
		gap := day(1 + r.IntN(14))
		if r.Float64() < 0.6 {
			gap = day(15 + lognormal(r, 50, 0.7))
		}
		start = (seg.end + gap).workday()
	}
	if last := e.segs[len(e.segs)-1]; last.end != never && r.Float64() < prog.education {
		p.addEducation(e, (last.end + day(30+r.IntN(120))).workday())
	}
}

func (p *planner) addEducation(e *episode, on day) {
	e.segs = append(e.segs, segment{kind: domain.PlacementEducation, start: on, end: never, hours: pickHours(p.r, 50, 100)})
}

// pickHours is a percentage of full time between lo and hi, in the steps
// contracts use.
func pickHours(r interface{ IntN(int) int }, lo, hi int) int {
	steps := []int{20, 40, 50, 60, 80, 100}
	var in []int
	for _, s := range steps {
		if s >= lo && s <= hi {
			in = append(in, s)
		}
	}
	return in[r.IntN(len(in))]
}

func (p *planner) pickEmployer(e *episode) *employer {
	list := p.cat.network(e.off.region, p.n)
	// A job specialist's network is small: most placements go to the
	// first third of the region's employers.
	if p.r.Float64() < 0.6 {
		list = list[:len(list)/3]
	}
	return &list[p.r.IntN(len(list))]
}

// planExit decides which of the possible ends comes first, and cuts the
// placements at it.
func (p *planner) planExit(e *episode, planned day) {
	r := p.r
	e.exit, e.reason = planned, domain.ExitCompleted
	// An early end: dropping out, moving, ill health, another service.
	var early day = never
	var earlyReason domain.ExitReason
	switch x := r.Float64(); {
	case x < e.prog.dropout:
		early, earlyReason = e.start+14+day(lognormal(r, 120, 0.8)), domain.ExitDroppedOut
	case x < e.prog.dropout+0.04:
		early, earlyReason = e.start+30+day(r.IntN(400)), domain.ExitMoved
	case x < e.prog.dropout+0.08:
		early, earlyReason = e.start+20+day(r.IntN(400)), domain.ExitHealth
	case x < e.prog.dropout+0.13:
		early, earlyReason = e.start+30+day(r.IntN(300)), domain.ExitReferredElsewhere
	}
	// People in work rarely drop out; they stop needing the service.
	if early < e.exit && !(earlyReason == domain.ExitDroppedOut && e.jobAt(early) != nil) {
		e.exit, e.reason = early.workday(), earlyReason
		if earlyReason == domain.ExitDroppedOut {
			e.quiet = e.exit - day(21+r.IntN(42))
		}
	}
	// Ongoing support ends some months into a job that lasts.
	for _, s := range e.segs {
		if !s.kind.IsJob() || s.start >= e.exit {
			continue
		}
		if done := (s.start + day(90+r.IntN(150))).workday(); done < s.end {
			if done < e.exit {
				e.exit, e.reason, e.quiet = done, domain.ExitCompleted, never
			}
			break
		}
	}
	for _, s := range e.segs {
		if s.kind == domain.PlacementEducation && s.start < e.exit {
			if done := (s.start + 1 + day(r.IntN(45))).workday(); done < e.exit {
				e.exit, e.reason, e.quiet = done, domain.ExitCompleted, never
			}
		}
	}
	// Whatever starts after the exit did not happen; what runs goes on.
	kept := e.segs[:0]
	for _, s := range e.segs {
		if s.start >= e.exit {
			continue
		}
		if s.end >= e.exit {
			s.end = never
		}
		if s.change >= e.exit {
			s.change = 0
		}
		kept = append(kept, s)
	}
	e.segs = kept
	for i := range e.segs {
		// A practice converted into a job that was cut away simply ran on.
		if e.segs[i].reason == domain.EndConverted && (i+1 >= len(e.segs) || !e.segs[i+1].converted) {
			e.segs[i].end = never
		}
	}

	job := e.jobAt(e.exit)
	switch {
	case job != nil && job.kind == domain.PlacementOrdinaryJob:
		e.dest = domain.DestinationOrdinaryJob
	case job != nil:
		e.dest = domain.DestinationOtherProgramme // a subsidised job is a measure, not yet ordinary work
	case e.placementAt(e.exit) != nil && e.placementAt(e.exit).kind == domain.PlacementEducation:
		e.dest = domain.DestinationEducation
	}
	if e.dest != "" {
		return
	}
	switch e.reason {
	case domain.ExitDroppedOut, domain.ExitMoved:
		e.dest = domain.DestinationUnknown
	case domain.ExitReferredElsewhere:
		e.dest = domain.DestinationOtherProgramme
	case domain.ExitHealth:
		e.dest = pick(r, []weighted[domain.Destination]{{domain.DestinationUnemployed, 6}, {domain.DestinationUnknown, 4}})
	default:
		e.dest = pick(r, []weighted[domain.Destination]{
			{domain.DestinationUnemployed, 55}, {domain.DestinationOtherProgramme, 30},
			{domain.DestinationEducation, 5}, {domain.DestinationUnknown, 10},
		})
	}
}

// planPause places one pause where no placement runs, starts or ends, if
// the episode has one.
func (p *planner) planPause(e *episode) {
	r := p.r
	if r.Float64() >= 0.14 || e.exit-e.start < 80 {
		return
	}
	for range 5 {
		from := (e.start + 30 + day(r.IntN(int(e.exit-e.start)-40))).workday()
		to := (from + day(lognormal(r, 35, 0.5))).workday()
		clear := from < e.exit && e.placementAt(from) == nil
		for _, s := range e.segs {
			if (s.start >= from && s.start <= to) || (s.end >= from && s.end <= to) {
				clear = false
			}
		}
		if clear {
			e.pauseFrom, e.pauseTo = from, to
			e.pauseReason = pick(r, []weighted[domain.PauseReason]{{domain.PauseHealth, 4}, {domain.PauseFamily, 3}, {domain.PauseTravel, 2}, {domain.PauseOther, 1}})
			return
		}
	}
}

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
