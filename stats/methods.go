package stats

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// Confidence is the level of every interval: 95 %.
const Confidence = 0.95

// z95 is the standard normal quantile of 97.5 %.
func z95() float64 {
	return distuv.UnitNormal.Quantile(1 - (1-Confidence)/2)
}

// Wilson returns the Wilson score interval of x successes in n trials,
// without continuity correction (R's prop.test(x, n, correct = FALSE)).
// n must be positive.
func Wilson(x, n int) (lo, hi float64) {
	z := z95()
	p := float64(x) / float64(n)
	nf := float64(n)
	den := 1 + z*z/nf
	centre := (p + z*z/(2*nf)) / den
	half := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / den
	return math.Max(0, centre-half), math.Min(1, centre+half)
}

// PairedT is a paired t-test of change = end - baseline.
type PairedT struct {
	N                  int
	MeanBaseline       float64
	MeanEnd            float64
	MeanChange         float64
	SDChange           float64
	Lower, Upper       float64 // 95 % interval of the mean change
	DZ                 float64 // Cohen's d_z: mean change / sd of change
	T                  float64
	DF                 int
	P                  float64 // two-sided
	Defined            bool    // at least two pairs
	DegenerateVariance bool    // sd of change is 0: no t, p or d_z
}

// PairedTTest tests end against baseline, pair by pair (R's
// t.test(end, baseline, paired = TRUE)).
func PairedTTest(baseline, end []float64) PairedT {
	n := len(baseline)
	r := PairedT{N: n}
	if n == 0 || len(end) != n {
		return r
	}
	var sb, se, sd float64
	for i := range n {
		sb += baseline[i]
		se += end[i]
		sd += end[i] - baseline[i]
	}
	nf := float64(n)
	r.MeanBaseline, r.MeanEnd, r.MeanChange = sb/nf, se/nf, sd/nf
	if n < 2 {
		return r
	}
	var ss float64
	for i := range n {
		d := end[i] - baseline[i] - r.MeanChange
		ss += d * d
	}
	r.Defined = true
	r.DF = n - 1
	r.SDChange = math.Sqrt(ss / float64(n-1))
	se2 := r.SDChange / math.Sqrt(nf)
	dist := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(r.DF)}
	q := dist.Quantile(1 - (1-Confidence)/2)
	r.Lower, r.Upper = r.MeanChange-q*se2, r.MeanChange+q*se2
	if r.SDChange == 0 {
		r.DegenerateVariance = true
		return r
	}
	r.T = r.MeanChange / se2
	r.DZ = r.MeanChange / r.SDChange
	r.P = math.Min(1, 2*dist.Survival(math.Abs(r.T)))
	return r
}

// Observation is one episode's time to an event, in days, or to its
// censoring.
type Observation struct {
	Time  int
	Event bool
}

// KMStep is the Kaplan-Meier estimate just after one event time.
type KMStep struct {
	Time     int
	AtRisk   int
	Events   int
	Censored int // censored at this time (not counted as events)
	Survival float64
	// StdErr is Greenwood's standard error of S(t).
	StdErr float64
	// Lower and Upper are the pointwise 95 % interval on the log-log
	// scale; Bounded is false where it is undefined (S = 1).
	Lower, Upper float64
	Bounded      bool
}

// KaplanMeier estimates the survival curve of obs, with Greenwood's
// variance and log-log pointwise intervals (R's survfit(...,
// conf.type = "log-log")). It returns one step per distinct event time,
// in time order.
func KaplanMeier(obs []Observation) []KMStep {
	sorted := byTime(obs)
	z := z95()
	var (
		steps  []KMStep
		s      = 1.0
		varSum float64 // Σ d / (n (n - d))
	)
	atRisk := len(sorted)
	for i := 0; i < len(sorted); {
		t := sorted[i].Time
		var d, c int
		for ; i < len(sorted) && sorted[i].Time == t; i++ {
			if sorted[i].Event {
				d++
			} else {
				c++
			}
		}
		if d > 0 {
			n := float64(atRisk)
			s *= 1 - float64(d)/n
			st := KMStep{Time: t, AtRisk: atRisk, Events: d, Censored: c, Survival: s}
			if atRisk > d {
				varSum += float64(d) / (n * (n - float64(d)))
				st.StdErr = s * math.Sqrt(varSum)
				if s < 1 {
					// se of log(-log S) is se(log S) / |log S|.
					w := z * math.Sqrt(varSum) / math.Abs(math.Log(s))
					a := math.Exp(-math.Exp(math.Log(-math.Log(s)) - w))
					b := math.Exp(-math.Exp(math.Log(-math.Log(s)) + w))
					st.Lower, st.Upper, st.Bounded = math.Min(a, b), math.Max(a, b), true
				}
			} else {
				// Everyone left at risk had the event: S = 0.
				st.Survival, st.StdErr, st.Lower, st.Upper, st.Bounded = 0, 0, 0, 0, true
			}
			steps = append(steps, st)
		}
		atRisk -= d + c
	}
	return steps
}

