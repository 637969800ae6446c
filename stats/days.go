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

// zeroDateCivil is civil(-1, time.November, 30): the day the zero
// domain.Date stands for, counted from 1970-01-01.
const zeroDateCivil = -719560

// dayOf is d as a day number.
func dayOf(d domain.Date) day {
	if d.IsZero() {
		return 0
	}
	return day(civil(d.Year(), d.Month(), d.Day()) - zeroDateCivil)
}

// civil counts days from 1970-01-01 to y-m-d in the proleptic Gregorian
// calendar, in integer arithmetic (the days_from_civil algorithm of
// Howard Hinnant's "chrono-Compatible Low-Level Date Algorithms").
func civil(y int, m time.Month, d int) int {
	if m <= time.February {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400                       // [0, 399]
	doy := (153*((int(m)+9)%12)+2)/5 + d - 1 // [0, 365], from 1 March
	doe := yoe*365 + yoe/4 - yoe/100 + doy   // [0, 146096]
	return era*146097 + doe - 719468
}

// dateOf is the domain.Date of day d (the civil_from_days algorithm of
// the same paper).
func dateOf(d day) domain.Date {
	if d == 0 {
		return domain.Date{}
	}
	z := int(d) + zeroDateCivil + 719468
	era := z
	if era < 0 {
		era -= 146096
	}
	era /= 146097
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365]
	mp := (5*doy + 2) / 153                                // [0, 11], from March
	dd := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	y := yoe + era*400
	if m <= 2 {
		y++
	}
	out, err := domain.NewDate(y, time.Month(m), dd)
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
