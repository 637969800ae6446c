package api_test

import (
	"bytes"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
)

// accessPage is GET /v1/audit/access, read strictly.
type accessPage struct {
	Records []struct {
		EventID       uuid.UUID `json:"event_id"`
		Position      uint64    `json:"position"`
		RecordedAt    time.Time `json:"recorded_at"`
		UserID        string    `json:"user_id"`
		Role          string    `json:"role"`
		Office        string    `json:"office"`
		CorrelationID uuid.UUID `json:"correlation_id"`
		ParticipantID uuid.UUID `json:"participant_id"`
		View          string    `json:"view"`
		PersonalData  bool      `json:"personal_data"`
		Purpose       string    `json:"purpose"`
		Decision      string    `json:"decision"`
		Reason        string    `json:"reason"`
		Via           string    `json:"via"`
		KnownAt       string    `json:"known_at"`
		SubjectUser   string    `json:"subject_user"`
	} `json:"records"`
	Truncated bool `json:"truncated"`
}

// accessQuery asks the access log as the auditor.
func (h *harness) accessQuery(t *testing.T, params url.Values) accessPage {
	t.Helper()
	r := h.get(t, "auditor", "/v1/audit/access?"+params.Encode(), "Purpose", "access review")
	if r.status != http.StatusOK {
		t.Fatalf("GET access log: %s", r)
	}
	var p accessPage
	strictUnmarshal(t, r.body, &p)
	return p
}

// looks writes a casefile and has it looked at, a minute apart: a
// caseworker of the office, an auditor, a caseworker of another office, an
// evaluator. It returns the casefile and the time of each look.
func looks(t *testing.T, h *auditHarness) (casefile, []time.Time) {
	t.Helper()
	f := writeCasefile(t, h)
	var at []time.Time
	for _, l := range []struct {
		who, rest, purpose string
		status             int
	}{
		{"caseworker", "", "", http.StatusOK},
		{"auditor", "/history", "complaint | case=17 \\ second look", http.StatusOK},
		{"caseworker-bergen", "", "", http.StatusNotFound},
		{"evaluator", "/history", "", http.StatusForbidden},
	} {
		at = append(at, h.clock.advance(time.Minute))
		var hdr []string
		if l.purpose != "" {
			hdr = []string{"Purpose", l.purpose}
		}
		if r := h.get(t, l.who, participantPath(f.id, l.rest), hdr...); r.status != l.status {
			t.Fatalf("%s looking: %s", l.who, r)
		}
	}
	h.clock.advance(time.Minute)
	return f, at
}

