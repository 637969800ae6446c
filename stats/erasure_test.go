package stats_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/stats"
)

// Erasure takes a person's data out of reach and leaves the statistics as
// they were: a report over a seeded population gives the same measures
// before and after several participants' personal data are erased.
func TestErasureLeavesTheMeasuresUnchanged(t *testing.T) {
	ctx := context.Background()
	store, svc := seeded(t, 60, 7)
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
		erase(t, svc, ev)
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
