package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/api/identity"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore/bolt"
)

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

// caseledger compare writes, byte for byte, what GET /v1/stats/comparison
// answers an evaluator for the same request, in JSON and in CSV; a bad
// flag is named.
func TestCompareMatchesAPI(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := bolt.Open(filepath.Join(dir, storeFile), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		stream := domain.ParticipantStream(uuid.New())
		enrolled := statsDay(t, "2025-01-06").AddDays(5 * i)
		statsAppend(t, store, stream, domain.ParticipantEnrolled{Episode: 1, Programme: "hope-oslo", Office: []string{"oslo", "bergen"}[i%2],
			EnrolledOn: enrolled, ReferralSource: domain.ReferralSelf,
			Profile: domain.Profile{BirthYear: 1990, Gender: domain.GenderFemale, RegionOfBirth: domain.RegionAsia,
				IncomeSource: domain.IncomeSocialAssistance}})
		if i%3 != 0 {
			statsAppend(t, store, stream, domain.PlacementStarted{PlacementID: uuid.New(), Kind: domain.PlacementOrdinaryJob,
				StartedOn: enrolled.AddDays(30 + i), HoursPercentage: 50})
		}
	}
	served := httptest.NewServer(nil)
	defer served.Close()
	for _, format := range []string{"json", "csv"} {
		h, token := evaluatorAPI(t, func(a *api.API) { api.RegisterComparison(a, store, api.StatsOptions{}) })
		served.Config.Handler = h
		resp := statsGet(t, served.URL+"/v1/stats/comparison?a.office=oslo&b.office=bergen&as_of=2026-01-01&k=3&format="+format, token)
		if !bytes.Contains(resp, []byte("job_within_183d")) {
			t.Fatalf("%s: %s", format, resp)
		}
		// The embedded store is one process's at a time.
		if err := store.Close(); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := run(ctx, []string{"compare", "--data", dir, "--a.office", "oslo", "--b.office", "bergen", "--as-of", "2026-01-01",
			"--k", "3", "--format", format}, func(string) string { return "" }, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), resp) {
			t.Errorf("%s: the command and the API differ:\n%s\n%s", format, out.Bytes(), resp)
		}
		if store, err = bolt.Open(filepath.Join(dir, storeFile), bolt.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	_ = store.Close()

	err = run(ctx, []string{"compare", "--data", dir, "--a.gender", "x"}, func(string) string { return "" }, io.Discard, io.Discard)
	var ue *usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--a.gender") {
		t.Errorf("a bad --a.gender: %v", err)
	}
}
