package stats

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// The HTML report: the same Report as the JSON, as a page a person reads
// in a browser or prints. It is one self-contained file: styles inline,
// charts as inline SVG, no script and nothing loaded from elsewhere, so it
// works offline and under HTMLPolicy.

// HTMLPolicy is the Content-Security-Policy the report is written for: it
// needs nothing but its own inline styles. The page carries it in a meta
// element too, so a saved copy opened from disk is held to it as well.
const HTMLPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

// ContentTypeHTML is the HTML report's media type.
const ContentTypeHTML = "text/html; charset=utf-8"

//go:embed templates/*.tmpl
var templateFiles embed.FS

// htmlTemplate is parsed once; executing it does not change it.
var htmlTemplate = template.Must(template.New("report.tmpl").ParseFS(templateFiles, "templates/*.tmpl"))

// EncodeHTML is the report as an HTML page. The same report always gives
// the same bytes.
func EncodeHTML(r Report) ([]byte, error) {
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, newHTMLPage(r)); err != nil {
		return nil, fmt.Errorf("statistics: report as HTML: %w", err)
	}
	return buf.Bytes(), nil
}

// htmlPage is what the page template shows: every figure already turned
// into its text.
type htmlPage struct {
	Policy, Title, Lede string
	Meta                []htmlField
	Query, PinnedQuery  string
	// K is the disclosure threshold, KLess the largest count suppressed.
	K, KLess         int
	Definitions      string
	TargetNote       string
	Rates            []htmlRate
	RatesChart       chart
	Episodes         htmlCell
	ByStatus, ByExit []htmlField
	KM               chart
	// TimeToJob counts the curve's episodes; Median is its median.
	TimeToJob, Median []htmlField
	Survival          []htmlSurvival
	Forest            chart
	Index             []htmlIndex
	Contact           []htmlField
}

// htmlCell is one figure as shown; Class marks a suppressed ("supp") or
// undefined ("na") one and whether a target was met ("met", "notmet").
type htmlCell struct {
	Text, Class, Note string
}

// htmlField is a labelled figure; Mono sets it in a fixed-width font and
// Wide gives it a line of its own in the page's header.
type htmlField struct {
	Label      string
	Value      htmlCell
	Mono, Wide bool
}

// Classes are the field's classes in the header.
func (f htmlField) Classes() string {
	var c []string
	if f.Wide {
		c = append(c, "wide")
	}
	if f.Mono {
		c = append(c, "mono")
	}
	return strings.Join(c, " ")
}

type htmlRate struct {
	Label, Definition                                   string
	Numerator, Denominator, Rate, Interval, Target, Met htmlCell
}

type htmlSurvival struct {
	Day                                      int
	AtRisk, Without, Interval, WithJob, Band htmlCell
}

// htmlIndex is one dimension's change; Hidden, when set, stands for
// every figure after the counts, all suppressed for too few pairs.
type htmlIndex struct {
	Label                                                             string
	Pairs, Missing, Baseline, End, Change, Interval, SD, DZ, T, DF, P htmlCell
	Hidden                                                            *htmlCell
}

// rateMeasure is one rate of the report with how the page names it.
type rateMeasure struct {
	label, definition string
	rate              Rate
}

func rateMeasures(m Measures) []rateMeasure {
	return []rateMeasure{
		{"Job within 183 days", "An ordinary job started within 183 days of enrolment, among episodes enrolled at least 183 days before the as-of date.", m.JobWithin183d},
		{"Work or education at exit", "Exited to an ordinary job or education, or in one on the exit date, among exited episodes.", m.WorkOrEducationAtExit},
		{"Retention at 90 days", "Employed 90 days after the first ordinary job started (gaps of up to 14 days between jobs allowed), among first jobs started at least 90 days before the as-of date.", m.Retention90d},
		{"Retention at 180 days", "As retention at 90 days, on day 180.", m.Retention180d},
		{"Off social assistance at exit", "No longer on social assistance on the exit date, among exited episodes that came on it.", m.OffSocialAssistanceAtExit},
		{"Weeks with a meeting", "Complete, unpaused weeks from enrolment with at least one meeting.", m.ContactIntensity.Weeks},
	}
}

