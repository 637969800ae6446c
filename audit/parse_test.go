package audit_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/domain"
)

func TestCleanPurpose(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		err      error
	}{
		{"quality review", "quality review", nil},
		{"  padded  ", "padded", nil},
		{"tab\tand\nnewline\r\n", "tab and newline", nil},
		{"nul\x00bell\x07", "nul bell", nil},
		{"bidi \u202eoverride\u202c", "bidi override", nil},
		{"zero\u200bwidth", "zerowidth", nil},
		{"bad \xff byte", "bad \uFFFD byte", nil},
		{"ÆØÅ æøå", "ÆØÅ æøå", nil},
		{strings.Repeat("ø", domain.MaxPurposeLen), strings.Repeat("ø", domain.MaxPurposeLen), nil},
		{strings.Repeat("ø", domain.MaxPurposeLen+1), "", audit.ErrPurposeTooLong},
		{strings.Repeat("a ", domain.MaxPurposeLen), "", audit.ErrPurposeTooLong},
		{"", "", audit.ErrPurposeRequired},
		{" \t\n ", "", audit.ErrPurposeRequired},
		{"\u200b\u2060", "", audit.ErrPurposeRequired},
	} {
		got, err := audit.CleanPurpose(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("CleanPurpose(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
		if err == nil {
			if verr := (domain.AccessRecorded{View: domain.ViewAccessLog, Decision: domain.AccessPermitted, Via: "x", Purpose: got}).Validate(); verr != nil {
				t.Errorf("CleanPurpose(%q) = %q, which the domain refuses: %v", tt.in, got, verr)
			}
		}
	}
}

func TestParseKnownAt(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want audit.KnownAt
		ok   bool
	}{
		{"", audit.KnownAt{}, true},
		{"1", audit.KnownAt{Position: 1}, true},
		{"18342", audit.KnownAt{Position: 18342}, true},
		{"007", audit.KnownAt{Position: 7}, true},
		{"18446744073709551615", audit.KnownAt{Position: 1<<64 - 1}, true},
		{"2026-05-15T10:00:00Z", audit.KnownAt{Time: time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC)}, true},
		{"2026-05-15T10:00:00.5Z", audit.KnownAt{Time: time.Date(2026, 5, 15, 10, 0, 0, 5e8, time.UTC)}, true},
		{"2026-05-15T10:00:00+00:00", audit.KnownAt{Time: time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC)}, true},
		{"0", audit.KnownAt{}, false},
		{"18446744073709551616", audit.KnownAt{}, false},
		{"-3", audit.KnownAt{}, false},
		{"+3", audit.KnownAt{}, false},
		{" 3", audit.KnownAt{}, false},
		{"3.0", audit.KnownAt{}, false},
		{"0x10", audit.KnownAt{}, false},
		{"2026-05-15", audit.KnownAt{}, false},
		{"2026-05-15T10:00:00", audit.KnownAt{}, false},
		{"2026-05-15T12:00:00+02:00", audit.KnownAt{}, false},
		{"2026-02-30T10:00:00Z", audit.KnownAt{}, false},
		{"now", audit.KnownAt{}, false},
	} {
		got, err := audit.ParseKnownAt(tt.in)
		var pe *audit.ParamError
		switch {
		case tt.ok && (err != nil || !got.Time.Equal(tt.want.Time) || got.Position != tt.want.Position):
			t.Errorf("ParseKnownAt(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		case !tt.ok && (!errors.As(err, &pe) || pe.Name != "known_at" || pe.Code == "" || pe.Detail == ""):
			t.Errorf("ParseKnownAt(%q) = %+v, %v; want a ParamError about known_at", tt.in, got, err)
		}
		if tt.ok && got.String() != "" {
			if again, err := audit.ParseKnownAt(got.String()); err != nil || again.Position != got.Position || !again.Time.Equal(got.Time) {
				t.Errorf("ParseKnownAt(%q).String() = %q does not read back: %+v, %v", tt.in, got.String(), again, err)
			}
		}
	}
}

