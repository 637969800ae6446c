package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/api/identity"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
)

func statsDay(t *testing.T, s string) domain.Date {
	t.Helper()
	d, err := domain.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func statsAppend(t *testing.T, store eventstore.Store, stream string, e domain.Event) {
	t.Helper()
	typ, data, err := domain.EncodeEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := domain.EncodeMetadata(domain.NewMetadata(e, domain.Actor{UserID: "u1", Role: "caseworker", Office: "oslo"},
		time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC), time.UTC, uuid.New(), uuid.Nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(context.Background(), stream, eventstore.Any,
		eventstore.EventData{ID: uuid.New(), Type: typ, Data: data, Metadata: mb}); err != nil {
		t.Fatal(err)
	}
}

// caseledger stats writes, byte for byte, what GET /v1/stats/outcomes
// answers an evaluator for the same request, in JSON, in CSV and in HTML.
func TestStatsMatchesAPI(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store := openDataStore(t, dir)
	for i := range 12 {
		enrolled := statsDay(t, "2025-01-06").AddDays(7 * i)
		stream := statsEnrol(t, store, "oslo", enrolled)
		statsAppend(t, store, stream, domain.MeetingHeld{Date: enrolled.AddDays(3), Kind: domain.MeetingKinds()[0]})
		if i%2 == 0 {
			statsJob(t, store, stream, enrolled.AddDays(30+10*i))
		}
	}
	register := func(a *api.API) { api.RegisterStats(a, store, api.StatsOptions{}) }
	h, token := evaluatorAPI(t, register)
	served := httptest.NewServer(h)
	defer served.Close()
	for format, start := range map[string]string{"json": "{", "csv": "figure,value\n", "html": "<!DOCTYPE html>\n"} {
		resp := statsGet(t, served.URL+"/v1/stats/outcomes?programme=hope-oslo&as_of=2026-01-01&k=5&format="+format, token)
		if !bytes.HasPrefix(resp, []byte(start)) {
			t.Errorf("%s: the API answered %.100s", format, resp)
		}
		var out bytes.Buffer
		// The embedded store is one process's at a time: the server's
		// handle is closed for the command, then opened again.
		if err := store.Close(); err != nil {
			t.Fatal(err)
		}
		if err := run(ctx, []string{"stats", "--data", dir, "--programme", "hope-oslo", "--as-of", "2026-01-01", "--k", "5", "--format", format},
			func(string) string { return "" }, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), resp) {
			t.Errorf("%s: the command and the API differ:\n%s\n%s", format, out.Bytes(), resp)
		}
		store = openDataStore(t, dir)
		h, token = evaluatorAPI(t, register)
		served.Config.Handler = h
	}
	_ = store.Close()
}

// statsEnrol enrols a new participant of hope-oslo at office on enrolled,
// and returns their stream.
func statsEnrol(t *testing.T, store eventstore.Store, office string, enrolled domain.Date) string {
	t.Helper()
	stream := domain.ParticipantStream(uuid.New())
	statsAppend(t, store, stream, domain.ParticipantEnrolled{Episode: 1, Programme: "hope-oslo", Office: office,
		EnrolledOn: enrolled, ReferralSource: domain.ReferralSelf,
		Profile: domain.Profile{BirthYear: 1990, Gender: domain.GenderFemale, RegionOfBirth: domain.RegionAsia,
			IncomeSource: domain.IncomeSocialAssistance}})
	return stream
}

// statsJob starts an ordinary job on the stream's participant.
func statsJob(t *testing.T, store eventstore.Store, stream string, on domain.Date) {
	t.Helper()
	statsAppend(t, store, stream, domain.PlacementStarted{PlacementID: uuid.New(), Kind: domain.PlacementOrdinaryJob,
		StartedOn: on, HoursPercentage: 50})
}

// evaluatorAPI serves the routes register adds, and gives an evaluator's
// token for them.
func evaluatorAPI(t *testing.T, register func(*api.API)) (http.Handler, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := identity.NewLocalIssuer(key, identity.Config{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := api.New(api.Config{Verifier: issuer.Verifier()})
	if err != nil {
		t.Fatal(err)
	}
	register(a)
	token, err := issuer.Mint(identity.Identity{UserID: "u-eva", Role: identity.Evaluator}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return a, token
}

func statsGet(t *testing.T, url, token string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b
}