// dimensionLabel names a dimension of the indicator index.
func dimensionLabel(name string) string {
	if name == "well_being" {
		return "Well-being"
	}
	return humanise(name)
}

func newHTMLPage(r Report) htmlPage {
	k := r.K
	m := r.Measures
	cohort := r.Cohort
	p := htmlPage{Policy: HTMLPolicy, K: k, KLess: k - 1, Definitions: r.DefinitionsVersion}

	programme := "all programmes"
	if cohort.Programme != "" {
		programme = "programme " + cohort.Programme
	}
	p.Title = fmt.Sprintf("Outcome report: %s, as of %s", programme, r.AsOf)
	known := "the head of the log"
	if r.KnownAt != "" {
		known = r.KnownAt
	}
	p.Lede = fmt.Sprintf("Every figure follows measures.md, definitions %s, from the event log as known at %s, under disclosure control with k = %d.",
		r.DefinitionsVersion, known, k)

	orAny := func(v, none string) htmlCell {
		if v == "" {
			return htmlCell{Text: none, Class: "na"}
		}
		return htmlCell{Text: v}
	}
	enrolled := "any date"
	switch {
	case !cohort.EnrolledFrom.IsZero() && !cohort.EnrolledTo.IsZero():
		enrolled = fmt.Sprintf("%s to %s", cohort.EnrolledFrom, cohort.EnrolledTo)
	case !cohort.EnrolledFrom.IsZero():
		enrolled = fmt.Sprintf("from %s", cohort.EnrolledFrom)
	case !cohort.EnrolledTo.IsZero():
		enrolled = fmt.Sprintf("up to %s", cohort.EnrolledTo)
	}
	p.Meta = []htmlField{
		{Label: "Programme", Value: orAny(cohort.Programme, "all programmes")},
		{Label: "Office", Value: orAny(cohort.Office, "all offices")},
		{Label: "Enrolled", Value: htmlCell{Text: enrolled}},
		{Label: "Gender", Value: orAny(humanise(string(cohort.Gender)), "any")},
		{Label: "Region of birth", Value: orAny(humanise(string(cohort.RegionOfBirth)), "any")},
		{Label: "Income source at intake", Value: orAny(humanise(string(cohort.IncomeSource)), "any")},
		{Label: "As of", Value: htmlCell{Text: r.AsOf.String()}},
		{Label: "Known at", Value: htmlCell{Text: known}},
		{Label: "Definitions", Value: htmlCell{Text: "measures.md " + r.DefinitionsVersion}},
		{Label: "Log position read to", Value: htmlCell{Text: strconv.FormatUint(r.LogPosition, 10)}},
		{Label: "Events read", Value: htmlCell{Text: strconv.Itoa(r.EventsRead)}},
		{Label: "Events used", Value: htmlCell{Text: strconv.Itoa(r.EventsUsed)}},
		{Label: "Digest of their ids (SHA-256)", Value: htmlCell{Text: r.EventsDigest}, Mono: true, Wide: true},
		{Label: "Disclosure threshold", Value: htmlCell{Text: "k = " + strconv.Itoa(k)}},
		{Label: "Generated by", Value: htmlCell{Text: "caseledger: GET /v1/stats/outcomes or caseledger stats, with the request below"}, Wide: true},
	}
	p.Query, p.PinnedQuery = requestQuery(r)

	switch {
	case cohort.Programme == "":
		p.TargetNote = "Targets belong to a programme: this cohort is not limited to one, so none is shown."
	case !hasTarget(m):
		p.TargetNote = "The programme defines no targets for these measures."
	}
	var rows []rateRow
	for _, rm := range rateMeasures(m) {
		p.Rates = append(p.Rates, htmlRate{
			Label: rm.label, Definition: rm.definition,
			Numerator: countCell(rm.rate.Numerator, k), Denominator: countCell(rm.rate.Denominator, k),
			Rate: valueCell(rm.rate.Rate, k, percentText), Interval: intervalCell(rm.rate.Lower, rm.rate.Upper, k, percentText),
			Target: targetCell(rm.rate.Target), Met: metCell(rm.rate.MeetsTarget, k),
		})
		rows = append(rows, rateRow{label: rm.label, rate: rm.rate})
	}
	p.RatesChart = ratesChart(rows, k)

	p.Episodes = countCell(m.Enrolled.Episodes, k)
	for _, c := range m.Enrolled.ByStatus {
		p.ByStatus = append(p.ByStatus, htmlField{Label: humanise(c.Key), Value: countCell(c.Count, k)})
	}
	for _, c := range m.Enrolled.ByExitReason {
		p.ByExit = append(p.ByExit, htmlField{Label: humanise(c.Key), Value: countCell(c.Count, k)})
	}

	t := m.TimeToFirstJob
	p.KM = kmChart(t, k)
	p.TimeToJob = []htmlField{
		{Label: "Episodes", Value: countCell(t.Episodes, k)},
		{Label: "First jobs (events)", Value: countCell(t.Events, k)},
		{Label: "Censored (no job by exit or the as-of date)", Value: countCell(t.Censored, k)},
	}
	p.Median = []htmlField{
		{Label: "Median days to first job", Value: valueCell(t.Median, k, daysText)},
		{Label: "95 % interval of the median", Value: medianIntervalCell(t, k)},
	}
	for _, at := range t.At {
		p.Survival = append(p.Survival, htmlSurvival{
			Day: at.Day, AtRisk: countCell(at.AtRisk, k),
			Without: valueCell(at.Survival, k, percentText), Interval: intervalCell(at.Lower, at.Upper, k, percentText),
			WithJob: valueCell(at.WithJob, k, percentText), Band: intervalCell(complement(at.Upper), complement(at.Lower), k, percentText),
		})
	}

	var forest []forestRow
	for _, d := range m.IndexChange {
		label := dimensionLabel(d.Dimension)
		row := htmlIndex{
			Label: label, Pairs: countCell(d.Pairs, k), Missing: countCell(d.Missing, k),
			Baseline: valueCell(d.MeanBaseline, k, decimalsText(2)), End: valueCell(d.MeanEnd, k, decimalsText(2)),
			Change: valueCell(d.MeanChange, k, signedText), Interval: intervalCell(d.Lower, d.Upper, k, signedText),
			SD: valueCell(d.SDChange, k, decimalsText(2)), DZ: valueCell(d.DZ, k, decimalsText(2)), T: valueCell(d.T, k, decimalsText(2)),
			DF: valueCell(d.DF, k, decimalsText(0)), P: valueCell(d.P, k, pText),
		}
		if d.MeanBaseline.Suppressed {
			c := suppressedCell(k)
			c.Note += " pairs"
			row.Hidden = &c
		}
		p.Index = append(p.Index, row)
		forest = append(forest, forestRow{label: label, change: d.MeanChange, lower: d.Lower, upper: d.Upper, pairs: d.Pairs})
	}
	p.Forest = forestChart(forest, k)

	ci := m.ContactIntensity
	p.Contact = []htmlField{
		{Label: "Weeks counted", Value: countCell(ci.Weeks.Denominator, k)},
		{Label: "Weeks with a meeting", Value: valueCell(ci.Weeks.Rate, k, percentText)},
		{Label: "95 % interval", Value: intervalCell(ci.Weeks.Lower, ci.Weeks.Upper, k, percentText)},
		{Label: "Median days between meetings", Value: valueCell(ci.MedianDaysBetween, k, daysText)},
		{Label: "Gaps between meetings", Value: countCell(ci.Gaps, k)},
		{Label: "Episodes with two meetings or more", Value: countCell(ci.GapEpisodes, k)},
	}
	return p
}

