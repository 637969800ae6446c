package caseload

import (
	"errors"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/caseledger/caseledger/domain"
)

// day is a business date as the number of days since 1970-01-01, so that
// rows stay small and date arithmetic is a subtraction; 0 is "no date"
// (no business date of this product falls on 1970-01-01).
type day int32

func dayOf(d domain.Date) day {
	if d.IsZero() {
		return 0
	}
	return day(d.UnixDay())
}

func (d day) date() domain.Date {
	if d == 0 {
		return domain.Date{}
	}
	out, err := domain.DateOfUnixDay(int(d))
	if err != nil {
		// Every day a row holds is dayOf a Date, which is in range.
		return domain.Date{}
	}
	return out
}

var errBadDate = errors.New("date must be written YYYY-MM-DD")

// UnmarshalJSONFrom reads "YYYY-MM-DD" or null straight from the token,
// without a second pass of the decoder over it.
func (d *day) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	return d.UnmarshalJSON(v)
}

// UnmarshalJSON reads "YYYY-MM-DD" or null.
func (d *day) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = 0
		return nil
	}
	if len(b) != 12 || b[0] != '"' || b[11] != '"' || b[5] != '-' || b[8] != '-' {
		return errBadDate
	}
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(b[1:5])
	m, ok2 := num(b[6:8])
	dd, ok3 := num(b[9:11])
	if !ok1 || !ok2 || !ok3 {
		return errBadDate
	}
	date, err := domain.NewDate(y, time.Month(m), dd)
	if err != nil {
		return err
	}
	*d = dayOf(date)
	return nil
}
