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
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/api/identity"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/bolt"
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
	store, err := bolt.Open(filepath.Join(dir, storeFile), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		stream := domain.ParticipantStream(uuid.New())
		enrolled := statsDay(t, "2025-01-06").AddDays(7 * i)
		statsAppend(t, store, stream, domain.ParticipantEnrolled{Episode: 1, Programme: "hope-oslo", Office: "oslo",
			EnrolledOn: enrolled, ReferralSource: domain.ReferralSelf,
			Profile: domain.Profile{BirthYear: 1990, Gender: domain.GenderFemale, RegionOfBirth: domain.RegionAsia,
				IncomeSource: domain.IncomeSocialAssistance}})
		statsAppend(t, store, stream, domain.MeetingHeld{Date: enrolled.AddDays(3), Kind: domain.MeetingKinds()[0]})
		if i%2 == 0 {
			statsAppend(t, store, stream, domain.PlacementStarted{PlacementID: uuid.New(), Kind: domain.PlacementOrdinaryJob,
				StartedOn: enrolled.AddDays(30 + 10*i), HoursPercentage: 50})
		}
	}
	h, token := statsAPI(t, store)
	served := httptest.NewServer(h)
	defer served.Close()
	for format, start := range map[string]string{"json": "{", "csv": "figure,value\n", "html": "<!DOCTYPE html>\n"} {
		resp := statsGet(t, served.URL+"/v1/stats/outcomes?programme=hope-oslo&as_of=2026-01-01&k=3&format="+format, token)
		if !bytes.HasPrefix(resp, []byte(start)) {
			t.Errorf("%s: the API answered %.100s", format, resp)
		}
		var out bytes.Buffer
		// The embedded store is one process's at a time: the server's
		// handle is closed for the command, then opened again.
		if err := store.Close(); err != nil {
			t.Fatal(err)
		}
		if err := run(ctx, []string{"stats", "--data", dir, "--programme", "hope-oslo", "--as-of", "2026-01-01", "--k", "3", "--format", format},
			func(string) string { return "" }, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), resp) {
			t.Errorf("%s: the command and the API differ:\n%s\n%s", format, out.Bytes(), resp)
		}
		if store, err = bolt.Open(filepath.Join(dir, storeFile), bolt.Options{}); err != nil {
			t.Fatal(err)
		}
		h, token = statsAPI(t, store)
		served.Config.Handler = h
	}
	_ = store.Close()
}

// statsAPI serves the statistics of store, and gives an evaluator's token.
func statsAPI(t *testing.T, store eventstore.Store) (http.Handler, string) {
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
	api.RegisterStats(a, store, api.StatsOptions{})
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
