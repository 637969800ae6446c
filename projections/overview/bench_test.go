package overview_test

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/bolt"
	"github.com/caseledger/caseledger/eventstore/storetest"
	"github.com/caseledger/caseledger/personaldata/keystoretest"
	"github.com/caseledger/caseledger/projections"
	"github.com/caseledger/caseledger/projections/caseload"
	"github.com/caseledger/caseledger/projections/overview"
	"github.com/caseledger/caseledger/seed"
	"github.com/caseledger/caseledger/stats"
)

// The benchmarks run on the demo data itself (docs/demo-data.md): the
// seeder writes CASELEDGER_BENCH_PARTICIPANTS participants (default 2,000;
// about 57 events each) through the command handler, sealed, into a bolt
// store in a temporary directory.

func benchParticipants(b *testing.B) int { return storetest.BenchParticipants(b, 2_000) }

// seeded is a store holding the demo population of n participants, and
// its participant events.
func seeded(b *testing.B, n int) (*bolt.Store, []eventstore.RecordedEvent) {
	store, evs, _ := seededAll(b, n)
	return store, evs
}

// seededAll is seeded, with every event of the log as well.
func seededAll(b *testing.B, n int) (*bolt.Store, []eventstore.RecordedEvent, []eventstore.RecordedEvent) {
	b.Helper()
	dir := b.TempDir()
	store, err := bolt.Open(filepath.Join(dir, "events.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	clock := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	svc, err := casework.New(store, casework.Options{Keys: keystoretest.Keyring(b, dir), Now: func() time.Time { return clock }})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := seed.Run(context.Background(), svc, seed.Config{Participants: n, Seed: 1}, nil); err != nil {
		b.Fatal(err)
	}
	all, err := store.ReadAll(context.Background(), eventstore.ReadAllOptions{})
	if err != nil {
		b.Fatal(err)
	}
	f := eventstore.Filter{StreamPrefixes: []string{domain.ParticipantStreamPrefix}}
	var evs []eventstore.RecordedEvent
	for _, ev := range all {
		if f.Match(ev.Stream, ev.Type) {
			evs = append(evs, ev)
		}
	}
	return store, evs, all
}

func apply(b *testing.B, p projections.Projection, evs []eventstore.RecordedEvent) {
	b.Helper()
	for _, ev := range evs {
		if err := p.Apply(context.Background(), ev); err != nil {
			b.Fatal(err)
		}
	}
}

// heapOf is the change in the heap that build leaves allocated, after
// collection: negative when it frees more than it keeps.
func heapOf(build func() any) (int64, any) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	kept := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc), kept
}

// BenchmarkMemoryPerParticipant measures the heap each read model holds per
// participant of the demo population (caseload, overview and outcomes),
// against the budget of 2 KB per participant for all read models together. The overview is measured as
// Apply leaves it, which includes its few unpacked participants kept for
// their next events (a constant, not per participant), and as restored
// from its snapshot after a restart, which holds the rows alone.
func BenchmarkMemoryPerParticipant(b *testing.B) {
	n := benchParticipants(b)
	store, evs, all := seededAll(b, n)
	b.ResetTimer()
	for range b.N {
		// Caught up, the runner writes a snapshot, which empties the
		// overview's set of unpacked participants; measured before and
		// after.
		built, m := heapOf(func() any { m := overview.New(store); apply(b, m, evs); return m })
		snapped, _ := heapOf(func() any {
			if err := m.(*overview.Model).Snapshot(io.Discard); err != nil {
				b.Fatal(err)
			}
			return nil
		})
		if m := m.(*overview.Model); m.Len() != n {
			b.Fatalf("the overview holds %d participants, want %d", m.Len(), n)
		}
		var snap bytes.Buffer
		if err := m.(*overview.Model).Snapshot(&snap); err != nil {
			b.Fatal(err)
		}
		restored, r := heapOf(func() any {
			r := overview.New(store)
			if err := r.Restore(bytes.NewReader(snap.Bytes())); err != nil {
				b.Fatal(err)
			}
			return r
		})
		cl, c := heapOf(func() any { m := caseload.New(store); apply(b, m, evs); return m })
		oc, o := heapOf(func() any { m := stats.NewModel(store); apply(b, m, all); return m })
		caughtUp := built + snapped
		b.ReportMetric(float64(built)/float64(n), "overview-applying-bytes/participant")
		b.ReportMetric(float64(caughtUp)/float64(n), "overview-bytes/participant")
		b.ReportMetric(float64(restored)/float64(n), "overview-restored-bytes/participant")
		b.ReportMetric(float64(cl)/float64(n), "caseload-bytes/participant")
		b.ReportMetric(float64(oc)/float64(n), "outcomes-bytes/participant")
		b.ReportMetric(float64(caughtUp+cl+oc)/float64(n), "total-bytes/participant")
		b.ReportMetric(float64(snap.Len())/float64(n), "overview-snapshot-bytes/participant")
		b.ReportMetric(float64(len(evs))/float64(n), "events/participant")
		runtime.KeepAlive(m)
		runtime.KeepAlive(r)
		runtime.KeepAlive(c)
		runtime.KeepAlive(o)
	}
}

