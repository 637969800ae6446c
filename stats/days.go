package stats

import (
	"errors"
	"time"

	"github.com/caseledger/caseledger/domain"
)

// day is a business date as a day number, so that the measures do their
// date arithmetic in integers: a report over a hundred thousand episodes
// would otherwise spend most of its time in package time. Day 0 is the
// zero domain.Date ("no date"), and every real date is positive: day n is
// n days after the instant the zero Date stands for (domain.Date counts
// it as 30 November of year -1), so that differences between days are
// Date.DaysSince and their order is Date.Compare. It is an int32 itself,
// so that the read model keeps days among the other words of a record.
type day = int32

// zeroDateCivil is the zero domain.Date's UnixDay (30 November of year
// -1).
const zeroDateCivil = -719560

// dayOf is d as a day number.
func dayOf(d domain.Date) day {
	if d.IsZero() {
		return 0
	}
	return day(d.UnixDay() - zeroDateCivil)
}

// dateOf is the domain.Date of day d.
func dateOf(d day) domain.Date {
	if d == 0 {
		return domain.Date{}
	}
	out, err := domain.DateOfUnixDay(int(d) + zeroDateCivil)
	if err != nil {
		// Only days before year 1 or after 9999 have no Date; no
		// business date is one.
		return domain.Date{}
	}
	return out
}

// addDays is Date.AddDays: n days after d, and the zero day stays zero
// so that a missing date never turns into a real one.
func addDays(d day, n int) day {
	if d == 0 {
		return 0
	}
	return d + day(n)
}

var errBadDay = errors.New("date must be written YYYY-MM-DD")

// jsonDay is a day in an event's JSON.
type jsonDay day

// UnmarshalJSON reads "YYYY-MM-DD" or null as domain.Date does, without
// going through encoding/json again, which is most of what a date costs
// to decode.
func (d *jsonDay) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = 0
		return nil
	}
	if len(b) != 12 || b[0] != '"' || b[11] != '"' || b[5] != '-' || b[8] != '-' {
		return errBadDay
	}
	var n [3]int
	for i, part := range [3][]byte{b[1:5], b[6:8], b[9:11]} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return errBadDay
			}
			n[i] = n[i]*10 + int(c-'0')
		}
	}
	date, err := domain.NewDate(n[0], time.Month(n[1]), n[2])
	if err != nil {
		return err
	}
	*d = jsonDay(dayOf(date))
	return nil
}
