//go:build unix

package stats_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/bolt"
	"github.com/caseledger/caseledger/eventstore/storetest"
	"github.com/caseledger/caseledger/projections"
	"github.com/caseledger/caseledger/stats"
)

// The benchmarks use synthetic participants shaped like the demo data's
// (about 55 events each: weekly to fortnightly meetings for months, a
// placement for most, income changes, scores, goals, employer contacts,
// an exit for most, the odd pause, correction and void), one episode
// each, written without sealing: personal members are left out, which
// the model skips anyway. Histories are made from benchTemplates distinct
// ones, each participant its own stream, so that a population of 100,000
// builds in seconds rather than through a 12-minute seed.
//
// CASELEDGER_BENCH_PARTICIPANTS sets the population of the bolt store of
// BenchmarkRecomputeAtKnownAt (default 20,000).

const (
	benchTemplates    = 4096
	benchParticipants = 100_000
)

// benchToday is the day the synthetic life-cycles end on.
func benchToday(tb testing.TB) domain.Date {
	tb.Helper()
	d, err := domain.ParseDate("2026-11-20")
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// benchStream is participant i's stream; templateOf finds i in it.
func benchStream(i int) string {
	var id uuid.UUID
	binary.BigEndian.PutUint64(id[8:], uint64(i))
	id[6], id[8] = 0x40|id[6]&0x0f, 0x80|id[8]&0x3f // a version-4 shape
	// Spread the streams over the name order, as random ids are.
	binary.BigEndian.PutUint32(id[:4], uint32(i)*2654435761)
	return domain.ParticipantStream(id)
}

// templates are the distinct histories, encoded once.
type templates [][]eventstore.EventData

func newTemplates(tb testing.TB) templates {
	out := make(templates, benchTemplates)
	for i := range out {
		out[i] = synthetic(tb, i)
	}
	return out
}

// of is participant i's history.
func (ts templates) of(i int) []eventstore.EventData { return ts[i%len(ts)] }

// ReadStream serves participant streams from the templates: a model
// folds a stream again from it after a correction or void.
func (ts templates) ReadStream(_ context.Context, stream string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	id, err := domain.ParseParticipantStream(stream)
	if err != nil {
		return nil, err
	}
	i := int(binary.BigEndian.Uint64(id[8:]) &^ (0xc0 << 56))
	h := ts.of(i)
	if opts.Limit > 0 {
		h = h[:min(len(h), opts.Limit)]
	}
	out := make([]eventstore.RecordedEvent, len(h))
	for j, ev := range h {
		out[j] = eventstore.RecordedEvent{ID: ev.ID, Stream: stream, Revision: uint64(j), Type: ev.Type, Data: ev.Data, Metadata: ev.Metadata}
	}
	return out, nil
}

// synthetic is history number n.
func synthetic(tb testing.TB, n int) []eventstore.EventData {
	tb.Helper()
	r := rand.New(rand.NewPCG(uint64(n), 42))
	pick := func(k int) int { return r.IntN(k) }
	today := benchToday(tb)
	enrolled := today.AddDays(-pick(3 * 365))
	on := func(d int) domain.Date { return enrolled.AddDays(d) }
	length := 60 + pick(640)
	end := min(length, today.DaysSince(enrolled))
	exited := length <= today.DaysSince(enrolled)
	programmes := []string{"hope-bergen", "hope-oslo", "ips-trondheim", "ips-oslo", "work-first-stavanger"}
	profile := domain.Profile{BirthYear: 1960 + pick(45), Gender: domain.Genders()[pick(len(domain.Genders()))],
		RegionOfBirth:  domain.RegionsOfBirth()[pick(len(domain.RegionsOfBirth()))],
		IncomeSource:   domain.IncomeSources()[pick(len(domain.IncomeSources()))],
		NorwegianLevel: domain.NorwegianLevels()[pick(len(domain.NorwegianLevels()))], EducationLevel: domain.EducationLevels()[pick(len(domain.EducationLevels()))]}
	if pick(2) == 0 {
		profile.IncomeSource = domain.IncomeSocialAssistance
	}
	type dated struct {
		day int
		ev  domain.Event
		id  uuid.UUID
	}
	var evs []dated
	add := func(d int, ev domain.Event) uuid.UUID {
		id := uuid.New()
		evs = append(evs, dated{d, ev, id})
		return id
	}
	add(0, domain.ParticipantEnrolled{Episode: 1, Programme: programmes[n%len(programmes)], Office: fmt.Sprintf("office-%02d", n%20),
		EnrolledOn: on(0), ReferralSource: domain.ReferralSources()[pick(len(domain.ReferralSources()))], Profile: profile})
	add(0, domain.CaseworkerAssigned{UserID: fmt.Sprintf("u-%d", n%40), Role: domain.CaseworkerRoles()[0], Date: on(0)})
	add(0, domain.CaseworkerAssigned{UserID: fmt.Sprintf("u-s%d", n%25), Role: domain.CaseworkerRoles()[1], Date: on(0)})
	for _, s := range domain.ConsentScopes()[:min(3, len(domain.ConsentScopes()))] {
		add(1, domain.ConsentGiven{Scope: s, Date: on(1)})
	}
	score := func() domain.Scores {
		return domain.Scores{Hope: 1 + pick(10), WellBeing: 1 + pick(10), Network: 1 + pick(10), WorkAttachment: 1 + pick(10)}
	}
	if pick(5) > 0 && end >= 3 {
		add(3, domain.IndicatorScored{Date: on(3), Timepoint: domain.TimepointBaseline, Instrument: domain.InstrumentIndicatorIndex,
			InstrumentVersion: domain.IndicatorIndexVersion, Scores: score()})
	}
	for g := range 3 {
		if d := 7 + 60*g; d <= end {
			goal := uuid.New()
			add(d, domain.GoalSet{GoalID: goal, Area: domain.GoalAreas()[g%len(domain.GoalAreas())], Date: on(d)})
			if d+45 <= end && g < 2 {
				add(d+45, domain.GoalClosed{GoalID: goal, Outcome: domain.GoalOutcomes()[0], Date: on(d + 45)})
			}
		}
	}
	var meetings []uuid.UUID
	for d := 7 + pick(7); d <= end; d += 7 + pick(10) {
		meetings = append(meetings, add(d, domain.MeetingHeld{Date: on(d), Kind: domain.MeetingKinds()[0]}))
	}
	employer := uuid.New()
	for c := range 9 {
		if d := 20 + 25*c; d <= end {
			add(d, domain.EmployerContacted{EmployerID: employer, Date: on(d), Purpose: domain.ContactPurposes()[0]})
		}
	}
	if d := 30 + pick(250); pick(10) < 9 && d <= end {
		kinds := domain.PlacementKinds()
		kind := kinds[pick(len(kinds))]
		if pick(2) == 0 {
			kind = domain.PlacementOrdinaryJob
		}
		placement := uuid.New()
		add(d, domain.PlacementStarted{PlacementID: placement, Kind: kind, StartedOn: on(d), HoursPercentage: 50})
		if e := d + 30 + pick(300); pick(5) < 2 && e <= end {
			add(e, domain.PlacementEnded{PlacementID: placement, EndedOn: on(e), Reason: domain.PlacementEndReasons()[0]})
		}
	}
	if d := 20 + pick(300); pick(10) < 9 && d <= end {
		add(d, domain.IncomeSourceChanged{Date: on(d), IncomeSource: domain.IncomeSources()[pick(len(domain.IncomeSources()))]})
	}
	if d := 40 + pick(200); pick(12) == 0 && d+30 < end {
		resumed := d + 14 + pick(14)
		add(d, domain.ParticipationPaused{Date: on(d), Reason: domain.PauseReasons()[0]})
		add(resumed, domain.ParticipationResumed{Date: on(resumed)})
	}
	if exited {
		if pick(2) == 0 {
			add(end, domain.IndicatorScored{Date: on(end), Timepoint: domain.TimepointEnd, Instrument: domain.InstrumentIndicatorIndex,
				InstrumentVersion: domain.IndicatorIndexVersion, Scores: score()})
		}
		add(end, domain.ParticipantExited{Date: on(end), Reason: domain.ExitReasons()[pick(len(domain.ExitReasons()))],
			Destination: domain.Destinations()[pick(len(domain.Destinations()))]})
	}
	slices.SortStableFunc(evs, func(a, b dated) int { return a.day - b.day })
	if len(meetings) > 2 {
		switch pick(33) {
		case 0:
			evs = append(evs, dated{end, domain.EntryCorrected{EntryID: meetings[1], Reason: domain.CorrectionReasons()[0],
				Replacement: domain.MeetingHeld{Date: on(8), Kind: domain.MeetingKinds()[0]}}, uuid.New()})
		case 1:
			evs = append(evs, dated{end, domain.EntryVoided{EntryID: meetings[1], EntryType: domain.TypeMeetingHeld,
				Reason: domain.VoidReasons()[0]}, uuid.New()})
		}
	}
	out := make([]eventstore.EventData, len(evs))
	actor := domain.Actor{UserID: "u-1", Role: "caseworker", Office: "office-00"}
	for j, x := range evs {
		typ, data, err := domain.EncodeEvent(x.ev)
		if err != nil {
			tb.Fatal(err)
		}
		meta, err := domain.EncodeMetadata(domain.NewMetadata(x.ev, actor, time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC), time.UTC, uuid.New(), uuid.Nil))
		if err != nil {
			tb.Fatal(err)
		}
		out[j] = eventstore.EventData{ID: x.id, Type: typ, ContentType: "application/json", Data: data, Metadata: meta}
	}
	return out
}

