package stats

import (
	"slices"

	"github.com/caseledger/caseledger/domain"
)

// TimeToJob is the Kaplan-Meier estimate of the time to the first
// ordinary job.
type TimeToJob struct {
	Episodes Count `json:"episodes"`
	Events   Count `json:"events"`
	Censored Count `json:"censored"`
	// Median and its interval, in days; null where the curve or band
	// never reaches 0.5.
	Median      Value           `json:"median"`
	MedianLower Value           `json:"median_lower"`
	MedianUpper Value           `json:"median_upper"`
	At          []SurvivalPoint `json:"at"`
	// Steps are the curve's steps for a plot, cut where fewer than k
	// remain at risk, and none at all when the number of first jobs is
	// suppressed (the drops would tell it).
	Steps []Step `json:"steps"`
}

// SurvivalPoint is S(t) at one time, and its complement: the share with a
// job by then.
type SurvivalPoint struct {
	Day      int   `json:"day"`
	AtRisk   Count `json:"at_risk"`
	Survival Value `json:"survival"`
	Lower    Value `json:"lower"`
	Upper    Value `json:"upper"`
	WithJob  Value `json:"with_job"`
}

// Step is one step of the curve.
type Step struct {
	Day      int   `json:"day"`
	AtRisk   int   `json:"at_risk"`
	Survival Value `json:"survival"`
	Lower    Value `json:"lower"`
	Upper    Value `json:"upper"`
}

// timeToJob is time_to_first_job of the episodes' observations, events of
// them events.
func timeToJob(obs []Observation, events, k int) TimeToJob {
	out := TimeToJob{Episodes: count(len(obs), k), Events: count(events, k), Censored: count(len(obs)-events, k)}
	// Episodes are jobs plus censored: with one of the two hidden, the
	// other would tell it.
	jobsHidden := out.Events.Suppressed || out.Censored.Suppressed
	out.Events.Suppressed, out.Censored.Suppressed = jobsHidden, jobsHidden
	steps := KaplanMeier(obs)
	// Every point of the curve below 1 counts jobs, so a hidden number of
	// jobs hides the curve, its median and its points too.
	few := len(obs) < k || out.Events.Suppressed
	for _, st := range steps {
		// The curve's drops count the jobs: where that count is
		// suppressed, so is every step.
		if st.AtRisk < k || out.Events.Suppressed {
			break
		}
		lo, hi := band(st)
		out.Steps = append(out.Steps, Step{Day: st.Time, AtRisk: st.AtRisk, Survival: value(st.Survival), Lower: lo, Upper: hi})
	}
	if out.Steps == nil {
		out.Steps = []Step{}
	}
	// A time is shown only where at least k were still at risk.
	shown := func(t float64, ok bool) Value {
		if !ok || len(obs) == 0 {
			return Value{}
		}
		return value(t).suppress(few || AtRiskAt(obs, int(t)) < k)
	}
	med := KMMedian(steps)
	out.Median = shown(med.Time, med.HasTime)
	out.MedianLower = shown(med.Lower, med.HasLow)
	out.MedianUpper = shown(med.Upper, med.HasHigh)
	for _, day := range survivalTimes {
		n := AtRiskAt(obs, day)
		p := SurvivalPoint{Day: day, AtRisk: count(n, k)}
		if len(obs) > 0 {
			hide := few || n < k
			st, ok := SurvivalAt(steps, day)
			s := 1.0
			var lo, hi Value
			if ok {
				s = st.Survival
				lo, hi = band(st)
			}
			p.Survival = value(s).suppress(hide)
			p.WithJob = value(1 - s).suppress(hide)
			p.Lower, p.Upper = lo.suppress(hide), hi.suppress(hide)
		}
		out.At = append(out.At, p)
	}
	return out
}

func band(st KMStep) (lo, hi Value) {
	if !st.Bounded {
		return Value{}, Value{}
	}
	return value(st.Lower), value(st.Upper)
}

// DimensionChange is the paired change of one indicator dimension.
type DimensionChange struct {
	Dimension    string `json:"dimension"`
	Pairs        Count  `json:"pairs"`
	Missing      Count  `json:"missing"` // a baseline but no end score
	MeanBaseline Value  `json:"mean_baseline"`
	MeanEnd      Value  `json:"mean_end"`
	MeanChange   Value  `json:"mean_change"`
	SDChange     Value  `json:"sd_change"`
	Lower        Value  `json:"lower"`
	Upper        Value  `json:"upper"`
	DZ           Value  `json:"d_z"`
	T            Value  `json:"t"`
	DF           Value  `json:"df"`
	P            Value  `json:"p"`
}

// dimensions of the indicator index, in the order of measures.md.
var dimensions = [...]struct {
	name string
	of   func(domain.Scores) int
}{
	{"hope", func(s domain.Scores) int { return s.Hope }},
	{"well_being", func(s domain.Scores) int { return s.WellBeing }},
	{"network", func(s domain.Scores) int { return s.Network }},
	{"work_attachment", func(s domain.Scores) int { return s.WorkAttachment }},
}

