package stats

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The charts of the HTML report are inline SVG: their geometry is worked
// out here and drawn by the chart template (templates/charts.tmpl). Every
// coordinate is written with one decimal, so the same report gives the
// same bytes. A chart draws only figures the report shows: a suppressed
// figure is never drawn, and no scale or extent is taken from one.

// Colours of the charts. Each is opaque and distinct from the others and
// from the page's greys, so that a screenshot shows which parts were
// drawn (the browser test looks for them in its pixels).
const (
	colourCurve  = "#0b3d91" // the Kaplan-Meier curve
	colourBand   = "#b7d1ee" // its 95 % band
	colourBar    = "#4f86c6" // a rate
	colourTarget = "#d0108a" // a programme's target
	colourChange = "#c55a11" // an index change and its interval
	colourInk    = "#1f2328" // axes, whiskers, the zero line
	colourGrid   = "#d8dee4"
)

// Sizes of a chart, in SVG user units (CSS pixels at full width).
const (
	chartWidth  = 720
	titleHeight = 34
	kmHeight    = 360
)

// chart is one SVG figure, or the sentence shown instead of it.
type chart struct {
	// ID prefixes the ids the <title> and <desc> are referred to by.
	ID, Title, Desc string
	Width, Height   int
	Shapes          []shape
	// Empty, when set, is shown instead of a chart: there is nothing the
	// report may draw.
	Empty string
}

// shape is one SVG element. Kind is path, line, rect, circle or text;
// the coordinates are already formatted.
type shape struct {
	Kind                  string
	D                     string // path
	X, Y, X2, Y2, W, H, R string
	Fill, Stroke          string
	StrokeWidth           string
	Dash                  string // stroke-dasharray
	Anchor                string // text-anchor
	Class                 string // text style: tick, label, title, note
	Rotate                bool   // text turned a quarter anticlockwise about (X, Y)
	Text                  string
}

// num formats a coordinate with one decimal, never "-0.0".
func coord(v float64) string {
	s := strconv.FormatFloat(math.Round(v*10)/10, 'f', 1, 64)
	if s == "-0.0" {
		return "0.0"
	}
	return s
}

// scale maps a domain [d0, d1] onto a range [r0, r1] of user units.
type scale struct{ d0, d1, r0, r1 float64 }

func (s scale) at(v float64) float64 {
	if s.d1 == s.d0 {
		return s.r0
	}
	return s.r0 + (v-s.d0)/(s.d1-s.d0)*(s.r1-s.r0)
}

// ticks are round values covering [lo, hi], about n of them, the first at
// or below lo and the last at or above hi; decimals is how many decimals
// their labels need.
func ticks(lo, hi float64, n int) (vs []float64, decimals int) {
	if hi <= lo {
		hi = lo + 1
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	first := math.Floor(lo/step+1e-9) * step
	count := int(math.Ceil((hi-first)/step-1e-9)) + 1
	for i := range count {
		vs = append(vs, first+float64(i)*step)
	}
	for decimals = 0; decimals < 6; decimals++ {
		if scaled := step * math.Pow(10, float64(decimals)); math.Abs(scaled-math.Round(scaled)) < 1e-6 {
			break
		}
	}
	return vs, decimals
}

// tickLabel is a tick value as its label shows it.
func tickLabel(v float64, decimals int) string {
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if strings.Trim(s, "-0.") == "" {
		return strings.TrimPrefix(s, "-")
	}
	return strings.Replace(s, "-", "−", 1)
}

// percent is a share as a label shows it: "62.5 %".
func percentText(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/10, 'f', 1, 64) + " %"
}

// plot is a chart's drawing area and the shapes drawn so far.
type plot struct {
	left, top, right, bottom float64
	shapes                   []shape
}

func (p *plot) add(s ...shape) { p.shapes = append(p.shapes, s...) }

func (p *plot) line(x1, y1, x2, y2 float64, stroke, width, dash string) {
	p.add(shape{Kind: "line", X: coord(x1), Y: coord(y1), X2: coord(x2), Y2: coord(y2), Stroke: stroke, StrokeWidth: width, Dash: dash})
}

func (p *plot) rect(x, y, w, h float64, fill string) {
	p.add(shape{Kind: "rect", X: coord(x), Y: coord(y), W: coord(max(w, 0)), H: coord(max(h, 0)), Fill: fill})
}

func (p *plot) text(x, y float64, anchor, class, s string) {
	p.add(shape{Kind: "text", X: coord(x), Y: coord(y), Anchor: anchor, Class: class, Text: s})
}

// title writes the chart's visible title above the drawing area.
func (p *plot) title(s string) { p.text(0, 20, "start", "title", s) }