// requestQuery is the report's request as a query string, and the same
// pinned to the log position read to when it was not pinned, which gives
// the same figures again however the log grows.
func requestQuery(r Report) (query, pinned string) {
	c := r.Cohort
	q := scopeQuery(c)
	setParam(q, ParamGender, string(c.Gender))
	setParam(q, ParamRegionOfBirth, string(c.RegionOfBirth))
	setParam(q, ParamIncomeSource, string(c.IncomeSource))
	setParam(q, ParamAsOf, r.AsOf.String())
	setParam(q, ParamKnownAt, r.KnownAt)
	setParam(q, ParamK, strconv.Itoa(r.K))
	query = q.Encode()
	if r.KnownAt == "" && r.LogPosition > 0 {
		q.Set(ParamKnownAt, strconv.FormatUint(r.LogPosition, 10))
		pinned = q.Encode()
	}
	return query, pinned
}

func hasTarget(m Measures) bool {
	for _, rm := range rateMeasures(m) {
		if rm.rate.Target != nil {
			return true
		}
	}
	return false
}

// humanise turns a key such as "dropped_out" into "Dropped out".
func humanise(key string) string {
	if key == "" {
		return ""
	}
	s := strings.ReplaceAll(key, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

func suppressedCell(k int) htmlCell {
	return htmlCell{Text: "suppressed", Class: "supp", Note: fmt.Sprintf("fewer than %d", k)}
}

func undefinedCell() htmlCell { return htmlCell{Text: "—", Class: "na"} }

func countCell(c Count, k int) htmlCell {
	if c.Suppressed {
		return suppressedCell(k)
	}
	return htmlCell{Text: strconv.Itoa(c.N)}
}

func valueCell(v Value, k int, format func(float64) string) htmlCell {
	switch {
	case v.Suppressed:
		return suppressedCell(k)
	case !v.Defined:
		return undefinedCell()
	}
	return htmlCell{Text: format(v.V)}
}

func intervalCell(lo, hi Value, k int, format func(float64) string) htmlCell {
	switch {
	case lo.Suppressed || hi.Suppressed:
		return suppressedCell(k)
	case !lo.Defined || !hi.Defined:
		return undefinedCell()
	}
	return htmlCell{Text: format(lo.V) + " to " + format(hi.V)}
}

// medianIntervalCell is the median's interval, which has a lower end and
// no upper one when the band's upper edge never comes down to 50 %.
func medianIntervalCell(t TimeToJob, k int) htmlCell {
	lo, hi := t.MedianLower, t.MedianUpper
	if lo.Defined && !lo.Suppressed && !hi.Defined && !hi.Suppressed {
		return htmlCell{Text: daysText(lo.V) + " to not reached"}
	}
	return intervalCell(lo, hi, k, daysText)
}

// complement is 1 - v: a bound of the share with a job from one of the
// share without.
func complement(v Value) Value {
	if v.Defined && !v.Suppressed {
		v.V = 1 - v.V
	}
	return v
}

func targetCell(t *Value) htmlCell {
	if t == nil || !t.Defined {
		return htmlCell{Text: "none", Class: "na"}
	}
	return htmlCell{Text: percentText(t.V)}
}

func metCell(f *Flag, k int) htmlCell {
	switch {
	case f == nil:
		return undefinedCell()
	case f.Suppressed:
		return suppressedCell(k)
	case !f.Defined:
		return htmlCell{Text: "no one to count", Class: "na"}
	case f.B:
		return htmlCell{Text: "met", Class: "met"}
	}
	return htmlCell{Text: "not met", Class: "notmet"}
}

func decimalsText(decimals int) func(float64) string {
	return func(v float64) string { return tickLabel(v, decimals) }
}

// days is a number of daysText, with its half where a median has one.
func daysText(v float64) string {
	return strconv.FormatFloat(math.Round(v*2)/2, 'f', -1, 64)
}

// pText shows three decimals, and very small values as below 0.001.
func pText(v float64) string {
	if v < 0.001 {
		return "< 0.001"
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}
