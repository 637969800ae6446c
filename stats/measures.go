package stats

import (
	"github.com/caseledger/caseledger/domain"
)

// Windows of measures.md, in days.
const (
	jobWindowDays     = 183
	maxJobGapDays     = 14
	weekDays          = 7
	retentionShortDay = 90
	retentionLongDay  = 180
)

// survivalTimes are the days S(t) is reported at.
var survivalTimes = [...]int{90, 183, 365}

// Measures are the figures of one report, in the order of measures.md.
type Measures struct {
	Enrolled                  Enrolled          `json:"enrolled"`
	JobWithin183d             Rate              `json:"job_within_183d"`
	WorkOrEducationAtExit     Rate              `json:"work_or_education_at_exit"`
	TimeToFirstJob            TimeToJob         `json:"time_to_first_job"`
	Retention90d              Rate              `json:"retention_90d"`
	Retention180d             Rate              `json:"retention_180d"`
	IndexChange               []DimensionChange `json:"index_change"`
	OffSocialAssistanceAtExit Rate              `json:"off_social_assistance_at_exit"`
	ContactIntensity          ContactIntensity  `json:"contact_intensity"`
}

// Enrolled counts the cohort's episodes.
type Enrolled struct {
	Episodes     Count      `json:"episodes"`
	ByStatus     []Category `json:"by_status"`
	ByExitReason []Category `json:"by_exit_reason"`
}

// Category is one count of a breakdown.
type Category struct {
	Key   string `json:"key"`
	Count Count  `json:"count"`
}

// Rate is a proportion with its Wilson interval.
type Rate struct {
	Numerator   Count `json:"numerator"`
	Denominator Count `json:"denominator"`
	Rate        Value `json:"rate"`
	Lower       Value `json:"lower"`
	Upper       Value `json:"upper"`
	// Target is the programme's target for the measure (null without one,
	// or for a cohort of several programmes); MeetsTarget whether the point
	// estimate reaches it.
	Target      *Value `json:"target,omitempty"`
	MeetsTarget *Flag  `json:"meets_target,omitempty"`
}

// rate builds a Rate of x out of n under the disclosure rule. A suppressed
// rate hides its numerator too, which with the denominator would give it
// away.
func rate(x, n, k int) Rate {
	r := Rate{Numerator: count(x, k), Denominator: count(n, k)}
	if n == 0 {
		return r
	}
	hide := rateSuppressed(x, n, k)
	lo, hi := Wilson(x, n)
	r.Rate = value(float64(x) / float64(n)).suppress(hide)
	r.Lower, r.Upper = value(lo).suppress(hide), value(hi).suppress(hide)
	if hide {
		r.Numerator = Count{Suppressed: true}
	}
	return r
}

// withTarget adds a target to a rate measure that has one.
func (r Rate) withTarget(targets []domain.Target, id domain.MeasureID, x, n, k int) Rate {
	r.Target, r.MeetsTarget = nil, nil
	for _, t := range targets {
		if t.Measure != id {
			continue
		}
		tv := value(t.Rate)
		r.Target = &tv
		f := Flag{}
		switch {
		case n > 0 && rateSuppressed(x, n, k):
			f.Suppressed = true
		case n > 0:
			f.B, f.Defined = float64(x)/float64(n) >= t.Rate, true
		}
		r.MeetsTarget = &f
	}
	return r
}

// Measure computes every measure over a cohort's episodes.
func Measure(eps []Episode, asOf domain.Date, targets []domain.Target, k int) Measures {
	c := newMeasuring(dayOf(asOf), len(eps))
	for _, e := range eps {
		f := factsOf(e)
		c.add(&f)
	}
	return c.measures(targets, k)
}

// measuring takes a cohort's episodes one at a time, in report order, and
// keeps what the measures need of each: a report over a hundred thousand
// episodes reads each once and holds no more than these counts and the
// values the methods need together (times to a first job, score pairs,
// days between meetings).
type measuring struct {
	asOf     day
	episodes int
	statuses []domain.Status // by status (statuses) and exit reason
	reasons  []domain.ExitReason
	byStatus []int
	byReason []int
	// Successes and eligible episodes of the rates.
	job183, workOrEducation, retained90, retained180, offAssistance rateCounts
	// Times to the first job, and how many of them are events.
	obs    []Observation
	events int
	// Score pairs per dimension, and baselines without an end score.
	base, end [len(dimensions)][]float64
	missing   int
	// Contact intensity.
	weeks, weeksMet, gapEpisodes int
	gaps                         tally
}

