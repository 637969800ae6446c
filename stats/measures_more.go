package stats

import (
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
	// remain at risk.
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

func timeToFirstJob(eps []Episode, asOf domain.Date, k int) TimeToJob {
	obs := make([]Observation, len(eps))
	events := 0
	for i, e := range eps {
		obs[i] = jobObservation(e, asOf)
		if obs[i].Event {
			events++
		}
	}
	out := TimeToJob{Episodes: count(len(obs), k), Events: count(events, k), Censored: count(len(obs)-events, k)}
	steps := KaplanMeier(obs)
	few := len(obs) < k
	for _, st := range steps {
		if st.AtRisk < k {
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

func indexChange(eps []Episode, k int) []DimensionChange {
	var out []DimensionChange
	for _, dim := range dimensions {
		var base, end []float64
		missing := 0
		for _, e := range eps {
			switch {
			case e.Baseline == nil:
			case e.End == nil:
				missing++
			default:
				base = append(base, float64(dim.of(*e.Baseline)))
				end = append(end, float64(dim.of(*e.End)))
			}
		}
		r := PairedTTest(base, end)
		hide := r.N < k
		d := DimensionChange{Dimension: dim.name, Pairs: count(r.N, k), Missing: count(missing, k)}
		if r.N > 0 {
			d.MeanBaseline = value(r.MeanBaseline).suppress(hide)
			d.MeanEnd = value(r.MeanEnd).suppress(hide)
			d.MeanChange = value(r.MeanChange).suppress(hide)
		}
		if r.Defined {
			d.SDChange = value(r.SDChange).suppress(hide)
			d.Lower, d.Upper = value(r.Lower).suppress(hide), value(r.Upper).suppress(hide)
			d.DF = value(float64(r.DF)).suppress(hide)
			if !r.DegenerateVariance {
				d.DZ, d.T, d.P = value(r.DZ).suppress(hide), value(r.T).suppress(hide), significant(r.P).suppress(hide)
			}
		}
		out = append(out, d)
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

func contactIntensity(eps []Episode, asOf domain.Date, k int) ContactIntensity {
	var counted, met, gapEpisodes int
	var gaps []int
	for _, e := range eps {
		c, m := weeks(e, asOf)
		counted += c
		met += m
		if len(e.Meetings) > 1 {
			gapEpisodes++
			for i := 1; i < len(e.Meetings); i++ {
				gaps = append(gaps, e.Meetings[i].DaysSince(e.Meetings[i-1]))
			}
		}
	}
	out := ContactIntensity{Weeks: rate(met, counted, k), Gaps: count(len(gaps), k), GapEpisodes: count(gapEpisodes, k)}
	if len(gaps) > 0 {
		out.MedianDaysBetween = value(medianOf(gaps)).suppress(gapEpisodes < k)
	}
	return out
}

// weeks counts an episode's weeks (7-day blocks from enrolment) that are
// complete before its exit and before as_of and have no paused day, and
// those of them with a meeting.
func weeks(e Episode, asOf domain.Date) (counted, met int) {
	limit := asOf // a week counts when its last day is before limit
	if e.Exit != nil && e.Exit.Date.Before(limit) {
		limit = e.Exit.Date
	}
	for first := e.EnrolledOn; first.AddDays(weekDays - 1).Before(limit); first = first.AddDays(weekDays) {
		last := first.AddDays(weekDays - 1)
		if pausedIn(e.Pauses, first, last) {
			continue
		}
		counted++
		for _, m := range e.Meetings {
			if !m.Before(first) && !m.After(last) {
				met++
				break
			}
		}
	}
	return counted, met
}

// pausedIn reports whether any day of [first, last] is paused: on or after
// a pause's first day and before the day it was resumed.
func pausedIn(pauses []Period, first, last domain.Date) bool {
	for _, p := range pauses {
		if p.From.After(last) {
			continue
		}
		if p.To.IsZero() || p.To.After(first) {
			return true
		}
	}
	return false
}
