package seed

import (
	"fmt"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
)

// The catalogue is the fixed world the population lives in: the five
// programmes of domain.md, the offices that run them and the employers
// near those offices. It does not depend on the seed or on the population
// size, so that populations seeded with different seeds or sizes share one
// set of programmes and employers in the same store.

// programme is a programme of domain.md with what the generator needs to
// give its participants realistic life-cycles. Rates are per episode.
type programme struct {
	slug    string
	name    string
	targets []domain.Target
	offices []office
	// weight is the programme's share of enrolments.
	weight float64
	// durationDays is the median planned length of an episode; maxDays caps
	// it (the qualification programme lasts at most two years).
	durationDays, maxDays int
	// index is the share of episodes scored on the indicator index.
	index float64
	// jobRate is the base chance of finding an ordinary job while enrolled,
	// jobMedianDays the median time to it from enrolment.
	jobRate       float64
	jobMedianDays int
	// practice and language are the chances of a work-practice and a
	// language-training placement; education of starting an education.
	practice, language, education float64
	// dropout is the chance of dropping out; the programmes for the most
	// vulnerable lose more people.
	dropout float64
	// referrals, income, team and profile shape who comes in and who
	// follows them.
	referrals []weighted[domain.ReferralSource]
	income    []weighted[domain.IncomeSource]
	team      []domain.CaseworkerRole
	// women is the share of women; immigrants the share born abroad;
	// children the chance of having children to provide for.
	women, immigrants, children float64
	// addressProtection is the share of people under address protection.
	addressProtection float64
	// qualification marks the qualification programme: its benefit replaces
	// social assistance while enrolled and ends with the programme.
	qualification bool
	// volunteers record practical-help meetings themselves.
	volunteers bool
}

// office is a unit that owns cases; employers are found in its region.
type office struct {
	id     string
	region string
	city   string
	// share of the programme's enrolments.
	share float64
}

type weighted[T any] struct {
	v T
	w float64
}

func pick[T any](r interface{ Float64() float64 }, choices []weighted[T]) T {
	total := 0.0
	for _, c := range choices {
		total += c.w
	}
	x := r.Float64() * total
	for _, c := range choices {
		if x < c.w {
			return c.v
		}
		x -= c.w
	}
	return choices[len(choices)-1].v
}

// region is where employers are: a city and its municipalities.
type region struct {
	id             string
	city           string
	municipalities []string
	// base is how many of the region's employers the first participants'
	// job specialists know; the network grows with the population.
	base int
}

// blockSize is how many participants (by number) share a set of staff
// and an employer network. Plans depend on the block of a participant's
// number, never on the population's size, so that a larger population
// extends a smaller one of the same seed.
const blockSize = 400

// maxGrowth bounds how far a region's employer network grows.
const maxGrowth = 10

// known is how many of the region's employers participants of block b
// are placed with: the network grows as more people come, up to a bound.
func (r region) known(b int) int { return r.base * min(maxGrowth, 1+b/2) }

// catalogue is the world of one run. It is built afresh by newCatalogue,
// never shared between runs.
type catalogue struct {
	programmes []programme
	regions    []region
	// employers by region id, in catalogue order.
	employers map[string][]employer
	all       []employer
}

// employer is an employer of the catalogue with its registration.
type employer struct {
	id  uuid.UUID
	cmd domain.RegisterEmployerCommand
}

// Namespaces of the ids the generator derives, so that every id is the
// same on every run and never collides with another product's.
var (
	participantNamespace = uuid.MustParse("0e3b9c53-5d1e-4d8a-b3f4-7a2c1e6f9d40")
	plannedNamespace     = uuid.MustParse("c71e5b08-2f4d-4a93-9e6c-1d8b7a3f5e12")
)

func newCatalogue() *catalogue {
	c := &catalogue{
		regions: []region{
			{id: "oslo", city: "Oslo", municipalities: []string{"0301"}, base: 36},
			{id: "bergen", city: "Bergen", municipalities: []string{"4601"}, base: 18},
			{id: "trondheim", city: "Trondheim", municipalities: []string{"5001"}, base: 10},
			// Gran and Lunner, the Hadeland municipalities the project serves.
			{id: "hadeland", city: "Gran", municipalities: []string{"3446", "3448"}, base: 8},
		},
		employers: map[string][]employer{},
	}
	c.programmes = programmes()
	for _, r := range c.regions {
		for i := range r.base * maxGrowth {
			e := newEmployer(r, i, len(c.all))
			c.employers[r.id] = append(c.employers[r.id], e)
			c.all = append(c.all, e)
		}
	}
	return c
}

