package domain

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// Date is a civil date without a time of day or a zone: a business date
// such as the day a meeting was held. Its zero value means "no date".
// Dates compare with ==; JSON writes them as "YYYY-MM-DD" and a zero Date
// as null.
type Date struct {
	year  int
	month time.Month
	day   int
}

// NewDate returns the date y-m-d, or an error when no such day exists.
func NewDate(y int, m time.Month, d int) (Date, error) {
	if y < 1 || y > 9999 {
		return Date{}, fmt.Errorf("year %d is outside 0001 to 9999", y)
	}
	if m < time.January || m > time.December {
		return Date{}, fmt.Errorf("month %d does not exist", int(m))
	}
	if n := daysIn(y, m); d < 1 || d > n {
		return Date{}, fmt.Errorf("%s %04d has days 1 to %d, not %d", m, y, n, d)
	}
	return Date{y, m, d}, nil
}

// DateIn is the date t falls on in loc, e.g. today in Europe/Oslo. The
// caller loads the location, so that this package needs no zone database.
func DateIn(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// ParseDate reads exactly "YYYY-MM-DD"; any other layout and any day that
// does not exist (2026-02-30) is an error that says which rule failed.
func ParseDate(s string) (Date, error) { return parseDate(s) }

// parseDate is ParseDate for text in either form, so that a date inside a
// JSON document is read in place.
func parseDate[T string | []byte](s T) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, fmt.Errorf("date must be written YYYY-MM-DD")
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return Date{}, fmt.Errorf("date must be written YYYY-MM-DD with digits only")
	}
	date, err := NewDate(y, time.Month(m), d)
	if err != nil {
		return Date{}, fmt.Errorf("date %s does not exist: %w", s, err)
	}
	return date, nil
}

func digits[T string | []byte](s T) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// daysIn is the number of days of month m (1 to 12) of year y in the
// proleptic Gregorian calendar, as package time counts them; worked out
// here because every decoded date checks it, and time.Date costs most of
// a date's decoding.
func daysIn(y int, m time.Month) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// Year, Month and Day are the date's parts; all zero for the zero Date.
func (d Date) Year() int { return d.year }

// Month is the date's month.
func (d Date) Month() time.Month { return d.month }

// Day is the date's day of the month.
func (d Date) Day() int { return d.day }

// IsZero reports whether d is the zero Date ("no date").
func (d Date) IsZero() bool { return d == Date{} }

// String is "YYYY-MM-DD", or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return string(d.appendTo(make([]byte, 0, len("2006-01-02"))))
}

// appendTo appends "YYYY-MM-DD" to b. Dates are written for every row of
// every answer and stream name; formatting them with fmt cost about 5 %
// of the server's time in the caseworkers' mix.
func (d Date) appendTo(b []byte) []byte {
	y := d.year
	b = append(b, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append(b, byte('0'+int(d.month)/10), byte('0'+int(d.month)%10), '-')
	return append(b, byte('0'+d.day/10), byte('0'+d.day%10))
}

// Compare returns -1, 0 or +1 as d is before, equal to or after e. The zero
// Date is before every other date.
func (d Date) Compare(e Date) int {
	switch {
	case d.year != e.year:
		return cmpInt(d.year, e.year)
	case d.month != e.month:
		return cmpInt(int(d.month), int(e.month))
	default:
		return cmpInt(d.day, e.day)
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Before reports whether d is strictly before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is strictly after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// Equal reports whether d and e are the same day.
func (d Date) Equal(e Date) bool { return d == e }

// AddDays is the date n calendar days later (earlier for negative n). The
// zero Date stays zero, so that a missing date never turns into a real one.
func (d Date) AddDays(n int) Date {
	if d.IsZero() {
		return d
	}
	return DateIn(d.midnightUTC().AddDate(0, 0, n), time.UTC)
}

// DaysSince is the number of calendar days from earlier to d: 0 on the
// same day, negative when earlier is after d. Measures count days this way
// (a job on the day of enrolment is at day 0).
func (d Date) DaysSince(earlier Date) int {
	return int(d.midnightUTC().Sub(earlier.midnightUTC()).Hours() / 24)
}

// UnixDay is the number of days from 1970-01-01 to d, negative before it,
// in integer arithmetic: read models keep dates as day numbers, and
// package time would be most of what building them costs. The zero Date
// counts as 30 November of year -1, as in DaysSince. It is the
// days_from_civil algorithm of Howard Hinnant's "chrono-Compatible
// Low-Level Date Algorithms": eras of 400 years of 146,097 days, with
// years counted from March so that the leap day comes last.
func (d Date) UnixDay() int {
	y, m := d.year, int(d.month)
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400                      // [0, 399]
	doy := (153*((m+9)%12)+2)/5 + d.day - 1 // [0, 365], from 1 March
	doe := yoe*365 + yoe/4 - yoe/100 + doy  // [0, 146096]
	return era*146097 + doe - 719468        // 719,468 days from 0000-03-01 to 1970-01-01
}

// DateOfUnixDay is the inverse of UnixDay (the civil_from_days algorithm
// of the same paper), or an error when day n falls outside the years 0001
// to 9999.
func DateOfUnixDay(n int) (Date, error) {
	z := n + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365]
	mp := (5*doy + 2) / 153                                // [0, 11], from March
	day := doy - (153*mp+2)/5 + 1
	month := mp + 3
	if month > 12 {
		month -= 12
	}
	year := yoe + era*400
	if month <= 2 {
		year++
	}
	// The arithmetic only makes days that exist; the year alone can be out
	// of range.
	if year < 1 || year > 9999 {
		return Date{}, fmt.Errorf("day %d is in year %d, outside 0001 to 9999", n, year)
	}
	return Date{year, time.Month(month), day}, nil
}

// floorDiv is a/b rounded down.
func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// In is the first instant of d in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.year, d.month, d.day, 0, 0, 0, 0, loc)
}

// midnightUTC counts in UTC, where every day has 24 hours.
func (d Date) midnightUTC() time.Time { return d.In(time.UTC) }

func dateType() reflect.Type { return reflect.TypeFor[Date]() }

// MarshalJSON writes "YYYY-MM-DD", or null for the zero Date.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	b := make([]byte, 0, len(`"2006-01-02"`))
	return append(d.appendTo(append(b, '"')), '"'), nil
}

// UnmarshalJSON reads "YYYY-MM-DD" or null (the zero Date). Its errors are
// *json.UnmarshalTypeError so that the decoder adds the field's path, which
// DecodeCommand turns into a JSON pointer.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	if len(b) == 12 && b[0] == '"' && b[11] == '"' {
		// Every date the product writes: read in place, without a second
		// pass of a decoder over it, which would be most of what a date
		// costs to decode. Anything amiss (an escape, say) takes the way
		// below, which says what.
		if parsed, err := parseDate(b[1:11]); err == nil {
			*d = parsed
			return nil
		}
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &json.UnmarshalTypeError{Value: "non-string (date must be written YYYY-MM-DD)", Type: dateType()}
	}
	parsed, err := ParseDate(s)
	if err != nil {
		return &json.UnmarshalTypeError{Value: "string (" + err.Error() + ")", Type: dateType()}
	}
	*d = parsed
	return nil
}

// UnmarshalJSONFrom is UnmarshalJSON for decoders of JSON v2
// (github.com/go-json-experiment/json), which read models use: it takes
// the value straight from the token stream.
func (d *Date) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	return d.UnmarshalJSON(v)
}

// MarshalText writes "YYYY-MM-DD" ("" for the zero Date).
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads "YYYY-MM-DD" strictly; "" is the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	parsed, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}
