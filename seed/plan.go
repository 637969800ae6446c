package seed

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
)

// Plan is one participant's life-cycle as the commands caseworkers would
// have sent, in the order they would have sent them. Planning is pure: the
// same seed, participant number and reference date give the same plan.
type Plan struct {
	Number      int
	Participant uuid.UUID
	Episodes    int
	Steps       []Step
}

// Stream is the participant's stream.
func (p Plan) Stream() string { return domain.ParticipantStream(p.Participant) }

// Step is one request: what one caseworker recorded at one sitting. Its
// commands are decided in order, each against the state the ones before
// it leave, and appended together.
type Step struct {
	// Name is unique within the plan; it is part of the idempotency key,
	// so that a re-run finds the step's events and writes nothing again.
	Name     string
	On       domain.Date
	Actor    domain.Actor
	Commands []Command
}

// Command is a domain command value (domain.EnrolCommand,
// domain.RecordMeetingCommand, ...) or a CorrectEntry or VoidEntry.
type Command any

// CorrectEntry is domain.CorrectEntryCommand with the entry named by the
// step that recorded it: event ids are known only once that step is
// written. The replacement must have no personal section.
type CorrectEntry struct {
	Step        string
	Index       int // which of the step's events
	Reason      domain.CorrectionReason
	Note        string
	Replacement domain.Event
}

// VoidEntry is domain.VoidEntryCommand with the entry named by its step.
type VoidEntry struct {
	Step   string
	Index  int
	Reason domain.VoidReason
	Note   string
}

// day counts days since 1970-01-01, so that the generator's date
// arithmetic is integer arithmetic.
type day int

// never is a day after every day the generator deals with.
const never day = math.MaxInt32

func dayOf(d domain.Date) day { return day(d.In(time.UTC).Unix() / 86400) }

func (d day) date() domain.Date { return domain.DateIn(time.Unix(int64(d)*86400, 0), time.UTC) }

// weekday works for the days after 1970-01-01, a Thursday.
func (d day) weekday() time.Weekday { return time.Weekday((int(d) + 4) % 7) }

// workday is d, or the Monday after it when it falls on a weekend:
// caseworkers meet people on weekdays.
func (d day) workday() day {
	switch d.weekday() {
	case time.Saturday:
		return d + 2
	case time.Sunday:
		return d + 1
	}
	return d
}

// participantID is the participant's stream id: the same for the same
// seed and number on every run.
func participantID(seed uint64, n int) uuid.UUID {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], seed)
	binary.BigEndian.PutUint64(b[8:], uint64(n))
	return uuid.NewSHA1(participantNamespace, b[:])
}

// newRand is participant n's own generator. Each participant has one, so
// that a plan depends on the seed and its number only, never on the order
// workers pick participants up in or on how many there are.
func newRand(seed uint64, n int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, splitmix(uint64(n)+0x9e3779b97f4a7c15)))
}

// splitmix spreads consecutive numbers over the whole 64-bit range.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Priorities order the steps of one day the way they happen: the intake
// before anything else, a placement's end before the next one starts,
// meetings before the scores taken at them, everything before the exit.
const (
	prioIntake = iota
	prioConsent
	prioTeam
	prioPlan
	prioResume
	prioPlacementEnd
	prioPlacementStart
	prioPlacementChange
	prioContact
	prioMeeting
	prioScore
	prioIncome
	prioGoalClose
	prioPause
	prioFix
	prioExit
	prioAfterExit
)

// item is a step before the plan is put in order and cut at the reference
// date.
type item struct {
	on   day
	prio int
	seq  int
	step Step
}

// planner builds one participant's plan. It keeps to the rules of the
// domain that a plan could break (one consent per scope in force, a team
// member assigned once, one episode at a time, nothing after an exit), so
// that every step is accepted when written.
type planner struct {
	r     *rand.Rand
	cat   *catalogue
	seed  uint64
	n     int
	id    uuid.UUID
	today day

	items    []item
	consents map[domain.ConsentScope]bool // in force
	goals    int                          // goal ids handed out
	places   int                          // placement ids handed out
	episodes int
	person   person
}

// plan builds the life-cycle of participant n as of today.
func plan(cat *catalogue, seed uint64, n int, today domain.Date) Plan {
	p := &planner{
		r: newRand(seed, n), cat: cat, seed: seed, n: n, id: participantID(seed, n),
		today: dayOf(today), consents: map[domain.ConsentScope]bool{},
	}
	prog := p.pickProgramme()
	p.person = p.newPerson(prog)
	// First enrolments spread evenly over the last three years.
	start := (p.today - day(p.r.IntN(3*365+1))).workday()
	if start > p.today {
		start -= 3 // a weekend at the very end: the Friday before
	}
	for start <= p.today {
		next, ok := p.episode(prog, start)
		if !ok {
			break
		}
		start = next
		if p.r.Float64() < 0.6 {
			continue // the same programme again
		}
		prog = p.pickProgramme()
	}
	return p.finish()
}