// xAxis draws vertical grid lines at the ticks with their labels under
// the area, and the axis label under those.
func (p *plot) xAxis(x scale, vs []float64, decimals int, suffix, label string) {
	for _, v := range vs {
		px := x.at(v)
		p.line(px, p.top, px, p.bottom, colourGrid, "1", "")
		p.text(px, p.bottom+18, "middle", "tick", tickLabel(v, decimals)+suffix)
	}
	p.line(p.left, p.bottom, p.right, p.bottom, colourInk, "1", "")
	p.text((p.left+p.right)/2, p.bottom+40, "middle", "label", label)
}

// kmChart draws the Kaplan-Meier curve of time to the first job: S(t)
// as a step function from 1 at enrolment, its log-log band shaded under
// it, and the median marked where the report shows it.
func kmChart(t TimeToJob, k int) chart {
	c := chart{ID: "km", Title: "Time to first ordinary job (Kaplan-Meier)", Width: chartWidth, Height: kmHeight}
	switch {
	case t.Episodes.N == 0 && !t.Episodes.Suppressed:
		c.Empty = "No curve: the cohort has no episodes."
		return c
	case t.Events.Suppressed:
		// Each first job is a step down: the curve would count them.
		c.Empty = fmt.Sprintf("No curve: fewer than %d first jobs, which its steps would count (disclosure control).", k)
		return c
	case len(t.Steps) == 0 && t.Events.N == 0:
		c.Empty = "No curve: no one in the cohort has started an ordinary job yet, so the share without one is still 100 %."
		return c
	case len(t.Steps) == 0:
		c.Empty = fmt.Sprintf("No curve: fewer than %d were still at risk at the first job start, so the curve is not shown (disclosure control).", k)
		return c
	}
	// The curve is flat after its last step up to any day where S(t) is
	// shown: at least k were still at risk then, so no step in between
	// was cut.
	last := t.Steps[len(t.Steps)-1]
	end := last.Day
	for _, at := range t.At {
		if at.Survival.Defined && !at.Survival.Suppressed && at.Day > end {
			end = at.Day
		}
	}
	p := &plot{left: 72, top: titleHeight + 14, right: chartWidth - 24, bottom: kmHeight - 62}
	p.title(c.Title)
	// Eight days at least, so that ticks fall on whole days.
	xs, xdec := ticks(0, float64(max(end, 8)), 8)
	x := scale{xs[0], xs[len(xs)-1], p.left, p.right}
	y := scale{0, 1, p.bottom, p.top}
	for _, v := range []float64{0, 0.25, 0.5, 0.75, 1} {
		p.line(p.left, y.at(v), p.right, y.at(v), colourGrid, "1", "")
		p.text(p.left-8, y.at(v)+4, "end", "tick", percentText(v))
	}
	p.xAxis(x, xs, xdec, "", "Days since enrolment")
	p.add(shape{Kind: "text", X: coord(18), Y: coord((p.top + p.bottom) / 2), Anchor: "middle", Class: "label", Rotate: true,
		Text: "Still without an ordinary job"})

	// The band: on each step, from its day to the next, between its lower
	// and upper bound; a step without bounds breaks it.
	var band strings.Builder
	for i, st := range t.Steps {
		if !st.Lower.Defined || !st.Upper.Defined {
			continue
		}
		to := end
		if i+1 < len(t.Steps) {
			to = t.Steps[i+1].Day
		}
		x0, x1 := x.at(float64(st.Day)), x.at(float64(to))
		if x1-x0 < 0.05 {
			x1 = x0 + 0.5 // a step on the last day still shows its band
		}
		fmt.Fprintf(&band, "M%s %sH%sV%sH%sZ", coord(x0), coord(y.at(st.Upper.V)), coord(x1), coord(y.at(st.Lower.V)), coord(x0))
	}
	if band.Len() > 0 {
		p.add(shape{Kind: "path", D: band.String(), Fill: colourBand})
	}
	var curve strings.Builder
	fmt.Fprintf(&curve, "M%s %s", coord(x.at(0)), coord(y.at(1)))
	for _, st := range t.Steps {
		fmt.Fprintf(&curve, "H%sV%s", coord(x.at(float64(st.Day))), coord(y.at(st.Survival.V)))
	}
	fmt.Fprintf(&curve, "H%s", coord(x.at(float64(end))))
	p.add(shape{Kind: "path", D: curve.String(), Fill: "none", Stroke: colourCurve, StrokeWidth: "3"})

	c.Desc = fmt.Sprintf("Step curve of the share of episodes still without an ordinary job, by days since enrolment, "+
		"with its pointwise 95 %% interval shaded: from 100 %% at enrolment to %s on day %d, the last day drawn.",
		percentText(last.Survival.V), end)
	shown := func(v Value) bool { return v.Defined && !v.Suppressed }
	if shown(t.Median) {
		m := t.Median.V
		p.line(x.at(0), y.at(0.5), x.at(m), y.at(0.5), colourInk, "1.5", "6 4")
		p.line(x.at(m), y.at(0.5), x.at(m), p.bottom, colourInk, "1.5", "6 4")
		if shown(t.MedianLower) && shown(t.MedianUpper) {
			lo, hi := x.at(t.MedianLower.V), x.at(t.MedianUpper.V)
			p.line(lo, y.at(0.5), hi, y.at(0.5), colourInk, "3", "")
			p.line(lo, y.at(0.5)-6, lo, y.at(0.5)+6, colourInk, "2", "")
			p.line(hi, y.at(0.5)-6, hi, y.at(0.5)+6, colourInk, "2", "")
		}
		p.add(shape{Kind: "circle", X: coord(x.at(m)), Y: coord(y.at(0.5)), R: "5", Fill: colourInk})
		// The label goes by the foot of the median's line, on its left,
		// where the curve is still at or above 50 %.
		label := fmt.Sprintf("median %s days", tickLabel(m, 0))
		anchor, lx := "end", x.at(m)-8
		if lx < p.left+130 {
			anchor, lx = "start", x.at(m)+8
		}
		p.text(lx, p.bottom-10, anchor, "note", label)
		c.Desc += fmt.Sprintf(" The median, %s days, is marked where the curve crosses 50 %%.", tickLabel(m, 0))
		if shown(t.MedianLower) && shown(t.MedianUpper) {
			c.Desc += fmt.Sprintf(" A bar across the 50 %% line shows its 95 %% interval, %s to %s days.",
				daysText(t.MedianLower.V), daysText(t.MedianUpper.V))
		}
	} else {
		c.Desc += " The curve does not show a median."
	}
	c.Shapes = p.shapes
	return c
}