func TestAccessLogQuery(t *testing.T) {
	t.Parallel()
	h := newAuditHarness(t)
	f, at := looks(t, h)
	other := h.enrol(t, "caseworker", enrolBody("oslo", nationalID(t, "1990-02-02", 400), "2026-03-02"))
	h.participant(t, "caseworker", other)

	// By participant: the four looks at f, and the query itself, which is
	// recorded before it is read.
	p := h.accessQuery(t, url.Values{"participant": {f.id.String()}})
	type row struct{ user, view, decision, reason, purpose string }
	var got []row
	for _, r := range p.Records {
		if r.ParticipantID != f.id {
			t.Errorf("a record of participant %s", r.ParticipantID)
		}
		got = append(got, row{r.UserID, r.View, r.Decision, r.Reason, r.Purpose})
	}
	want := []row{
		{"u-kari", "participant", "permit", "", "casework"},
		{"u-aud", "history", "permit", "", "complaint | case=17 \\ second look"},
		{"u-berit", "participant", "deny", "other_office", "casework"},
		{"u-eva", "history", "deny", "role", ""},
		{"u-aud", "access_log", "permit", "", "access review"},
	}
	if len(got) != len(want) {
		t.Fatalf("records %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	first := p.Records[0]
	if !first.RecordedAt.Equal(at[0]) || first.Role != "caseworker" || first.Office != "oslo" || !first.PersonalData ||
		first.Via != "GET /v1/participants/{id}" || first.EventID == uuid.Nil || first.CorrelationID == uuid.Nil || first.Position == 0 {
		t.Errorf("first record %+v", first)
	}
	for i := 1; i < len(p.Records); i++ {
		if p.Records[i].Position <= p.Records[i-1].Position {
			t.Errorf("records out of log order: %d after %d", p.Records[i].Position, p.Records[i-1].Position)
		}
	}

	// By user, and by time.
	p = h.accessQuery(t, url.Values{"user": {"u-berit"}})
	if len(p.Records) != 1 || p.Records[0].Decision != "deny" || p.Truncated {
		t.Errorf("u-berit's records: %+v", p)
	}
	p = h.accessQuery(t, url.Values{"from": {at[1].Format(time.RFC3339)}, "to": {at[2].Format(time.RFC3339)}})
	if len(p.Records) != 2 || p.Records[0].UserID != "u-aud" || p.Records[1].UserID != "u-berit" {
		t.Errorf("records from %s to %s: %+v", at[1], at[2], p.Records)
	}
	p = h.accessQuery(t, url.Values{"participant": {f.id.String()}, "user": {"u-kari"}, "to": {at[0].Format(time.RFC3339)}})
	if len(p.Records) != 1 || p.Records[0].View != "participant" {
		t.Errorf("u-kari's looks at f by %s: %+v", at[0], p.Records)
	}
	p = h.accessQuery(t, url.Values{"limit": {"2"}})
	if len(p.Records) != 2 || !p.Truncated {
		t.Errorf("limit 2: %d records, truncated %v", len(p.Records), p.Truncated)
	}
	// A period outside the records holds none.
	p = h.accessQuery(t, url.Values{"to": {caseNow.Add(-time.Hour).Format(time.RFC3339)}})
	if len(p.Records) != 0 || p.Truncated {
		t.Errorf("before the first look: %+v", p)
	}

	// Each query is recorded with what it asked about.
	before := h.head(t)
	h.accessQuery(t, url.Values{"participant": {other.String()}, "user": {"u-kari"}})
	rec := h.lastAccess(t, before)
	if want := (domain.AccessRecorded{ParticipantID: other, SubjectUser: "u-kari", View: domain.ViewAccessLog,
		Purpose: "access review", Decision: domain.AccessPermitted, Via: "GET /v1/audit/access"}); !reflect.DeepEqual(rec.access, want) {
		t.Errorf("the query was recorded as %+v, want %+v", rec.access, want)
	}

	// Only auditors query the log; the refusal is recorded.
	for _, who := range []string{"caseworker", "team-lead", "evaluator", "admin", "volunteer"} {
		before := h.head(t)
		h.get(t, who, "/v1/audit/access", "Purpose", "curious").problem(t, http.StatusForbidden)
		rec := h.lastAccess(t, before)
		if rec.access.Decision != domain.AccessDenied || rec.access.Reason != domain.DenyRole || rec.access.View != domain.ViewAccessLog ||
			rec.meta.Actor.UserID != callers[who].UserID {
			t.Errorf("%s querying the log recorded as %+v", who, rec.access)
		}
	}
	r := h.get(t, "auditor", "/v1/audit/access")
	checkField(t, r.problem(t, http.StatusBadRequest), "header:Purpose")

	// No access record holds personal data.
	for _, rec := range h.accessLog(t) {
		for _, s := range []string{"Test Person", "Test minutes", "Test note", "+47 400", nationalID(t, "1990-04-12", 100)} {
			if strings.Contains(rec.raw, s) {
				t.Errorf("access record at %d holds %q: %s", rec.position, s, rec.raw)
			}
		}
	}
}

func TestAccessLogQueryRefusesBadParameters(t *testing.T) {
	t.Parallel()
	h := newAuditHarness(t)
	today := caseNow.Format(time.RFC3339)
	for _, tt := range []struct {
		name, query, param string
	}{
		{"participant not a uuid", "participant=42", "participant"},
		{"participant in upper case", "participant=" + strings.ToUpper(uuid.NewString()), "participant"},
		{"participant nil", "participant=" + uuid.Nil.String(), "participant"},
		{"user too long", "user=" + strings.Repeat("u", domain.MaxIDLen+1), "user"},
		{"user with a control character", "user=u%01x", "user"},
		{"user blank", "user=%20", "user"},
		{"from not a time", "from=yesterday", "from"},
		{"from a date only", "from=2026-05-15", "from"},
		{"from with an offset", "from=2026-05-15T10:00:00%2B02:00", "from"},
		{"to not a time", "to=soon", "to"},
		{"from after to", "from=2026-05-15T10:00:00Z&to=2026-05-14T10:00:00Z", "from"},
		{"a period over a year", "from=2025-01-01T00:00:00Z&to=2026-05-15T00:00:00Z", "from"},
		{"from over a year ago", "from=2025-01-01T00:00:00Z", "from"},
		{"limit 0", "limit=0", "limit"},
		{"limit too large", "limit=10001", "limit"},
		{"limit negative", "limit=-1", "limit"},
		{"limit signed", "limit=%2B5", "limit"},
		{"limit not a number", "limit=many", "limit"},
		{"an unknown parameter", "office=oslo", "office"},
		{"a parameter twice", "user=a&user=b", "user"},
		{"a parameter without a value", "to=&from=" + url.QueryEscape(today), "to"},
		{"a malformed query", "from=%zz", ""},
	} {
		for _, path := range []string{"/v1/audit/access", "/v1/audit/access.cef"} {
			t.Run(tt.name+" "+path, func(t *testing.T) {
				before := h.head(t)
				r := h.get(t, "auditor", path+"?"+tt.query, "Purpose", "review")
				checkParam(t, r.problem(t, http.StatusBadRequest), tt.param)
				if h.head(t) != before {
					t.Error("a refused query was recorded")
				}
			})
		}
	}
}

func TestAccessLogCEF(t *testing.T) {
	t.Parallel()
	h := newAuditHarness(t)
	f, _ := looks(t, h)
	q := url.Values{"participant": {f.id.String()}}
	r := h.get(t, "auditor", "/v1/audit/access.cef?"+q.Encode(), "Purpose", "export for the SIEM")
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/plain; charset=utf-8" || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET access.cef: %s %v", r, r.header)
	}
	lines := strings.Split(strings.TrimSuffix(string(r.body), "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d lines, want 5 (four looks and the export): %s", len(lines), r.body)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "CEF:0|caseledger|caseledger|") || strings.Count(l, "|") < 7 || !strings.Contains(l, " duid="+f.id.String()) {
			t.Errorf("not a CEF line of the participant: %s", l)
		}
	}
	want := []string{
		"|participant-permit|participant viewed|3|",
		`|history-permit|participant history viewed|3|`,
		"|participant-deny|access to participant denied|6|",
		"|history-deny|access to participant history denied|6|",
		"|access_log-permit|access log viewed|2|",
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("line %d: %s, want %s in it", i, lines[i], w)
		}
	}
	// The auditor's purpose, escaped: = and \ are, | needs not be in the
	// extension.
	if !strings.Contains(lines[1], `cs2=complaint | case\=17 \\ second look cs2Label=purpose`) {
		t.Errorf("purpose not escaped as CEF wants: %s", lines[1])
	}
	if !strings.Contains(lines[2], "suser=u-berit spriv=caseworker cs1=bergen cs1Label=office act=deny reason=other_office") {
		t.Errorf("deny line: %s", lines[2])
	}
	if bytes.Contains(r.body, []byte("Test Person")) {
		t.Error("the export holds personal data")
	}

	// A truncated export says so in a header.
	r = h.get(t, "auditor", "/v1/audit/access.cef?limit=1", "Purpose", "export")
	if r.status != http.StatusOK || strings.Count(string(r.body), "\n") != 1 || r.header.Get("Access-Log-Truncated") != "true" {
		t.Errorf("limit 1: %s, truncated %q", r, r.header.Get("Access-Log-Truncated"))
	}
}