func programmes() []programme {
	immigrantIncome := []weighted[domain.IncomeSource]{
		{domain.IncomeSocialAssistance, 55}, {domain.IncomeIntroductionBenefit, 8},
		{domain.IncomeWorkAssessmentAllowance, 12}, {domain.IncomeUnemploymentBenefit, 5},
		{domain.IncomeWork, 4}, {domain.IncomeFamilySupport, 4}, {domain.IncomeNone, 8},
		{domain.IncomeOther, 2}, {domain.IncomeUnknown, 2},
	}
	return []programme{
		{
			slug: "hope", name: "Hope programme (Bergen and Trondheim)",
			offices: []office{
				{id: "hope-bergen", region: "bergen", city: "Bergen", share: 0.7},
				{id: "hope-trondheim", region: "trondheim", city: "Trondheim", share: 0.3},
			},
			weight: 0.27, durationDays: 420, maxDays: 720, index: 0.95,
			jobRate: 0.72, jobMedianDays: 160, practice: 0.35, language: 0.15, education: 0.07, dropout: 0.16,
			referrals: []weighted[domain.ReferralSource]{
				{domain.ReferralWelfareOffice, 45}, {domain.ReferralSocialServices, 20},
				{domain.ReferralSelf, 15}, {domain.ReferralOtherOrganisation, 20},
			},
			income: immigrantIncome,
			team:   []domain.CaseworkerRole{domain.RoleJobSpecialist, domain.RoleSocialWorker},
			women:  0.55, immigrants: 0.7, children: 0.5, addressProtection: 0.015,
		},
		{
			slug: "city-mission-work-inclusion", name: "Work-inclusion project of the city mission (Oslo)",
			targets: []domain.Target{{Measure: domain.MeasureJobWithin183d, Rate: 0.60}},
			offices: []office{{id: "city-mission-oslo", region: "oslo", city: "Oslo", share: 1}},
			weight:  0.12, durationDays: 300, maxDays: 540, index: 0.4,
			jobRate: 0.85, jobMedianDays: 90, practice: 0.3, language: 0.2, education: 0.04, dropout: 0.22,
			referrals: []weighted[domain.ReferralSource]{
				{domain.ReferralOtherOrganisation, 45}, {domain.ReferralSelf, 35},
				{domain.ReferralSocialServices, 10}, {domain.ReferralWelfareOffice, 10},
			},
			income: []weighted[domain.IncomeSource]{
				{domain.IncomeNone, 30}, {domain.IncomeSocialAssistance, 40}, {domain.IncomeOther, 15},
				{domain.IncomeWork, 5}, {domain.IncomeUnknown, 10},
			},
			team:  []domain.CaseworkerRole{domain.RoleSocialWorker, domain.RoleJobSpecialist},
			women: 0.88, immigrants: 0.97, children: 0.3, addressProtection: 0.02,
		},
		{
			slug: "hadeland-welfare-project", name: "Welfare-office project for families (Hadeland)",
			offices: []office{{id: "welfare-hadeland", region: "hadeland", city: "Gran", share: 1}},
			weight:  0.17, durationDays: 480, maxDays: 900, index: 0,
			jobRate: 0.72, jobMedianDays: 170, practice: 0.4, language: 0.3, education: 0.1, dropout: 0.12,
			referrals: []weighted[domain.ReferralSource]{
				{domain.ReferralWelfareOffice, 80}, {domain.ReferralSocialServices, 20},
			},
			income: []weighted[domain.IncomeSource]{{domain.IncomeSocialAssistance, 1}},
			team:   []domain.CaseworkerRole{domain.RoleJobSpecialist, domain.RoleSocialWorker},
			women:  0.6, immigrants: 1, children: 1, addressProtection: 0.01,
		},
		{
			slug: "crisis-centre-volunteers", name: "Volunteer project for women moving out of a crisis centre (Oslo)",
			offices: []office{{id: "crisis-centre-oslo", region: "oslo", city: "Oslo", share: 1}},
			weight:  0.1, durationDays: 200, maxDays: 365, index: 0.7,
			jobRate: 0.45, jobMedianDays: 140, practice: 0.15, language: 0.1, education: 0.08, dropout: 0.15,
			referrals: []weighted[domain.ReferralSource]{
				{domain.ReferralCrisisCentre, 85}, {domain.ReferralSocialServices, 10}, {domain.ReferralSelf, 5},
			},
			income: []weighted[domain.IncomeSource]{
				{domain.IncomeSocialAssistance, 50}, {domain.IncomeWorkAssessmentAllowance, 15},
				{domain.IncomeWork, 12}, {domain.IncomeIntroductionBenefit, 8}, {domain.IncomeFamilySupport, 8},
				{domain.IncomeDisabilityBenefit, 4}, {domain.IncomeNone, 3},
			},
			team:  []domain.CaseworkerRole{domain.RoleCoordinator, domain.RoleVolunteerMentor},
			women: 1, immigrants: 0.6, children: 0.65, addressProtection: 0.08, volunteers: true,
		},
		{
			slug: "qualification-programme", name: "Qualification programme (Oslo district)",
			targets: []domain.Target{{Measure: domain.MeasureWorkOrEducationAtExit, Rate: 0.70}},
			offices: []office{{id: "oslo-district-east", region: "oslo", city: "Oslo", share: 1}},
			weight:  0.34, durationDays: 540, maxDays: 730, index: 0,
			jobRate: 0.76, jobMedianDays: 200, practice: 0.5, language: 0.45, education: 0.25, dropout: 0.1,
			referrals: []weighted[domain.ReferralSource]{
				{domain.ReferralWelfareOffice, 90}, {domain.ReferralSocialServices, 10},
			},
			income: []weighted[domain.IncomeSource]{{domain.IncomeSocialAssistance, 1}},
			team:   []domain.CaseworkerRole{domain.RoleSocialWorker, domain.RoleJobSpecialist},
			women:  0.5, immigrants: 0.78, children: 0.55, addressProtection: 0.01,
			qualification: true,
		},
	}
}