// BenchmarkRebuild rebuilds, from the start of the log through the
// runner, each read model alone and then all of them together as
// `caseledger rebuild` does (one read of the log, the models side by
// side), and reports the rates in events of the log per second, and the
// rate of all of them against the single-core rate of their decoder.
func BenchmarkRebuild(b *testing.B) {
	n := benchParticipants(b)
	store, evs, all := seededAll(b, n)
	// The decoder the models share, JSON v2 (domain.DecodePublicEvent),
	// alone on one goroutine over the participant events, in the same
	// run: the rebuild of all models is held to half its rate.
	prev := runtime.GOMAXPROCS(1)
	start := time.Now()
	for _, ev := range evs {
		if _, err := domain.DecodePublicEvent(ev.Type, ev.Data); err != nil {
			b.Fatal(err)
		}
	}
	decodeRate := float64(len(evs)) / time.Since(start).Seconds()
	runtime.GOMAXPROCS(prev)
	b.ResetTimer() // which forgets metrics: the decoder's is reported below
	for range b.N {
		for _, ps := range [][]projections.Projection{
			{overview.New(store)}, {caseload.New(store)}, {stats.NewModel(store)},
			{overview.New(store), caseload.New(store), stats.NewModel(store)},
		} {
			r, err := projections.New(store, projections.Options{Dir: b.TempDir()}, ps...)
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			if err := r.Rebuild(context.Background(), nil); err != nil {
				b.Fatal(err)
			}
			name := ps[0].Name()
			if len(ps) > 1 {
				name = "all"
			}
			rate := float64(len(all)) / time.Since(start).Seconds()
			b.ReportMetric(rate, name+"-events/s")
			if len(ps) > 1 {
				b.ReportMetric(decodeRate, "decoder-1core-events/s")
				b.ReportMetric(rate/decodeRate, "all/decoder")
			}
		}
	}
}

// BenchmarkGet unpacks one participant's overview, as a request does,
// with the stream the request has loaded (here only the ids and
// revisions of its events, which are all Get reads of it).
func BenchmarkGet(b *testing.B) {
	n := benchParticipants(b)
	store, evs := seeded(b, n)
	m := overview.New(store)
	apply(b, m, evs)
	ids := make([]uuid.UUID, 0, n)
	streams := map[uuid.UUID][]domain.Recorded{}
	for _, ev := range evs {
		id, _ := domain.ParseParticipantStream(ev.Stream)
		if _, seen := streams[id]; !seen {
			ids = append(ids, id)
		}
		streams[id] = append(streams[id], domain.Recorded{ID: ev.ID, Stream: ev.Stream, Revision: ev.Revision, Position: ev.Position})
	}
	b.ResetTimer()
	for i := range b.N {
		id := ids[i%len(ids)]
		if _, ok, err := m.Get(id, streams[id]); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
