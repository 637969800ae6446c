package stats_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/stats"
)

// twelve writes twelve episodes of programme hope-oslo enrolled a week
// apart from 2025-01-06: every other one finds a job, and every one has a
// baseline and an end score.
func twelve(t *testing.T, store eventstore.Store) {
	t.Helper()
	appendEvent(t, store, domain.ProgrammeStream("hope-oslo"), domain.ProgrammeDefined{Slug: "hope-oslo", Name: "Hope Oslo",
		Targets: []domain.Target{{Measure: domain.MeasureJobWithin183d, Rate: 0.4}}})
	for i := range 12 {
		stream := domain.ParticipantStream(uuid.New())
		enrolled := day(t, "2025-01-06").AddDays(7 * i)
		appendEvent(t, store, stream, domain.ParticipantEnrolled{Episode: 1, Programme: "hope-oslo", Office: "oslo",
			EnrolledOn: enrolled, ReferralSource: domain.ReferralSelf,
			Profile: domain.Profile{BirthYear: 1990, Gender: domain.GenderFemale, RegionOfBirth: domain.RegionAsia,
				IncomeSource: domain.IncomeSocialAssistance}})
		appendEvent(t, store, stream, domain.MeetingHeld{Date: enrolled.AddDays(3), Kind: domain.MeetingKinds()[0]})
		appendEvent(t, store, stream, domain.IndicatorScored{Date: enrolled.AddDays(3), Timepoint: domain.TimepointBaseline,
			Instrument: domain.InstrumentIndicatorIndex, InstrumentVersion: domain.IndicatorIndexVersion,
			Scores: domain.Scores{Hope: 3 + i%3, WellBeing: 4, Network: 2 + i%4, WorkAttachment: 5}})
		appendEvent(t, store, stream, domain.IndicatorScored{Date: enrolled.AddDays(200), Timepoint: domain.TimepointEnd,
			Instrument: domain.InstrumentIndicatorIndex, InstrumentVersion: domain.IndicatorIndexVersion,
			Scores: domain.Scores{Hope: 5 + i%2, WellBeing: 4 + i%3, Network: 3, WorkAttachment: 5 + i%2}})
		if i%2 == 0 {
			appendEvent(t, store, stream, domain.PlacementStarted{PlacementID: uuid.New(), Kind: domain.PlacementOrdinaryJob,
				StartedOn: enrolled.AddDays(30 + 10*i), HoursPercentage: 50})
		}
	}
}

func htmlOf(t *testing.T, store eventstore.Store, req stats.Request) []byte {
	t.Helper()
	r, err := stats.Compute(context.Background(), store, req)
	if err != nil {
		t.Fatal(err)
	}
	page, err := stats.EncodeHTML(r)
	if err != nil {
		t.Fatal(err)
	}
	return page
}

var (
	svgElement = regexp.MustCompile(`(?s)<svg .*?</svg>`)
	emptyChart = regexp.MustCompile(`<p class="empty">(.*?)</p>`)
)

// Each chart is drawn when the cohort has figures to draw and replaced by
// a sentence when it has none; an empty or wholly suppressed cohort gives
// a page of sentences, not of empty axes.
func TestHTMLChartsOrSentences(t *testing.T) {
	store := openStore(t)
	twelve(t, store)
	asOf := day(t, "2026-01-01")
	for _, tt := range []struct {
		name       string
		req        stats.Request
		charts     []string // ids of the charts drawn
		sentences  []string
		suppressed bool // some figure must read "suppressed", with why
	}{
		{"figures", stats.Request{Cohort: stats.Cohort{Programme: "hope-oslo"}, AsOf: asOf, K: 3},
			[]string{"rates", "km", "index"}, nil, false},
		{"empty cohort", stats.Request{Cohort: stats.Cohort{Programme: "none-such"}, AsOf: asOf, K: 3},
			nil, []string{"No curve: the cohort has no episodes.", "every rate is suppressed", "no dimension has a change"}, false},
		{"all suppressed", stats.Request{Cohort: stats.Cohort{Programme: "hope-oslo"}, AsOf: asOf, K: 13},
			nil, []string{"fewer than 13 first jobs", "every rate is suppressed", "from at least 13 episodes"}, true},
		{"jobs suppressed", stats.Request{Cohort: stats.Cohort{Programme: "hope-oslo"}, AsOf: asOf, K: 7},
			[]string{"rates", "index"}, []string{"fewer than 7 first jobs"}, true},
		{"before any job", stats.Request{Cohort: stats.Cohort{Programme: "hope-oslo"}, AsOf: day(t, "2025-02-01"), K: 1},
			[]string{"rates"}, []string{"no one in the cohort has started an ordinary job yet", "no dimension has a change"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			page := string(htmlOf(t, store, tt.req))
			svgs := svgElement.FindAllString(page, -1)
			var drawn []string
			for _, s := range svgs {
				if m := regexp.MustCompile(`aria-labelledby="(\w+)-title`).FindStringSubmatch(s); m != nil {
					drawn = append(drawn, m[1])
				}
			}
			if strings.Join(drawn, ",") != strings.Join(tt.charts, ",") {
				t.Errorf("charts drawn %v, want %v", drawn, tt.charts)
			}
			var said []string
			for _, m := range emptyChart.FindAllStringSubmatch(page, -1) {
				said = append(said, m[1])
			}
			if len(said) != len(tt.sentences) {
				t.Errorf("sentences instead of charts %q, want %d", said, len(tt.sentences))
			}
			for _, s := range tt.sentences {
				if !slices.ContainsFunc(said, func(p string) bool { return strings.Contains(p, s) }) {
					t.Errorf("no sentence says %q: %q", s, said)
				}
			}
			if tt.suppressed && !strings.Contains(page, fmt.Sprintf(`class="supp">suppressed</span><span class="why">fewer than %d`, tt.req.K)) {
				t.Errorf("no figure is shown as suppressed with its reason")
			}
		})
	}
}

