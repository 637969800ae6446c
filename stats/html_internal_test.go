package stats

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// The chart colours, for the browser test to find in a screenshot.
const (
	ColourCurve  = colourCurve
	ColourBand   = colourBand
	ColourBar    = colourBar
	ColourTarget = colourTarget
	ColourChange = colourChange
)

func TestTicks(t *testing.T) {
	for _, tt := range []struct {
		name     string
		lo, hi   float64
		n        int
		want     string
		decimals int
	}{
		{"days of a year", 0, 365, 8, "0 50 100 150 200 250 300 350 400", 0},
		{"days of a half year", 0, 192, 8, "0 25 50 75 100 125 150 175 200", 0},
		{"a change either side of zero", -0.28, 2.12, 6, "-0.5 0.0 0.5 1.0 1.5 2.0 2.5", 1},
		{"a share", 0, 1, 5, "0.0 0.2 0.4 0.6 0.8 1.0", 1},
		{"a small change", -0.1, 0.9, 4, "-0.25 0.00 0.25 0.50 0.75 1.00", 2},
		{"no range", 0, 0, 5, "0.0 0.2 0.4 0.6 0.8 1.0", 1},
	} {
		vs, decimals := ticks(tt.lo, tt.hi, tt.n)
		var got []string
		for _, v := range vs {
			got = append(got, strconv.FormatFloat(v, 'f', decimals, 64))
		}
		if strings.Join(got, " ") != tt.want || decimals != tt.decimals {
			t.Errorf("%s: %v with %d decimals, want %s with %d", tt.name, got, decimals, tt.want, tt.decimals)
		}
	}
}

// The curve goes on flat after its last step only to a day where the
// report shows S(t): at least k were at risk there, so no step was cut
// before it. A day whose S(t) is suppressed says nothing of the curve.
func TestKMChartEndsAtAShownDay(t *testing.T) {
	steps := []Step{
		{Day: 30, AtRisk: 10, Survival: value(0.9), Lower: value(0.7), Upper: value(0.97)},
		{Day: 120, AtRisk: 6, Survival: value(0.7), Lower: value(0.4), Upper: value(0.86)},
	}
	at := func(d int, shown bool) SurvivalPoint {
		return SurvivalPoint{Day: d, Survival: value(0.7).suppress(!shown)}
	}
	for _, tt := range []struct {
		name string
		at   []SurvivalPoint
		end  int
	}{
		{"S(183) shown", []SurvivalPoint{at(90, true), at(183, true), at(365, false)}, 183},
		{"S(183) suppressed", []SurvivalPoint{at(90, true), at(183, false), at(365, false)}, 120},
		{"no S(t) after the last step", []SurvivalPoint{at(90, true)}, 120},
	} {
		c := kmChart(TimeToJob{Episodes: Count{N: 12}, Events: Count{N: 6}, Steps: steps, At: tt.at}, 5)
		if want := fmt.Sprintf("on day %d, the last day drawn", tt.end); !strings.Contains(c.Desc, want) {
			t.Errorf("%s: %q, want it to say %q", tt.name, c.Desc, want)
		}
	}
}

// A rate the report suppresses or cannot compute has no bar; a target
// has its mark in any case, being the programme's and not the cohort's.
func TestRatesChartDrawsShownRatesOnly(t *testing.T) {
	target := value(0.5)
	shown := rate(12, 20, 5)
	shown.Target = &target
	hidden := rate(3, 20, 5)
	hidden.Target = &target
	c := ratesChart([]rateRow{{"shown", shown}, {"suppressed", hidden}, {"nobody", rate(0, 0, 5)}}, 5)
	bars, marks := 0, 0
	for _, s := range c.Shapes {
		switch {
		case s.Kind == "rect" && s.Fill == colourBar:
			bars++
		case s.Kind == "rect" && s.Fill == colourTarget:
			marks++
		}
	}
	// One bar and one target mark of each kind in the legend.
	if bars != 1+1 || marks != 2+1 {
		t.Errorf("%d bars and %d target marks, want 2 and 3", bars, marks)
	}
	if !strings.Contains(c.Desc, "suppressed: suppressed, target 50.0 %") {
		t.Errorf("the description does not say the rate is suppressed: %s", c.Desc)
	}
}

// A curve drops once for each first job, so a cohort whose number of
// first jobs is suppressed has no curve, however many are at risk.
func TestKMChartHidesASuppressedNumberOfJobs(t *testing.T) {
	steps := []Step{
		{Day: 30, AtRisk: 40, Survival: value(0.975), Lower: value(0.8), Upper: value(0.99)},
		{Day: 60, AtRisk: 38, Survival: value(0.95), Lower: value(0.8), Upper: value(0.99)},
	}
	for _, tt := range []struct {
		name   string
		events Count
		drawn  bool
	}{
		{"jobs shown", count(5, 5), true},
		{"jobs suppressed", count(2, 5), false},
	} {
		c := kmChart(TimeToJob{Episodes: count(40, 5), Events: tt.events, Steps: steps}, 5)
		if drawn := c.Empty == ""; drawn != tt.drawn {
			t.Errorf("%s: drawn %v (%q), want %v", tt.name, drawn, c.Empty, tt.drawn)
		}
	}
}
