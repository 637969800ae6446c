package stats

import (
	"github.com/go-json-experiment/json/jsontext"

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

// jsonDay is a day in an event's JSON, decoded as domain.Date decodes it.
type jsonDay day

func (d *jsonDay) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	var date domain.Date
	if err := date.UnmarshalJSONFrom(dec); err != nil {
		return err
	}
	*d = jsonDay(dayOf(date))
	return nil
}