// Every chart is SVG a parser reads, with the title and description a
// screen reader announces.
func TestHTMLChartsAreWellFormedSVG(t *testing.T) {
	store := openStore(t)
	twelve(t, store)
	page := htmlOf(t, store, stats.Request{Cohort: stats.Cohort{Programme: "hope-oslo"}, AsOf: day(t, "2026-01-01"), K: 3})
	svgs := svgElement.FindAll(page, -1)
	if len(svgs) != 3 {
		t.Fatalf("%d charts, want 3", len(svgs))
	}
	for _, svg := range svgs {
		dec := xml.NewDecoder(bytes.NewReader(svg))
		var elements []string
		for {
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("not well-formed: %v\n%.300s", err, svg)
			}
			if se, ok := tok.(xml.StartElement); ok {
				elements = append(elements, se.Name.Local)
			}
		}
		if len(elements) < 4 || elements[0] != "svg" || elements[1] != "title" || elements[2] != "desc" {
			t.Errorf("a chart without its title and description first: %v", elements[:min(3, len(elements))])
		}
		if !bytes.Contains(svg, []byte(`role="img"`)) {
			t.Errorf("a chart without role img: %.120s", svg)
		}
	}
}

// The page needs nothing from elsewhere and runs no script: it holds to
// its own policy, and says so in a meta element for a copy opened from
// disk. The same report gives the same bytes.
func TestHTMLSelfContainedAndDeterministic(t *testing.T) {
	store := openStore(t)
	twelve(t, store)
	req := stats.Request{Cohort: stats.Cohort{Programme: "hope-oslo"}, AsOf: day(t, "2026-01-01"), K: 3}
	page := htmlOf(t, store, req)
	if again := htmlOf(t, store, req); !bytes.Equal(page, again) {
		t.Errorf("the same report gave different pages")
	}
	lower := strings.ToLower(string(page))
	for _, banned := range []string{"<script", " src=", " href=", "url(", "@import", "<link", "<img", "<iframe", "<object", "<embed"} {
		if strings.Contains(lower, banned) {
			t.Errorf("the page has %q", banned)
		}
	}
	if m := regexp.MustCompile(`\son[a-z]+=`).FindString(lower); m != "" {
		t.Errorf("the page has an event handler %q", m)
	}
	meta := `<meta http-equiv="Content-Security-Policy" content="` + strings.ReplaceAll(stats.HTMLPolicy, "'", "&#39;") + `">`
	if !strings.Contains(string(page), meta) {
		t.Errorf("the page does not carry its policy: want %s", meta)
	}
}

// What the request names is shown as text, never as markup.
func TestHTMLEscapesTheRequest(t *testing.T) {
	store := openStore(t)
	twelve(t, store)
	office := `<i onmouseover="x()">oslo</i>&`
	page := string(htmlOf(t, store, stats.Request{Cohort: stats.Cohort{Office: office}, AsOf: day(t, "2026-01-01"), K: 3}))
	if strings.Contains(page, "<i onmouseover") {
		t.Errorf("the office was written as markup")
	}
	if !strings.Contains(page, "&lt;i onmouseover=&#34;x()&#34;&gt;oslo&lt;/i&gt;&amp;") {
		t.Errorf("the office is not shown as text")
	}
}
