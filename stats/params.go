package stats

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/domain"
)

// Parameters of a report, as the API's query and the command's flags name
// them.
const (
	ParamProgramme     = "programme"
	ParamOffice        = "office"
	ParamEnrolledFrom  = "enrolled_from"
	ParamEnrolledTo    = "enrolled_to"
	ParamGender        = "gender"
	ParamRegionOfBirth = "region_of_birth"
	ParamIncomeSource  = "income_source"
	ParamAsOf          = "as_of"
	ParamKnownAt       = "known_at"
	ParamK             = "k"
	ParamFormat        = "format"
)

// Params lists every parameter, format included.
func Params() []string {
	return []string{ParamProgramme, ParamOffice, ParamEnrolledFrom, ParamEnrolledTo, ParamGender,
		ParamRegionOfBirth, ParamIncomeSource, ParamAsOf, ParamKnownAt, ParamK, ParamFormat}
}

// maxK bounds the disclosure threshold.
const maxK = 1000

// ParamError names the parameter that is not acceptable; its message never
// quotes the value.
type ParamError struct {
	Param, Code, Detail string
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("parameter %s: %s", e.Param, e.Detail)
}

// ParseRequest reads a request from parameter values (get returns "" for
// a parameter not given); as_of defaults to today. Errors are *ParamError.
func ParseRequest(get func(string) string, today domain.Date) (Request, error) {
	var req Request
	c := &req.Cohort
	if v := get(ParamProgramme); v != "" {
		if !domain.ValidSlug(v) {
			return Request{}, &ParamError{ParamProgramme, "format", "a programme slug"}
		}
		c.Programme = v
	}
	if v := get(ParamOffice); v != "" {
		if len(v) > domain.MaxIDLen || strings.TrimSpace(v) != v {
			return Request{}, &ParamError{ParamOffice, "format", fmt.Sprintf("an office id of at most %d bytes", domain.MaxIDLen)}
		}
		c.Office = v
	}
	var err error
	if c.EnrolledFrom, err = dateParam(get, ParamEnrolledFrom); err != nil {
		return Request{}, err
	}
	if c.EnrolledTo, err = dateParam(get, ParamEnrolledTo); err != nil {
		return Request{}, err
	}
	if !c.EnrolledFrom.IsZero() && !c.EnrolledTo.IsZero() && c.EnrolledTo.Before(c.EnrolledFrom) {
		return Request{}, &ParamError{ParamEnrolledTo, "out_of_range", "not before enrolled_from"}
	}
	if v := get(ParamGender); v != "" {
		if c.Gender = domain.Gender(v); !c.Gender.Valid() {
			return Request{}, &ParamError{ParamGender, "enum", "one of the listed genders"}
		}
	}
	if v := get(ParamRegionOfBirth); v != "" {
		if c.RegionOfBirth = domain.RegionOfBirth(v); !c.RegionOfBirth.Valid() {
			return Request{}, &ParamError{ParamRegionOfBirth, "enum", "one of the listed regions of birth"}
		}
	}
	if v := get(ParamIncomeSource); v != "" {
		if c.IncomeSource = domain.IncomeSource(v); !c.IncomeSource.Valid() {
			return Request{}, &ParamError{ParamIncomeSource, "enum", "one of the listed income sources"}
		}
	}
	if req.AsOf, err = dateParam(get, ParamAsOf); err != nil {
		return Request{}, err
	}
	if req.AsOf.IsZero() {
		req.AsOf = today
	}
	if req.KnownAt, err = audit.ParseKnownAt(get(ParamKnownAt)); err != nil {
		return Request{}, &ParamError{ParamKnownAt, "format", "a log position (a whole number from 1) or an RFC 3339 time in UTC"}
	}
	req.K = DefaultK
	if v := get(ParamK); v != "" {
		// A caller may ask for more caution, never for less: below the
		// default, small cells would be shown to whoever asks.
		n, err := strconv.Atoi(v)
		if err != nil || n < DefaultK || n > maxK {
			return Request{}, &ParamError{ParamK, "out_of_range", fmt.Sprintf("a whole number from %d to %d", DefaultK, maxK)}
		}
		req.K = n
	}
	if v := get(ParamFormat); v != "" && v != "json" && v != "csv" && v != "html" {
		return Request{}, &ParamError{ParamFormat, "enum", "json, csv or html"}
	}
	return req, nil
}

// scopeQuery is c's programme, office and enrolment range as query
// parameters, those c leaves open left out.
func scopeQuery(c Cohort) url.Values {
	q := url.Values{}
	setParam(q, ParamProgramme, c.Programme)
	setParam(q, ParamOffice, c.Office)
	setParam(q, ParamEnrolledFrom, c.EnrolledFrom.String()) // "" for no date
	setParam(q, ParamEnrolledTo, c.EnrolledTo.String())
	return q
}

// setParam sets parameter name to v in q, unless v is empty.
func setParam(q url.Values, name, v string) {
	if v != "" {
		q.Set(name, v)
	}
}

func dateParam(get func(string) string, name string) (domain.Date, error) {
	v := get(name)
	if v == "" {
		return domain.Date{}, nil
	}
	d, err := domain.ParseDate(v)
	if err != nil {
		return domain.Date{}, &ParamError{name, "format", "a date, YYYY-MM-DD"}
	}
	return d, nil
}

// Encode is the report's body in format ("json", the default, "csv" or
// "html") and its content type.
func Encode(r Report, format string) ([]byte, string, error) {
	switch format {
	case "csv":
		b, err := EncodeCSV(r)
		return b, "text/csv; charset=utf-8", err
	case "html":
		b, err := EncodeHTML(r)
		return b, ContentTypeHTML, err
	}
	b, err := EncodeJSON(r)
	return b, "application/json", err
}
