package stats

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"testing/quick"

	"github.com/caseledger/caseledger/domain"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.6f, want %.6f (±%g)", what, got, want, tol)
	}
}

// Wilson without continuity correction, x = 7 of n = 10: p = 0.7,
// z = 1.959964, z² = 3.841459; centre = (0.7 + 0.192073) / 1.384146 =
// 0.644493; half = 1.959964 · √(0.021 + 0.009604) / 1.384146 = 0.247695;
// [0.3968, 0.8922], as prop.test(7, 10, correct = FALSE) reports.
func TestWilsonKnownValues(t *testing.T) {
	lo, hi := Wilson(7, 10)
	near(t, "lower", lo, 0.3968, 5e-5)
	near(t, "upper", hi, 0.8922, 5e-5)
	// x = 0 of 10: [0, z²/(n+z²)] = [0, 0.2775].
	lo, hi = Wilson(0, 10)
	near(t, "lower of 0/10", lo, 0, 1e-12)
	near(t, "upper of 0/10", hi, 0.2775, 5e-5)
}

// The 6-MP arm of the leukaemia remission trial (Freireich et al. 1963,
// as in Gehan 1965), weeks in remission, + censored:
// 6 6 6 6+ 7 9+ 10 10+ 11+ 13 16 17+ 19+ 20+ 22 23 25+ 32+ 32+ 34+ 35+.
//
// By hand: t=6: n=21, d=3, S = 18/21 = 0.857143; t=7: n=17, d=1,
// S = 0.857143·16/17 = 0.806723; t=10: n=15, S·14/15 = 0.752941;
// t=13: n=12, ·11/12 = 0.690196; t=16: n=11, ·10/11 = 0.627451;
// t=22: n=7, ·6/7 = 0.537815; t=23: n=6, ·5/6 = 0.448179.
// Greenwood at 6: S·√(3/(21·18)) = 0.857143·0.089087 = 0.076360; at 23:
// Σ d/(n(n-d)) = 0.007937+0.003676+0.004762+0.007576+0.009091+0.023810+
// 0.033333 = 0.090185, se = 0.448179·0.300308 = 0.134591.
// Log-log at 6: log S = -0.154151, w = 1.959964·0.089087/0.154151 =
// 1.132699; S^exp(±w) = 0.857143^3.104 and ^0.3222 = [0.6197, 0.9516].
// Median: first S ≤ 0.5 is at 23. Its interval: the lower band first
// reaches 0.5 at 13 (lower band at 10 is 0.503, at 13 is 0.432); the
// upper band never does (0.680 at 23, the last event). R's survfit(...,
// conf.type = "log-log") prints median 23, 0.95LCL 13, 0.95UCL NA.
func TestKaplanMeierGehan(t *testing.T) {
	var obs []Observation
	for _, x := range []struct {
		t int
		e bool
	}{{6, true}, {6, true}, {6, true}, {6, false}, {7, true}, {9, false}, {10, true}, {10, false}, {11, false},
		{13, true}, {16, true}, {17, false}, {19, false}, {20, false}, {22, true}, {23, true}, {25, false},
		{32, false}, {32, false}, {34, false}, {35, false}} {
		obs = append(obs, Observation{Time: x.t, Event: x.e})
	}
	steps := KaplanMeier(obs)
	want := []struct {
		t, n int
		s    float64
	}{{6, 21, 0.857143}, {7, 17, 0.806723}, {10, 15, 0.752941}, {13, 12, 0.690196},
		{16, 11, 0.627451}, {22, 7, 0.537815}, {23, 6, 0.448179}}
	if len(steps) != len(want) {
		t.Fatalf("%d steps, want %d", len(steps), len(want))
	}
	for i, w := range want {
		if steps[i].Time != w.t || steps[i].AtRisk != w.n {
			t.Errorf("step %d: t=%d n=%d, want t=%d n=%d", i, steps[i].Time, steps[i].AtRisk, w.t, w.n)
		}
		near(t, "S", steps[i].Survival, w.s, 1e-6)
	}
	near(t, "se at 6", steps[0].StdErr, 0.076360, 1e-5)
	near(t, "se at 23", steps[6].StdErr, 0.134591, 1e-5)
	near(t, "lower at 6", steps[0].Lower, 0.6197, 1e-4)
	near(t, "upper at 6", steps[0].Upper, 0.9516, 1e-4)
	near(t, "lower at 10", steps[2].Lower, 0.503, 1e-3)
	near(t, "lower at 13", steps[3].Lower, 0.432, 1e-3)
	near(t, "upper at 23", steps[6].Upper, 0.680, 1e-3)
	m := KMMedian(steps)
	if !m.HasTime || m.Time != 23 || !m.HasLow || m.Lower != 13 || m.HasHigh {
		t.Errorf("median %+v, want 23 [13, NA]", m)
	}
	if st, ok := SurvivalAt(steps, 15); !ok || st.Time != 13 {
		t.Errorf("S(15) is the step at %d, want 13", st.Time)
	}
}

