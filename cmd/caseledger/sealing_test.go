package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api/identity"
	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/personaldata"
)

// Markers written into public members, which a test finds in the store's
// file and alters; and one in personal data, which must never be there.
const (
	programmeMarker = "Programme-Marker-QX7J"
	employerMarker  = "Employer-Marker-ZK4W"
	personalMarker  = "Personal-Marker-VB2N"
)

// ledger is a data directory as serve leaves it: a programme defined
// twice, an employer registered and updated, and two participants with
// personal data, all written through the command handler under the test
// master key of withMasterKey.
type ledger struct {
	dir          string
	participants [2]uuid.UUID
	// first holds, by stream, the first event of the programme and the
	// employer, which the markers are in.
	first map[string]eventstore.RecordedEvent
}

func newLedger(t *testing.T) ledger {
	t.Helper()
	ctx := context.Background()
	l := ledger{dir: t.TempDir(), participants: [2]uuid.UUID{uuid.New(), uuid.New()}, first: map[string]eventstore.RecordedEvent{}}
	master, err := personaldata.ParseMasterKey(withMasterKey()[envMasterKey])
	if err != nil {
		t.Fatal(err)
	}
	store, err := openStore(ctx, filepath.Join(l.dir, storeFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	keys, err := openKeyring(ctx, l.dir, master)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := casework.New(store, casework.Options{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	write := func(stream string, role, office string, evs ...domain.Event) {
		t.Helper()
		for _, e := range evs {
			_, err := svc.Execute(ctx, stream, casework.Request{Actor: domain.Actor{UserID: "u-" + role, Role: role, Office: office}, CorrelationID: uuid.New()},
				func([]domain.Recorded, domain.Date) ([]domain.Event, error) { return []domain.Event{e}, nil })
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	programme := domain.ProgrammeStream("hope-oslo")
	write(programme, "admin", "",
		domain.ProgrammeDefined{Slug: "hope-oslo", Name: programmeMarker},
		domain.ProgrammeDefined{Slug: "hope-oslo", Name: "Hope Oslo"})
	employer := domain.EmployerStream(casework.EmployerID("974760673"))
	write(employer, "admin", "",
		domain.EmployerRegistered{OrganisationNumber: "974760673", Name: employerMarker, IndustryCode: "88.990", Municipality: "0301",
			Personal: &domain.EmployerPersonal{ContactName: "Test Contact"}},
		domain.EmployerUpdated{Name: "Test Employer AS", IndustryCode: "88.990", Municipality: "0301"})
	day, _ := domain.ParseDate("2026-03-02")
	for _, id := range l.participants {
		write(domain.ParticipantStream(id), "caseworker", "oslo",
			domain.ParticipantEnrolled{Episode: 1, Programme: "hope-oslo", Office: "oslo", EnrolledOn: day,
				ReferralSource: domain.ReferralWelfareOffice, Profile: domain.Profile{BirthYear: 1990, Gender: domain.Genders()[0]},
				Personal: &domain.EnrolmentPersonal{Name: "Test Person"}},
			domain.MeetingHeld{Date: day.AddDays(3), Kind: domain.MeetingGuidance, Personal: &domain.MeetingPersonal{Minutes: personalMarker}})
	}
	for _, s := range []string{programme, employer} {
		evs, err := store.ReadStream(ctx, s, eventstore.ReadStreamOptions{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		l.first[s] = evs[0]
	}
	return l
}

func (l ledger) keyFile(id uuid.UUID) string {
	return filepath.Join(l.dir, keysDir, personaldata.KeyID(domain.ParticipantStream(id))+".key")
}

// vars is the environment of a command run by operator op-1.
func (l ledger) vars() map[string]string {
	v := withMasterKey()
	v["USER"] = "op-1"
	return v
}

var headsLine = regexp.MustCompile(`(?m)^heads digest: ([0-9a-f]{64})$`)

// verify runs verify and returns its heads digest; it must pass.
func (l ledger) verify(t *testing.T) string {
	t.Helper()
	code, out, errOut := invoke(t, nil, "verify", "--data", l.dir)
	if code != 0 || !strings.Contains(out, "every link holds") {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errOut)
	}
	m := headsLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("verify prints no heads digest:\n%s", out)
	}
	return m[1]
}

func exists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Stat(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

func request(t *testing.T, method, url, token string, hdr map[string]string, body string) (int, string) {
	t.Helper()
	r := (&client{http: http.DefaultClient}).do(method, url, token, hdr, body)
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.status, string(r.body)
}

// The whole way of an erasure: verify, erase from the command line, erase
// over HTTP on a restarted server, verify again; what is left is read by
// a server and by the command handler after each restart.
func TestEraseAndVerifyEndToEnd(t *testing.T) {
	ctx := context.Background()
	l := newLedger(t)
	before := l.verify(t)
	erased, kept := l.participants[0], l.participants[1]

	code, out, errOut := invoke(t, l.vars(), "erase", "--participant", erased.String(),
		"--basis", "consent_withdrawn", "--requested-by", "participant", "--data", l.dir)
	if code != 0 || !strings.Contains(out, "erased the personal data of participant "+erased.String()) {
		t.Fatalf("erase: exit %d\n%s%s", code, out, errOut)
	}
	if exists(t, l.keyFile(erased)) {
		t.Fatal("the erased participant's data key survived")
	}
	if !exists(t, l.keyFile(kept)) {
		t.Fatal("another participant's data key was destroyed")
	}
	// Again: nothing more to do, and it says so.
	code, out, errOut = invoke(t, l.vars(), "erase", "--participant", erased.String(),
		"--basis", "consent_withdrawn", "--requested-by", "participant", "--data", l.dir)
	if code != 0 || !strings.Contains(out, "erased already") {
		t.Fatalf("second erase: exit %d\n%s%s", code, out, errOut)
	}
	if after := l.verify(t); after == before {
		t.Fatal("the heads digest did not change with the erasure event")
	}

	// A server on the same directory shows the erasure; it erases the other
	// participant over HTTP.
	s := startServer(t, "serve", "--data", l.dir)
	issuer, err := identity.OpenLocalIssuer(ctx, l.dir, identity.Config{})
	if err != nil {
		t.Fatal(err)
	}
	auditor, _ := issuer.Mint(identity.Identity{UserID: "a-1", Role: identity.Auditor}, time.Hour)
	admin, _ := issuer.Mint(identity.Identity{UserID: "adm-1", Role: identity.Admin}, time.Hour)
	base := "http://" + s.addr + "/v1/participants/"
	purpose := map[string]string{"Purpose": "erasure test"}

	status, body := request(t, http.MethodGet, base+erased.String(), auditor, purpose, "")
	if status != 200 || !strings.Contains(body, `"erased":true`) || strings.Contains(body, "Test Person") || strings.Contains(body, personalMarker) {
		t.Fatalf("GET erased participant: %d %s", status, body)
	}
	status, body = request(t, http.MethodGet, base+kept.String(), auditor, purpose, "")
	if status != 200 || !strings.Contains(body, "Test Person") {
		t.Fatalf("GET the other participant: %d %s", status, body)
	}
	status, body = request(t, http.MethodDelete, base+kept.String()+"/personal-data", admin, nil,
		`{"date":"`+time.Now().Format(time.DateOnly)+`","legal_basis":"retention_expired","requested_by":"controller"}`)
	if status != 200 || !strings.Contains(body, `"revision":2`) {
		t.Fatalf("DELETE personal data: %d %s", status, body)
	}
	if exists(t, l.keyFile(kept)) {
		t.Fatal("the data key survived the erasure over HTTP")
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	l.verify(t)

	// After the restarts, the command handler reads what is left: who did
	// what and when, the public facts, no personal data.
	store, err := openStore(ctx, filepath.Join(l.dir, storeFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	master, _ := personaldata.ParseMasterKey(withMasterKey()[envMasterKey])
	keys, err := openKeyring(ctx, l.dir, master)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := casework.New(store, casework.Options{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	for id, by := range map[uuid.UUID]domain.Actor{erased: {UserID: "op-1", Role: operatorRole}, kept: {UserID: "adm-1", Role: "admin"}} {
		h, _, err := svc.Load(ctx, domain.ParticipantStream(id))
		if err != nil {
			t.Fatal(err)
		}
		p := domain.FoldParticipant(h)
		if !p.Erased || p.Personal != nil || p.Meetings[0].Personal != nil || p.Episodes[0].Profile.BirthYear != 1990 {
			t.Fatalf("participant %s after erasure: %+v", id, p)
		}
		if len(h) != 3 || h[0].Meta.Actor.UserID != "u-caseworker" || h[2].Meta.Actor != by {
			t.Fatalf("participant %s: %d events, by %+v and %+v", id, len(h), h[0].Meta.Actor, h[len(h)-1].Meta.Actor)
		}
	}
	raw, err := os.ReadFile(filepath.Join(l.dir, storeFile))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(personalMarker)) || bytes.Contains(raw, []byte("Test Person")) {
		t.Fatal("personal data in clear in the store's file")
	}
}

// One byte of one stored event is altered inside the store's file, as
// someone with the file in hand could; verify names that event.
func TestVerifyNamesATamperedEvent(t *testing.T) {
	for _, tt := range []struct {
		name, marker, stream string
	}{
		{"a programme's first definition", programmeMarker, domain.ProgrammeStream("hope-oslo")},
		{"an employer's registration", employerMarker, domain.EmployerStream(casework.EmployerID("974760673"))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := newLedger(t)
			path := filepath.Join(l.dir, storeFile)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// bbolt copies pages on write, so stale copies of the record may
			// sit in free pages too: alter every copy.
			n := bytes.Count(b, []byte(tt.marker))
			if n == 0 {
				t.Fatal("marker not found in the store's file")
			}
			altered := bytes.ReplaceAll(b, []byte(tt.marker), []byte(strings.Replace(tt.marker, "Marker", "Markes", 1)))
			if err := os.WriteFile(path, altered, 0o600); err != nil {
				t.Fatal(err)
			}

			code, out, errOut := invoke(t, nil, "verify", "--data", l.dir)
			ev := l.first[tt.stream]
			named := tt.stream + " revision 0 (event " + ev.ID.String() + ", position " + itoa(ev.Position) + ")"
			if code != 1 || !strings.Contains(out, "BROKEN "+named) || strings.Count(out, "BROKEN") != 1 {
				t.Fatalf("verify: exit %d, want 1 naming %s:\n%s", code, named, out)
			}
			if strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tt.stream+" revision 0 (event "+ev.ID.String()) {
				t.Fatalf("stderr %q, want one line naming the event", errOut)
			}
			if !headsLine.MatchString(out) {
				t.Fatalf("no heads digest:\n%s", out)
			}
		})
	}
}

func itoa(u uint64) string {
	b, _ := json.Marshal(u)
	return string(b)
}

func TestServeRefusesToStartWithoutItsMasterKey(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "master.key")
	if err := os.WriteFile(keyFile, []byte(withMasterKey()[envMasterKey]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A data directory whose keys another master key wrapped.
	wrapped := newLedger(t).dir
	other, _ := personaldata.GenerateMasterKey()

	tests := []struct {
		name string
		vars map[string]string
		args []string
		code int
		want string
	}{
		{"no master key", nil, nil, 2, "no master key: set CASELEDGER_MASTER_KEY"},
		{"given twice", withMasterKey(), []string{"--master-key-file", keyFile}, 2, "given twice"},
		{"not a key", map[string]string{envMasterKey: "secret"}, nil, 2, "CASELEDGER_MASTER_KEY: invalid master key"},
		{"a key file that is not there", nil, []string{"--master-key-file", filepath.Join(dir, "missing")}, 1, "master key file"},
		{"the wrong master key", map[string]string{envMasterKey: other.Encode(), "CASELEDGER_DATA": wrapped}, nil, 1, "did not wrap the data keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			args := append([]string{"serve", "--addr", "127.0.0.1:0"}, tt.args...)
			if tt.vars["CASELEDGER_DATA"] == "" {
				args = append(args, "--data", data)
			}
			code, out, errOut := invoke(t, tt.vars, args...)
			if code != tt.code || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and one line with %q", code, out, errOut, tt.code, tt.want)
			}
			if strings.Contains(errOut, other.Encode()) || strings.Contains(errOut, withMasterKey()[envMasterKey]) {
				t.Fatal("the error shows a key")
			}
			if exists(t, filepath.Join(data, storeFile)) {
				t.Fatal("an event store was created by a server that did not start")
			}
		})
	}
}

func TestServeReadsTheMasterKeyFile(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "master.key")
	if err := os.WriteFile(keyFile, []byte(withMasterKey()[envMasterKey]+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(keyFile, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan string, 1)
	errOut := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- runWith(ctx, &env{getenv: environ(nil), stdout: io.Discard, stderr: errOut, listening: func(a string) { addrs <- a }},
			[]string{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--master-key-file", keyFile})
	}()
	select {
	case <-addrs:
	case err := <-done:
		t.Fatalf("serve: %v\n%s", err, errOut)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && !strings.Contains(errOut.String(), "chmod 600") {
		t.Errorf("no warning about a key file others may read:\n%s", errOut)
	}
	master, _ := personaldata.ParseMasterKey(withMasterKey()[envMasterKey])
	if !strings.Contains(errOut.String(), master.ID()) || strings.Contains(errOut.String(), master.Encode()) {
		t.Errorf("the log names the master key by id only:\n%s", errOut)
	}
}

func TestDemoMakesItsOwnMasterKey(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, "demo", "--data", dir, "--participants", "5")
	keyFile := filepath.Join(dir, demoMasterKeyFile)
	if !strings.Contains(s.stdout.String(), "made for this demo now: "+keyFile+" (mode 0600)") {
		t.Fatalf("the demo does not say it made a master key:\n%s", s.stdout)
	}
	info, err := os.Stat(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
		t.Errorf("master key file mode %o, want 600", info.Mode().Perm())
	}
	first, _ := os.ReadFile(keyFile)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	s = startServer(t, "demo", "--data", dir, "--participants", "5")
	if !strings.Contains(s.stdout.String(), "sealed under the demo's master key: "+keyFile) {
		t.Fatalf("second start:\n%s", s.stdout)
	}
	if again, _ := os.ReadFile(keyFile); !bytes.Equal(again, first) {
		t.Fatal("the demo's master key changed between starts")
	}
}

func TestEraseAndVerifyRefuse(t *testing.T) {
	l := newLedger(t)
	id := l.participants[0].String()
	erase := func(extra ...string) []string {
		return append([]string{"erase", "--data", l.dir, "--participant", id, "--basis", "objection", "--requested-by", "representative"}, extra...)
	}
	tests := []struct {
		name string
		vars map[string]string
		args []string
		code int
		want string
	}{
		{"erase without a participant", l.vars(), []string{"erase", "--data", l.dir, "--basis", "objection", "--requested-by", "participant"}, 2, "missing --participant"},
		{"erase with a malformed id", l.vars(), []string{"erase", "--data", l.dir, "--participant", strings.ToUpper(id), "--basis", "objection", "--requested-by", "participant"}, 2, "not a participant id"},
		{"erase without a basis", l.vars(), []string{"erase", "--data", l.dir, "--participant", id, "--requested-by", "participant"}, 2, "missing --basis"},
		{"erase on an unknown basis", l.vars(), []string{"erase", "--data", l.dir, "--participant", id, "--basis", "whim", "--requested-by", "participant"}, 2, `--basis "whim" is not one of`},
		{"erase for an unknown requester", l.vars(), []string{"erase", "--data", l.dir, "--participant", id, "--basis", "objection", "--requested-by", "neighbour"}, 2, "--requested-by"},
		{"erase on a bad date", l.vars(), erase("--date", "2026-02-30"), 2, "--date"},
		{"erase in the future", l.vars(), erase("--date", "2999-01-01"), 1, "must not be after today"},
		{"erase without a master key", map[string]string{"USER": "op-1"}, erase(), 2, "no master key"},
		{"erase without an operator", withMasterKey(), erase(), 2, "--operator"},
		{"erase an unknown participant", l.vars(), []string{"erase", "--data", l.dir, "--participant", uuid.NewString(), "--basis", "objection", "--requested-by", "participant"}, 1, "no participant"},
		{"erase where there is no store", l.vars(), []string{"erase", "--data", t.TempDir(), "--participant", id, "--basis", "objection", "--requested-by", "participant"}, 1, "no event store"},
		{"verify where there is no store", nil, []string{"verify", "--data", t.TempDir()}, 1, "no event store"},
		{"verify with a page size of 0", nil, []string{"verify", "--data", l.dir, "--page-size", "0"}, 2, "--page-size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := invoke(t, tt.vars, tt.args...)
			if code != tt.code || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and one line with %q\n%s", code, errOut, tt.code, tt.want, out)
			}
		})
	}
	if !exists(t, l.keyFile(l.participants[0])) {
		t.Fatal("a refused erasure destroyed the key")
	}
	l.verify(t)
}
