package stats_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/personaldata/keystoretest"
	"github.com/caseledger/caseledger/seed"
	"github.com/caseledger/caseledger/stats"
)

// Erasure takes a person's data out of reach and leaves the statistics as
// they were: a report over a seeded population gives the same measures
// before and after several participants' personal data are erased.
func TestErasureLeavesTheMeasuresUnchanged(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store := openStore(t)
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	svc, err := casework.New(store, casework.Options{Now: func() time.Time { return now }, Keys: keystoretest.Keyring(t, dir)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Run(ctx, svc, seed.Config{Participants: 60, Seed: 7}, io.Discard); err != nil {
		t.Fatal(err)
	}
	req := stats.Request{AsOf: svc.Today(), K: 1}
	measures := func() (string, int) {
		t.Helper()
		r, err := stats.Compute(ctx, store, req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(r.Measures)
		if err != nil {
			t.Fatal(err)
		}
		return string(b), r.EventsUsed
	}
	before, usedBefore := measures()

	// Erase the first participants who still have personal data.
	evs, err := store.ReadAll(ctx, eventstore.ReadAllOptions{})
	if err != nil {
		t.Fatal(err)
	}
	erased := map[string]bool{}
	for _, ev := range evs {
		if ev.Type != domain.TypeParticipantEnrolled || erased[ev.Stream] || len(erased) == 5 {
			continue
		}
		h, _, err := svc.Load(ctx, ev.Stream)
		if err != nil {
			t.Fatal(err)
		}
		if domain.FoldParticipant(h).Erased {
			continue
		}
		_, err = svc.Execute(ctx, ev.Stream, casework.Request{Actor: domain.Actor{UserID: "adm-1", Role: "admin"}, CorrelationID: ev.ID},
			func(h []domain.Recorded, today domain.Date) ([]domain.Event, error) {
				return domain.ErasePersonalData(domain.FoldParticipant(h), domain.ErasePersonalDataCommand{
					Date: today, LegalBasis: domain.ErasureBases()[0], RequestedBy: domain.Requesters()[0]}, today)
			})
		if err != nil {
			t.Fatal(err)
		}
		erased[ev.Stream] = true
	}
	if len(erased) != 5 {
		t.Fatalf("erased %d participants, want 5", len(erased))
	}

	after, usedAfter := measures()
	if usedAfter <= usedBefore {
		t.Fatalf("the report used %d events after the erasures, %d before: the erasure events are not in it", usedAfter, usedBefore)
	}
	if !strings.Contains(before, `"numerator":`) || strings.Count(before, `"suppressed":true`) > 0 {
		t.Fatalf("the population gives no figures to compare: %s", before)
	}
	if after != before {
		t.Fatalf("the measures changed with the erasures:\nbefore %s\nafter  %s", before, after)
	}
}