// byTime is obs sorted by time. Times are days, a few thousand apart at
// most: counting them sorts a cohort of a hundred thousand in one pass.
// Observations of the same time come in no particular order.
func byTime(obs []Observation) []Observation {
	if len(obs) == 0 {
		return nil
	}
	lo, hi := obs[0].Time, obs[0].Time
	for _, o := range obs {
		lo, hi = min(lo, o.Time), max(hi, o.Time)
	}
	if hi-lo > 1<<16 {
		sorted := slices.Clone(obs)
		slices.SortFunc(sorted, func(a, b Observation) int { return a.Time - b.Time })
		return sorted
	}
	at := make([]int, hi-lo+2) // at[t-lo+1]: observations before time t, once summed
	for _, o := range obs {
		at[o.Time-lo+1]++
	}
	for i := 1; i < len(at); i++ {
		at[i] += at[i-1]
	}
	sorted := make([]Observation, len(obs))
	for _, o := range obs {
		sorted[at[o.Time-lo]] = o
		at[o.Time-lo]++
	}
	return sorted
}

// SurvivalAt is S(t) and its step (ok false before the first event, where
// S is 1 and has no interval).
func SurvivalAt(steps []KMStep, t int) (KMStep, bool) {
	var out KMStep
	found := false
	for _, st := range steps {
		if st.Time > t {
			break
		}
		out, found = st, true
	}
	return out, found
}

// AtRiskAt is the number still at risk at time t: observed for at least t
// days.
func AtRiskAt(obs []Observation, t int) int {
	n := 0
	for _, o := range obs {
		if o.Time >= t {
			n++
		}
	}
	return n
}

// medianTol is how close to 0.5 a step must be to count as on it.
const medianTol = 1e-9

// quantileTime is the first time at which curve reaches 0.5 or below, the
// midpoint to the next step when the curve is exactly 0.5 there (R's rule
// for survfit medians); ok false when it never does.
func quantileTime(steps []KMStep, curve func(KMStep) (float64, bool)) (float64, bool) {
	for i, st := range steps {
		v, ok := curve(st)
		if !ok || v > 0.5+medianTol {
			continue
		}
		if math.Abs(v-0.5) <= medianTol && i+1 < len(steps) {
			return float64(st.Time+steps[i+1].Time) / 2, true
		}
		return float64(st.Time), true
	}
	return 0, false
}

// Median is the median survival time and its 95 % interval: the range of
// times where the log-log band contains 0.5. Each ok is false where the
// curve or the band never reaches 0.5.
type Median struct {
	Time, Lower, Upper       float64
	HasTime, HasLow, HasHigh bool
}

// KMMedian finds the median and its interval on steps.
func KMMedian(steps []KMStep) Median {
	var m Median
	m.Time, m.HasTime = quantileTime(steps, func(s KMStep) (float64, bool) { return s.Survival, true })
	m.Lower, m.HasLow = quantileTime(steps, func(s KMStep) (float64, bool) { return s.Lower, s.Bounded })
	m.Upper, m.HasHigh = quantileTime(steps, func(s KMStep) (float64, bool) { return s.Upper, s.Bounded })
	return m
}

// tally counts non-negative whole numbers (days between meetings) for
// their median: a cohort has millions of them, which a count per value
// takes in one pass where sorting them would take most of a report's time.
type tally struct {
	counts []int // counts[v] is how often v was added
	n      int
}

// add counts v, which must not be negative.
func (t *tally) add(v int) {
	if v >= len(t.counts) {
		t.counts = append(t.counts, make([]int, v+1-len(t.counts))...)
	}
	t.counts[v]++
	t.n++
}

// merge adds what o counted.
func (t *tally) merge(o *tally) {
	if len(o.counts) > len(t.counts) {
		t.counts = append(t.counts, make([]int, len(o.counts)-len(t.counts))...)
	}
	for v, c := range o.counts {
		t.counts[v] += c
	}
	t.n += o.n
}

// median is the median of what was added (the mean of the middle two for
// an even count); 0 when nothing was.
func (t *tally) median() float64 {
	lo, hi := (t.n-1)/2, t.n/2 // ranks of the middle values, from 0
	var a, b, below int
	for v, c := range t.counts {
		if lo >= below && lo < below+c {
			a = v
		}
		if hi < below+c {
			b = v
			break
		}
		below += c
	}
	return float64(a+b) / 2
}