// rateCounts are a rate's successes and eligible episodes.
type rateCounts struct{ x, n int }

func (c *rateCounts) add(success, eligible bool) {
	if eligible {
		c.n++
		if success {
			c.x++
		}
	}
}

// newMeasuring takes episodes as of asOf; about is how many are expected.
func newMeasuring(asOf day, about int) *measuring {
	c := &measuring{asOf: asOf, statuses: []domain.Status{domain.StatusActive, domain.StatusPaused, domain.StatusExited},
		reasons: domain.ExitReasons(), obs: make([]Observation, 0, about)}
	c.byStatus, c.byReason = make([]int, len(c.statuses)), make([]int, len(c.reasons))
	return c
}

// add takes one episode's facts; they may be changed once add returns.
func (c *measuring) add(e *facts) {
	c.episodes++
	st := e.status()
	for j, s := range c.statuses {
		if st == s {
			c.byStatus[j]++
			break
		}
	}
	for j, r := range c.reasons {
		if e.exited && e.reason == r {
			c.byReason[j]++
			break
		}
	}
	c.job183.add(e.jobWithin183d(c.asOf))
	c.workOrEducation.add(e.workOrEducationOnExit(), e.exited)
	o := e.jobObservation(c.asOf)
	c.obs = append(c.obs, o)
	if o.Event {
		c.events++
	}
	c.retained90.add(e.retainedAfter(c.asOf, retentionShortDay))
	c.retained180.add(e.retainedAfter(c.asOf, retentionLongDay))
	switch {
	case e.baseline == nil:
	case e.end == nil:
		c.missing++
	default:
		for d := range dimensions {
			c.base[d] = append(c.base[d], float64(e.baseline[d]))
			c.end[d] = append(c.end[d], float64(e.end[d]))
		}
	}
	c.offAssistance.add(e.offSocialAssistance())
	counted, met := e.weeks(c.asOf)
	c.weeks += counted
	c.weeksMet += met
	if len(e.meetings) > 1 {
		c.gapEpisodes++
		for j := 1; j < len(e.meetings); j++ {
			c.gaps.add(int(e.meetings[j] - e.meetings[j-1]))
		}
	}
}

// merge takes the episodes o took, after those c took.
func (c *measuring) merge(o *measuring) {
	c.episodes += o.episodes
	for j := range c.byStatus {
		c.byStatus[j] += o.byStatus[j]
	}
	for j := range c.byReason {
		c.byReason[j] += o.byReason[j]
	}
	for _, r := range []struct{ to, from *rateCounts }{{&c.job183, &o.job183}, {&c.workOrEducation, &o.workOrEducation},
		{&c.retained90, &o.retained90}, {&c.retained180, &o.retained180}, {&c.offAssistance, &o.offAssistance}} {
		r.to.x, r.to.n = r.to.x+r.from.x, r.to.n+r.from.n
	}
	c.obs, c.events = append(c.obs, o.obs...), c.events+o.events
	for d := range dimensions {
		c.base[d], c.end[d] = append(c.base[d], o.base[d]...), append(c.end[d], o.end[d]...)
	}
	c.missing += o.missing
	c.weeks, c.weeksMet, c.gapEpisodes = c.weeks+o.weeks, c.weeksMet+o.weeksMet, c.gapEpisodes+o.gapEpisodes
	c.gaps.merge(&o.gaps)
}

// measures are the figures of the episodes taken, under disclosure
// control with threshold k.
func (c *measuring) measures(targets []domain.Target, k int) Measures {
	var m Measures
	m.Enrolled = Enrolled{Episodes: count(c.episodes, k)}
	for j, st := range c.statuses {
		m.Enrolled.ByStatus = append(m.Enrolled.ByStatus, Category{Key: string(st), Count: count(c.byStatus[j], k)})
	}
	for j, r := range c.reasons {
		m.Enrolled.ByExitReason = append(m.Enrolled.ByExitReason, Category{Key: string(r), Count: count(c.byReason[j], k)})
	}
	// Their totals are shown: the episodes, and the exited among them.
	protect(m.Enrolled.ByStatus)
	protect(m.Enrolled.ByExitReason)
	shown := func(r rateCounts, id domain.MeasureID) Rate {
		return rate(r.x, r.n, k).withTarget(targets, id, r.x, r.n, k)
	}
	m.JobWithin183d = shown(c.job183, domain.MeasureJobWithin183d)
	m.WorkOrEducationAtExit = shown(c.workOrEducation, domain.MeasureWorkOrEducationAtExit)
	m.TimeToFirstJob = timeToJob(c.obs, c.events, k)
	m.Retention90d = shown(c.retained90, domain.MeasureRetention90d)
	m.Retention180d = shown(c.retained180, domain.MeasureRetention180d)
	m.IndexChange = indexChange(c.base, c.end, c.missing, k)
	m.OffSocialAssistanceAtExit = shown(c.offAssistance, domain.MeasureOffSocialAssistanceAtExit)
	m.ContactIntensity = contactIntensity(c.weeks, c.weeksMet, c.gapEpisodes, &c.gaps, k)
	return m
}

