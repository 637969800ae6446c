package stats

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/caseledger/caseledger/domain"
)

// Day numbers order, count and add days as domain.Date does, and turn
// back into the same Date.
func TestDayNumbersAreDates(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	zero := domain.Date{}
	if dayOf(zero) != 0 || dateOf(day(0)) != zero || addDays(day(0), 5) != 0 {
		t.Fatal("the zero Date is not day 0, or day 0 not the zero Date")
	}
	dates := []domain.Date{}
	for _, s := range []string{"0001-01-01", "1899-12-31", "1970-01-01", "2000-02-29", "2024-02-29", "2026-11-20", "9999-12-31"} {
		d, err := domain.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		dates = append(dates, d)
	}
	for range 2000 {
		dates = append(dates, domain.DateIn(time.Unix(r.Int64N(400*365*86400)-200*365*86400, 0), time.UTC))
	}
	for i, a := range dates {
		if got := dateOf(dayOf(a)); got != a {
			t.Fatalf("%s: back from day %d is %s", a, dayOf(a), got)
		}
		if dayOf(a) <= 0 {
			t.Fatalf("%s is day %d, not after the zero Date", a, dayOf(a))
		}
		n := r.IntN(2000) - 1000
		if got, want := addDays(dayOf(a), n), dayOf(a.AddDays(n)); a.AddDays(n).Year() >= 1 && got != want {
			t.Fatalf("%s + %d: day %d, want %d", a, n, got, want)
		}
		b := dates[(i*7+3)%len(dates)]
		if abs(a.Year()-b.Year()) < 290 { // DaysSince saturates at 292 years
			if got, want := int(dayOf(a)-dayOf(b)), a.DaysSince(b); got != want {
				t.Fatalf("%s - %s: %d days, want %d", a, b, got, want)
			}
		}
		if got, want := cmp.Compare(dayOf(a), dayOf(b)), a.Compare(b); got != want {
			t.Fatalf("%s vs %s: %d, want %d", a, b, got, want)
		}
	}
}

func abs(n int) int { return max(n, -n) }

// weeks counts as the definition reads, week by week: the 7-day blocks
// from enrolment, complete before the exit and as_of, with no paused day
// (on or after a pause's first day and before the day it was resumed),
// and those with a meeting.
func weeksByDefinition(e facts, asOf day) (counted, met int) {
	limit := asOf
	if e.exited && e.exitOn < limit {
		limit = e.exitOn
	}
	for first := e.enrolledOn; first+6 < limit; first += 7 {
		last := first + 6
		paused := false
		for _, p := range e.pauses {
			if p.start <= last && (p.end == 0 || p.end > first) {
				paused = true
			}
		}
		if paused {
			continue
		}
		counted++
		if slices.ContainsFunc(e.meetings, func(m day) bool { return m >= first && m <= last }) {
			met++
		}
	}
	return counted, met
}

// The week counting of contact_intensity, which works on week numbers,
// counts what the definition counts, on random episodes with pauses that
// overlap, begin before enrolment or last, and meetings outside the weeks.
func TestWeeksAsDefined(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	d := func(from day, lo, hi int) day { return from + day(lo+r.IntN(hi-lo+1)) }
	for i := range 20000 {
		e := facts{enrolledOn: day(20000 + r.IntN(100))}
		for range r.IntN(4) {
			p := span{start: d(e.enrolledOn, -40, 300)}
			if r.IntN(3) > 0 {
				p.end = d(p.start, 1, 60)
			}
			e.pauses = append(e.pauses, p)
		}
		for range r.IntN(40) {
			e.meetings = append(e.meetings, d(e.enrolledOn, -20, 400))
		}
		slices.Sort(e.meetings)
		if r.IntN(2) == 0 {
			e.exited, e.exitOn = true, d(e.enrolledOn, -10, 400)
		}
		asOf := d(e.enrolledOn, -5, 450)
		c, m := e.weeks(asOf)
		wc, wm := weeksByDefinition(e, asOf)
		if c != wc || m != wm {
			t.Fatalf("episode %d %+v as of %d: %d weeks, %d with a meeting; want %d, %d", i, e, asOf, c, m, wc, wm)
		}
	}
}

// A tally's median is the median of the sorted values.
func TestTallyMedian(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		var tl tally
		var xs []int
		for range 1 + r.IntN(50) {
			v := r.IntN(1 + r.IntN(400))
			tl.add(v)
			xs = append(xs, v)
		}
		slices.Sort(xs)
		n := len(xs)
		want := float64(xs[(n-1)/2]+xs[n/2]) / 2
		if got := tl.median(); got != want {
			t.Fatalf("median of %v: %v, want %v", xs, got, want)
		}
	}
}