func TestKnownAtIncludes(t *testing.T) {
	t0 := time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC)
	h := []domain.Recorded{
		{Position: 3, Meta: domain.Metadata{RecordedAt: t0}},
		{Position: 7, Meta: domain.Metadata{RecordedAt: t0.Add(time.Second)}},
		{Position: 9, Meta: domain.Metadata{RecordedAt: t0.Add(time.Minute)}},
	}
	for _, tt := range []struct {
		k    audit.KnownAt
		want []uint64
	}{
		{audit.KnownAt{}, []uint64{3, 7, 9}},
		{audit.KnownAt{Position: 2}, nil},
		{audit.KnownAt{Position: 3}, []uint64{3}},
		{audit.KnownAt{Position: 8}, []uint64{3, 7}},
		{audit.KnownAt{Position: 100}, []uint64{3, 7, 9}},
		{audit.KnownAt{Time: t0.Add(-time.Nanosecond)}, nil},
		{audit.KnownAt{Time: t0}, []uint64{3}},
		{audit.KnownAt{Time: t0.Add(time.Second)}, []uint64{3, 7}},
		{audit.KnownAt{Time: t0.Add(time.Hour)}, []uint64{3, 7, 9}},
	} {
		var got []uint64
		for _, r := range tt.k.Of(h) {
			got = append(got, r.Position)
		}
		if !equal(got, tt.want) {
			t.Errorf("%+v keeps %v, want %v", tt.k, got, tt.want)
		}
	}
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseQuery(t *testing.T) {
	today := domain.DateIn(time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC), time.UTC)
	id := uuid.New()
	for _, tt := range []struct {
		name   string
		params map[string]string
		want   audit.Query
		bad    string // the parameter a ParamError names
	}{
		{"nothing", nil, audit.Query{}, ""},
		{"everything", map[string]string{"participant": id.String(), "user": "u-kari", "from": "2026-05-01T00:00:00Z",
			"to": "2026-05-15T23:59:59.999Z", "limit": "50"},
			audit.Query{Participant: id, User: "u-kari", From: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC),
				To: time.Date(2026, 5, 15, 23, 59, 59, 999e6, time.UTC), Limit: 50}, ""},
		{"a year exactly", map[string]string{"from": "2025-05-15T00:00:00Z", "to": "2026-05-16T00:00:00Z"},
			audit.Query{From: time.Date(2025, 5, 15, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 5, 16, 0, 0, 0, 0, time.UTC)}, ""},
		{"from a year ago", map[string]string{"from": "2025-05-14T00:00:00Z"},
			audit.Query{From: time.Date(2025, 5, 14, 0, 0, 0, 0, time.UTC)}, ""},
		{"the largest limit", map[string]string{"limit": "10000"}, audit.Query{Limit: 10000}, ""},
		{"participant malformed", map[string]string{"participant": "p-1"}, audit.Query{}, "participant"},
		{"participant upper case", map[string]string{"participant": strings.ToUpper(id.String())}, audit.Query{}, "participant"},
		{"participant braced", map[string]string{"participant": "{" + id.String() + "}"}, audit.Query{}, "participant"},
		{"participant nil", map[string]string{"participant": uuid.Nil.String()}, audit.Query{}, "participant"},
		{"user too long", map[string]string{"user": strings.Repeat("u", domain.MaxIDLen+1)}, audit.Query{}, "user"},
		{"user with a newline", map[string]string{"user": "u\nv"}, audit.Query{}, "user"},
		{"user blank", map[string]string{"user": "  "}, audit.Query{}, "user"},
		{"user not UTF-8", map[string]string{"user": "u\xff"}, audit.Query{}, "user"},
		{"from not a time", map[string]string{"from": "monday"}, audit.Query{}, "from"},
		{"from local", map[string]string{"from": "2026-05-01T00:00:00+02:00"}, audit.Query{}, "from"},
		{"to a date", map[string]string{"to": "2026-05-01"}, audit.Query{}, "to"},
		{"from after to", map[string]string{"from": "2026-05-02T00:00:00Z", "to": "2026-05-01T00:00:00Z"}, audit.Query{}, "from"},
		{"over a year", map[string]string{"from": "2025-05-14T23:59:59Z", "to": "2026-05-16T00:00:00Z"}, audit.Query{}, "from"},
		{"from over a year ago", map[string]string{"from": "2025-05-13T00:00:00Z"}, audit.Query{}, "from"},
		{"limit 0", map[string]string{"limit": "0"}, audit.Query{}, "limit"},
		{"limit over", map[string]string{"limit": "10001"}, audit.Query{}, "limit"},
		{"limit signed", map[string]string{"limit": "+1"}, audit.Query{}, "limit"},
		{"limit huge", map[string]string{"limit": "99999999999999999999"}, audit.Query{}, "limit"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := audit.ParseQuery(func(k string) string { return tt.params[k] }, today)
			if tt.bad == "" {
				if err != nil || got != tt.want {
					t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
				}
				return
			}
			var pe *audit.ParamError
			if !errors.As(err, &pe) || pe.Name != tt.bad || pe.Code == "" || pe.Detail == "" {
				t.Fatalf("error %v, want a ParamError about %s", err, tt.bad)
			}
			if v := tt.params[tt.bad]; len(v) > 3 && strings.Contains(err.Error(), v) {
				t.Errorf("the error quotes the value: %v", err)
			}
		})
	}
	for _, p := range audit.QueryParams() {
		if p == audit.ParamKnownAt {
			t.Error("known_at is no access-log parameter")
		}
	}
}