// loadedModel is a model holding n participants, folded directly.
func loadedModel(tb testing.TB, ts templates, n int) *stats.Model {
	tb.Helper()
	m := stats.NewModel(ts)
	ctx := context.Background()
	pos := uint64(0)
	for i := range n {
		stream := benchStream(i)
		for j, ev := range ts.of(i) {
			pos++
			if err := m.Apply(ctx, eventstore.RecordedEvent{ID: ev.ID, Stream: stream, Revision: uint64(j),
				Position: pos, Type: ev.Type, Data: ev.Data, Metadata: ev.Metadata}); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return m
}

// BenchmarkReportFromModel computes whole reports from a model of 100,000
// participants (100,000 episodes) and reports the mean and the 99th
// percentile.
func BenchmarkReportFromModel(b *testing.B) {
	m := loadedModel(b, newTemplates(b), benchParticipants)
	for _, bc := range []struct {
		name   string
		cohort stats.Cohort
	}{
		{"all", stats.Cohort{}},
		{"programme", stats.Cohort{Programme: "hope-oslo"}},
		{"office", stats.Cohort{Office: "office-03"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := stats.Request{Cohort: bc.cohort, AsOf: benchToday(b), K: stats.DefaultK}
			r, err := m.Report(req)
			if err != nil || r.Measures.Enrolled.Episodes.N == 0 {
				b.Fatalf("%+v %v", r.Measures.Enrolled, err)
			}
			var durations []time.Duration
			cpu := cpuTime(b)
			for b.Loop() {
				start := time.Now()
				if _, err := m.Report(req); err != nil {
					b.Fatal(err)
				}
				durations = append(durations, time.Since(start))
			}
			cpu = cpuTime(b) - cpu
			slices.Sort(durations)
			var sum time.Duration
			for _, d := range durations {
				sum += d
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(ms(sum/time.Duration(len(durations))), "ms/report")
			b.ReportMetric(ms(durations[min(len(durations)-1, len(durations)*99/100)]), "p99-ms")
			b.ReportMetric(ms(cpu/time.Duration(len(durations))), "cpu-ms/report")
			b.ReportMetric(float64(r.Measures.Enrolled.Episodes.N), "episodes")
		})
	}
}

// BenchmarkMemoryPerParticipant measures the heap the model holds per
// participant, 100,000 of them, once a report has compacted it (as the
// first report after a start or a rebuild does).
func BenchmarkMemoryPerParticipant(b *testing.B) {
	ts := newTemplates(b)
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m := loadedModel(b, ts, benchParticipants)
		if _, err := m.Report(stats.Request{AsOf: benchToday(b)}); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/benchParticipants, "bytes/participant")
		runtime.KeepAlive(m)
	}
}

// populate writes n participants to a new bolt store in dir.
func populate(b *testing.B, dir string, ts templates, n int) *bolt.Store {
	b.Helper()
	store, err := bolt.Open(filepath.Join(dir, "events.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	storetest.Populate(b, store, n, benchStream, ts.of)
	return store
}

// BenchmarkRecomputeAtKnownAt recomputes a whole report from a bolt store
// at a past known_at (three quarters into the log) and, in the same run,
// rebuilds the outcome projection from the start of the log, reporting
// both rates and their ratio; for reference, also the rate of the
// reference fold (FromLog over ReadLog) at the same known_at.
func BenchmarkRecomputeAtKnownAt(b *testing.B) {
	n := storetest.BenchParticipants(b, 20_000)
	ctx := context.Background()
	dir := b.TempDir()
	store := populate(b, dir, newTemplates(b), n)
	defer store.Close()
	head, err := store.ReadAll(ctx, eventstore.ReadAllOptions{Backwards: true, From: eventstore.End, Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	req := stats.Request{AsOf: benchToday(b), KnownAt: audit.KnownAt{Position: head[0].Position / 4 * 3}, K: stats.DefaultK}

	var recompute, rebuild, reference time.Duration
	var read, applied int
	for b.Loop() {
		start := time.Now()
		r, err := stats.Compute(ctx, store, req)
		if err != nil {
			b.Fatal(err)
		}
		recompute += time.Since(start)
		read += r.EventsRead

		model := stats.NewModel(store)
		runner, err := projections.New(store, projections.Options{Dir: filepath.Join(dir, "projections")}, model)
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		if err := runner.Rebuild(ctx, nil); err != nil {
			b.Fatal(err)
		}
		rebuild += time.Since(start)
		applied += int(runner.Statuses()[0].Applied)

		start = time.Now()
		log, err := stats.ReadLog(ctx, store, req.KnownAt)
		if err != nil {
			b.Fatal(err)
		}
		stats.FromLog(log, req)
		reference += time.Since(start)
	}
	b.ReportMetric(float64(read)/recompute.Seconds(), "recompute-events/s")
	b.ReportMetric(float64(applied)/rebuild.Seconds(), "rebuild-events/s")
	b.ReportMetric((float64(read)/recompute.Seconds())/(float64(applied)/rebuild.Seconds()), "ratio")
	b.ReportMetric(float64(read)/reference.Seconds(), "reference-events/s")
	b.ReportMetric(float64(head[0].Position), "events")
}

// cpuTime is the CPU time the process has used, on every thread (the
// collector's included): on a machine other work shares, a report's cost
// apart from the waits the others cause.
func cpuTime(tb testing.TB) time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
