package audit

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/caseledger/caseledger/domain"
)

// DefaultCaseworkPurpose is the purpose recorded for caseworkers and team
// leads who state none: they look at their own office's participants to do
// their work.
const DefaultCaseworkPurpose = "casework"

// Errors of CleanPurpose.
var (
	ErrPurposeRequired = errors.New("a purpose is required")
	ErrPurposeTooLong  = fmt.Errorf("a purpose is at most %d characters", domain.MaxPurposeLen)
)

// CleanPurpose makes a stated purpose fit to record: invalid UTF-8 is
// replaced, control characters become spaces, invisible formatting
// characters (bidirectional overrides, zero-width spaces) are dropped, and
// runs of white space become one space. It refuses a purpose that is then
// empty (ErrPurposeRequired) or longer than domain.MaxPurposeLen characters
// (ErrPurposeTooLong), rather than record a purpose cut short.
func CleanPurpose(s string) (string, error) {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r):
			return ' '
		case unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	s = strings.Join(strings.Fields(s), " ")
	switch {
	case s == "":
		return "", ErrPurposeRequired
	case utf8.RuneCountInString(s) > domain.MaxPurposeLen:
		return "", ErrPurposeTooLong
	}
	return s, nil
}
