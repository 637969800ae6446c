package stats

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"testing/quick"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
)

// Newcombe (1998), Table II, method 10 (hybrid score, no continuity
// correction), the eight published examples to four decimals.
//
// Example (a), 56/70 against 48/80, by hand (z = 1.959964, z² = 3.841459):
//
//	p1 = 0.8, p2 = 0.6, d = 0.2
//	Wilson 56/70: centre = (0.8 + z²/140) / (1 + z²/70)
//	                     = 0.827439 / 1.054878 = 0.784393
//	              half   = z · √(0.8·0.2/70 + z²/19600) / 1.054878
//	                     = 1.959964 · 0.049817 / 1.054878 = 0.092560
//	              l1 = 0.691834, u1 = 0.876953
//	Wilson 48/80: centre = (0.6 + z²/160) / (1 + z²/80)
//	                     = 0.624009 / 1.048018 = 0.595418
//	              half   = 1.959964 · 0.056125 / 1.048018 = 0.104964
//	              l2 = 0.490455, u2 = 0.700382
//	lower = 0.2 - √((0.8 - 0.691834)² + (0.700382 - 0.6)²)
//	      = 0.2 - √(0.108166² + 0.100382²) = 0.2 - 0.147569 = 0.0524
//	upper = 0.2 + √((0.876953 - 0.8)² + (0.6 - 0.490455)²)
//	      = 0.2 + √(0.076953² + 0.109545²) = 0.2 + 0.133873 = 0.3339
//
// which is the paper's 0.0524 to 0.3339. (The difference of 56/70 and
// 48/80 is 0.2, not 0.1667, and no method of the paper gives 0.0237 to
// 0.3000 for it.)
func TestNewcombePublishedExamples(t *testing.T) {
	for _, c := range []struct {
		x1, n1, x2, n2 int
		lo, hi         float64
	}{
		{56, 70, 48, 80, 0.0524, 0.3339},
		{9, 10, 3, 10, 0.1705, 0.8090},
		{6, 7, 2, 7, 0.0582, 0.8062},
		{5, 56, 0, 29, -0.0381, 0.1926},
		{0, 10, 0, 20, -0.1611, 0.2775},
		{0, 10, 0, 10, -0.2775, 0.2775},
		{10, 10, 0, 20, 0.6791, 1.0000},
		{10, 10, 0, 10, 0.6075, 1.0000},
	} {
		name := fmt.Sprintf("%d/%d - %d/%d", c.x1, c.n1, c.x2, c.n2)
		d, lo, hi := Newcombe(c.x1, c.n1, c.x2, c.n2)
		near(t, name+" difference", d, float64(c.x1)/float64(c.n1)-float64(c.x2)/float64(c.n2), 1e-12)
		near(t, name+" lower", lo, c.lo, 5e-5)
		near(t, name+" upper", hi, c.hi, 5e-5)
	}
}

// The interval holds the point estimate and stays within [-1, 1];
// swapping the cohorts negates the estimate and mirrors the interval.
func TestNewcombeProperties(t *testing.T) {
	f := func(a, b, c, d uint8) bool {
		n1, n2 := int(a)%150+1, int(c)%150+1
		x1, x2 := int(b)%(n1+1), int(d)%(n2+1)
		diff, lo, hi := Newcombe(x1, n1, x2, n2)
		if lo > diff+1e-12 || hi < diff-1e-12 || lo < -1-1e-12 || hi > 1+1e-12 {
			t.Logf("%d/%d - %d/%d: %g in [%g, %g]", x1, n1, x2, n2, diff, lo, hi)
			return false
		}
		sd, slo, shi := Newcombe(x2, n2, x1, n1)
		if math.Abs(sd+diff) > 1e-12 || math.Abs(slo+hi) > 1e-12 || math.Abs(shi+lo) > 1e-12 {
			t.Logf("%d/%d - %d/%d: %g [%g, %g], swapped %g [%g, %g]", x1, n1, x2, n2, diff, lo, hi, sd, slo, shi)
			return false
		}
		return true
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 3000}); err != nil {
		t.Error(err)
	}
}

// logBuilder makes a log in memory, as ReadLog would have read it.
type logBuilder struct {
	log Log
	pos uint64
}

func newLogBuilder() *logBuilder {
	return &logBuilder{log: Log{Participants: map[string][]domain.Recorded{}, Programmes: map[string]ProgrammeDefinition{}}}
}

