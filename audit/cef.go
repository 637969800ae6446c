package audit

import (
	"bufio"
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"strings"
	"unicode"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
)

// The access log in ArcSight Common Event Format, one line per record:
//
//	CEF:0|caseledger|caseledger|<version>|<view>-<decision>|<name>|<severity>|<extension>
//
// The extension uses the CEF dictionary where a key fits and labelled
// custom strings elsewhere:
//
//	rt          recorded_at, milliseconds since the Unix epoch
//	externalId  the record's event id
//	cn1         its log position (cn1Label=position)
//	suser       the reader's user id
//	spriv       the reader's role
//	cs1         the reader's office (cs1Label=office)
//	act         permit or deny
//	reason      why it was denied
//	duid        the participant id
//	duser       the user whose accesses an access-log query asked for
//	cs2         the purpose (cs2Label=purpose)
//	cs3         the view (cs3Label=view)
//	cs4         whether personal data were shown (cs4Label=personalData)
//	cs5         the point of the log the view was as of (cs5Label=knownAt)
//	cs6         the request's correlation id (cs6Label=correlationId)
//	request     the route or command the look was made through
//
// Keys whose value is empty are left out.

// CEF severities (0 to 10).
const (
	severityPermit         = 2
	severityPermitPersonal = 3
	severityDeny           = 6
)

// Version is the product version the CEF header names: the module version
// the binary was built from, or "dev".
func Version() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

// WriteCEF writes recs as CEF lines, each ended by "\n".
func WriteCEF(w io.Writer, version string, recs []Record) error {
	bw := bufio.NewWriter(w)
	for _, r := range recs {
		for _, line := range CEFLines(version, r) {
			if _, err := bw.WriteString(line + "\n"); err != nil {
				return fmt.Errorf("write CEF: %w", err)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write CEF: %w", err)
	}
	return nil
}

// CEFLines is a record in CEF: one line, or for a caseload page one line
// for each participant it named, in the order shown, each with that
// participant as duid, so that a SIEM finds every look at a participant by
// its duid. Their externalId is the page's event id and the participant's
// place on it, "<event id>/1" and on, so that a SIEM that keys on it keeps
// every line.
func CEFLines(version string, r Record) []string {
	if len(r.Participants) == 0 {
		return []string{CEFLine(version, r)}
	}
	lines := make([]string, len(r.Participants))
	for i, id := range r.Participants {
		one := r
		one.ParticipantID, one.Participants = id, nil
		lines[i] = cefLine(version, one, uuidOrEmpty(r.EventID)+"/"+strconv.Itoa(i+1))
	}
	return lines
}

// CEFLine is one record naming at most one participant in CEF, without a
// line end.
func CEFLine(version string, r Record) string {
	return cefLine(version, r, uuidOrEmpty(r.EventID))
}

// cefLine is CEFLine with the externalId given. It never holds a
// line break: those in a value are escaped, those in a header field
// replaced by a space.
func cefLine(version string, r Record, externalID string) string {
	var b strings.Builder
	b.WriteString("CEF:0|caseledger|caseledger|")
	for _, field := range []string{
		version,
		string(r.View) + "-" + string(r.Decision),
		cefName(r.View, r.Decision),
		strconv.Itoa(cefSeverity(r)),
	} {
		b.WriteString(CEFHeaderEscape(field))
		b.WriteByte('|')
	}
	ext := [][2]string{
		{"rt", strconv.FormatInt(r.RecordedAt.UnixMilli(), 10)},
		{"externalId", externalID},
		{"cn1", strconv.FormatUint(r.Position, 10)},
		{"cn1Label", "position"},
		{"suser", r.UserID},
		{"spriv", r.Role},
		{"cs1", r.Office},
		{"cs1Label", labelIf(r.Office, "office")},
		{"act", string(r.Decision)},
		{"reason", string(r.Reason)},
		{"duid", uuidOrEmpty(r.ParticipantID)},
		{"duser", r.SubjectUser},
		{"cs2", r.Purpose},
		{"cs2Label", labelIf(r.Purpose, "purpose")},
		{"cs3", string(r.View)},
		{"cs3Label", "view"},
		{"cs4", strconv.FormatBool(r.PersonalData)},
		{"cs4Label", "personalData"},
		{"cs5", r.KnownAt},
		{"cs5Label", labelIf(r.KnownAt, "knownAt")},
		{"cs6", uuidOrEmpty(r.CorrelationID)},
		{"cs6Label", labelIf(uuidOrEmpty(r.CorrelationID), "correlationId")},
		{"request", r.Via},
		{"flexString1", r.Cohort},
		{"flexString1Label", labelIf(r.Cohort, "cohort")},
		{"cn2", rowsOf(r)},
		{"cn2Label", labelIf(rowsOf(r), "rows")},
	}
	sep := ""
	for _, kv := range ext {
		if kv[1] == "" {
			continue
		}
		b.WriteString(sep)
		b.WriteString(kv[0])
		b.WriteByte('=')
		b.WriteString(CEFValueEscape(kv[1]))
		sep = " "
	}
	return b.String()
}

// CEFHeaderEscape escapes a header field: a backslash and a pipe are
// preceded by a backslash. A header field cannot span lines, so line
// breaks and other control characters become spaces.
func CEFHeaderEscape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '\\' || r == '|':
			b.WriteByte('\\')
			b.WriteRune(r)
		case unicode.IsControl(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// CEFValueEscape escapes an extension value: a backslash and an equals
// sign are preceded by a backslash, a line feed becomes \n and a carriage
// return \r; other control characters become spaces. A pipe needs no
// escape in the extension.
func CEFValueEscape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '\\' || r == '=':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case unicode.IsControl(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// rowsOf is the rows an export gave, "" for any other record.
func rowsOf(r Record) string {
	if r.Rows == nil {
		return ""
	}
	return strconv.Itoa(*r.Rows)
}

func cefName(v domain.AccessView, d domain.AccessDecision) string {
	what := string(v)
	switch v {
	case domain.ViewHistory:
		what = "participant history"
	case domain.ViewAccessLog:
		what = "access log"
	case domain.ViewCasework:
		what = "participant casework"
	case domain.ViewExport:
		what = "pseudonymised export"
	}
	if d == domain.AccessDenied {
		return "access to " + what + " denied"
	}
	return what + " viewed"
}

func cefSeverity(r Record) int {
	switch {
	case r.Decision == domain.AccessDenied:
		return severityDeny
	case r.PersonalData, r.View == domain.ViewExport:
		// An export's rows are pseudonymised, not anonymous: row-level
		// data leaving the system weigh as a look at personal data.
		return severityPermitPersonal
	}
	return severityPermit
}

func uuidOrEmpty(id uuid.UUID) string {
	if id == uuid.Nil {
		return ""
	}
	return id.String()
}

func labelIf(value, label string) string {
	if value == "" {
		return ""
	}
	return label
}
