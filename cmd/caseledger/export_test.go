package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/personaldata/keystoretest"
)

// caseledger export writes, byte for byte, what GET
// /v1/exports/episodes.csv answers an evaluator for the same request, with
// the same pseudonyms (both are keyed by the installation's master key),
// and records itself in the access log as the operator who ran it.
func TestExportMatchesAPI(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store := openDataStore(t, dir)
	now := time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC)
	// The installation's keys: the master key in dir/master.key, the data
	// keys in dir/keys, where the command looks for them.
	svc, err := casework.New(store, casework.Options{Now: func() time.Time { return now }, Keys: keystoretest.Keyring(t, dir)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		stream := domain.ParticipantStream(uuid.New())
		nid := ""
		for n := 100 + 10*i; nid == ""; n++ {
			nid, _ = domain.SyntheticNationalID(statsDay(t, "1990-04-12"), n)
		}
		events := []domain.Event{domain.ParticipantEnrolled{Episode: 1, Programme: "hope-oslo", Office: "oslo",
			EnrolledOn: statsDay(t, "2026-01-05").AddDays(i), ReferralSource: domain.ReferralSelf,
			Profile:  domain.Profile{BirthYear: 1990, Gender: domain.GenderFemale, RegionOfBirth: domain.RegionAsia, IncomeSource: domain.IncomeSocialAssistance},
			Personal: &domain.EnrolmentPersonal{Name: fmt.Sprintf("Test Person %d", i), NationalID: nid}}}
		if i != 2 {
			events = append(events, domain.ConsentGiven{Scope: domain.ConsentEvaluation, Date: statsDay(t, "2026-01-20")})
		}
		if _, err := svc.Execute(ctx, stream, casework.Request{Actor: domain.Actor{UserID: "u-kari", Role: "caseworker", Office: "oslo"},
			CorrelationID: uuid.New()}, func([]domain.Recorded, domain.Date) ([]domain.Event, error) { return events, nil }); err != nil {
			t.Fatal(err)
		}
	}
	pseudonyms, err := keystoretest.Keyring(t, dir).Pseudonyms()
	if err != nil {
		t.Fatal(err)
	}
	h, token := evaluatorAPI(t, func(a *api.API) {
		api.RegisterCasework(a, svc) // the access log
		api.RegisterExport(a, store, pseudonyms, api.StatsOptions{})
	})
	served := httptest.NewServer(h)
	resp := statsGet(t, served.URL+"/v1/exports/episodes.csv?office=oslo&as_of=2026-05-01&k=5", token)
	served.Close()
	if n := bytes.Count(resp, []byte("\n")); n != 6 {
		t.Fatalf("want a header and five consented rows:\n%s", resp)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	getenv := func(string) string { return "" }
	args := []string{"export", "--data", dir, "--master-key-file", filepath.Join(dir, "master.key"), "--operator", "u-op",
		"--office", "oslo", "--as-of", "2026-05-01", "--k", "5"}
	err = run(ctx, args, getenv, io.Discard, io.Discard)
	var ue *usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--purpose") {
		t.Fatalf("without --purpose: %v", err)
	}
	var out bytes.Buffer
	if err := run(ctx, append(args, "--purpose", "impact study"), getenv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), resp) {
		t.Errorf("the command and the API differ:\n%s\n%s", out.Bytes(), resp)
	}
	err = run(ctx, []string{"export", "--data", dir, "--gender", "female"}, getenv, io.Discard, io.Discard)
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "gender") {
		t.Errorf("a profile filter: %v", err)
	}

	// Both exports are in the access log, each as who made it.
	store = openDataStore(t, dir)
	defer store.Close()
	evs, err := store.ReadAll(ctx, eventstore.ReadAllOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		if ev.Type != domain.TypeAccessRecorded {
			continue
		}
		r, err := domain.DecodeRecorded(ev.ID, ev.Stream, ev.Revision, ev.Position, ev.Type, ev.Data, ev.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		a := r.Event.(domain.AccessRecorded)
		if a.View == domain.ViewExport && a.Rows != nil {
			got = append(got, fmt.Sprintf("%s %s %s %s %d", r.Meta.Actor.UserID, a.Via, a.Purpose, a.Cohort, *a.Rows))
		}
	}
	want := []string{
		"u-eva GET /v1/exports/episodes.csv evaluation as_of=2026-05-01&k=5&office=oslo 5",
		"u-op caseledger export impact study as_of=2026-05-01&k=5&office=oslo 5",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("export records:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
