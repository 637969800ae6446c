package audit_test

import (
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/domain"
)

// FuzzParseKnownAt: whatever a client sends as known_at, the parser
// answers a point of the log or a *ParamError naming known_at; a point it
// accepts is a position from 1 or a time in UTC, and reads back as itself
// from its String.
func FuzzParseKnownAt(f *testing.F) {
	for _, s := range []string{"", "1", "007", "18446744073709551615", "18446744073709551616", "0", "-1", "+5", "1.5", "1e3",
		"2026-05-15T10:00:00Z", "2026-05-15T10:00:00.123456789Z", "2026-05-15T10:00:00+00:00", "2026-05-15T12:00:00+02:00",
		"2026-05-15", "2026-02-30T10:00:00Z", "2026-05-15T24:00:00Z", "yesterday", " 1", "1 ", "\x00", "٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := audit.ParseKnownAt(s)
		if err != nil {
			var pe *audit.ParamError
			if !errors.As(err, &pe) || pe.Name != audit.ParamKnownAt || pe.Code == "" || pe.Detail == "" {
				t.Fatalf("ParseKnownAt(%q): %v, want a ParamError naming %s", s, err, audit.ParamKnownAt)
			}
			return
		}
		if s == "" {
			if !k.IsZero() {
				t.Fatalf(`ParseKnownAt("") = %+v, want now`, k)
			}
			return
		}
		switch {
		case k.IsZero():
			t.Fatalf("ParseKnownAt(%q) is now", s)
		case k.Position != 0 && !k.Time.IsZero():
			t.Fatalf("ParseKnownAt(%q) = %+v: both a position and a time", s, k)
		case !k.Time.IsZero() && k.Time.Location() != time.UTC:
			t.Fatalf("ParseKnownAt(%q) = %v, not in UTC", s, k.Time)
		}
		again, err := audit.ParseKnownAt(k.String())
		if err != nil || again.Position != k.Position || !again.Time.Equal(k.Time) {
			t.Fatalf("ParseKnownAt(%q) = %+v, whose String %q reads back as %+v, %v", s, k, k.String(), again, err)
		}
	})
}

// FuzzParseQuery: the access log's query parameters give a query whose
// criteria hold the parser's bounds, and which reads back as itself from
// its own parameters; or a *ParamError naming one of them.
func FuzzParseQuery(f *testing.F) {
	f.Add("", "", "", "", "")
	f.Add("0b6f5f0e-8c1d-4e0a-b7a4-5d2f9e3c6a81", "u-kari", "2026-05-01T00:00:00Z", "2026-05-15T10:00:00Z", "100")
	f.Add("0B6F5F0E-8C1D-4E0A-B7A4-5D2F9E3C6A81", "", "", "", "")
	f.Add("00000000-0000-0000-0000-000000000000", "", "", "", "")
	f.Add("urn:uuid:0b6f5f0e-8c1d-4e0a-b7a4-5d2f9e3c6a81", "\x00", "", "", "0")
	f.Add("", " ", "2026-05-15T10:00:00+02:00", "", "10001")
	f.Add("", "ø", "2026-05-15T10:00:00Z", "2026-05-14T10:00:00Z", "+1")
	f.Add("", "", "2024-01-01T00:00:00Z", "", "1")
	f.Add("", "", "2025-01-01T00:00:00Z", "2026-05-15T00:00:00.999999999Z", "10000")
	today, err := domain.ParseDate("2026-05-15")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, participant, user, from, to, limit string) {
		params := map[string]string{audit.ParamParticipant: participant, audit.ParamUser: user,
			audit.ParamFrom: from, audit.ParamTo: to, audit.ParamLimit: limit}
		q, err := audit.ParseQuery(func(name string) string { return params[name] }, today)
		if err != nil {
			var pe *audit.ParamError
			if !errors.As(err, &pe) || !slices.Contains(audit.QueryParams(), pe.Name) || pe.Code == "" || pe.Detail == "" {
				t.Fatalf("ParseQuery(%q): %v, want a ParamError naming a parameter", params, err)
			}
			return
		}
		switch {
		case q.Participant == uuid.Nil && participant != "":
			t.Fatalf("participant %q accepted as none", participant)
		case q.User != "" && (len(q.User) > domain.MaxIDLen || !utf8.ValidString(q.User)):
			t.Fatalf("user %q accepted", q.User)
		case q.Limit < 0 || q.Limit > audit.MaxLimit:
			t.Fatalf("limit %d accepted", q.Limit)
		case !q.From.IsZero() && q.From.Location() != time.UTC, !q.To.IsZero() && q.To.Location() != time.UTC:
			t.Fatalf("times %v, %v not in UTC", q.From, q.To)
		case !q.From.IsZero() && !q.To.IsZero() && q.From.After(q.To):
			t.Fatalf("from %v after to %v accepted", q.From, q.To)
		}
		again := map[string]string{audit.ParamUser: q.User}
		if q.Participant != uuid.Nil {
			again[audit.ParamParticipant] = q.Participant.String()
		}
		if !q.From.IsZero() {
			again[audit.ParamFrom] = q.From.Format(time.RFC3339Nano)
		}
		if !q.To.IsZero() {
			again[audit.ParamTo] = q.To.Format(time.RFC3339Nano)
		}
		if q.Limit != 0 {
			again[audit.ParamLimit] = strconv.Itoa(q.Limit)
		}
		q2, err := audit.ParseQuery(func(name string) string { return again[name] }, today)
		if err != nil || q2.Participant != q.Participant || q2.User != q.User || !q2.From.Equal(q.From) || !q2.To.Equal(q.To) || q2.Limit != q.Limit {
			t.Fatalf("ParseQuery(%q) = %+v, which reads back from %q as %+v, %v", params, q, again, q2, err)
		}
	})
}

// FuzzCleanPurpose: a purpose the cleaner accepts is one the domain
// records, and cleaning it again changes nothing.
func FuzzCleanPurpose(f *testing.F) {
	for _, s := range []string{"quality review", "  padded  ", "tab\tand\nnewline\r\n", "nul\x00bell\x07", "bidi \u202eoverride\u202c",
		"zero\u200bwidth", "bad \xff byte", "ÆØÅ æøå", "", " \t\n ", "\u200b\u2060", "\ufeffbom"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := audit.CleanPurpose(s)
		if err != nil {
			if !errors.Is(err, audit.ErrPurposeRequired) && !errors.Is(err, audit.ErrPurposeTooLong) {
				t.Fatalf("CleanPurpose(%q): %v", s, err)
			}
			return
		}
		rec := domain.AccessRecorded{View: domain.ViewAccessLog, Decision: domain.AccessPermitted, Via: "x", Purpose: got}
		if err := rec.Validate(); err != nil {
			t.Fatalf("CleanPurpose(%q) = %q, which the domain refuses: %v", s, got, err)
		}
		if again, err := audit.CleanPurpose(got); err != nil || again != got {
			t.Fatalf("CleanPurpose(%q) = %q, cleaned again %q, %v", s, got, again, err)
		}
	})
}