// finish orders the steps and leaves out what lies after the reference date.
func (p *planner) finish() Plan {
	slices.SortStableFunc(p.items, func(a, b item) int {
		if c := cmp.Compare(a.on, b.on); c != 0 {
			return c
		}
		if c := cmp.Compare(a.prio, b.prio); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	out := Plan{Number: p.n, Participant: p.id}
	for _, it := range p.items {
		if it.on > p.today {
			break
		}
		it.step.On = it.on.date()
		out.Steps = append(out.Steps, it.step)
		for _, c := range it.step.Commands {
			if _, ok := c.(domain.EnrolCommand); ok {
				out.Episodes++
			}
		}
	}
	return out
}

func (p *planner) add(on day, prio int, name string, actor domain.Actor, cmds ...Command) {
	p.items = append(p.items, item{on: on, prio: prio, seq: len(p.items), step: Step{Name: name, Actor: actor, Commands: cmds}})
}

func (p *planner) pickProgramme() *programme {
	choices := make([]weighted[int], len(p.cat.programmes))
	for i, pr := range p.cat.programmes {
		choices[i] = weighted[int]{i, pr.weight}
	}
	return &p.cat.programmes[pick(p.r, choices)]
}

func (p *planner) pickOffice(prog *programme) *office {
	choices := make([]weighted[int], len(prog.offices))
	for i, o := range prog.offices {
		choices[i] = weighted[int]{i, o.share}
	}
	return &prog.offices[pick(p.r, choices)]
}

// newID is a deterministic id for a goal or placement of this participant.
func (p *planner) newID(kind string, k int) uuid.UUID {
	return uuid.NewSHA1(plannedNamespace, fmt.Appendf(nil, "%s/%s/%d", p.id, kind, k))
}

// person is who the participant is, the same in every episode.
type person struct {
	gender            domain.Gender
	birth             domain.Date
	region            domain.RegionOfBirth
	arrived           int // year they came to Norway; 0 when born here
	yearsUnknown      bool
	education         domain.EducationLevel
	children          int
	personal          domain.EnrolmentPersonal
	addressProtection bool
	// employability is how readily employers take them on, from 0 to 1.
	employability float64
}

func (p *planner) newPerson(prog *programme) person {
	r := p.r
	var pe person
	switch {
	case r.Float64() < prog.women:
		pe.gender = domain.GenderFemale
	case r.Float64() < 0.95:
		pe.gender = domain.GenderMale
	case r.Float64() < 0.5:
		pe.gender = domain.GenderOther
	default:
		pe.gender = domain.GenderUndisclosed
	}
	firstYear := (p.today - 3*365).date().Year()
	age := 20 + int(math.Abs(r.NormFloat64())*11) + r.IntN(6)
	age = min(age, 64)
	birthYear := firstYear - age + r.IntN(3)
	birth, _ := domain.NewDate(birthYear, time.Month(1+r.IntN(12)), 1+r.IntN(28))
	pe.birth = birth

	immigrant := r.Float64() < prog.immigrants
	pe.region = domain.RegionNorway
	if immigrant {
		regions := []weighted[domain.RegionOfBirth]{
			{domain.RegionAfrica, 34}, {domain.RegionAsia, 34}, {domain.RegionEuropeOther, 12},
			{domain.RegionEUEEA, 12}, {domain.RegionLatinAmerica, 3}, {domain.RegionNordic, 2},
			{domain.RegionNorthAmericaOceania, 1}, {domain.RegionUnknown, 2},
		}
		if prog.slug == "city-mission-work-inclusion" {
			regions = []weighted[domain.RegionOfBirth]{
				{domain.RegionAfrica, 45}, {domain.RegionEUEEA, 25}, {domain.RegionAsia, 20}, {domain.RegionLatinAmerica, 10},
			}
		}
		pe.region = pick(r, regions)
		minYears := 0
		if prog.qualification {
			minYears = 2 // the programme needs two years of residence
		}
		adult := firstYear - birthYear - 16
		years := minYears + r.IntN(max(1, min(adult, 22)-minYears+1))
		pe.arrived = firstYear - years
	}
	pe.yearsUnknown = r.Float64() < 0.03 && !prog.qualification

	pe.education = pick(r, []weighted[domain.EducationLevel]{
		{domain.EducationNone, 12}, {domain.EducationPrimary, 28}, {domain.EducationUpperSecondary, 24},
		{domain.EducationVocational, 9}, {domain.EducationHigherShort, 12}, {domain.EducationHigherLong, 6},
		{domain.EducationUnknown, 9},
	})
	if r.Float64() < prog.children {
		pe.children = 1 + r.IntN(3) + r.IntN(2)
	}

	names := maleNames()
	if pe.gender == domain.GenderFemale || (pe.gender != domain.GenderMale && r.IntN(2) == 0) {
		names = femaleNames()
	}
	sur := surnames()
	pe.personal.Name = names[r.IntN(len(names))] + " " + sur[r.IntN(len(sur))]
	noID := 0.06
	if prog.slug == "city-mission-work-inclusion" {
		noID = 0.15 // some have neither a fødselsnummer nor a D-number yet
	}
	if r.Float64() >= noID {
		pe.personal.NationalID = nationalID(r, pe.birth)
	}
	if r.Float64() < 0.92 {
		pe.personal.Phone = fakePhone(p.n)
	}
	if r.Float64() < 0.5 {
		pe.personal.Email = fmt.Sprintf("deltaker%d.%d@example.org", p.seed%1000, p.n)
	}
	pe.addressProtection = r.Float64() < prog.addressProtection
	if langs := languages(pe.region); len(langs) > 0 {
		pe.personal.PreferredLanguage = langs[r.IntN(len(langs))]
	}

	e := 0.5 + 0.12*r.NormFloat64()
	switch pe.education {
	case domain.EducationHigherShort, domain.EducationHigherLong, domain.EducationVocational:
		e += 0.06
	case domain.EducationNone:
		e -= 0.06
	}
	if age > 50 {
		e -= 0.08
	}
	if pe.children > 2 {
		e -= 0.04
	}
	pe.employability = min(0.95, max(0.05, e))
	return pe
}

// profile is the statistical profile at an enrolment on start.
func (p *planner) profile(prog *programme, off *office, start day) (domain.Profile, domain.EnrolmentPersonal) {
	r := p.r
	pe := p.person
	year := start.date().Year()
	pr := domain.Profile{
		BirthYear:            pe.birth.Year(),
		Gender:               pe.gender,
		RegionOfBirth:        pe.region,
		IncomeSource:         pick(r, prog.income),
		ChildrenToProvideFor: pe.children,
		EducationLevel:       pe.education,
	}
	if prog.children >= 1 && pr.ChildrenToProvideFor == 0 {
		pr.ChildrenToProvideFor = 1 + r.IntN(3)
	}
	years := year - pe.birth.Year()
	if pe.arrived != 0 {
		years = max(0, year-pe.arrived)
	}
	if !pe.yearsUnknown {
		pr.YearsInNorway = &years
	}
	switch {
	case pe.region == domain.RegionNorway:
		pr.NorwegianLevel = domain.NorwegianNative
	case r.Float64() < 0.03:
		pr.NorwegianLevel = domain.NorwegianUnknown
	case years < 2:
		pr.NorwegianLevel = pick(r, []weighted[domain.NorwegianLevel]{{domain.NorwegianNone, 3}, {domain.NorwegianA1, 4}, {domain.NorwegianA2, 2}})
	case years < 6:
		pr.NorwegianLevel = pick(r, []weighted[domain.NorwegianLevel]{{domain.NorwegianA1, 2}, {domain.NorwegianA2, 4}, {domain.NorwegianB1, 3}, {domain.NorwegianB2, 1}})
	default:
		pr.NorwegianLevel = pick(r, []weighted[domain.NorwegianLevel]{{domain.NorwegianA2, 2}, {domain.NorwegianB1, 4}, {domain.NorwegianB2, 3}, {domain.NorwegianC1, 1}})
	}
	personal := pe.personal
	personal.InterpreterNeeded = pr.NorwegianLevel == domain.NorwegianNone || pr.NorwegianLevel == domain.NorwegianA1 ||
		(pr.NorwegianLevel == domain.NorwegianA2 && r.IntN(2) == 0)
	if !pe.addressProtection {
		st := streets()
		personal.Address = fmt.Sprintf("%s %d, 0000 %s", st[r.IntN(len(st))], 1+r.IntN(120), off.city)
	}
	return pr, personal
}

// lowNorwegian reports a level at which language training comes first.
func lowNorwegian(l domain.NorwegianLevel) bool {
	return l == domain.NorwegianNone || l == domain.NorwegianA1 || l == domain.NorwegianA2
}

// staff is the user id of a team member of role at office. Caseloads stay
// realistic at any population size: every block of participants brings
// its own staff, about one job specialist per 70 participants over the
// three years.
func (p *planner) staff(prog *programme, off *office, role string) string {
	k := max(1, int(math.Round(blockSize*prog.weight*off.share/70)))
	block := p.n / blockSize
	return fmt.Sprintf("%s-%s-%03d", off.id, role, block*k+p.r.IntN(k)+1)
}

// lognormal draws around a median with the spread sigma (of the log).
func lognormal(r *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*r.NormFloat64())
}

func clampScore(x float64) int {
	return min(domain.IndicatorIndexMax, max(domain.IndicatorIndexMin, int(math.Round(x))))
}
