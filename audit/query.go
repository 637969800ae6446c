package audit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
)

// Bounds of a query.
const (
	// MaxSpanDays bounds the period one query reads: one day stream per
	// day, so a query never reads more than a year of streams.
	MaxSpanDays = 366
	// DefaultSpanDays is the period read when the query gives no from.
	DefaultSpanDays = 31
	// DefaultLimit and MaxLimit bound the records one answer holds.
	DefaultLimit = 1000
	MaxLimit     = 10_000
)

// Names of the query parameters, as the HTTP query string and the
// command's flags spell them.
const (
	ParamParticipant = "participant"
	ParamUser        = "user"
	ParamFrom        = "from"
	ParamTo          = "to"
	ParamLimit       = "limit"
	ParamKnownAt     = "known_at"
)

// QueryParams lists the parameters ParseQuery reads.
func QueryParams() []string {
	return []string{ParamParticipant, ParamUser, ParamFrom, ParamTo, ParamLimit}
}

// ParamError says what is wrong with one parameter of a query. Its Detail
// never repeats the value.
type ParamError struct {
	Name   string // e.g. "from"
	Code   string // machine-readable, snake_case
	Detail string
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("parameter %s: %s (%s)", e.Name, e.Detail, e.Code)
}

func paramError(name, code, detail string) *ParamError {
	return &ParamError{Name: name, Code: code, Detail: detail}
}

// Query selects access records. Every criterion given must hold.
type Query struct {
	Participant uuid.UUID // uuid.Nil: any
	User        string    // the reader's user id; "": any
	// From and To bound the time of recording, both inclusive; zero is
	// open. Without From, the DefaultSpanDays before To (or today) are
	// read.
	From, To time.Time
	Limit    int // 1 to MaxLimit; 0 means DefaultLimit
}

// ParseQuery reads a query from its parameters as text; get returns "" for
// an absent one. today is the current business date, which bounds a period
// that has no end. Errors are *ParamError.
func ParseQuery(get func(name string) string, today domain.Date) (Query, error) {
	var q Query
	if s := get(ParamParticipant); s != "" {
		id, err := uuid.Parse(s)
		if err != nil || id == uuid.Nil || id.String() != s {
			return Query{}, paramError(ParamParticipant, "format", "a participant id: a UUID in lower-case canonical form")
		}
		q.Participant = id
	}
	if s := get(ParamUser); s != "" {
		if !validUserID(s) {
			return Query{}, paramError(ParamUser, "format", fmt.Sprintf("a user id: 1 to %d bytes of printable UTF-8", domain.MaxIDLen))
		}
		q.User = s
	}
	var err error
	if q.From, err = parseUTC(ParamFrom, get(ParamFrom)); err != nil {
		return Query{}, err
	}
	if q.To, err = parseUTC(ParamTo, get(ParamTo)); err != nil {
		return Query{}, err
	}
	if s := get(ParamLimit); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || !isDigits(s) || n < 1 || n > MaxLimit {
			return Query{}, paramError(ParamLimit, "out_of_range", fmt.Sprintf("a whole number from 1 to %d", MaxLimit))
		}
		q.Limit = n
	}
	if err := q.checkPeriod(today); err != nil {
		return Query{}, err
	}
	return q, nil
}

// checkPeriod refuses a period that ends before it starts or is longer
// than MaxSpanDays.
func (q Query) checkPeriod(today domain.Date) error {
	switch {
	case !q.From.IsZero() && !q.To.IsZero() && q.From.After(q.To):
		return paramError(ParamFrom, "date_order", "must not be after to")
	case !q.From.IsZero() && !q.To.IsZero() && q.To.Sub(q.From) > MaxSpanDays*24*time.Hour:
		return paramError(ParamFrom, "out_of_range", fmt.Sprintf("must be at most %d days before to", MaxSpanDays))
	case !q.From.IsZero() && q.To.IsZero() && today.DaysSince(utcDate(q.From)) > MaxSpanDays:
		return paramError(ParamFrom, "out_of_range", fmt.Sprintf("must be at most %d days ago when to is not given", MaxSpanDays))
	}
	return nil
}

// parseUTC reads an optional RFC 3339 time in UTC.
func parseUTC(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, paramError(name, "format", "an RFC 3339 time in UTC, such as 2026-05-15T10:00:00Z")
	}
	if _, offset := t.Zone(); offset != 0 {
		return time.Time{}, paramError(name, "format", "must be in UTC (end in Z)")
	}
	return t.UTC(), nil
}

func validUserID(s string) bool {
	if len(s) > domain.MaxIDLen || !utf8.ValidString(s) || strings.TrimSpace(s) == "" {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0
}

func isDigits(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) < 0
}

