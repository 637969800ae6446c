//go:build linux

package main

// The fault tests (faults_*_test.go) run the real server as a process of
// its own: this test binary, re-executed with asBinaryEnv set, runs main()
// exactly as the caseledger binary does, so that the tests can SIGKILL
// it, fill or freeze its disk, and hold connections to it open, and see
// what a client sees. The harness here starts, stops and talks to such
// processes; each test file holds one kind of fault.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api/identity"
	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
)

// asBinaryEnv makes the test binary run as caseledger (see TestMain).
const asBinaryEnv = "CASELEDGER_TEST_AS_BINARY"

func TestMain(m *testing.M) {
	if os.Getenv(asBinaryEnv) == "1" {
		main() // exits
	}
	os.Exit(m.Run())
}

// Generous bounds for a loaded two-core machine running the race detector;
// a test waits this long for what normally takes a fraction of it.
const (
	startTimeout = 90 * time.Second
	stopTimeout  = 60 * time.Second
	pollTimeout  = 60 * time.Second
)

// childEnv is the environment of a caseledger process: the test's own,
// without any CASELEDGER_ setting that could point it elsewhere, with the
// test master key.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CASELEDGER_") {
			env = append(env, kv)
		}
	}
	return append(env, asBinaryEnv+"=1", envMasterKey+"="+withMasterKey()[envMasterKey])
}

// proc is a caseledger process.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	out  *procOutput
	base string // http://host:port once it serves
	done chan struct{}
}

// procOutput keeps what a process writes and learns from its log where it
// listens.
type procOutput struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	scanned int
	serving chan string
}

func (o *procOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	for {
		rest := o.buf.Bytes()[o.scanned:]
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		o.scanned += i + 1
		var line struct{ Msg, Addr string }
		if json.Unmarshal(rest[:i], &line) == nil && line.Msg == "serving" {
			select {
			case o.serving <- line.Addr:
			default:
			}
		}
	}
	return len(p), nil
}

func (o *procOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// startServe starts "caseledger serve" on dataDir, on a port of its own
// choosing, and returns once it listens. The process is killed when the
// test ends if it still runs, and a data race it reported fails the test.
func startServe(t *testing.T, dataDir string, args ...string) *proc {
	t.Helper()
	out := &procOutput{serving: make(chan string, 1)}
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--data", dataDir, "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, out: out, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if strings.Contains(out.String(), "DATA RACE") {
			t.Errorf("the server reported a data race:\n%s", out)
		}
	})
	select {
	case addr := <-out.serving:
		p.base = "http://" + addr
	case <-p.done:
		t.Fatalf("serve ended before it listened (%s):\n%s", cmd.ProcessState, out)
	case <-time.After(startTimeout):
		t.Fatalf("serve did not listen within %s:\n%s", startTimeout, out)
	}
	return p
}

// startReady starts serve and waits until /readyz passes.
func startReady(t *testing.T, dataDir string, args ...string) *proc {
	t.Helper()
	p := startServe(t, dataDir, args...)
	p.waitReady(t, true)
	return p
}

// waitReady polls /readyz until it answers 200 (want true) or 503.
func (p *proc) waitReady(t *testing.T, want bool) string {
	t.Helper()
	wantStatus := http.StatusOK
	if !want {
		wantStatus = http.StatusServiceUnavailable
	}
	c := newClient(p)
	var last reply
	deadline := time.Now().Add(pollTimeout)
	for {
		last = c.do(http.MethodGet, "/readyz", "", nil, "")
		if last.status == wantStatus || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if last.status != wantStatus {
		t.Fatalf("/readyz answers %d (%v) after %s, want %d: %s\n%s", last.status, last.err, pollTimeout, wantStatus, last.body, p.out)
	}
	return string(last.body)
}

// stop sends SIGTERM and requires a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		t.Fatalf("serve did not stop within %s of SIGTERM:\n%s", stopTimeout, p.out)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("serve exited with %d after SIGTERM:\n%s", code, p.out)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
}