// indexChange is the measure of the score pairs of each dimension, and
// missing baselines without an end score.
func indexChange(base, end [len(dimensions)][]float64, missing, k int) []DimensionChange {
	var out []DimensionChange
	for d, dim := range dimensions {
		r := PairedTTest(base[d], end[d])
		hide := r.N < k
		ch := DimensionChange{Dimension: dim.name, Pairs: count(r.N, k), Missing: count(missing, k)}
		if r.N > 0 {
			ch.MeanBaseline = value(r.MeanBaseline).suppress(hide)
			ch.MeanEnd = value(r.MeanEnd).suppress(hide)
			ch.MeanChange = value(r.MeanChange).suppress(hide)
		}
		if r.Defined {
			ch.SDChange = value(r.SDChange).suppress(hide)
			ch.Lower, ch.Upper = value(r.Lower).suppress(hide), value(r.Upper).suppress(hide)
			ch.DF = value(float64(r.DF)).suppress(hide)
			if !r.DegenerateVariance {
				ch.DZ, ch.T, ch.P = value(r.DZ).suppress(hide), value(r.T).suppress(hide), significant(r.P).suppress(hide)
			}
		}
		out = append(out, ch)
	}
	return out
}

// ContactIntensity is how often counted weeks had a meeting, and the
// usual gap between meetings.
type ContactIntensity struct {
	Weeks Rate `json:"weeks_with_meeting"`
	// MedianDaysBetween is pooled over the cohort's consecutive meetings;
	// Gaps counts those gaps and Episodes the episodes they come from.
	MedianDaysBetween Value `json:"median_days_between_meetings"`
	Gaps              Count `json:"gaps"`
	GapEpisodes       Count `json:"gap_episodes"`
}

// contactIntensity is the measure of the counted weeks, those of them
// with a meeting, and the days between consecutive meetings of
// gapEpisodes episodes.
func contactIntensity(counted, met, gapEpisodes int, gaps *tally, k int) ContactIntensity {
	out := ContactIntensity{Weeks: rate(met, counted, k), Gaps: count(gaps.n, k), GapEpisodes: count(gapEpisodes, k)}
	if gaps.n > 0 {
		out.MedianDaysBetween = value(gaps.median()).suppress(gapEpisodes < k)
	}
	return out
}

// weeks counts an episode's weeks (7-day blocks from enrolment) that are
// complete before its exit and before as_of and have no paused day, and
// those of them with a meeting. It works on week numbers rather than
// walking week by week: a cohort holds millions of weeks.
func (e *facts) weeks(asOf day) (counted, met int) {
	limit := asOf // a week counts when its last day is before limit
	if e.exited && e.exitOn < limit {
		limit = e.exitOn
	}
	start := e.enrolledOn
	if limit <= start {
		return 0, 0
	}
	// Week j runs from start+7j to start+7j+6; weeks 0 to n-1 end before
	// limit.
	n := int(limit-start) / weekDays
	paused := pausedWeeks(e.pauses, start, n)
	counted = n
	for _, r := range paused {
		counted -= r.last - r.first + 1
	}
	prev, next := -1, 0
	for _, m := range e.meetings { // sorted
		if m < start {
			continue
		}
		j := int(m-start) / weekDays
		if j >= n {
			break
		}
		if j == prev {
			continue
		}
		prev = j
		for next < len(paused) && paused[next].last < j {
			next++
		}
		if next < len(paused) && paused[next].first <= j {
			continue
		}
		met++
	}
	return counted, met
}

// weekRange is the weeks first to last, both included.
type weekRange struct{ first, last int }

// pausedWeeks are the weeks among 0 to n-1 of an episode enrolled on start
// that have a paused day (on or after a pause's first day and before the
// day it was resumed), as ranges in order that do not overlap.
func pausedWeeks(pauses []span, start day, n int) []weekRange {
	var out []weekRange
	for _, p := range pauses {
		// Week j has a paused day when p.start <= start+7j+6 and, unless
		// the pause lasts, start+7j < p.end.
		r := weekRange{first: max(0, ceilDiv(int(p.start-start)-(weekDays-1), weekDays)), last: n - 1}
		if p.end != 0 {
			r.last = min(r.last, ceilDiv(int(p.end-start), weekDays)-1)
		}
		if r.first <= r.last {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b weekRange) int { return a.first - b.first })
	merged := out[:0]
	for _, r := range out {
		if k := len(merged) - 1; k >= 0 && r.first <= merged[k].last+1 {
			merged[k].last = max(merged[k].last, r.last)
			continue
		}
		merged = append(merged, r)
	}
	return merged
}

// ceilDiv is a/b rounded up, for b > 0.
func ceilDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a > 0 {
		q++
	}
	return q
}
