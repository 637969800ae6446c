package api_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/stats"
)

const exportPath = "/v1/exports/episodes.csv"

// exportRows reads an export's body, checking its header.
func exportRows(t *testing.T, r response) [][]string {
	t.Helper()
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("export: %s (%s)", r, r.header.Get("Content-Type"))
	}
	recs, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != strings.Join(stats.ExportColumns(), ",") {
		t.Fatalf("header %v", recs)
	}
	return recs[1:]
}

// Over HTTP an evaluator's export holds the consented episodes only, no
// id, name or national id of anyone, is recorded in the access log with
// its cohort, point of the log and rows before it is sent, and after an
// erasure keeps the row without its pseudonym.
func TestExportOverHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setupProgramme(t, "hope-oslo")
	h.setupProgramme(t, "hope-bergen")
	var nids []string
	enrol := func(who, office, on string) uuid.UUID {
		nids = append(nids, nationalID(t, "1990-04-12", 100+10*len(nids)))
		return h.enrol(t, who, enrolBody(office, nids[len(nids)-1], on))
	}
	give := func(who string, id uuid.UUID, scope string) {
		h.ok(t, http.StatusOK, who, participantPath(id, "/consents/give"), object{"scope": scope, "date": "2026-03-10"})
	}
	consented := enrol("caseworker", "oslo", "2026-03-02")
	give("caseworker", consented, "evaluation")
	none := enrol("caseworker", "oslo", "2026-03-03")
	give("caseworker", none, "processing")
	withdrawn := enrol("caseworker", "oslo", "2026-03-04")
	give("caseworker", withdrawn, "evaluation")
	h.ok(t, http.StatusOK, "caseworker", participantPath(withdrawn, "/consents/withdraw"), object{"scope": "evaluation", "date": "2026-04-01"})
	bergen := enrol("caseworker-bergen", "bergen", "2026-03-05")
	give("caseworker-bergen", bergen, "evaluation")

	before := h.head(t)
	r := h.get(t, "evaluator", exportPath+"?office=oslo&as_of=2026-05-01&k=5")
	rows := exportRows(t, r)
	if len(rows) != 1 || rows[0][6] != "2026-03-02" || len(rows[0][0]) != 64 {
		t.Fatalf("want the one consented episode of oslo:\n%s", r.body)
	}
	for _, s := range append([]string{consented.String(), none.String(), withdrawn.String(), "Test Person"}, nids...) {
		if bytes.Contains(r.body, []byte(s)) {
			t.Errorf("the export holds %q", s)
		}
	}
	rec := h.lastAccess(t, before)
	one := 1
	want := domain.AccessRecorded{View: domain.ViewExport, Purpose: "evaluation", Decision: domain.AccessPermitted,
		Via: "GET " + exportPath, KnownAt: strconv.FormatUint(before, 10), Cohort: "as_of=2026-05-01&k=5&office=oslo", Rows: &one}
	got := rec.access
	if got.Rows == nil || *got.Rows != 1 {
		t.Fatalf("access record %+v: want 1 row", got)
	}
	got.Rows = want.Rows // compared above by value
	if !reflect.DeepEqual(got, want) || rec.meta.Actor.UserID != "u-eva" || rec.meta.Actor.Role != "evaluator" {
		t.Errorf("access record %+v by %+v, want %+v by u-eva", rec.access, rec.meta.Actor, want)
	}
	// The auditor sees it, and the document describes what they see.
	audit := h.get(t, "auditor", "/v1/audit/access?user=u-eva", "Purpose", "export review")
	if audit.status != http.StatusOK || !strings.Contains(string(audit.body), `"view":"export"`) ||
		!strings.Contains(string(audit.body), `"rows":1`) {
		t.Errorf("the access log as the auditor reads it: %s", audit)
	}

	// A stated purpose is recorded as stated.
	before = h.head(t)
	exportRows(t, h.get(t, "evaluator", exportPath+"?as_of=2026-05-01", "Purpose", "impact study 2026"))
	if rec := h.lastAccess(t, before); rec.access.Purpose != "impact study 2026" || *rec.access.Rows != 2 {
		t.Errorf("access record %+v", rec.access)
	}

	// Erased: the row stays, its pseudonym does not.
	if r := h.del(t, "admin", participantPath(consented, "/personal-data"), erasureBody()); r.status != http.StatusOK {
		t.Fatalf("erasure: %s", r)
	}
	r = h.get(t, "evaluator", exportPath+"?office=oslo&as_of=2026-05-01&k=5")
	after := exportRows(t, r)
	if len(after) != 1 || after[0][0] != "" || bytes.Contains(r.body, []byte(rows[0][0])) ||
		strings.Join(after[0][1:], ",") != strings.Join(rows[0][1:], ",") {
		t.Errorf("after the erasure:\n%s\nbefore:\n%v", r.body, rows)
	}
}

// An export takes a report's cohort filter without its profile filters
// and format; a bad parameter is named; only evaluators may export.
func TestExportRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, c := range []struct {
		who, query string
		status     int
		param      string
	}{
		{"evaluator", "?gender=female", http.StatusBadRequest, "gender"},
		{"evaluator", "?format=csv", http.StatusBadRequest, "format"},
		{"evaluator", "?k=0", http.StatusBadRequest, "k"},
		{"evaluator", "?k=1", http.StatusBadRequest, "k"},
		{"evaluator", "?known_at=99999999999", http.StatusBadRequest, "known_at"},
		{"evaluator", "?as_of=2026-13-01", http.StatusBadRequest, "as_of"},
		{"evaluator", "?enrolled_from=2026-02-01&enrolled_to=2026-01-01", http.StatusBadRequest, "enrolled_to"},
		{"evaluator", "?known_at=0", http.StatusBadRequest, "known_at"},
		{"caseworker", "", http.StatusForbidden, ""},
		{"auditor", "", http.StatusForbidden, ""},
		{"admin", "", http.StatusForbidden, ""},
	} {
		r := h.get(t, c.who, exportPath+c.query, "Purpose", "test")
		p := r.problem(t, c.status)
		if c.status == http.StatusBadRequest {
			checkParam(t, p, c.param)
		}
	}
}

// No row leaves that is not recorded: when the access log cannot be
// written the export is refused with 503 and nothing of it is sent.
func TestExportNotSentUnrecorded(t *testing.T) {
	t.Parallel()
	h := newAuditHarness(t)
	h.setupProgramme(t, "hope-oslo")
	id := h.enrol(t, "caseworker", enrolBody("oslo", nationalID(t, "1990-04-12", 100), "2026-03-02"))
	h.ok(t, http.StatusOK, "caseworker", participantPath(id, "/consents/give"), object{"scope": "evaluation", "date": "2026-03-03"})
	h.failer.fail.Store(true)
	r := h.get(t, "evaluator", exportPath+"?as_of=2026-05-01&k=5")
	r.problem(t, http.StatusServiceUnavailable)
	if bytes.Contains(r.body, []byte("pseudonym")) || bytes.Contains(r.body, []byte("2026-03-02")) {
		t.Errorf("an unrecorded export sent rows: %s", r.body)
	}
	h.failer.fail.Store(false)
	if rows := exportRows(t, h.get(t, "evaluator", exportPath+"?as_of=2026-05-01&k=5")); len(rows) != 1 {
		t.Errorf("once the log takes records again: %d rows", len(rows))
	}
}