// forestRow is one dimension of the index change chart.
type forestRow struct {
	label                string
	change, lower, upper Value
	pairs                Count
}

// forestChart draws each dimension's mean change with its 95 % interval
// against a line at no change.
func forestChart(rows []forestRow, k int) chart {
	const rowHeight = 44
	c := chart{ID: "index", Title: "Change in the indicator index, end minus baseline (95 % intervals)", Width: chartWidth}
	shown := func(v Value) bool { return v.Defined && !v.Suppressed }
	lo, hi := 0.0, 0.0
	drawn := 0
	for _, r := range rows {
		for _, v := range []Value{r.change, r.lower, r.upper} {
			if shown(v) {
				lo, hi = math.Min(lo, v.V), math.Max(hi, v.V)
			}
		}
		if shown(r.change) {
			drawn++
		}
	}
	if drawn == 0 {
		c.Empty = fmt.Sprintf("No chart: no dimension has a change the report may show (it needs a baseline and an end score from at least %d episodes).", k)
		return c
	}
	span := math.Max(hi-lo, 0.5)
	xs, xdec := ticks(lo-span*0.05, hi+span*0.05, 6)
	p := &plot{left: 170, top: titleHeight + 12, right: chartWidth - 120}
	p.bottom = p.top + float64(rowHeight*len(rows))
	c.Height = int(p.bottom) + 58
	p.title(c.Title)
	x := scale{xs[0], xs[len(xs)-1], p.left, p.right}
	p.xAxis(x, xs, xdec, "", "Mean change in score points (scale 1 to 10)")
	p.line(x.at(0), p.top-4, x.at(0), p.bottom, colourInk, "2", "")
	var described []string
	for i, r := range rows {
		cy := p.top + float64(i)*rowHeight + rowHeight/2
		p.text(p.left-12, cy+5, "end", "label", r.label)
		switch {
		case r.change.Suppressed:
			p.text(p.left+8, cy+5, "start", "note", fmt.Sprintf("suppressed: fewer than %d pairs", k))
			described = append(described, r.label+" suppressed")
			continue
		case !r.change.Defined:
			p.text(p.left+8, cy+5, "start", "note", "no pairs of a baseline and an end score")
			described = append(described, r.label+" without pairs")
			continue
		}
		if shown(r.lower) && shown(r.upper) {
			x0, x1 := x.at(r.lower.V), x.at(r.upper.V)
			p.line(x0, cy, x1, cy, colourChange, "3", "")
			p.line(x0, cy-7, x0, cy+7, colourChange, "3", "")
			p.line(x1, cy-7, x1, cy+7, colourChange, "3", "")
			described = append(described, fmt.Sprintf("%s %s (%s to %s)", r.label, signedText(r.change.V), signedText(r.lower.V), signedText(r.upper.V)))
		} else {
			described = append(described, fmt.Sprintf("%s %s (no interval)", r.label, signedText(r.change.V)))
		}
		p.rect(x.at(r.change.V)-6, cy-6, 12, 12, colourChange)
		p.text(p.right+12, cy+5, "start", "tick", signedText(r.change.V)+fmt.Sprintf(" (n = %d)", r.pairs.N))
	}
	c.Desc = "Mean change per dimension with its 95 % interval, against a vertical line at no change: " +
		strings.Join(described, "; ") + "."
	c.Shapes = p.shapes
	return c
}

