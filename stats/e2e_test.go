package stats_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/bolt"
	"github.com/caseledger/caseledger/stats"
)

func day(t *testing.T, s string) domain.Date {
	t.Helper()
	d, err := domain.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// appendEvent writes one event as the store keeps it (no personal member)
// and returns its id and position.
func appendEvent(t *testing.T, store eventstore.Store, stream string, e domain.Event) (uuid.UUID, uint64) {
	t.Helper()
	typ, data, err := domain.EncodeEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	meta := domain.NewMetadata(e, domain.Actor{UserID: "u1", Role: "caseworker", Office: "oslo"},
		time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC), time.UTC, uuid.New(), uuid.Nil)
	mb, err := domain.EncodeMetadata(meta)
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.New()
	res, err := store.Append(context.Background(), stream, eventstore.Any, eventstore.EventData{ID: id, Type: typ, Data: data, Metadata: mb})
	if err != nil {
		t.Fatal(err)
	}
	return id, res.Position
}

func openStore(t *testing.T) eventstore.Store {
	t.Helper()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "events.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return store
}

// A correction recorded after a report was published leaves the report at
// the old known_at byte for byte as it was, and changes it at the new one.
func TestCorrectionAfterReport(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	appendEvent(t, store, domain.ProgrammeStream("hope-oslo"), domain.ProgrammeDefined{Slug: "hope-oslo", Name: "Hope Oslo",
		Targets: []domain.Target{{Measure: domain.MeasureJobWithin183d, Rate: 0.6}}})
	stream := domain.ParticipantStream(uuid.New())
	appendEvent(t, store, stream, domain.ParticipantEnrolled{Episode: 1, Programme: "hope-oslo", Office: "oslo",
		EnrolledOn: day(t, "2025-01-06"), ReferralSource: domain.ReferralSelf,
		Profile: domain.Profile{BirthYear: 1990, Gender: domain.GenderFemale, RegionOfBirth: domain.RegionAfrica,
			IncomeSource: domain.IncomeSocialAssistance, NorwegianLevel: "b1", EducationLevel: "upper_secondary"}})
	start := domain.PlacementStarted{PlacementID: uuid.New(), Kind: domain.PlacementOrdinaryJob,
		StartedOn: day(t, "2025-03-01"), HoursPercentage: 60, Contract: domain.Contract("temporary")}
	placementID, published := appendEvent(t, store, stream, start)

	req := stats.Request{Cohort: stats.Cohort{Programme: "hope-oslo"}, AsOf: day(t, "2026-01-01"),
		KnownAt: audit.KnownAt{Position: published}, K: 1}
	first := body(t, ctx, store, req)
	if !strings.Contains(first, `"job_within_183d":{"numerator":1,"denominator":1,"rate":1.000000`) {
		t.Fatalf("before the correction: %s", first)
	}

	later := start
	later.StartedOn = day(t, "2025-09-01") // 238 days after enrolment
	_, head := appendEvent(t, store, stream, domain.EntryCorrected{EntryID: placementID,
		Reason: domain.CorrectionReasons()[0], Replacement: later})

	if again := body(t, ctx, store, req); again != first {
		t.Errorf("the report at the old known_at changed:\n%s\n%s", first, again)
	}
	req.KnownAt = audit.KnownAt{Position: head}
	now := body(t, ctx, store, req)
	if !strings.Contains(now, `"job_within_183d":{"numerator":0,"denominator":1,"rate":0.000000`) {
		t.Errorf("after the correction: %s", now)
	}
	if !strings.Contains(now, `"target":0.600000,"meets_target":false`) {
		t.Errorf("target: %s", now)
	}
}

func body(t *testing.T, ctx context.Context, store eventstore.Store, req stats.Request) string {
	t.Helper()
	r, err := stats.Compute(ctx, store, req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := stats.EncodeJSON(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
