package stats_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/personaldata/keystoretest"
	"github.com/caseledger/caseledger/projections"
	"github.com/caseledger/caseledger/seed"
	"github.com/caseledger/caseledger/stats"
)

// seededPopulation is a store holding the seed's population of n
// participants (corrections and voids among their events), with the
// personal data of the first erased ones erased, and today.
func seededPopulation(t *testing.T, n, erased int) (eventstore.Store, domain.Date) {
	t.Helper()
	ctx := context.Background()
	store, svc := seeded(t, n, 3)
	evs, err := store.ReadAll(ctx, eventstore.ReadAllOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done := map[string]bool{}
	for _, ev := range evs {
		if ev.Type != domain.TypeParticipantEnrolled || done[ev.Stream] || len(done) == erased {
			continue
		}
		erase(t, svc, ev)
		done[ev.Stream] = true
	}
	return store, svc.Today()
}

// seeded is a store holding the seed's population of n participants, made
// with seed, and the service that wrote it, whose clock stands at
// 2026-11-20 12:00 UTC.
func seeded(t *testing.T, n int, seedNo uint64) (eventstore.Store, *casework.Service) {
	t.Helper()
	store := openStore(t)
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	svc, err := casework.New(store, casework.Options{Now: func() time.Time { return now }, Keys: keystoretest.Keyring(t, t.TempDir())})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Run(context.Background(), svc, seed.Config{Participants: n, Seed: seedNo}, io.Discard); err != nil {
		t.Fatal(err)
	}
	return store, svc
}

// erase erases the personal data of the participant of ev's stream, as an
// admin, in ev's id as correlation id.
func erase(t *testing.T, svc *casework.Service, ev eventstore.RecordedEvent) {
	t.Helper()
	_, err := svc.Execute(context.Background(), ev.Stream, casework.Request{Actor: domain.Actor{UserID: "adm-1", Role: "admin"}, CorrelationID: ev.ID},
		func(h []domain.Recorded, today domain.Date) ([]domain.Event, error) {
			return domain.ErasePersonalData(domain.FoldParticipant(h), domain.ErasePersonalDataCommand{
				Date: today, LegalBasis: domain.ErasureBases()[0], RequestedBy: domain.Requesters()[0]}, today)
		})
	if err != nil {
		t.Fatal(err)
	}
}

// typesIn counts the events of the log by type.
func typesIn(t *testing.T, store eventstore.Store) (map[string]int, []eventstore.RecordedEvent) {
	t.Helper()
	evs, err := store.ReadAll(context.Background(), eventstore.ReadAllOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, ev := range evs {
		n[ev.Type]++
	}
	return n, evs
}

// requests are reports over cohorts of the population in log, as of
// several dates and with several thresholds.
func requests(log stats.Log, today domain.Date) []stats.Request {
	eps := log.Episodes(today)
	first, last := eps[0], eps[len(eps)-1]
	cohorts := []stats.Cohort{
		{},
		{Programme: first.Programme},
		{Programme: last.Programme, Office: last.Office},
		{Office: first.Office},
		{Gender: first.Profile.Gender},
		{RegionOfBirth: last.Profile.RegionOfBirth, IncomeSource: last.Profile.IncomeSource},
		{IncomeSource: domain.IncomeSocialAssistance},
		{EnrolledFrom: today.AddDays(-700), EnrolledTo: today.AddDays(-200)},
		{Programme: "no-such-programme"},
	}
	var out []stats.Request
	for i, c := range cohorts {
		for _, asOf := range []domain.Date{today, today.AddDays(-150), today.AddDays(-500)} {
			out = append(out, stats.Request{Cohort: c, AsOf: asOf, K: 1 + 4*(i%2)})
		}
	}
	return out
}

func encoded(t *testing.T, r stats.Report) []byte {
	t.Helper()
	b, err := stats.EncodeJSON(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The read model, built as the server builds it (by the projection runner,
// through a snapshot and a restart), answers every report with the bytes
// the reference fold of the whole log (FromLog over ReadLog) gives at the
// same position, on a seeded population with corrections, voids and
// erasures; and a recompute at a past known_at gives what the reference
// gives there.
func TestModelReportsAsTheLog(t *testing.T) {
	ctx := context.Background()
	store, today := seededPopulation(t, 80, 3)
	types, evs := typesIn(t, store)
	for _, typ := range []string{domain.TypeEntryCorrected, domain.TypeEntryVoided, domain.TypePersonalDataErased, domain.TypeParticipationPaused} {
		if types[typ] == 0 {
			t.Fatalf("the population has no %s event: %v", typ, types)
		}
	}

	dir := t.TempDir()
	built := stats.NewModel(store)
	r, err := projections.New(store, projections.Options{Dir: dir}, built)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Rebuild(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// A restarted server's model comes from the snapshot.
	model := stats.NewModel(store)
	if r, err = projections.New(store, projections.Options{Dir: dir}, model); err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); r.Run(rctx) }()
	head := evs[len(evs)-1].Position
	if err := r.WaitFor(ctx, head); err != nil {
		t.Fatal(err)
	}
	stop()
	<-done
	if s := r.Statuses()[0]; s.Restored != head || model.Position() != head {
		t.Fatalf("the model was not restored from its snapshot at %d: %+v, position %d", head, s, model.Position())
	}
	if bad, err := model.FoldDisagreements(ctx, store); err != nil || len(bad) > 0 {
		t.Fatalf("the fold event by event and the domain's fold disagree on %v (%v)", bad, err)
	}

	log, err := stats.ReadLog(ctx, store, audit.KnownAt{})
	if err != nil {
		t.Fatal(err)
	}
	reqs := requests(log, today)
	// As a large population is read: in runs side by side.
	model.ScanInRuns(7, 3)
	for _, req := range reqs {
		want := encoded(t, stats.FromLog(log, req))
		got, err := model.Report(req)
		if err != nil {
			t.Fatal(err)
		}
		if b := encoded(t, got); !bytes.Equal(b, want) {
			t.Fatalf("%+v: the model's report differs from the log's:\nmodel %s\nlog   %s", req, b, want)
		}
		if got.EventsUsed == 0 && req.Cohort.Programme != "no-such-programme" {
			t.Fatalf("%+v: no events used", req)
		}
	}
	for _, req := range reqs[:3] {
		again, err := stats.Compute(ctx, store, req)
		if err != nil {
			t.Fatal(err)
		}
		if b, want := encoded(t, again), encoded(t, stats.FromLog(log, req)); !bytes.Equal(b, want) {
			t.Fatalf("%+v: the recompute differs from the reference:\nrecompute %s\nreference %s", req, b, want)
		}
	}
	if bytes.Equal(encoded(t, mustReport(t, model, reqs[0])), encoded(t, mustReport(t, model, reqs[2]))) {
		t.Fatal("two requests gave the same report: the comparison proves nothing")
	}

	// At past positions: just before and at the first correction, void and
	// erasure, and halfway.
	past := []uint64{head / 2}
	seen := map[string]bool{}
	for _, ev := range evs {
		switch ev.Type {
		case domain.TypeEntryCorrected, domain.TypeEntryVoided, domain.TypePersonalDataErased:
			if !seen[ev.Type] {
				past = append(past, ev.Position-1, ev.Position)
			}
			seen[ev.Type] = true
		}
	}
	for _, pos := range past {
		then, err := stats.ReadLog(ctx, store, audit.KnownAt{Position: pos})
		if err != nil {
			t.Fatal(err)
		}
		for _, req := range []stats.Request{reqs[0], reqs[4]} {
			req.KnownAt = audit.KnownAt{Position: pos}
			want := encoded(t, stats.FromLog(then, req))
			got, err := stats.Compute(ctx, store, req)
			if err != nil {
				t.Fatal(err)
			}
			if b := encoded(t, got); !bytes.Equal(b, want) {
				t.Fatalf("known_at %d, %+v: the recompute differs from the reference:\nrecompute %s\nreference %s", pos, req, b, want)
			}
			if _, err := model.Report(req); pos < head && !errors.Is(err, stats.ErrPastKnownAt) {
				t.Fatalf("known_at %d: the model at %d answered: %v", pos, head, err)
			}
		}
	}
}

func mustReport(t *testing.T, m *stats.Model, req stats.Request) stats.Report {
	t.Helper()
	r, err := m.Report(req)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// countingLog counts the reads of the log forwards: a recompute's.
type countingLog struct {
	stats.LogReader
	forward atomic.Int64
}

func (c *countingLog) ReadAll(ctx context.Context, opts eventstore.ReadAllOptions) ([]eventstore.RecordedEvent, error) {
	if !opts.Backwards {
		c.forward.Add(1)
	}
	return c.LogReader.ReadAll(ctx, opts)
}

// waiterFunc is a stats.Waiter.
type waiterFunc func(ctx context.Context, position uint64) error

func (f waiterFunc) WaitFor(ctx context.Context, position uint64) error { return f(ctx, position) }

// A report at the head of the log, or at a known_at the model has not
// passed, is answered by the model once it has caught up; a past known_at,
// a time, or a model that does not catch up in time is recomputed from
// the log, with the same bytes.
func TestReportsRouting(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	programme := domain.ProgrammeDefined{Slug: "hope-oslo", Name: "Hope Oslo", Targets: []domain.Target{{Measure: domain.MeasureJobWithin183d, Rate: 0.5}}}
	appendEvent(t, store, domain.ProgrammeStream("hope-oslo"), programme)
	enrol := func(on string) {
		stream := domain.ParticipantStream(uuid.New())
		appendEvent(t, store, stream, domain.ParticipantEnrolled{Episode: 1, Programme: "hope-oslo", Office: "oslo",
			EnrolledOn: day(t, on), ReferralSource: domain.ReferralSelf,
			Profile: domain.Profile{BirthYear: 1990, Gender: domain.GenderFemale, RegionOfBirth: domain.RegionAfrica, IncomeSource: domain.IncomeSocialAssistance}})
		appendEvent(t, store, stream, domain.MeetingHeld{Date: day(t, on).AddDays(7), Kind: domain.MeetingKinds()[0]})
	}
	enrol("2025-01-06")
	_, first := appendEvent(t, store, domain.ParticipantStream(uuid.New()), domain.MeetingHeld{Date: day(t, "2025-02-03"), Kind: domain.MeetingKinds()[0]})
	enrol("2025-03-03")

	caughtUp := func(ctx context.Context, position uint64) error { return nil }
	never := func(ctx context.Context, position uint64) error { <-ctx.Done(); return ctx.Err() }
	stopped := func(ctx context.Context, position uint64) error { return projections.ErrStopped }
	all, err := store.ReadAll(ctx, eventstore.ReadAllOptions{})
	if err != nil {
		t.Fatal(err)
	}
	head := all[len(all)-1].Position
	for _, c := range []struct {
		name      string
		known     audit.KnownAt
		upTo      uint64     // the model has applied the log up to here; 0: all of it
		wait      waiterFunc // nil: applies the rest of the log to the model
		fromModel bool
	}{
		{"head", audit.KnownAt{}, 0, caughtUp, true},
		{"known_at at the model's position", audit.KnownAt{Position: head}, 0, caughtUp, true},
		{"known_at before it", audit.KnownAt{Position: first}, 0, caughtUp, false},
		{"known_at a time", audit.KnownAt{Time: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}, 0, caughtUp, false},
		{"model behind, no catching up", audit.KnownAt{}, first, never, false},
		{"model behind and stopped", audit.KnownAt{}, first, stopped, false},
		{"known_at the model has reached, the head further", audit.KnownAt{Position: first}, first, never, true},
		{"model behind, catching up in the wait", audit.KnownAt{}, first, nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			model := stats.NewModel(store)
			evs, err := store.ReadAll(ctx, eventstore.ReadAllOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				if c.upTo == 0 || ev.Position <= c.upTo {
					if err := model.Apply(ctx, ev); err != nil {
						t.Fatal(err)
					}
				}
			}
			if c.wait == nil { // the runner applies the rest
				c.wait = func(ctx context.Context, position uint64) error {
					for _, ev := range evs {
						if ev.Position > c.upTo {
							if err := model.Apply(ctx, ev); err != nil {
								return err
							}
						}
					}
					return nil
				}
			}
			log := &countingLog{LogReader: store}
			reports := stats.Reports{Log: log, Model: model, Waiter: c.wait, Wait: 50 * time.Millisecond}
			req := stats.Request{Cohort: stats.Cohort{Programme: "hope-oslo"}, AsOf: day(t, "2026-01-01"), KnownAt: c.known, K: 1}
			got, err := reports.Compute(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if recomputed := log.forward.Load() > 0; recomputed == c.fromModel {
				t.Errorf("recomputed from the log: %v, want %v", recomputed, !c.fromModel)
			}
			want, err := stats.Compute(ctx, store, req)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(encoded(t, got), encoded(t, want)) {
				t.Errorf("the answer differs from the recompute:\n%s\n%s", encoded(t, got), encoded(t, want))
			}
		})
	}
	// A point the log has not reached is refused, not echoed.
	beyond := stats.Reports{Log: store, Model: stats.NewModel(store)}
	_, err = beyond.Compute(ctx, stats.Request{AsOf: day(t, "2026-01-01"), KnownAt: audit.KnownAt{Position: head + 1}, K: 1})
	var perr *stats.ParamError
	if !errors.As(err, &perr) || perr.Param != stats.ParamKnownAt {
		t.Errorf("known_at past the head: %v, want a known_at parameter error", err)
	}
}

// An event the model cannot apply is an error (the runner stops the
// projection at it, loudly) and changes nothing.
func TestModelRefusesWhatItCannotApply(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	stream := domain.ParticipantStream(uuid.New())
	appendEvent(t, store, stream, domain.ParticipantEnrolled{Episode: 1, Programme: "hope-oslo", Office: "oslo",
		EnrolledOn: day(t, "2025-01-06"), ReferralSource: domain.ReferralSelf,
		Profile: domain.Profile{BirthYear: 1990, Gender: domain.GenderFemale, RegionOfBirth: domain.RegionAfrica, IncomeSource: domain.IncomeSocialAssistance}})
	evs, err := store.ReadAll(ctx, eventstore.ReadAllOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		ev   eventstore.RecordedEvent
	}{
		{"a date that does not exist", eventstore.RecordedEvent{Stream: stream, Type: domain.TypeMeetingHeld, Data: []byte(`{"date":"2026-02-30","kind":"guidance"}`)}},
		{"not JSON", eventstore.RecordedEvent{Stream: stream, Type: domain.TypeParticipantExited, Data: []byte(`{"date":`)}},
		{"an employer event in a participant stream", eventstore.RecordedEvent{Stream: stream, Type: domain.TypeEmployerRegistered, Data: []byte(`{}`)}},
		{"a participant stream not named as one", eventstore.RecordedEvent{Stream: domain.ParticipantStreamPrefix + strings.ToUpper(strings.TrimPrefix(stream, domain.ParticipantStreamPrefix)), Type: domain.TypeParticipationResumed, Data: []byte(`{"date":"2025-03-03"}`)}},
		{"a correction the store does not hold", eventstore.RecordedEvent{Stream: stream, Revision: 7, Type: domain.TypeEntryVoided, Data: []byte(`{}`)}},
		{"a programme definition that does not decode", eventstore.RecordedEvent{Stream: domain.ProgrammeStream("x"), Type: domain.TypeProgrammeDefined, Data: []byte(`{"slug":5}`)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			model := stats.NewModel(store)
			if err := model.Apply(ctx, evs[0]); err != nil {
				t.Fatal(err)
			}
			before := encoded(t, mustReport(t, model, stats.Request{AsOf: day(t, "2026-01-01")}))
			c.ev.ID, c.ev.Position = uuid.New(), evs[0].Position+1
			if err := model.Apply(ctx, c.ev); err == nil {
				t.Fatal("applied")
			}
			if after := encoded(t, mustReport(t, model, stats.Request{AsOf: day(t, "2026-01-01")})); !bytes.Equal(before, after) {
				t.Errorf("the refused event changed the model:\n%s\n%s", before, after)
			}
		})
	}
}