// TestPurposeIsCleanedBeforeItIsRecorded: a purpose is free text from the
// caller; control and formatting characters are stripped and its length
// is bounded.
func TestPurposeIsCleanedBeforeItIsRecorded(t *testing.T) {
	t.Parallel()
	h := newAuditHarness(t)
	f := writeCasefile(t, h)
	for _, tt := range []struct {
		name, purpose, recorded string
		status                  int
	}{
		{"tabs and runs of spaces", "complaint\t\t2026-17   review", "complaint 2026-17 review", 200},
		{"a bidirectional override", "complaint \u202e71-6202", "complaint 71-6202", 200},
		{"a zero-width space", "comp\u200blaint", "complaint", 200},
		{"invalid UTF-8", "complaint \xff", "complaint \ufffd", 200},
		{"the longest", strings.Repeat("é", domain.MaxPurposeLen), strings.Repeat("é", domain.MaxPurposeLen), 200},
		{"too long", strings.Repeat("p", domain.MaxPurposeLen+1), "", 400},
		{"only formatting", "\u200b\u202e", "", 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := h.head(t)
			r := h.get(t, "auditor", participantPath(f.id, ""), "Purpose", tt.purpose)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.status != http.StatusOK {
				checkField(t, r.problem(t, tt.status), "header:Purpose")
				return
			}
			if rec := h.lastAccess(t, before); rec.access.Purpose != tt.recorded {
				t.Errorf("recorded purpose %q, want %q", rec.access.Purpose, tt.recorded)
			}
		})
	}
}