// Offices lists the ids of the offices the demo data have participants
// in; the first is the Bergen office of the hope programme.
func Offices() []string {
	var out []string
	for _, pr := range programmes() {
		for _, o := range pr.offices {
			out = append(out, o.id)
		}
	}
	return out
}

// employersFor lists the employers the first participants of a
// population need registered.
func (c *catalogue) employersFor(participants int) []employer {
	last := (participants - 1) / blockSize
	var out []employer
	for _, r := range c.regions {
		out = append(out, c.employers[r.id][:r.known(last)]...)
	}
	return out
}

// network is the employers participant n's job specialists work with in
// the region.
func (c *catalogue) network(regionID string, n int) []employer {
	for _, r := range c.regions {
		if r.id == regionID {
			return c.employers[r.id][:r.known(n/blockSize)]
		}
	}
	return nil
}

// industry is a kind of workplace where participants of these programmes
// often start: its SN2007 code and a trade name for invented employers.
type industry struct {
	code, trade string
}

func industries() []industry {
	return []industry{
		{"56.101", "Kafé"}, {"47.111", "Dagligvare"}, {"81.210", "Renhold"}, {"87.101", "Sykehjem"},
		{"88.101", "Hjemmetjenester"}, {"55.101", "Hotell"}, {"52.100", "Lager"}, {"10.710", "Bakeri"},
		{"43.341", "Maling"}, {"81.300", "Hage og park"}, {"96.010", "Vaskeri"}, {"49.410", "Transport"},
		{"88.911", "Barnehage"},
	}
}

// employerPrefixes are invented place-like names: no real company has them.
func employerPrefixes() []string {
	return []string{
		"Testvik", "Prøvelia", "Fiktiva", "Eksempeldal", "Demoberg", "Oppdikta", "Tenktnes", "Lateåsen",
		"Skinnvika", "Øvingsstad", "Prøvholt", "Testrud", "Liksomli", "Narrestad", "Fantasund", "Diktevik",
		"Innbilt", "Påståsen", "Kulissen", "Attrapp", "Modellvik", "Utkastet", "Skissebø", "Prototun",
	}
}

// newEmployer builds employer i of region r; global is its place in the
// whole catalogue, which its organisation number is derived from.
func newEmployer(r region, i, global int) employer {
	inds := industries()
	prefixes := employerPrefixes()
	ind := inds[(i/len(prefixes))%len(inds)]
	name := fmt.Sprintf("%s %s %s AS", prefixes[i%len(prefixes)], ind.trade, r.city)
	if i >= len(prefixes)*len(inds) {
		name = fmt.Sprintf("%s %s %s %d AS", prefixes[i%len(prefixes)], ind.trade, r.city, i/(len(prefixes)*len(inds))+1)
	}
	cmd := domain.RegisterEmployerCommand{
		OrganisationNumber: testOrganisationNumber(global),
		Name:               name,
		IndustryCode:       ind.code,
		Municipality:       r.municipalities[i%len(r.municipalities)],
		Personal: &domain.EmployerPersonal{
			ContactName:  contactName(global),
			ContactPhone: fakePhone(900_000 + global),
			ContactEmail: fmt.Sprintf("kontakt%d@example.com", global),
		},
	}
	// The API's id for this organisation number: registering it there too
	// meets this registration rather than making a second employer.
	return employer{id: casework.EmployerID(cmd.OrganisationNumber), cmd: cmd}
}

// testOrganisationNumber is the n-th synthetic organisation number. Real
// organisation numbers start with 8 or 9; these start with 3, so that none
// can belong to a real organisation, and carry a valid mod-11 check digit
// so that the domain accepts them. About one base in eleven has no check
// digit; each number owns a range of 16 bases and takes the first that has
// one, which keeps the numbers distinct.
func testOrganisationNumber(n int) string {
	for j := range 16 {
		if s, err := domain.CompleteOrganisationNumber(fmt.Sprintf("3%07d", n*16+j)); err == nil {
			return s
		}
	}
	// Two consecutive bases always include one with a check digit, since
	// the last digit weighs 2 and the remainders of neighbours differ.
	panic(fmt.Sprintf("seed: no organisation number for employer %d", n))
}