// runCommand runs a caseledger command to its end.
func runCommand(t *testing.T, args ...string) (code int, output string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = childEnv()
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("caseledger %s: %v\n%s", args[0], err, out)
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

func newClient(p *proc) *client {
	return &client{base: p.base, http: &http.Client{Timeout: pollTimeout}}
}

// problemType is the code of a problem+json body, "" if it is none.
func (r reply) problemType() string {
	var p struct{ Type string }
	if json.Unmarshal(r.body, &p) != nil {
		return ""
	}
	return strings.TrimPrefix(p.Type, "https://caseledger.invalid/problems/")
}

func (r reply) String() string {
	if r.err != nil {
		return "no answer: " + r.err.Error()
	}
	return fmt.Sprintf("%d %s", r.status, bytes.TrimSpace(r.body))
}

// The office, programme and people of the fault tests. National ids are
// synthetic (domain.SyntheticNationalID).
const (
	faultOffice    = "oslo"
	faultProgramme = "hope-oslo"
)

type tokens struct {
	admin, lead string
	issuer      *identity.LocalIssuer
}

// tokensFor mints tokens with the local issuer key the server made in
// dataDir.
func tokensFor(t *testing.T, dataDir string) tokens {
	t.Helper()
	issuer, err := identity.OpenLocalIssuer(context.Background(), dataDir, identity.Config{})
	if err != nil {
		t.Fatal(err)
	}
	tk := tokens{issuer: issuer}
	tk.admin = tk.mint(t, identity.Identity{UserID: "adm-1", Role: identity.Admin})
	tk.lead = tk.mint(t, identity.Identity{UserID: "lead-1", Role: identity.TeamLead, Office: faultOffice})
	return tk
}

func (tk tokens) mint(t *testing.T, id identity.Identity) string {
	t.Helper()
	tok, err := tk.issuer.Mint(id, 4*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (tk tokens) caseworker(t *testing.T, user string) string {
	return tk.mint(t, identity.Identity{UserID: user, Role: identity.Caseworker, Office: faultOffice})
}

// defineProgramme defines the fault tests' programme.
func defineProgramme(t *testing.T, c *client, tk tokens) {
	t.Helper()
	r := c.do(http.MethodPost, "/v1/programmes", tk.admin, map[string]string{"Idempotency-Key": "programme"},
		`{"slug":"`+faultProgramme+`","name":"Hope Oslo"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("define the programme: %s", r)
	}
}

// startFaultServer starts a server on dataDir with the fault tests'
// programme defined, and gives a client of it, the tokens and a
// caseworker's token.
func startFaultServer(t *testing.T, dataDir string, args ...string) (*proc, *client, tokens, string) {
	t.Helper()
	srv := startReady(t, dataDir, args...)
	c := newClient(srv)
	tk := tokensFor(t, dataDir)
	defineProgramme(t, c, tk)
	return srv, c, tk, tk.caseworker(t, "cw-1")
}

// ack sends w and fails the test unless the server acknowledges it.
func ack(t *testing.T, c *client, w *write) {
	t.Helper()
	if r := w.send(c); !w.acked {
		t.Fatalf("write %s: %s", w.key, r)
	}
}

// faultToday is the business date the server works in.
func faultToday() domain.Date {
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		panic(err) // the tz database ships with Go (time/tzdata is not needed on Linux)
	}
	return domain.DateIn(time.Now(), oslo)
}

// write is one write a test sent, and what it got.
type write struct {
	token, path, key, body string
	participant            uuid.UUID
	kind                   string      // the event type the write records
	on                     domain.Date // the date it names

	acked  bool
	status int
	result casework.Result
	etag   string
	logPos string
}

// send sends w and records its outcome: acked on 2xx. It returns the reply.
func (w *write) send(c *client) reply {
	r := c.do(http.MethodPost, w.path, w.token, map[string]string{"Idempotency-Key": w.key}, w.body)
	if r.err == nil && r.status/100 == 2 {
		var res casework.Result
		if err := json.Unmarshal(r.body, &res); err == nil {
			w.acked, w.status, w.result = true, r.status, res
			w.etag, w.logPos = r.header.Get("ETag"), r.header.Get("Log-Position")
		}
	}
	return r
}

// enrolWrite enrols a new participant; n makes its national id unique.
func enrolWrite(t *testing.T, token string, n int, enrolledOn domain.Date) *write {
	t.Helper()
	birth := domain.Date{}
	var nid string
	for i := 0; nid == ""; i++ {
		b, err := domain.NewDate(1960+n%40, time.Month(1+n%12), 1+n%28)
		if err != nil {
			t.Fatal(err)
		}
		birth = b
		if i > 400 {
			t.Fatalf("no synthetic national id for %s", birth)
		}
		nid, _ = domain.SyntheticNationalID(birth, (n*7+i)%500)
	}
	cmd := domain.EnrolCommand{
		Programme: faultProgramme, Office: faultOffice, EnrolledOn: enrolledOn,
		ReferralSource: domain.ReferralSources()[0],
		Profile: domain.Profile{
			BirthYear: birth.Year(), Gender: domain.Genders()[n%len(domain.Genders())], RegionOfBirth: domain.RegionsOfBirth()[0],
			IncomeSource: domain.IncomeSources()[0], NorwegianLevel: domain.NorwegianLevels()[0], EducationLevel: domain.EducationLevels()[0],
		},
		Personal: &domain.EnrolmentPersonal{Name: fmt.Sprintf("Synthetic Person %d", n), NationalID: nid},
	}
	return &write{token: token, path: "/v1/participants", key: fmt.Sprintf("enrol-%d", n), body: mustJSON(t, cmd),
		kind: domain.TypeParticipantEnrolled, on: enrolledOn}
}

// participantID is the participant an acknowledged enrolment made.
func (w *write) participantID(t *testing.T) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(strings.TrimPrefix(w.result.Stream, domain.ParticipantStreamPrefix))
	if err != nil {
		t.Fatalf("enrolment wrote to %q", w.result.Stream)
	}
	return id
}

func meetingWrite(t *testing.T, token string, id uuid.UUID, key string, on domain.Date) *write {
	t.Helper()
	cmd := domain.RecordMeetingCommand{Date: on, Kind: domain.MeetingKinds()[0], NextMeetingOn: on.AddDays(7),
		Personal: &domain.MeetingPersonal{Minutes: "synthetic minutes " + key}}
	return &write{token: token, path: "/v1/participants/" + id.String() + "/meetings", key: key, body: mustJSON(t, cmd),
		participant: id, kind: domain.TypeMeetingHeld, on: on}
}

func scoreWrite(t *testing.T, token string, id uuid.UUID, key string, on domain.Date) *write {
	t.Helper()
	cmd := domain.RecordScoreCommand{Date: on, Timepoint: domain.TimepointBaseline, Instrument: domain.InstrumentIndicatorIndex,
		InstrumentVersion: 1, Scores: domain.Scores{Hope: 4, WellBeing: 5, Network: 3, WorkAttachment: 2}}
	return &write{token: token, path: "/v1/participants/" + id.String() + "/scores", key: key, body: mustJSON(t, cmd),
		participant: id, kind: domain.TypeIndicatorScored, on: on}
}

// checkLog checks the log of store against the writes a test sent: every
// acknowledged write's events are where its answer said (positions,
// stream, revisions, event ids, ETag and Log-Position), and the
// participants' streams hold nothing else, so no write is there twice.
func checkLog(t *testing.T, store eventstore.Store, writes []*write) {
	t.Helper()
	all, err := store.ReadAll(context.Background(), eventstore.ReadAllOptions{})
	if err != nil {
		t.Fatal(err)
	}
	byPos := make(map[uint64]eventstore.RecordedEvent, len(all))
	for _, ev := range all {
		byPos[ev.Position] = ev
	}
	mine := map[uuid.UUID]bool{}
	for _, w := range writes {
		if !w.acked {
			continue
		}
		res := w.result
		if w.etag != strconv.Quote(strconv.FormatUint(res.Revision, 10)) || w.logPos != strconv.FormatUint(res.Position, 10) {
			t.Errorf("write %s: ETag %s and Log-Position %s disagree with its body %+v", w.key, w.etag, w.logPos, res)
		}
		if len(res.EventIDs) == 0 {
			t.Errorf("write %s: acknowledged without event ids", w.key)
			continue
		}
		// The write's events are the last len(EventIDs) revisions up to
		// res.Revision; their positions ascend to res.Position.
		evs, err := store.ReadStream(context.Background(), res.Stream, eventstore.ReadStreamOptions{From: res.Revision, Backwards: true, Limit: len(res.EventIDs)})
		if err != nil || len(evs) != len(res.EventIDs) {
			t.Errorf("write %s: acknowledged at %s@%d, the store has %d of its events (%v)", w.key, res.Stream, res.Revision, len(evs), err)
			continue
		}
		slices.Reverse(evs)
		for i, ev := range evs {
			if ev.ID != res.EventIDs[i] || byPos[ev.Position].ID != ev.ID {
				t.Errorf("write %s: event %d is %s at position %d, acknowledged %s", w.key, i, ev.ID, ev.Position, res.EventIDs[i])
			}
			mine[ev.ID] = true
		}
		if last := evs[len(evs)-1]; last.Position != res.Position || last.Type != w.kind {
			t.Errorf("write %s: last event %s at position %d, acknowledged %s at %d", w.key, last.Type, last.Position, w.kind, res.Position)
		}
	}
	for _, ev := range all {
		if strings.HasPrefix(ev.Stream, domain.ParticipantStreamPrefix) && !mine[ev.ID] {
			t.Errorf("position %d (%s of %s) belongs to no acknowledged write: a write stored twice, or one the test never sent", ev.Position, ev.Type, ev.Stream)
		}
	}
}

// caseloadView is the office's whole caseload as a team lead reads it,
// page by page, and each participant's own view: the read models a
// restarted or rebuilt server must agree on.
type caseloadView struct {
	today        string
	rows         []json.RawMessage
	total        int
	counts       json.RawMessage
	participants map[string]string // id -> GET /v1/participants/{id}
}

// readCaseload reads every page of the office's caseload once the read
// model has reached minPosition, and every listed participant's view.
func readCaseload(t *testing.T, c *client, tk tokens, minPosition uint64) caseloadView {
	t.Helper()
	v := caseloadView{participants: map[string]string{}}
	cursor := ""
	for page := 0; ; page++ {
		q := "/v1/caseload?limit=7&min_position=" + strconv.FormatUint(minPosition, 10)
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		r := c.do(http.MethodGet, q, tk.lead, nil, "")
		if r.status != http.StatusOK {
			t.Fatalf("caseload page %d: %s", page, r)
		}
		var p struct {
			Rows       []json.RawMessage `json:"rows"`
			NextCursor string            `json:"next_cursor"`
			Total      int               `json:"total"`
			Counts     json.RawMessage   `json:"counts"`
			Today      string            `json:"today"`
		}
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
		v.rows = append(v.rows, p.Rows...)
		v.total, v.counts, v.today = p.Total, p.Counts, p.Today
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if len(v.rows) != v.total {
		t.Fatalf("the caseload's pages hold %d rows, its total says %d", len(v.rows), v.total)
	}
	for _, row := range v.rows {
		var id struct{ ID string }
		if err := json.Unmarshal(row, &id); err != nil {
			t.Fatal(err)
		}
		r := c.do(http.MethodGet, "/v1/participants/"+id.ID, tk.lead, nil, "")
		if r.status != http.StatusOK {
			t.Fatalf("participant %s: %s", id.ID, r)
		}
		v.participants[id.ID] = string(r.body)
	}
	return v
}

// sameCaseload compares two readings of the read models. Only the date
// they were read on may differ; when it does, nothing is compared (the
// figures that count days would differ), which happens only at midnight.
func sameCaseload(t *testing.T, what string, a, b caseloadView) {
	t.Helper()
	if a.today != b.today {
		t.Logf("%s: read on %s and on %s; not compared", what, a.today, b.today)
		return
	}
	if a.total != b.total || !bytes.Equal(a.counts, b.counts) {
		t.Errorf("%s: %d rows with counts %s, against %d with %s", what, a.total, a.counts, b.total, b.counts)
	}
	for i := range min(len(a.rows), len(b.rows)) {
		if !bytes.Equal(a.rows[i], b.rows[i]) {
			t.Errorf("%s: row %d differs:\n%s\n%s", what, i, a.rows[i], b.rows[i])
		}
	}
	for id, view := range a.participants {
		if b.participants[id] != view {
			t.Errorf("%s: participant %s differs:\n%s\n%s", what, id, view, b.participants[id])
		}
	}
}

// maxPosition is the highest log position the acknowledged writes name.
func maxPosition(writes []*write) uint64 {
	var m uint64
	for _, w := range writes {
		if w.acked {
			m = max(m, w.result.Position)
		}
	}
	return m
}