// Paired t, worked in full:
//
// By hand: baseline 4 5 3 6 5, end 6 6 6 7 8, so the changes are 2 1 3 1
// 3: mean 2, deviations 0 -1 1 -1 1, sum of squares 4, sd = √(4/4) = 1,
// se = 1/√5 = 0.447214, t = 2/0.447214 = 4.472136 on 4 df. t(0.975, 4) =
// 2.776445, so the interval is 2 ± 1.241664 = [0.758336, 3.241664]. With
// 4 df, F(t) = 1/2 + (3/8)·u·(1 - u²/12), u = t/√(1+t²/4) =
// 4.472136/√6 = 1.825742: F = 0.5 + 0.375·1.825742·0.722222 = 0.994472,
// p = 2·(1 - F) = 0.011056. d_z = 2/1 = 2.
//
// The published example: Student's (1908) sleep data of Cushny and
// Peebles, extra hours of sleep of ten patients under two drugs, as R's
// t.test(extra[11:20], extra[1:10], paired = TRUE) reports it. Changes
// (drug 2 less drug 1) 1.2 2.4 1.3 1.3 0.0 1.0 1.8 0.8 4.6 1.4: sum 15.8,
// mean 1.58; squared deviations sum to 13.616, so sd = √(13.616/9) =
// 1.229995 and se = 1.229995/√10 = 0.388959; t = 1.58/0.388959 = 4.062128
// on 9 df; t(0.975, 9) = 2.262157, so the interval is 1.58 ± 0.879886 =
// [0.700114, 2.459886]; p = 0.002833; d_z = 1.58/1.229995 = 1.284558.
func TestPairedTWorkedExamples(t *testing.T) {
	for _, c := range []struct {
		name                          string
		baseline, end                 []float64
		meanBaseline, meanEnd, change float64
		sd, tStat, lower, upper, p    float64
		dz                            float64
		df                            int
	}{
		{"by hand", []float64{4, 5, 3, 6, 5}, []float64{6, 6, 6, 7, 8},
			4.6, 6.6, 2, 1, 4.472136, 0.758336, 3.241664, 0.011056, 2, 4},
		{"Student's sleep data",
			[]float64{0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0},
			[]float64{1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4},
			0.75, 2.33, 1.58, 1.229995, 4.062128, 0.700114, 2.459886, 0.002833, 1.284558, 9},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := PairedTTest(c.baseline, c.end)
			near(t, "mean baseline", r.MeanBaseline, c.meanBaseline, 1e-12)
			near(t, "mean end", r.MeanEnd, c.meanEnd, 1e-12)
			near(t, "mean change", r.MeanChange, c.change, 1e-12)
			near(t, "sd", r.SDChange, c.sd, 1e-6)
			near(t, "t", r.T, c.tStat, 1e-6)
			near(t, "lower", r.Lower, c.lower, 1e-6)
			near(t, "upper", r.Upper, c.upper, 1e-6)
			near(t, "p", r.P, c.p, 1e-6)
			near(t, "d_z", r.DZ, c.dz, 1e-6)
			if r.DF != c.df {
				t.Errorf("df %d, want %d", r.DF, c.df)
			}
		})
	}
}

func TestDisclosureBoundaries(t *testing.T) {
	const k = 5
	for _, c := range []struct {
		n    int
		hide bool
	}{{0, false}, {1, true}, {k - 1, true}, {k, false}, {30, false}} {
		if got := count(c.n, k).Suppressed; got != c.hide {
			t.Errorf("count %d: suppressed %v, want %v", c.n, got, c.hide)
		}
	}
	for _, c := range []struct {
		x, n int
		hide bool
	}{
		{0, 10, false}, {10, 10, false}, {5, 10, false},
		{4, 10, true}, // numerator k-1
		{6, 10, true}, // difference k-1
		{9, 10, true}, // difference 1
		{4, 4, true},  // denominator k-1
		{5, 9, true},  // difference 4
		{5, 5, false}, // numerator k, difference 0
		{0, 5, false}, // denominator k
		{1, 40, true}, // numerator 1
		{35, 40, false},
	} {
		r := rate(c.x, c.n, k)
		if r.Rate.Suppressed != c.hide || r.Lower.Suppressed != c.hide || r.Upper.Suppressed != c.hide {
			t.Errorf("rate %d/%d: suppressed %v, want %v", c.x, c.n, r.Rate.Suppressed, c.hide)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back map[string]json.RawMessage
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if c.hide && string(back["rate"]) != `{"suppressed":true}` {
			t.Errorf("rate %d/%d in JSON: %s", c.x, c.n, back["rate"])
		}
		if !c.hide && string(back["rate"]) == `{"suppressed":true}` {
			t.Errorf("rate %d/%d shown as suppressed", c.x, c.n)
		}
	}
	if b, _ := json.Marshal(count(3, k)); string(b) != `{"suppressed":true}` {
		t.Errorf("count 3 in JSON: %s", b)
	}
	if b, _ := json.Marshal(count(0, k)); string(b) != `0` {
		t.Errorf("count 0 in JSON: %s", b)
	}
}

// A rate is in [0, 1] inside its interval, and one more success never
// lowers it or its interval.
func TestRateProperties(t *testing.T) {
	f := func(a, b uint8) bool {
		n := int(a)%200 + 1
		x := int(b) % (n + 1)
		p := float64(x) / float64(n)
		lo, hi := Wilson(x, n)
		if p < 0 || p > 1 || lo < 0 || hi > 1 || lo > p+1e-12 || hi < p-1e-12 {
			return false
		}
		if x < n {
			lo2, hi2 := Wilson(x+1, n)
			if float64(x+1)/float64(n) < p || lo2 < lo || hi2 < hi {
				return false
			}
		}
		// A success added to the trials too (x+1 of n+1) never lowers it.
		return float64(x+1)/float64(n+1) >= p
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 2000}); err != nil {
		t.Error(err)
	}
}

