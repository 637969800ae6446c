package domain

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Bounds on what one event may hold, so that nothing unbounded is stored.
const (
	MaxNameLen       = 200    // a person's or an organisation's name, a title
	MaxTitleLen      = 500    // a goal title
	MaxIDLen         = 100    // user ids, office ids, language tags
	MaxNoteLen       = 10_000 // notes and minutes
	MaxAddressLen    = 500
	MaxAttendees     = 50
	MaxTargets       = 20
	MaxSlugLen       = 64
	MaxChildren      = 20
	MaxYearsInNorway = 120
)

// validator keeps the first failure, so that a command is reported by the
// earliest field in document order and checks read as a flat list.
type validator struct {
	err *InvalidError
}

func (v *validator) fail(pointer, code, msg string) {
	if v.err == nil {
		v.err = invalid(pointer, code, msg)
	}
}

func (v *validator) failWith(pointer string, err *InvalidError) {
	if err != nil && v.err == nil {
		v.err = &InvalidError{Pointer: pointer + err.Pointer, Code: err.Code, Message: err.Message}
	}
}

// result avoids returning a typed nil inside a non-nil error interface.
func (v *validator) result() error {
	if v.err == nil {
		return nil
	}
	return v.err
}

// date checks a required business date: present and not after today.
func (v *validator) date(pointer string, d, today Date) {
	switch {
	case d.IsZero():
		v.fail(pointer, CodeRequired, "a date is required")
	case d.After(today):
		v.fail(pointer, CodeFutureDate, "must not be after today")
	}
}

// notBefore checks an optional date that may lie in the future (a target
// date, the next meeting) but not before the date it follows.
func (v *validator) notBefore(pointer string, d, from Date, what string) {
	if !d.IsZero() && d.Before(from) {
		v.fail(pointer, CodeDateOrder, "must not be before "+what)
	}
}

// line checks single-line text: no control characters, at most max
// characters, and not blank when required.
func (v *validator) line(pointer, s string, max int, required bool) {
	v.text(pointer, s, max, required)
	for _, r := range s {
		if unicode.IsControl(r) {
			v.fail(pointer, CodeFormat, "must be a single line without control characters")
			return
		}
	}
}

// text checks free text, where line breaks and tabs are fine.
func (v *validator) text(pointer, s string, max int, required bool) {
	switch {
	case required && strings.TrimSpace(s) == "":
		v.fail(pointer, CodeRequired, "is required")
	case !utf8.ValidString(s):
		v.fail(pointer, CodeFormat, "must be valid UTF-8")
	case utf8.RuneCountInString(s) > max:
		v.fail(pointer, CodeTooLong, "must be at most "+strconv.Itoa(max)+" characters")
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			v.fail(pointer, CodeFormat, "must not contain control characters")
			return
		}
	}
}

// enum checks a required enumerated field.
func (v *validator) enum(pointer string, empty, valid bool) {
	switch {
	case empty:
		v.fail(pointer, CodeRequired, "is required")
	case !valid:
		v.fail(pointer, CodeNotAllowed, "is not one of the listed values")
	}
}

// optEnum checks an optional enumerated field.
func (v *validator) optEnum(pointer string, empty, valid bool) {
	if !empty && !valid {
		v.fail(pointer, CodeNotAllowed, "is not one of the listed values")
	}
}

func (v *validator) between(pointer string, n, lo, hi int) {
	if n < lo || n > hi {
		v.fail(pointer, CodeOutOfRange, "must be from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
	}
}

func (v *validator) id(pointer string, id uuid.UUID) {
	if id == uuid.Nil {
		v.fail(pointer, CodeRequired, "an id is required")
	}
}

func (v *validator) slug(pointer, s string) {
	if s == "" {
		v.fail(pointer, CodeRequired, "is required")
		return
	}
	if !ValidSlug(s) {
		v.fail(pointer, CodeFormat, "must be 1 to 64 of a-z, 0-9 and '-', not starting or ending with '-'")
	}
}

// phone accepts what people write for a phone number: digits with an
// optional leading '+', spaces and dashes, 5 to 15 digits (E.164's limit).
func (v *validator) phone(pointer, s string) {
	if s == "" {
		return
	}
	n := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			n++
		case r == '+' && i == 0, r == ' ', r == '-':
		default:
			v.fail(pointer, CodeFormat, "must be digits with an optional leading '+', spaces or dashes")
			return
		}
	}
	if n < 5 || n > 15 || len(s) > 30 {
		v.fail(pointer, CodeFormat, "must have 5 to 15 digits")
	}
}

// email checks only the shape local@domain: mail that bounces is found by
// sending, not by a pattern.
func (v *validator) email(pointer, s string) {
	if s == "" {
		return
	}
	at := strings.LastIndexByte(s, '@')
	if len(s) > 254 || at < 1 || at == len(s)-1 || strings.ContainsAny(s, " \t\r\n") || !strings.Contains(s[at+1:], ".") {
		v.fail(pointer, CodeFormat, "must have the form local-part@domain")
	}
}

// language accepts a BCP 47-like tag ("ti", "ar", "prs", "nb-NO"), so that
// interpreter bookings can use it.
func (v *validator) language(pointer, s string) {
	if s == "" {
		return
	}
	ok := len(s) <= 35
	for i, part := range strings.Split(s, "-") {
		if part == "" || len(part) > 8 || (i == 0 && (len(part) < 2 || len(part) > 3)) {
			ok = false
		}
		for _, r := range part {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				ok = false
			}
		}
	}
	if !ok {
		v.fail(pointer, CodeFormat, "must be a language tag such as \"ar\", \"ti\" or \"nb-NO\"")
	}
}

// ValidSlug reports whether s can name a programme: 1 to 64 characters of
// a-z, 0-9 and '-', not starting or ending with '-'.
func ValidSlug(s string) bool {
	if s == "" || len(s) > MaxSlugLen || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
