package caseload_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/bolt"
	"github.com/caseledger/caseledger/eventstore/storetest"
	"github.com/caseledger/caseledger/projections"
	"github.com/caseledger/caseledger/projections/caseload"
)

// The benchmarks use a synthetic population written straight to the store
// (no sealing: personal members are left out, which the projection skips
// anyway), about 17 events per participant, shaped like the demo data's.
// CASELEDGER_BENCH_PARTICIPANTS sets the population (default 20,000; the
// figures in docs/performance.md use 100,000).

// history is one synthetic participant's events.
func history(tb testing.TB, i int, office string) []eventstore.EventData {
	tb.Helper()
	base := d(tb, "2025-01-06").AddDays(i % 300)
	on := func(n int) domain.Date { return base.AddDays(n) }
	goal, placement, employer := uuid.New(), uuid.New(), uuid.New()
	evs := []domain.Event{
		domain.ParticipantEnrolled{Episode: 1, Programme: "hope-bergen", Office: office, EnrolledOn: on(0),
			ReferralSource: domain.ReferralSources()[0],
			Profile: domain.Profile{BirthYear: 1990, Gender: domain.Genders()[0], RegionOfBirth: domain.RegionsOfBirth()[0],
				IncomeSource: domain.IncomeSources()[0], NorwegianLevel: domain.NorwegianLevels()[0], EducationLevel: domain.EducationLevels()[0]}},
		domain.CaseworkerAssigned{UserID: fmt.Sprintf("u-%d", i%40), Role: domain.CaseworkerRoles()[0], Date: on(0)},
		domain.CaseworkerAssigned{UserID: fmt.Sprintf("u-s%d", i%25), Role: domain.CaseworkerRoles()[1], Date: on(0)},
		domain.ConsentGiven{Scope: domain.ConsentProcessing, Date: on(0)},
		domain.ConsentGiven{Scope: domain.ConsentEmployerDisclosure, Date: on(1)},
		domain.IndicatorScored{Date: on(3), Timepoint: domain.TimepointBaseline, Instrument: domain.InstrumentIndicatorIndex,
			InstrumentVersion: 1, Scores: domain.Scores{Hope: 4, WellBeing: 5, Network: 3, WorkAttachment: 2}},
		domain.GoalSet{GoalID: goal, Area: domain.AreaWork, Date: on(7), TargetDate: on(180)},
		domain.GoalSet{GoalID: uuid.New(), ParentGoalID: goal, Area: domain.GoalAreas()[1], Date: on(7)},
	}
	for m := range 6 {
		evs = append(evs, domain.MeetingHeld{Date: on(7 + 14*m), Kind: domain.MeetingGuidance, NextMeetingOn: on(21 + 14*m)})
	}
	evs = append(evs,
		domain.EmployerContacted{EmployerID: employer, Date: on(40), Purpose: domain.ContactPurposes()[0]},
		domain.PlacementStarted{PlacementID: placement, Kind: domain.PlacementWorkPractice, EmployerID: employer, StartedOn: on(60), HoursPercentage: 50},
		domain.PlacementChanged{PlacementID: placement, Date: on(75), HoursPercentage: 60},
		domain.IncomeSourceChanged{Date: on(75), IncomeSource: domain.IncomeSources()[1]},
	)
	out := make([]eventstore.EventData, len(evs))
	actor := domain.Actor{UserID: "u-1", Role: "caseworker", Office: office}
	for j, ev := range evs {
		typ, data, err := domain.EncodeEvent(ev)
		if err != nil {
			tb.Fatal(err)
		}
		meta, err := domain.EncodeMetadata(domain.NewMetadata(ev, actor, time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC), time.UTC, uuid.New(), uuid.Nil))
		if err != nil {
			tb.Fatal(err)
		}
		out[j] = eventstore.EventData{ID: uuid.New(), Type: typ, ContentType: "application/json", Data: data, Metadata: meta}
	}
	return out
}

func office(i int) string { return fmt.Sprintf("office-%02d", i%20) }