// Record is an access record as queries return it: the event's payload
// with who, when and where in the log from its metadata.
type Record struct {
	EventID uuid.UUID `json:"event_id"`
	// Position is where the record is in the log; 0 while it is Held.
	Position uint64 `json:"position"`
	// Held says the record is in the spill journal, not yet in the log:
	// the store refused writes when it was made (see Spill).
	Held          bool      `json:"held,omitempty"`
	RecordedAt    time.Time `json:"recorded_at"`
	UserID        string    `json:"user_id"`
	Role          string    `json:"role"`
	Office        string    `json:"office,omitempty"`
	CorrelationID uuid.UUID `json:"correlation_id"`

	ParticipantID uuid.UUID `json:"participant_id,omitzero"`
	// Participants are those a caseload page showed by name.
	Participants []uuid.UUID           `json:"participants,omitempty"`
	View         domain.AccessView     `json:"view"`
	PersonalData bool                  `json:"personal_data"`
	Purpose      string                `json:"purpose,omitempty"`
	Decision     domain.AccessDecision `json:"decision"`
	Reason       domain.DenyReason     `json:"reason,omitempty"`
	Via          string                `json:"via"`
	KnownAt      string                `json:"known_at,omitempty"`
	SubjectUser  string                `json:"subject_user,omitempty"`
	Cohort       string                `json:"cohort,omitempty"`
	Rows         *int                  `json:"rows,omitempty"`
}

func recordOf(r domain.Recorded, e domain.AccessRecorded) Record {
	return newRecord(r.ID, r.Meta.RecordedAt, r.Meta.Actor, r.Meta.CorrelationID, e, r.Position)
}

// record is a held record as queries return it: without a position, and
// marked held.
func (r heldRecord) record() Record {
	rec := newRecord(r.EventID, r.At, r.Actor, r.CorrelationID, r.Access, 0)
	rec.Held = true
	return rec
}

func newRecord(id uuid.UUID, at time.Time, actor domain.Actor, correlationID uuid.UUID, e domain.AccessRecorded, position uint64) Record {
	return Record{
		EventID: id, Position: position, RecordedAt: at,
		UserID: actor.UserID, Role: actor.Role, Office: actor.Office,
		CorrelationID: correlationID,
		ParticipantID: e.ParticipantID, Participants: e.Participants, View: e.View, PersonalData: e.PersonalData, Purpose: e.Purpose,
		Decision: e.Decision, Reason: e.Reason, Via: e.Via, KnownAt: e.KnownAt, SubjectUser: e.SubjectUser,
		Cohort: e.Cohort, Rows: e.Rows,
	}
}

// Page is the answer to a query: the matching records in log order, up to
// the limit.
type Page struct {
	Records []Record `json:"records"`
	// Truncated says that more records matched than the limit allowed;
	// narrow the period to see the rest.
	Truncated bool `json:"truncated"`
}

// Query returns the access records that match q, in log order. It reads
// the day streams of the period (a day more on either side, since a
// record's day is a business date and the period is in UTC) and keeps the
// records recorded within it.
func (l *Log) Query(ctx context.Context, q Query) (Page, error) {
	if q.Limit <= 0 {
		q.Limit = DefaultLimit
	}
	today := l.svc.Today()
	if err := q.checkPeriod(today); err != nil {
		return Page{}, fmt.Errorf("query the access log: %w", err)
	}
	first, last := q.days(today)
	page := Page{Records: []Record{}}
	// Held records are read before the log: one that moves meanwhile is
	// then found in the log, rather than in neither.
	var held []heldBatch
	if l.spill != nil {
		held = l.spill.held()
	}
	for day := first; !day.After(last); day = day.AddDays(1) {
		h, _, err := l.svc.Load(ctx, domain.AccessLogStream(day))
		if errors.Is(err, casework.ErrNotFound) {
			continue
		}
		if err != nil {
			return Page{}, fmt.Errorf("query the access log of %s: %w", day, err)
		}
		for _, r := range h {
			if e, ok := r.Event.(domain.AccessRecorded); ok {
				if rec := recordOf(r, e); q.matches(rec) {
					page.Records = append(page.Records, rec)
				}
			}
		}
	}
	slices.SortFunc(page.Records, func(a, b Record) int { return cmp.Compare(a.Position, b.Position) })
	// Records held in the spill journal come after every record of the
	// log: they are appended before any later look's. A move that stored
	// some of them and then failed leaves those in the journal too; the
	// log's copy is the one shown.
	if len(held) > 0 {
		logged := make(map[uuid.UUID]bool, len(page.Records))
		for _, r := range page.Records {
			logged[r.EventID] = true
		}
		for _, b := range held {
			for _, r := range b.Records {
				if rec := r.record(); !logged[r.EventID] && q.matches(rec) {
					page.Records = append(page.Records, rec)
				}
			}
		}
	}
	if len(page.Records) > q.Limit {
		page.Records, page.Truncated = page.Records[:q.Limit], true
	}
	return page, nil
}

// days is the range of day streams that can hold records of the period.
func (q Query) days(today domain.Date) (first, last domain.Date) {
	last = today
	if !q.To.IsZero() {
		last = utcDate(q.To).AddDays(1)
	}
	if !q.From.IsZero() {
		first = utcDate(q.From).AddDays(-1)
	} else {
		first = last.AddDays(-DefaultSpanDays - 1)
	}
	return first, last
}

func (q Query) matches(r Record) bool {
	switch {
	case q.Participant != uuid.Nil && r.ParticipantID != q.Participant && !slices.Contains(r.Participants, q.Participant):
		return false
	case q.User != "" && r.UserID != q.User:
		return false
	case !q.From.IsZero() && r.RecordedAt.Before(q.From):
		return false
	case !q.To.IsZero() && r.RecordedAt.After(q.To):
		return false
	}
	return true
}

func utcDate(t time.Time) domain.Date { return domain.DateIn(t, time.UTC) }
