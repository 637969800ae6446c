package audit

import (
	"strconv"
	"time"

	"github.com/caseledger/caseledger/domain"
)

// KnownAt is a point of the log: what had been recorded by a global log
// position, or by a time. Its zero value is "now": everything recorded.
type KnownAt struct {
	// Position, when not 0, keeps the events at or before it.
	Position uint64
	// Time, when not zero, keeps the events recorded at or before it.
	Time time.Time
}

// maxPositionDigits is the length of the largest uint64 in decimal.
const maxPositionDigits = 20

// ParseKnownAt reads a point of the log: a global log position as a
// decimal integer ("18342"), or an RFC 3339 time in UTC
// ("2026-05-15T10:00:00Z"). "" is now. Errors are *ParamError naming
// ParamKnownAt.
func ParseKnownAt(s string) (KnownAt, error) {
	switch {
	case s == "":
		return KnownAt{}, nil
	case isDigits(s):
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || len(s) > maxPositionDigits || n == 0 {
			return KnownAt{}, paramError(ParamKnownAt, "out_of_range", "a log position is a whole number from 1 to 18446744073709551615")
		}
		return KnownAt{Position: n}, nil
	}
	t, err := parseUTC(ParamKnownAt, s)
	if err != nil {
		return KnownAt{}, paramError(ParamKnownAt, "format", "a log position (a whole number) or an RFC 3339 time in UTC, such as 2026-05-15T10:00:00Z")
	}
	return KnownAt{Time: t}, nil
}

// IsZero reports whether k is now.
func (k KnownAt) IsZero() bool { return k.Position == 0 && k.Time.IsZero() }

// String is k as ParseKnownAt reads it, "" for now.
func (k KnownAt) String() string {
	switch {
	case k.Position != 0:
		return strconv.FormatUint(k.Position, 10)
	case !k.Time.IsZero():
		return k.Time.UTC().Format(time.RFC3339Nano)
	}
	return ""
}

// Includes reports whether r had been recorded at k.
func (k KnownAt) Includes(r domain.Recorded) bool {
	switch {
	case k.Position != 0:
		return r.Position <= k.Position
	case !k.Time.IsZero():
		return !r.Meta.RecordedAt.After(k.Time)
	}
	return true
}

// Of returns the events of h that had been recorded at k, in order; h
// itself is not changed.
func (k KnownAt) Of(h []domain.Recorded) []domain.Recorded {
	if k.IsZero() {
		return h
	}
	out := make([]domain.Recorded, 0, len(h))
	for _, r := range h {
		if k.Includes(r) {
			out = append(out, r)
		}
	}
	return out
}