func (b *logBuilder) add(stream string, evs ...domain.Event) {
	for _, e := range evs {
		b.pos++
		b.log.Participants[stream] = append(b.log.Participants[stream], domain.Recorded{
			ID: uuid.New(), Stream: stream, Revision: uint64(len(b.log.Participants[stream])), Position: b.pos, Event: e})
	}
	b.log.Position, b.log.EventsRead = b.pos, int(b.pos)
}

func mustDate(s string) domain.Date {
	d, err := domain.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// jobEpisodes adds n episodes of office to b, enrolled a year before
// 2026-01-06, the first x of them with an ordinary job a month in: x of n
// for job_within_183d on that day.
func (b *logBuilder) jobEpisodes(office string, x, n int) {
	enrolled := mustDate("2025-01-06")
	for i := range n {
		stream := domain.ParticipantStream(uuid.New())
		b.add(stream, domain.ParticipantEnrolled{Episode: 1, Programme: "hope", Office: office, EnrolledOn: enrolled,
			ReferralSource: domain.ReferralSelf, Profile: domain.Profile{BirthYear: 1990, Gender: domain.GenderFemale,
				RegionOfBirth: domain.RegionAfrica, IncomeSource: domain.IncomeSocialAssistance}})
		if i < x {
			b.add(stream, domain.PlacementStarted{PlacementID: uuid.New(), Kind: domain.PlacementOrdinaryJob,
				StartedOn: enrolled.AddDays(30), HoursPercentage: 50})
		}
	}
}

// Each side is disclosed exactly as its own report discloses it, and the
// difference is suppressed when either side is, on both sides of every
// boundary (k-1, k) of the rate rule; a side without episodes leaves the
// difference undefined.
func TestComparisonDisclosure(t *testing.T) {
	const k = 5
	asOf := mustDate("2026-01-06")
	for _, c := range []struct {
		xa, na, xb, nb  int
		hide, undefined bool
	}{
		{5, 10, 5, 10, false, false},
		{4, 10, 5, 10, true, false}, // numerator of a is k-1
		{5, 10, 6, 10, true, false}, // n - x of b is k-1
		{5, 5, 0, 5, false, false},  // a at n - x = 0, b at x = 0: both shown
		{4, 4, 5, 5, true, false},   // denominator of a is k-1
		{0, 0, 5, 10, false, true},  // a has no eligible episode
		{1, 1, 0, 0, true, false},   // suppressed wins over undefined
		{10, 20, 15, 20, false, false},
	} {
		name := fmt.Sprintf("%d/%d - %d/%d", c.xa, c.na, c.xb, c.nb)
		b := newLogBuilder()
		b.jobEpisodes("a", c.xa, c.na)
		b.jobEpisodes("b", c.xb, c.nb)
		req := ComparisonRequest{A: Cohort{Office: "a"}, B: Cohort{Office: "b"}, AsOf: asOf, K: k}
		cmp := CompareFromLog(b.log, req)
		var d RateDifference
		for _, r := range cmp.Rates {
			if r.Measure == "job_within_183d" {
				d = r
			}
		}
		for _, v := range []Value{d.Difference, d.Lower, d.Upper} {
			if v.Suppressed != c.hide || (!c.hide && v.Defined == c.undefined) {
				t.Errorf("%s: difference %+v, want suppressed %v, undefined %v", name, v, c.hide, c.undefined)
			}
		}
		if !c.hide && !c.undefined {
			diff, lo, hi := Newcombe(c.xa, c.na, c.xb, c.nb)
			if d.Difference.V != diff || d.Lower.V != lo || d.Upper.V != hi {
				t.Errorf("%s: %v [%v, %v], want %v [%v, %v]", name, d.Difference.V, d.Lower.V, d.Upper.V, diff, lo, hi)
			}
		}
		// Each side as its own report shows it.
		for side, office := range map[string]string{"a": "a", "b": "b"} {
			single := FromLog(b.log, Request{Cohort: Cohort{Office: office}, AsOf: asOf, K: k}).Measures.JobWithin183d
			got := d.A
			if side == "b" {
				got = d.B
			}
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(single)
			if string(gb) != string(wb) {
				t.Errorf("%s: side %s shows %s, its report %s", name, side, gb, wb)
			}
		}
	}
}
