package stats

import (
	"github.com/caseledger/caseledger/domain"
)

// facts is an episode as the measures read it, as of a business date:
// what Episode holds, with dates as day numbers. The measures are
// computed on facts only, one episode at a time (measuring). The reference
// fold of the log (FromLog) builds them from its Episodes; the read model
// and a recompute build them from their records without a domain.Date in
// between, sharing the records' meeting days and scores rather than
// copying them.
type facts struct {
	enrolledOn day
	exitOn     day // when exited
	exited     bool
	paused     bool // on as_of
	reason     domain.ExitReason
	dest       domain.Destination
	intake     domain.IncomeSource // at intake
	placements []span
	incomes    []incomeFrom // at intake, then each change, in recorded order
	pauses     []span
	meetings   []day // sorted
	// baseline and end are the episode's baseline (the last recorded) and
	// its last end score by date: the scores of the dimensions, in the
	// order of dimensions; nil when there is none.
	baseline, end []int32
	// Derived by settle.
	job    day // the first ordinary job's start, with hasJob
	hasJob bool
}

// span is a placement (kind set; end is its last day) or a pause (from
// start to the day before end, the day it was resumed); end is 0 while
// it lasts.
type span struct {
	kind       domain.PlacementKind
	start, end day
}

// openOn reports whether the placement was running on day d.
func (s span) openOn(d day) bool {
	return s.start <= d && (s.end == 0 || s.end >= d)
}

// incomeFrom is a main income source from a day on.
type incomeFrom struct {
	from   day
	source domain.IncomeSource
}

// factsOf converts one episode.
func factsOf(e Episode) facts {
	f := facts{enrolledOn: dayOf(e.EnrolledOn), paused: e.Paused, intake: e.Profile.IncomeSource}
	if e.Baseline != nil {
		w := scoreWordsOf(*e.Baseline)
		f.baseline = w[:]
	}
	if e.End != nil {
		w := scoreWordsOf(*e.End)
		f.end = w[:]
	}
	if e.Exit != nil {
		f.exited, f.exitOn, f.reason, f.dest = true, dayOf(e.Exit.Date), e.Exit.Reason, e.Exit.Destination
	}
	for _, p := range e.Placements {
		f.placements = append(f.placements, span{kind: p.Kind, start: dayOf(p.Start), end: dayOf(p.End)})
	}
	for _, s := range e.IncomeSources {
		f.incomes = append(f.incomes, incomeFrom{from: dayOf(s.From), source: s.Source})
	}
	for _, p := range e.Pauses {
		f.pauses = append(f.pauses, span{start: dayOf(p.From), end: dayOf(p.To)})
	}
	f.meetings = make([]day, len(e.Meetings))
	for i, m := range e.Meetings {
		f.meetings[i] = dayOf(m)
	}
	f.settle()
	return f
}

// status is active, paused or exited on as_of.
func (f *facts) status() domain.Status {
	switch {
	case f.exited:
		return domain.StatusExited
	case f.paused:
		return domain.StatusPaused
	}
	return domain.StatusActive
}

// cohortFilter is a Cohort with its enrolment dates as day numbers.
type cohortFilter struct {
	Cohort
	from, to day
}

func (c Cohort) filter() cohortFilter {
	return cohortFilter{Cohort: c, from: dayOf(c.EnrolledFrom), to: dayOf(c.EnrolledTo)}
}

// includes reports whether an episode of this programme and office,
// enrolled on that day with that profile at intake, is in the cohort.
func (c cohortFilter) includes(programme, office string, enrolledOn day, g domain.Gender, r domain.RegionOfBirth, src domain.IncomeSource) bool {
	switch {
	case c.Programme != "" && programme != c.Programme,
		c.Office != "" && office != c.Office,
		c.from != 0 && enrolledOn < c.from,
		c.to != 0 && enrolledOn > c.to,
		c.Gender != "" && g != c.Gender,
		c.RegionOfBirth != "" && r != c.RegionOfBirth,
		c.IncomeSource != "" && src != c.IncomeSource:
		return false
	}
	return true
}

// The measures over Episodes, for the callers that hold Episodes (a
// comparison of two cohorts, the episode export): each converts and
// computes on facts.

func jobWithin183d(eps []Episode, asOf domain.Date) (x, n int) {
	return countOf(eps, func(f *facts) (bool, bool) { return f.jobWithin183d(dayOf(asOf)) })
}

func workOrEducationAtExit(eps []Episode) (x, n int) {
	return countOf(eps, func(f *facts) (bool, bool) { return f.workOrEducationOnExit(), f.exited })
}

func retention(eps []Episode, asOf domain.Date, days int) (x, n int) {
	return countOf(eps, func(f *facts) (bool, bool) { return f.retainedAfter(dayOf(asOf), days) })
}

func offSocialAssistance(eps []Episode) (x, n int) {
	return countOf(eps, func(f *facts) (bool, bool) { return f.offSocialAssistance() })
}

// countOf counts the successes and eligible episodes of a rate.
func countOf(eps []Episode, of func(*facts) (success, eligible bool)) (x, n int) {
	var c rateCounts
	for _, e := range eps {
		f := factsOf(e)
		c.add(of(&f))
	}
	return c.x, c.n
}

func timeToFirstJob(eps []Episode, asOf domain.Date, k int) TimeToJob {
	obs, events := make([]Observation, len(eps)), 0
	for i, e := range eps {
		f := factsOf(e)
		if obs[i] = f.jobObservation(dayOf(asOf)); obs[i].Event {
			events++
		}
	}
	return timeToJob(obs, events, k)
}

func weeks(e Episode, asOf domain.Date) (counted, met int) {
	f := factsOf(e)
	return f.weeks(dayOf(asOf))
}

func firstJob(e Episode) (domain.Date, bool) {
	f := factsOf(e)
	start, ok := f.firstJob()
	return dateOf(start), ok
}

func workOrEducationOnExit(e Episode) bool {
	f := factsOf(e)
	return f.workOrEducationOnExit()
}

func retainedAfter(e Episode, asOf domain.Date, days int) (employed, observed bool) {
	f := factsOf(e)
	return f.retainedAfter(dayOf(asOf), days)
}

func incomeSourceOn(e Episode, d domain.Date) domain.IncomeSource {
	f := factsOf(e)
	return f.incomeSourceOn(dayOf(d))
}
