package esdb_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	kurrent "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/esdb"
	"github.com/caseledger/caseledger/eventstore/esdb/esdbtest"
)

// The benchmarks measure the adapter, the official client and gRPC over
// loopback against the in-process test server, on the same cores: the
// adapter's own overhead, not what a real EventStoreDB cluster does.

// benchEvent is shaped like the domain's events: about 500 bytes of JSON
// data and 150 of metadata.
func benchEvent(rng *rand.Rand) eventstore.EventData {
	data := fmt.Appendf(nil, `{"participantId":"p-%06d","caseworkerId":"v-%04d","occurredAt":"2025-%02d-%02dT10:00:00Z","notes":"`,
		rng.IntN(1_000_000), rng.IntN(10_000), 1+rng.IntN(12), 1+rng.IntN(28))
	for len(data) < 498 {
		data = append(data, "oppfølging "[:1+rng.IntN(10)]...)
	}
	data = append(data[:498], `"}`...)
	meta := fmt.Appendf(nil, `{"correlationId":%q,"actor":"v-%04d","source":"caseledger-api"}`, uuid.New(), rng.IntN(10_000))
	for len(meta) < 150 {
		meta = append(meta, ' ')
	}
	return eventstore.EventData{ID: uuid.New(), Type: "MeetingHeld", Data: data, Metadata: meta}
}

// BenchmarkAppend appends one event per call, as casework does: each
// writer to a stream of its own, expecting the revision it last wrote.
func BenchmarkAppend(b *testing.B) {
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			srv := esdbtest.New(b, esdbtest.Options{})
			s := openStore(b, srv.ConnectionString(), esdb.Options{})
			const pool = 32
			events := make([][]eventstore.EventData, writers)
			for w := range writers {
				rng := rand.New(rand.NewPCG(uint64(w), 1))
				for range pool {
					events[w] = append(events[w], benchEvent(rng))
				}
			}
			var (
				next atomic.Int64
				wg   sync.WaitGroup
			)
			b.ResetTimer()
			start := time.Now()
			for w := range writers {
				wg.Go(func() {
					stream := fmt.Sprintf("participant-%d", w)
					exp := eventstore.NoStream
					for i := 0; next.Add(1) <= int64(b.N); i++ {
						ev := events[w][i%pool]
						ev.ID = uuid.New()
						res, err := s.Append(context.Background(), stream, exp, ev)
						if err != nil {
							b.Error(err)
							return
						}
						exp = eventstore.AtRevision(res.Revision)
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
		})
	}
}

// BenchmarkCatchUp subscribes to a log of catchUpEvents events from the
// start and reads until CaughtUp, as a projection does when it starts.
func BenchmarkCatchUp(b *testing.B) {
	const (
		catchUpEvents = 20_000
		batch         = 50
	)
	srv := esdbtest.New(b, esdbtest.Options{})
	s := openStore(b, srv.ConnectionString(), esdb.Options{})
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range catchUpEvents / batch {
		evs := make([]eventstore.EventData, batch)
		for j := range evs {
			evs[j] = benchEvent(rng)
		}
		if _, err := s.Append(ctx, fmt.Sprintf("participant-%d", i%200), eventstore.Any, evs...); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		sub, err := s.Subscribe(ctx, eventstore.SubscribeOptions{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			msg, err := sub.Next(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if msg.CaughtUp {
				break
			}
			n++
		}
		sub.Close()
		if n != catchUpEvents {
			b.Fatalf("caught up after %d events, want %d", n, catchUpEvents)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N*catchUpEvents)/elapsed.Seconds(), "events/s")
}

// rawClient is the official client on its own, for the baselines below:
// the difference to the benchmarks above is what the adapter adds.
func rawClient(b *testing.B, srv *esdbtest.Server) *kurrent.Client {
	cfg, err := kurrent.ParseConnectionString(srv.ConnectionString())
	if err != nil {
		b.Fatal(err)
	}
	cfg.Logger = kurrent.NoopLogging()
	c, err := kurrent.NewClient(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// BenchmarkAppendClientOnly is BenchmarkAppend through the client alone.
func BenchmarkAppendClientOnly(b *testing.B) {
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			srv := esdbtest.New(b, esdbtest.Options{})
			c := rawClient(b, srv)
			const pool = 32
			events := make([][]kurrent.EventData, writers)
			for w := range writers {
				rng := rand.New(rand.NewPCG(uint64(w), 1))
				for range pool {
					ev := benchEvent(rng)
					events[w] = append(events[w], kurrent.EventData{
						EventType: ev.Type, ContentType: kurrent.ContentTypeJson, Data: ev.Data, Metadata: ev.Metadata,
					})
				}
			}
			var (
				next atomic.Int64
				wg   sync.WaitGroup
			)
			b.ResetTimer()
			start := time.Now()
			for w := range writers {
				wg.Go(func() {
					stream := fmt.Sprintf("participant-%d", w)
					var exp kurrent.ExpectedRevision = kurrent.NoStream{}
					for i := 0; next.Add(1) <= int64(b.N); i++ {
						ev := events[w][i%pool]
						ev.EventID = uuid.New()
						wr, err := c.AppendToStream(context.Background(), stream, kurrent.AppendToStreamOptions{ExpectedRevision: exp}, ev)
						if err != nil {
							b.Error(err)
							return
						}
						exp = kurrent.Revision(wr.NextExpectedVersion)
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
		})
	}
}