// signed is a change as a label shows it, with its sign.
func signedText(v float64) string {
	s := strconv.FormatFloat(math.Round(v*100)/100, 'f', 2, 64)
	switch {
	case s == "0.00" || s == "-0.00":
		return "0.00"
	case strings.HasPrefix(s, "-"):
		return "−" + s[1:]
	}
	return "+" + s
}

// rateRow is one bar of the rates chart.
type rateRow struct {
	label string
	rate  Rate
}

// ratesChart draws each rate as a bar with its 95 % interval as a whisker,
// and the programme's target as a mark across the bar's row.
func ratesChart(rows []rateRow, k int) chart {
	const rowHeight = 40
	c := chart{ID: "rates", Title: "Rates against the programme's targets (95 % intervals)", Width: chartWidth}
	drawn := 0
	for _, r := range rows {
		if r.rate.Rate.Defined && !r.rate.Rate.Suppressed {
			drawn++
		}
	}
	if drawn == 0 {
		c.Empty = fmt.Sprintf("No chart: every rate is suppressed (fewer than %d behind it) or has no one to count yet.", k)
		return c
	}
	p := &plot{left: 250, top: titleHeight + 14, right: chartWidth - 96}
	p.bottom = p.top + float64(rowHeight*len(rows))
	c.Height = int(p.bottom) + 80
	p.title(c.Title)
	x := scale{0, 1, p.left, p.right}
	xs, _ := ticks(0, 1, 5)
	for _, v := range xs {
		px := x.at(v)
		p.line(px, p.top, px, p.bottom, colourGrid, "1", "")
		p.text(px, p.bottom+18, "middle", "tick", percentText(v))
	}
	p.line(p.left, p.bottom, p.right, p.bottom, colourInk, "1", "")
	p.line(p.left, p.top, p.left, p.bottom, colourInk, "1", "")
	var described []string
	anyTarget := false
	for i, r := range rows {
		cy := p.top + float64(i)*rowHeight + rowHeight/2
		p.text(p.left-12, cy+5, "end", "label", r.label)
		d := r.label + ": "
		switch {
		case r.rate.Rate.Suppressed:
			p.text(p.left+8, cy+5, "start", "note", fmt.Sprintf("suppressed: fewer than %d behind it", k))
			d += "suppressed"
		case !r.rate.Rate.Defined:
			p.text(p.left+8, cy+5, "start", "note", "no one to count yet")
			d += "no one to count"
		default:
			v := r.rate.Rate.V
			p.rect(p.left, cy-10, x.at(v)-p.left, 20, colourBar)
			if r.rate.Lower.Defined && r.rate.Upper.Defined {
				x0, x1 := x.at(r.rate.Lower.V), x.at(r.rate.Upper.V)
				p.line(x0, cy, x1, cy, colourInk, "2", "")
				p.line(x0, cy-6, x0, cy+6, colourInk, "2", "")
				p.line(x1, cy-6, x1, cy+6, colourInk, "2", "")
			}
			p.text(p.right+10, cy+5, "start", "tick", percentText(v))
			d += fmt.Sprintf("%s (%s to %s)", percentText(v), percentText(r.rate.Lower.V), percentText(r.rate.Upper.V))
		}
		if t := r.rate.Target; t != nil && t.Defined {
			anyTarget = true
			tx := x.at(t.V)
			p.rect(tx-2.5, cy-16, 5, 32, colourTarget)
			d += ", target " + percentText(t.V)
		}
		described = append(described, d)
	}
	// The legend, under the axis.
	ly := p.bottom + 52
	p.rect(p.left, ly-10, 24, 12, colourBar)
	p.text(p.left+30, ly, "start", "tick", "rate")
	p.line(p.left+80, ly-4, p.left+110, ly-4, colourInk, "2", "")
	p.line(p.left+80, ly-9, p.left+80, ly+1, colourInk, "2", "")
	p.line(p.left+110, ly-9, p.left+110, ly+1, colourInk, "2", "")
	p.text(p.left+116, ly, "start", "tick", "95 % interval")
	if anyTarget {
		p.rect(p.left+230, ly-14, 5, 20, colourTarget)
		p.text(p.left+242, ly, "start", "tick", "programme's target")
	}
	c.Desc = "Horizontal bars of each rate from 0 to 100 %, with its 95 % interval as a whisker and the programme's target as a mark: " +
		strings.Join(described, "; ") + "."
	c.Shapes = p.shapes
	return c
}
