package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api/identity"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore/esdb/esdbtest"
)

// Two API processes on one EventStoreDB (the in-process server stands in
// for the cluster) share the data keys through one data directory, as a
// shared volume would: both accept writes, and each reads what the other
// wrote. The chain verifies through the same connection string.
func TestTwoServersOnOneEventStoreDB(t *testing.T) {
	ctx := context.Background()
	es := esdbtest.New(t, esdbtest.Options{})
	dir := t.TempDir()
	a := startServer(t, "serve", "--data", dir, "--store", es.ConnectionString())
	b := startServer(t, "serve", "--data", dir, "--store", es.ConnectionString())

	issuer, err := identity.OpenLocalIssuer(ctx, dir, identity.Config{})
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := issuer.Mint(identity.Identity{UserID: "adm-1", Role: identity.Admin}, time.Hour)
	worker, _ := issuer.Mint(identity.Identity{UserID: "cw-1", Role: identity.Caseworker, Office: "oslo"}, time.Hour)

	oslo, _ := time.LoadLocation("Europe/Oslo")
	today := domain.DateIn(time.Now(), oslo)
	birth, _ := domain.NewDate(1990, time.April, 12)
	nid, err := domain.SyntheticNationalID(birth, 123)
	if err != nil {
		t.Fatal(err)
	}
	enrol := domain.EnrolCommand{
		Programme: "hope-oslo", Office: "oslo", EnrolledOn: today.AddDays(-7),
		ReferralSource: domain.ReferralSources()[0],
		Profile: domain.Profile{
			BirthYear: 1990, Gender: domain.Genders()[0], RegionOfBirth: domain.RegionsOfBirth()[0],
			IncomeSource: domain.IncomeSources()[0], NorwegianLevel: domain.NorwegianLevels()[0], EducationLevel: domain.EducationLevels()[0],
		},
		Personal: &domain.EnrolmentPersonal{Name: "Test Person", NationalID: nid},
	}
	meeting := domain.RecordMeetingCommand{Date: today.AddDays(-1), Kind: domain.MeetingKinds()[0]}

	status, body := request(t, http.MethodPost, "http://"+a.addr+"/v1/programmes", admin, nil, `{"slug":"hope-oslo","name":"Hope Oslo"}`)
	if status != http.StatusCreated {
		t.Fatalf("define programme on a: %d %s", status, body)
	}
	status, body = request(t, http.MethodPost, "http://"+b.addr+"/v1/participants", worker, nil, mustJSON(t, enrol))
	if status != http.StatusCreated {
		t.Fatalf("enrol on b (programme defined on a): %d %s", status, body)
	}
	var written struct{ Stream string }
	if err := json.Unmarshal([]byte(body), &written); err != nil {
		t.Fatal(err)
	}
	id := strings.TrimPrefix(written.Stream, domain.ParticipantStreamPrefix)
	status, body = request(t, http.MethodPost, "http://"+a.addr+"/v1/participants/"+id+"/meetings", worker, nil, mustJSON(t, meeting))
	if status != http.StatusOK {
		t.Fatalf("meeting on a for a participant enrolled on b: %d %s", status, body)
	}
	var met struct{ Position uint64 }
	if err := json.Unmarshal([]byte(body), &met); err != nil {
		t.Fatal(err)
	}
	lead, _ := issuer.Mint(identity.Identity{UserID: "lead-1", Role: identity.TeamLead, Office: "oslo"}, time.Hour)
	for name, s := range map[string]*server{"a": a, "b": b} {
		status, body = request(t, http.MethodGet, "http://"+s.addr+"/v1/participants/"+id, worker, nil, "")
		if status != http.StatusOK || !strings.Contains(body, `"name":"Test Person"`) || !strings.Contains(body, `"kind":"`+string(meeting.Kind)+`"`) {
			t.Fatalf("GET on %s: %d %s", name, status, body)
		}
		// Each process's own read model, fed by its own subscription,
		// holds the participant with the meeting the other process wrote.
		status, body = request(t, http.MethodGet, "http://"+s.addr+"/v1/caseload?min_position="+strconv.FormatUint(met.Position, 10), lead, nil, "")
		if status != http.StatusOK || !strings.Contains(body, `"id":"`+id+`"`) || !strings.Contains(body, `"last_contact":"`+meeting.Date.String()+`"`) {
			t.Fatalf("caseload on %s: %d %s", name, status, body)
		}
	}
	for _, s := range []*server{a, b} {
		if err := s.stop(); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := invoke(t, nil, "verify", "--data", dir, "--store", es.ConnectionString())
	if code != 0 || !strings.Contains(out, "every link holds") {
		t.Fatalf("verify through EventStoreDB: exit %d\n%s%s", code, out, errOut)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// While EventStoreDB is unreachable, a write fails fast with 503 and stores
// nothing; once it is back, the same request goes through.
func TestServeAnswers503WhileEventStoreDBIsDown(t *testing.T) {
	ctx := context.Background()
	es := esdbtest.New(t, esdbtest.Options{})
	dir := t.TempDir()
	s := startServer(t, "serve", "--data", dir, "--store", es.ConnectionString())
	issuer, err := identity.OpenLocalIssuer(ctx, dir, identity.Config{})
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := issuer.Mint(identity.Identity{UserID: "adm-1", Role: identity.Admin}, time.Hour)
	define := func(slug string) (int, string, time.Duration) {
		began := time.Now()
		status, body := request(t, http.MethodPost, "http://"+s.addr+"/v1/programmes", admin, nil, `{"slug":"`+slug+`","name":"Hope"}`)
		return status, body, time.Since(began)
	}
	if status, body, _ := define("hope-before"); status != http.StatusCreated {
		t.Fatalf("with the server up: %d %s", status, body)
	}

	es.Stop()
	status, body, took := define("hope-during")
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "unavailable") {
		t.Fatalf("with the server down: %d %s", status, body)
	}
	// "Fast" is generous here (the machine is shared); the adapter's own
	// tests pin its deadlines.
	if took > 20*time.Second {
		t.Errorf("the refusal took %s", took)
	}

	if err := es.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, body, _ = define("hope-after")
		if status == http.StatusCreated || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if status != http.StatusCreated {
		t.Fatalf("after the server returned: %d %s", status, body)
	}
	// The refused write stored nothing.
	worker, _ := issuer.Mint(identity.Identity{UserID: "cw-1", Role: identity.Caseworker, Office: "oslo"}, time.Hour)
	if status, _ := request(t, http.MethodGet, "http://"+s.addr+"/v1/programmes/hope-during", worker, nil, ""); status != http.StatusNotFound {
		t.Fatalf("the programme written while the server was down: %d, want 404", status)
	}
}
