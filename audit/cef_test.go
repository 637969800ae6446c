package audit_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/domain"
)

func TestCEFHeaderEscape(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"caseledger", "caseledger"},
		{"a|b", `a\|b`},
		{`a\b`, `a\\b`},
		{`\|`, `\\\|`},
		{"a=b", "a=b"}, // needs no escape in the header
		{"two\nlines", "two lines"},
		{"cr\rlf\n", "cr lf "},
		{"tab\tnul\x00", "tab nul "},
		{"bad \xff byte", "bad \uFFFD byte"},
		{"ø|é", `ø\|é`},
		{"", ""},
	} {
		if got := audit.CEFHeaderEscape(tt.in); got != tt.want {
			t.Errorf("CEFHeaderEscape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCEFValueEscape(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"casework", "casework"},
		{"a=b", `a\=b`},
		{`a\b`, `a\\b`},
		{`\=`, `\\\=`},
		{"a|b", "a|b"}, // needs no escape in the extension
		{"two\nlines", `two\nlines`},
		{"cr\r\n", `cr\r\n`},
		{"tab\tnul\x00", "tab nul "},
		{"x cs1=forged", `x cs1\=forged`},
		{"bad \xff byte", "bad \uFFFD byte"},
		{"", ""},
	} {
		if got := audit.CEFValueEscape(tt.in); got != tt.want {
			t.Errorf("CEFValueEscape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCEFLine(t *testing.T) {
	rec := audit.Record{
		EventID:       uuid.MustParse("00000000-0000-4000-8000-000000000001"),
		Position:      42,
		RecordedAt:    time.Date(2026, 5, 15, 10, 0, 0, 123e6, time.UTC),
		UserID:        "u-aud",
		Role:          "auditor",
		CorrelationID: uuid.MustParse("00000000-0000-4000-8000-000000000002"),
		ParticipantID: uuid.MustParse("00000000-0000-4000-8000-000000000003"),
		View:          domain.ViewHistory,
		PersonalData:  true,
		Purpose:       "case=17 | review",
		Decision:      domain.AccessPermitted,
		Via:           "GET /v1/participants/{id}/history",
		KnownAt:       "2026-05-01T00:00:00Z",
	}
	want := `CEF:0|caseledger|caseledger|v1.2\|x|history-permit|participant history viewed|3|` +
		`rt=1778839200123 externalId=00000000-0000-4000-8000-000000000001 cn1=42 cn1Label=position ` +
		`suser=u-aud spriv=auditor act=permit duid=00000000-0000-4000-8000-000000000003 ` +
		`cs2=case\=17 | review cs2Label=purpose cs3=history cs3Label=view cs4=true cs4Label=personalData ` +
		`cs5=2026-05-01T00:00:00Z cs5Label=knownAt cs6=00000000-0000-4000-8000-000000000002 cs6Label=correlationId ` +
		`request=GET /v1/participants/{id}/history`
	if got := audit.CEFLine("v1.2|x", rec); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}

	deny := audit.Record{UserID: "u-berit", Role: "caseworker", Office: "bergen", View: domain.ViewParticipant,
		Decision: domain.AccessDenied, Reason: domain.DenyOtherOffice, Via: "GET /v1/participants/{id}"}
	got := audit.CEFLine("dev", deny)
	for _, part := range []string{"|participant-deny|access to participant denied|6|", "cs1=bergen cs1Label=office act=deny reason=other_office"} {
		if !strings.Contains(got, part) {
			t.Errorf("deny line %s lacks %s", got, part)
		}
	}
	if strings.Contains(got, "duid=") || strings.Contains(got, "cs2=") || strings.Contains(got, "cn2=") {
		t.Errorf("deny line has keys for empty values: %s", got)
	}

	none := 0
	export := audit.Record{UserID: "u-eva", Role: "evaluator", View: domain.ViewExport, Decision: domain.AccessPermitted,
		Via: "GET /v1/exports/episodes.csv", Cohort: "as_of=2026-05-01&k=5", Rows: &none}
	got = audit.CEFLine("dev", export)
	for _, part := range []string{"|export-permit|pseudonymised export viewed|3|",
		`flexString1=as_of\=2026-05-01&k\=5 flexString1Label=cohort cn2=0 cn2Label=rows`} {
		if !strings.Contains(got, part) {
			t.Errorf("export line %s lacks %s", got, part)
		}
	}
}

// TestCEFLinesOfACaseloadPage: a page's record is a line for each
// participant it named, in order, each with the page's event id; other
// records are one line.
func TestCEFLinesOfACaseloadPage(t *testing.T) {
	a, b := uuid.MustParse("00000000-0000-4000-8000-00000000000a"), uuid.MustParse("00000000-0000-4000-8000-00000000000b")
	page := audit.Record{EventID: uuid.MustParse("00000000-0000-4000-8000-000000000001"), Position: 7, UserID: "u-kari",
		Role: "caseworker", Office: "oslo", Participants: []uuid.UUID{a, b}, View: domain.ViewCaseload, PersonalData: true,
		Decision: domain.AccessPermitted, Via: "GET /v1/caseload"}
	lines := audit.CEFLines("dev", page)
	if len(lines) != 2 {
		t.Fatalf("%d lines for a page naming two, want 2", len(lines))
	}
	for i, id := range []uuid.UUID{a, b} {
		ext := fmt.Sprintf("externalId=00000000-0000-4000-8000-000000000001/%d ", i+1)
		if !strings.Contains(lines[i], ext) || !strings.Contains(lines[i], "duid="+id.String()+" ") {
			t.Errorf("line %d: %s, want %s and duid %s", i, lines[i], ext, id)
		}
	}
	one := page
	one.Participants, one.ParticipantID, one.View = nil, a, domain.ViewParticipant
	if got := audit.CEFLines("dev", one); len(got) != 1 || got[0] != audit.CEFLine("dev", one) {
		t.Errorf("a look at one participant: %q", got)
	}
	var b2 strings.Builder
	if err := audit.WriteCEF(&b2, "dev", []audit.Record{page, one}); err != nil || strings.Count(b2.String(), "\n") != 3 {
		t.Errorf("WriteCEF of a page of two and one look: %v\n%s", err, b2.String())
	}
}

// FuzzCEFEscaping checks that whatever a purpose holds, the line stays one
// line with seven header fields and a parser reads the purpose back as it
// was recorded (control characters aside): no text can forge a key, a
// field or a line.
func FuzzCEFEscaping(f *testing.F) {
	for _, s := range []string{"", "a|b", `a\b`, "a=b", "x cs1=forged", "two\nlines", "\r\n", `\`, `=\`, `\|`, "é\x00\xff", "act=deny\nCEF:0|x|x|x|x|x|x|"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, esc := range map[string]func(string) string{"header": audit.CEFHeaderEscape, "value": audit.CEFValueEscape} {
			out := esc(s)
			if strings.ContainsAny(out, "\r\n") {
				t.Fatalf("%s escape of %q holds a line break: %q", name, s, out)
			}
			if !utf8.ValidString(out) {
				t.Fatalf("%s escape of %q is not UTF-8: %q", name, s, out)
			}
		}
		if got, want := unescapeHeader(t, audit.CEFHeaderEscape(s)), sanitize(s, false); got != want {
			t.Fatalf("header %q reads back as %q, want %q", s, got, want)
		}
		if got, want := unescapeValue(t, audit.CEFValueEscape(s)), sanitize(s, true); got != want {
			t.Fatalf("value %q reads back as %q, want %q", s, got, want)
		}

		line := audit.CEFLine(s, audit.Record{UserID: "u", Role: "auditor", View: domain.ViewAccessLog,
			Decision: domain.AccessPermitted, Purpose: s, Via: s})
		header, ext := parseCEF(t, line)
		if header[3] != sanitize(s, false) {
			t.Fatalf("version field %q, want %q", header[3], sanitize(s, false))
		}
		if ext["suser"] != "u" || ext["act"] != "permit" {
			t.Fatalf("keys forged by %q: %v", s, ext)
		}
		if s != "" && (ext["cs2"] != sanitize(s, true) || ext["request"] != sanitize(s, true)) {
			t.Fatalf("purpose %q reads back as %q, request as %q", s, ext["cs2"], ext["request"])
		}
	})
}

// sanitize is s as an escaper keeps it: valid UTF-8, control characters as
// spaces, line breaks too unless a value keeps them (escaped).
func sanitize(s string, keepBreaks bool) string {
	return strings.Map(func(r rune) rune {
		if keepBreaks && (r == '\n' || r == '\r') {
			return r
		}
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

var errUnescaped = errors.New("unescaped special character")

// unescapeHeader reads an escaped header field; a bare | is an error.
func unescapeHeader(t *testing.T, s string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '\\' || s[i+1] == '|'):
			b.WriteByte(s[i+1])
			i++
		case c == '\\' || c == '|':
			t.Fatalf("header field %q: %v at %d", s, errUnescaped, i)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// unescapeValue reads an escaped extension value; a bare = or \ is an
// error.
func unescapeValue(t *testing.T, s string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '=' {
			t.Fatalf("value %q: %v at %d", s, errUnescaped, i)
		}
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+1 == len(s) {
			t.Fatalf("value %q ends in a bare backslash", s)
		}
		i++
		switch s[i] {
		case '\\', '=':
			b.WriteByte(s[i])
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			t.Fatalf("value %q: unknown escape \\%c", s, s[i])
		}
	}
	return b.String()
}

// parseCEF splits a line as a CEF reader does: seven header fields after
// "CEF:0" at unescaped pipes, then key=value pairs, a key being the word
// before an unescaped equals sign.
func parseCEF(t *testing.T, line string) (header []string, ext map[string]string) {
	t.Helper()
	if strings.ContainsAny(line, "\r\n") {
		t.Fatalf("line holds a line break: %q", line)
	}
	start := 0
	for i := 0; i < len(line) && len(header) < 7; i++ {
		switch line[i] {
		case '\\':
			i++
		case '|':
			header = append(header, unescapeHeader(t, line[start:i]))
			start = i + 1
		}
	}
	if len(header) != 7 || header[0] != "CEF:0" {
		t.Fatalf("header %q of %q", header, line)
	}
	rest := line[start:]
	// Positions of unescaped '=', each ending a key.
	var eqs []int
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case '\\':
			i++
		case '=':
			eqs = append(eqs, i)
		}
	}
	ext = map[string]string{}
	keyStart := func(eq int) int {
		k := eq
		for k > 0 && isAlnum(rest[k-1]) {
			k--
		}
		if k == eq || (k > 0 && rest[k-1] != ' ') {
			t.Fatalf("no key before = at %d of %q", eq, rest)
		}
		return k
	}
	for n, eq := range eqs {
		key := rest[keyStart(eq):eq]
		end := len(rest)
		if n+1 < len(eqs) {
			end = keyStart(eqs[n+1]) - 1
		}
		if _, dup := ext[key]; dup {
			t.Fatalf("key %s twice in %q", key, rest)
		}
		ext[key] = unescapeValue(t, rest[eq+1:end])
	}
	return header, ext
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