// firstJob is the start of the episode's first ordinary job, started on or
// after enrolment and not after exit; settle works it out once for every
// measure that asks.
func (e *facts) firstJob() (day, bool) { return e.job, e.hasJob }

// settle derives what several measures need from the episode's facts; the
// builders of facts call it last.
func (e *facts) settle() {
	e.job, e.hasJob = 0, false
	for _, p := range e.placements {
		if p.kind != domain.PlacementOrdinaryJob || p.start < e.enrolledOn || (e.exited && p.start > e.exitOn) {
			continue
		}
		if !e.hasJob || p.start < e.job {
			e.job, e.hasJob = p.start, true
		}
	}
}

// jobWithin183d: eligible when enrolled at least 183 days before as_of; a
// success when the first ordinary job started within 183 days of
// enrolment.
func (e *facts) jobWithin183d(asOf day) (success, eligible bool) {
	if e.enrolledOn > addDays(asOf, -jobWindowDays) {
		return false, false
	}
	start, ok := e.firstJob()
	return ok && start <= addDays(e.enrolledOn, jobWindowDays), true
}

// workOrEducationOnExit reports whether an exited episode ended in work or
// education: its destination, or an ordinary-job or education placement
// open on the exit date.
func (e *facts) workOrEducationOnExit() bool {
	if e.dest == domain.DestinationOrdinaryJob || e.dest == domain.DestinationEducation {
		return true
	}
	for _, p := range e.placements {
		if (p.kind == domain.PlacementOrdinaryJob || p.kind == domain.PlacementEducation) && p.openOn(e.exitOn) {
			return true
		}
	}
	return false
}

// jobObservation is an episode's time to its first ordinary job, or to
// its censoring at exit or as_of.
func (e *facts) jobObservation(asOf day) Observation {
	if start, ok := e.firstJob(); ok {
		return Observation{Time: int(start - e.enrolledOn), Event: true}
	}
	end := asOf
	if e.exited {
		end = e.exitOn
	}
	return Observation{Time: int(end - e.enrolledOn)}
}

// employedOn reports whether day d is inside an ordinary job of e, or in a
// gap of at most 14 days (the days strictly between the one job's last day
// and the next one's first) between two ordinary jobs.
func (e *facts) employedOn(d day) bool {
	for _, p := range e.placements {
		if p.kind == domain.PlacementOrdinaryJob && p.openOn(d) {
			return true
		}
	}
	for _, a := range e.placements {
		if a.kind != domain.PlacementOrdinaryJob || a.end == 0 || a.end >= d {
			continue
		}
		for _, b := range e.placements {
			if b.kind == domain.PlacementOrdinaryJob && b.start > d && int(b.start-a.end)-1 <= maxJobGapDays {
				return true
			}
		}
	}
	return false
}

// retainedAfter reports whether the episode's first ordinary job started
// at least days before asOf (observed), and if so whether the participant
// was employed on day days after its start.
func (e *facts) retainedAfter(asOf day, days int) (employed, observed bool) {
	start, ok := e.firstJob()
	if !ok || start > addDays(asOf, -days) {
		return false, false
	}
	return e.employedOn(addDays(start, days)), true
}

// offSocialAssistance: eligible when exited with social assistance at
// intake; a success when the income source in force on the exit date is
// another.
func (e *facts) offSocialAssistance() (success, eligible bool) {
	if !e.exited || e.intake != domain.IncomeSocialAssistance {
		return false, false
	}
	return e.incomeSourceOn(e.exitOn) != domain.IncomeSocialAssistance, true
}

// incomeSourceOn is the episode's main income source in force on day d:
// the last change dated on or before it, in recorded order among changes
// of the same date, else the one at intake.
func (e *facts) incomeSourceOn(d day) domain.IncomeSource {
	src := e.intake
	var best day
	for _, s := range e.incomes {
		if s.from <= d && s.from >= best {
			src, best = s.source, s.from
		}
	}
	return src
}
