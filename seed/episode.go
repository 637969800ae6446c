package seed

import (
	"fmt"
	"slices"

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
