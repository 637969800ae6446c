package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/personaldata"
)

// installation is a data directory with a participant in its store: an
// enrolment, a meeting with minutes, and a correction of the meeting.
type installation struct {
	dir                string
	vars               map[string]string // the master key, in the environment
	id                 uuid.UUID
	meeting, corrected uuid.UUID
	correctionPosition uint64
}

func newInstallation(t *testing.T) installation {
	t.Helper()
	ctx := context.Background()
	master, err := personaldata.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	in := installation{dir: t.TempDir(), vars: map[string]string{envMasterKey: master.Encode()}, id: uuid.New()}
	store, err := openStore(ctx, filepath.Join(in.dir, storeFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	keys, err := openKeyring(ctx, in.dir, master)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := casework.New(store, casework.Options{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	day := func(s string) domain.Date {
		d, err := domain.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	write := func(e domain.Event) casework.Result {
		t.Helper()
		res, err := svc.Execute(ctx, domain.ParticipantStream(in.id),
			casework.Request{Actor: domain.Actor{UserID: "u-kari", Role: "caseworker", Office: "oslo"}, CorrelationID: uuid.New()},
			func([]domain.Recorded, domain.Date) ([]domain.Event, error) { return []domain.Event{e}, nil })
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	write(domain.ParticipantEnrolled{Episode: 1, Programme: "hope-oslo", Office: "oslo", EnrolledOn: day("2026-03-02"),
		ReferralSource: domain.ReferralWelfareOffice, Personal: &domain.EnrolmentPersonal{Name: "Test Person"}})
	meeting := domain.MeetingHeld{Date: day("2026-03-05"), Kind: domain.MeetingGuidance, Personal: &domain.MeetingPersonal{Minutes: "Test minutes"}}
	in.meeting = write(meeting).EventIDs[0]
	res := write(domain.EntryCorrected{EntryID: in.meeting, Reason: domain.CorrectionWrongDate,
		Replacement: domain.MeetingHeld{Date: day("2026-03-04"), Kind: domain.MeetingGuidance}})
	in.corrected, in.correctionPosition = res.EventIDs[0], res.Position
	return in
}

// accessRecords is every access record of the installation's store.
func (in installation) accessRecords(t *testing.T) []audit.Record {
	t.Helper()
	ctx := context.Background()
	store, err := openStore(ctx, filepath.Join(in.dir, storeFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	evs, err := store.ReadAll(ctx, eventstore.ReadAllOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	for _, ev := range evs {
		if !strings.HasPrefix(ev.Stream, domain.AccessLogStreamPrefix) {
			continue
		}
		r, err := domain.DecodeRecorded(ev.ID, ev.Stream, ev.Revision, ev.Position, ev.Type, ev.Data, ev.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		a := r.Event.(domain.AccessRecorded)
		out = append(out, audit.Record{UserID: r.Meta.Actor.UserID, Role: r.Meta.Actor.Role, ParticipantID: a.ParticipantID,
			View: a.View, PersonalData: a.PersonalData, Purpose: a.Purpose, Decision: a.Decision, Reason: a.Reason,
			Via: a.Via, KnownAt: a.KnownAt, SubjectUser: a.SubjectUser})
	}
	return out
}

func (in installation) run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return invoke(t, in.vars, args...)
}

func TestHistoryCommand(t *testing.T) {
	in := newInstallation(t)
	id := in.id.String()

	// For machines: the history as JSON, every event with its metadata.
	code, out, errOut := in.run(t, "history", id, "--data", in.dir, "--format", "json", "--purpose", "complaint 17", "--operator", "u-op")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var h audit.History
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if h.ParticipantID != in.id || len(h.Events) != 3 || !h.PersonalData ||
		!slices.Equal(h.Events[1].CorrectedBy, []uuid.UUID{in.corrected}) || h.Events[2].Corrects != in.meeting ||
		h.Events[0].Actor.UserID != "u-kari" || !strings.Contains(string(h.Events[1].Personal), "Test minutes") {
		t.Errorf("history %+v", h)
	}

	// For people: a table, flags and id in any order, the operator from
	// the login name.
	in.vars["USER"] = "u-login"
	code, out, errOut = in.run(t, "history", "--data", in.dir, id, "--purpose", "complaint 17")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"participant " + id + ", 3 events",
		"REV  POS",
		"ParticipantEnrolled",
		"u-kari caseworker oslo",
		"corrected by  " + in.corrected.String(),
		"corrects      " + in.meeting.String(),
		`personal      {"minutes":"Test minutes"}`,
		`data          {"date":"2026-03-05","kind":"guidance"}`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}

	// As known before the correction.
	before := strconv.FormatUint(in.correctionPosition-1, 10)
	code, out, _ = in.run(t, "history", id, "--data", in.dir, "--known-at", before, "--purpose", "what was known", "--operator", "u-op")
	if code != 0 || !strings.Contains(out, "2 events, as known at "+before) || strings.Contains(out, "EntryCorrected") {
		t.Errorf("known at %s: exit %d\n%s", before, code, out)
	}

	// Someone not in the store: exit 1, and the look recorded.
	missing := uuid.NewString()
	code, out, errOut = in.run(t, "history", missing, "--data", in.dir, "--purpose", "complaint 18", "--operator", "u-op")
	if code != 1 || out != "" || !strings.Contains(errOut, "holds no participant") {
		t.Errorf("missing participant: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	got := in.accessRecords(t)
	want := []audit.Record{
		{UserID: "u-op", Role: "operator", ParticipantID: in.id, View: domain.ViewHistory, PersonalData: true, Purpose: "complaint 17", Decision: domain.AccessPermitted, Via: "caseledger history"},
		{UserID: "u-login", Role: "operator", ParticipantID: in.id, View: domain.ViewHistory, PersonalData: true, Purpose: "complaint 17", Decision: domain.AccessPermitted, Via: "caseledger history"},
		{UserID: "u-op", Role: "operator", ParticipantID: in.id, View: domain.ViewHistory, PersonalData: true, Purpose: "what was known", Decision: domain.AccessPermitted, Via: "caseledger history", KnownAt: before},
		{UserID: "u-op", Role: "operator", ParticipantID: uuid.MustParse(missing), View: domain.ViewHistory, Purpose: "complaint 18", Decision: domain.AccessDenied, Reason: domain.DenyUnknownParticipant, Via: "caseledger history"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("access records\n got %+v\nwant %+v", got, want)
	}
}

func TestAccessLogCommand(t *testing.T) {
	in := newInstallation(t)
	for _, purpose := range []string{"complaint 17", "case=18 | second look"} {
		if code, _, errOut := in.run(t, "history", in.id.String(), "--data", in.dir, "--purpose", purpose, "--operator", "u-op"); code != 0 {
			t.Fatalf("history: %s", errOut)
		}
	}
	// CEF by default: the two looks and the export itself.
	code, out, errOut := in.run(t, "access-log", "--data", in.dir, "--purpose", "SIEM export", "--operator", "u-sec")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), out)
	}
	for i, want := range []string{
		"|history-permit|participant history viewed|3|",
		`cs2=case\=18 | second look cs2Label=purpose`,
		"|access_log-permit|access log viewed|2|",
	} {
		if !strings.HasPrefix(lines[i], "CEF:0|caseledger|caseledger|") || !strings.Contains(lines[i], want) {
			t.Errorf("line %d: %s, want %s in it", i, lines[i], want)
		}
	}
	if !strings.Contains(lines[2], "suser=u-sec spriv=operator") || !strings.Contains(lines[2], "request=caseledger access-log") {
		t.Errorf("the export's own record: %s", lines[2])
	}

	// JSON, by participant and user.
	code, out, errOut = in.run(t, "access-log", "--data", in.dir, "--purpose", "check", "--operator", "u-sec", "--format", "json",
		"--participant", in.id.String(), "--user", "u-op", "--from", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var page audit.Page
	if err := json.Unmarshal([]byte(out), &page); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(page.Records) != 2 || page.Truncated || page.Records[1].Purpose != "case=18 | second look" {
		t.Errorf("page %+v", page)
	}
	// Cut at the limit: said on stderr.
	code, out, errOut = in.run(t, "access-log", "--data", in.dir, "--purpose", "check", "--operator", "u-sec", "--limit", "1")
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.Contains(errOut, "more records matched") {
		t.Errorf("limit 1: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestAuditCommandUsageErrors(t *testing.T) {
	in := newInstallation(t)
	id := in.id.String()
	noKey := map[string]string{"USER": "u-op"}
	for _, tt := range []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{"history without an id", in.vars, []string{"history", "--data", in.dir, "--purpose", "p", "--operator", "u"}, "want one participant id"},
		{"history with two ids", in.vars, []string{"history", id, id, "--data", in.dir, "--purpose", "p", "--operator", "u"}, "want one participant id"},
		{"history of a malformed id", in.vars, []string{"history", "P-17", "--data", in.dir, "--purpose", "p", "--operator", "u"}, "not a participant id"},
		{"history without a purpose", in.vars, []string{"history", id, "--data", in.dir, "--operator", "u"}, "missing --purpose"},
		{"history with a blank purpose", in.vars, []string{"history", id, "--data", in.dir, "--purpose", " \t", "--operator", "u"}, "missing --purpose"},
		{"history with a purpose too long", in.vars, []string{"history", id, "--data", in.dir, "--purpose", strings.Repeat("p", 201), "--operator", "u"}, "--purpose"},
		{"history without an operator", in.vars, []string{"history", id, "--data", in.dir, "--purpose", "p"}, "--operator"},
		{"history in an unknown format", in.vars, []string{"history", id, "--data", in.dir, "--purpose", "p", "--operator", "u", "--format", "xml"}, "--format"},
		{"history known at a word", in.vars, []string{"history", id, "--data", in.dir, "--purpose", "p", "--operator", "u", "--known-at", "then"}, "--known-at"},
		{"history without a master key", noKey, []string{"history", id, "--data", in.dir, "--purpose", "p"}, "no master key"},
		{"access log from a date", in.vars, []string{"access-log", "--data", in.dir, "--purpose", "p", "--operator", "u", "--from", "2026-05-01"}, "--from"},
		{"access log of a malformed participant", in.vars, []string{"access-log", "--data", in.dir, "--purpose", "p", "--operator", "u", "--participant", "x"}, "--participant"},
		{"access log limit 0", in.vars, []string{"access-log", "--data", in.dir, "--purpose", "p", "--operator", "u", "--limit", "0"}, "--limit"},
		{"access log in an unknown format", in.vars, []string{"access-log", "--data", in.dir, "--purpose", "p", "--operator", "u", "--format", "csv"}, "--format"},
		{"access log without a purpose", in.vars, []string{"access-log", "--data", in.dir, "--operator", "u"}, "missing --purpose"},
		{"access log with an operand", in.vars, []string{"access-log", "now", "--data", in.dir, "--purpose", "p"}, "unexpected argument"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := invoke(t, tt.vars, tt.args...)
			if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and one line with %q", code, out, errOut, tt.want)
			}
		})
	}
	if got := in.accessRecords(t); len(got) != 0 {
		t.Errorf("refused commands recorded %+v", got)
	}

	// A directory without a store is not made one.
	empty := t.TempDir()
	code, _, errOut := invoke(t, in.vars, "history", id, "--data", empty, "--purpose", "p", "--operator", "u")
	if code != 1 || !strings.Contains(errOut, "no event store") {
		t.Errorf("no store: exit %d, stderr %q", code, errOut)
	}
}