// populate writes n participants to a new store in dir.
func populate(b *testing.B, dir string, n int) *bolt.Store {
	b.Helper()
	store, err := bolt.Open(filepath.Join(dir, "events.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	storetest.Populate(b, store, n, func(int) string { return domain.ParticipantStream(uuid.New()) },
		func(i int) []eventstore.EventData { return history(b, i, office(i)) })
	return store
}

// BenchmarkRebuild rebuilds the caseload from the start of the log, end to
// end (store reads, decoding, folding, the snapshot), and in the same run
// decodes the same events with the decoder the model uses (JSON v2 into
// the row's payload) on one goroutine, reporting both rates and their
// ratio.
func BenchmarkRebuild(b *testing.B) {
	n := storetest.BenchParticipants(b, 20_000)
	dir := b.TempDir()
	store := populate(b, dir, n)
	defer store.Close()
	all, err := store.ReadAll(context.Background(), eventstore.ReadAllOptions{})
	if err != nil {
		b.Fatal(err)
	}
	events := len(all)

	// The decoder alone, single goroutine.
	prev := runtime.GOMAXPROCS(1)
	start := time.Now()
	for _, ev := range all {
		if err := caseload.DecodePayload(ev.Data); err != nil {
			b.Fatal(err)
		}
	}
	decodeRate := float64(events) / time.Since(start).Seconds()
	runtime.GOMAXPROCS(prev)
	all = nil

	b.ResetTimer()
	var rebuild time.Duration
	for range b.N {
		model := caseload.New(store)
		r, err := projections.New(store, projections.Options{Dir: filepath.Join(dir, "projections")}, model)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := r.Rebuild(context.Background(), nil); err != nil {
			b.Fatal(err)
		}
		rebuild += time.Since(start)
		if model.Len() != n {
			b.Fatalf("model holds %d participants, want %d", model.Len(), n)
		}
	}
	rate := float64(events*b.N) / rebuild.Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(decodeRate, "decoder-1core-events/s")
	b.ReportMetric(rate/decodeRate, "ratio")
	b.ReportMetric(float64(events), "events")
}

// loaded is a model holding n participants, folded directly.
func loaded(tb testing.TB, n int) *caseload.Model {
	tb.Helper()
	m := caseload.New(nil)
	pos := uint64(0)
	for i := range n {
		stream := domain.ParticipantStream(uuid.New())
		for j, ev := range history(tb, i, office(i)) {
			pos++
			if err := m.Apply(context.Background(), eventstore.RecordedEvent{ID: ev.ID, Stream: stream, Revision: uint64(j),
				Position: pos, Type: ev.Type, Data: ev.Data}); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return m
}

// BenchmarkCaseloadQuery lists the first page of an office of 5,000
// participants (100,000 in the model) and reports the 99th percentile.
func BenchmarkCaseloadQuery(b *testing.B) {
	m := loaded(b, 100_000) // office(i) spreads them over 20 offices: 5,000 each
	today := d(b, "2026-05-15")
	for _, bc := range []struct {
		name string
		q    caseload.Query
	}{
		{"office", caseload.Query{Scope: caseload.Scope{Office: "office-03"}}},
		{"office-flag-filter", caseload.Query{Scope: caseload.Scope{Office: "office-03"}, Flags: []caseload.Flag{caseload.FlagMidwayDue}, Sort: caseload.SortNextMeeting}},
		{"caseworker", caseload.Query{Scope: caseload.Scope{Office: "office-03", Caseworker: "u-3"}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			q := bc.q
			q.Today = today
			if p, err := m.List(q); err != nil || p.Counts.Total == 0 {
				b.Fatalf("%+v %v", p.Counts, err)
			}
			durations := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if _, err := m.List(q); err != nil {
					b.Fatal(err)
				}
				durations = append(durations, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(durations)
			p99 := durations[min(len(durations)-1, len(durations)*99/100)]
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
		})
	}
}

// BenchmarkMemoryPerParticipant measures the heap the model holds per
// participant.
func BenchmarkMemoryPerParticipant(b *testing.B) {
	const n = 100_000
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m := loaded(b, n)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/participant")
		runtime.KeepAlive(m)
	}
}

// BenchmarkRestore measures the start of a restarted process: loading the
// snapshot of a model of 100,000 participants.
func BenchmarkRestore(b *testing.B) {
	m := loaded(b, 100_000)
	path := filepath.Join(b.TempDir(), "snap")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := m.Snapshot(f); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.ResetTimer()
	for range b.N {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		m2 := caseload.New(nil)
		if err := m2.Restore(f); err != nil {
			b.Fatal(err)
		}
		f.Close()
		if m2.Len() != 100_000 {
			b.Fatal(m2.Len())
		}
	}
}