// The Kaplan-Meier steps are cut where fewer than k remain at risk, and
// hidden altogether when the number of first jobs is suppressed: each drop
// of the curve is jobs over those at risk, so the steps would tell the
// suppressed count.
func TestKaplanMeierStepsKeepSuppressedJobsHidden(t *testing.T) {
	const k = 5
	enrolled, err := domain.NewDate(2025, 1, 6)
	if err != nil {
		t.Fatal(err)
	}
	asOf := enrolled.AddDays(400)
	cohort := func(jobs int) []Episode {
		var eps []Episode
		for i := range 30 {
			e := Episode{Stream: fmt.Sprintf("participant-%d", i), Number: 1, EnrolledOn: enrolled}
			if i < jobs {
				e.Placements = []Placement{{Kind: domain.PlacementOrdinaryJob, Start: enrolled.AddDays(20 + 10*i)}}
			}
			eps = append(eps, e)
		}
		return eps
	}
	for _, c := range []struct {
		jobs      int
		wantSteps bool
	}{{1, false}, {k - 1, false}, {k, true}, {12, true}} {
		got := timeToFirstJob(cohort(c.jobs), asOf, k)
		if got.Events.Suppressed == c.wantSteps {
			t.Errorf("%d jobs: number of jobs suppressed %v", c.jobs, got.Events.Suppressed)
		}
		if (len(got.Steps) > 0) != c.wantSteps {
			t.Errorf("%d jobs: %d steps shown, want steps %v", c.jobs, len(got.Steps), c.wantSteps)
		}
		// Episodes less the censored would tell the jobs; a point of the
		// curve below 1, or its median, would too.
		if got.Censored.Suppressed != got.Events.Suppressed {
			t.Errorf("%d jobs: jobs suppressed %v but censored %v", c.jobs, got.Events.Suppressed, got.Censored.Suppressed)
		}
		if !c.wantSteps {
			for _, p := range got.At {
				if !p.Survival.Suppressed || !p.WithJob.Suppressed {
					t.Errorf("%d jobs: S(%d) shown", c.jobs, p.Day)
				}
			}
			if got.Median.Suppressed == false && got.Median != (Value{}) {
				t.Errorf("%d jobs: median shown", c.jobs)
			}
		}
		for _, st := range got.Steps {
			if st.AtRisk < k {
				t.Errorf("%d jobs: a step at day %d with %d at risk", c.jobs, st.Day, st.AtRisk)
			}
		}
	}
}

// A group of counts whose total is shown elsewhere never has exactly one
// cell hidden: the total less the others would tell it.
func TestProtectHidesASecondCell(t *testing.T) {
	const k = 5
	for _, c := range []struct {
		counts []int
		hidden []bool
	}{
		{[]int{11, 0, 1}, []bool{true, false, true}},   // 12 episodes: 11 + 0 + ?
		{[]int{20, 7, 2}, []bool{false, true, true}},   // the smallest shown goes
		{[]int{20, 2, 3}, []bool{false, true, true}},   // two hidden already
		{[]int{20, 7, 9}, []bool{false, false, false}}, // none hidden
		{[]int{3, 0, 0}, []bool{true, false, false}},   // nothing else to hide: its total is small too
		{[]int{30, 10, 0, 1}, []bool{false, true, false, true}},
	} {
		cells := make([]Category, len(c.counts))
		for i, n := range c.counts {
			cells[i] = Category{Key: fmt.Sprint(i), Count: count(n, k)}
		}
		protect(cells)
		for i := range cells {
			if cells[i].Count.Suppressed != c.hidden[i] {
				t.Errorf("%v: cell %d suppressed %v, want %v", c.counts, i, cells[i].Count.Suppressed, c.hidden[i])
			}
		}
	}
}
