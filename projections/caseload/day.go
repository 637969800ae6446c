package caseload

import (
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

// UnmarshalJSONFrom reads a date as domain.Date does, straight from the
// token.
func (d *day) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	var date domain.Date
	if err := date.UnmarshalJSONFrom(dec); err != nil {
		return err
	}
	*d = dayOf(date)
	return nil
}
