package bolt_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/bolt"
)

// Events of the benchmarks look like the domain's: about 500 bytes of JSON
// data and 150 of metadata, in streams named after participants.

var eventTypes = []string{"MeetingHeld", "CaseNoteWritten", "ActivityPlanned", "AttendanceRegistered", "ParticipantEnrolled"}

var noteWords = strings.Fields(`deltaker møtte til avtalt samtale om arbeidstrening hos arbeidsgiver og
	veileder gikk gjennom aktivitetsplanen med vekt på oppmøte praksisplass lønnstilskudd kvalifisering
	oppfølging videre tiltak ble avtalt neste møte om to uker`)

const (
	dataSize = 500
	metaSize = 150
)

func realisticEvent(rng *rand.Rand, participant string) eventstore.EventData {
	id := uuid.New()
	data := make([]byte, 0, dataSize+16)
	data = fmt.Appendf(data, `{"participantId":%q,"caseworkerId":"veileder-%04d","occurredAt":"2025-%02d-%02dT%02d:%02d:00Z","programme":"arbeidstrening","notes":"`,
		participant, rng.IntN(10000), 1+rng.IntN(12), 1+rng.IntN(28), 8+rng.IntN(8), rng.IntN(60))
	for len(data) < dataSize-2 {
		data = append(data, noteWords[rng.IntN(len(noteWords))]...)
		data = append(data, ' ')
	}
	data = append(data[:dataSize-2], `"}`...)
	meta := make([]byte, 0, metaSize+16)
	meta = fmt.Appendf(meta, `{"correlationId":%q,"causationId":%q,"actor":"veileder-%04d","source":"caseledger-api"}`,
		uuid.New(), id, rng.IntN(10000))
	for len(meta) < metaSize {
		meta = append(meta, ' ')
	}
	return eventstore.EventData{ID: id, Type: eventTypes[rng.IntN(len(eventTypes))], Data: data, Metadata: meta}
}

func participantStream() string { return "participant-" + uuid.NewString() }

// BenchmarkAppendDurable appends one event per call, each acknowledged only
// after fsync, from 1 or 64 goroutines, each to its own stream.
func BenchmarkAppendDurable(b *testing.B) {
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s := openStore(b, filepath.Join(b.TempDir(), "events.db"), bolt.Options{})
			// Payloads are prepared up front so the clock measures the
			// store; each append gets a fresh id, or it would be a retry.
			const pool = 64
			events := make([][]eventstore.EventData, writers)
			streams := make([]string, writers)
			for w := range writers {
				rng := rand.New(rand.NewPCG(uint64(w), 1))
				streams[w] = participantStream()
				for range pool {
					events[w] = append(events[w], realisticEvent(rng, streams[w]))
				}
			}
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for w := range writers {
				wg.Go(func() {
					for i := 0; next.Add(1) <= int64(b.N); i++ {
						ev := events[w][i%pool]
						ev.ID = uuid.New()
						if _, err := s.Append(context.Background(), streams[w], eventstore.Any, ev); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			st := s.Stats()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(st.Appends)/float64(st.Commits), "appends/commit")
		})
	}
}

// BenchmarkAppendDurableParticipants is BenchmarkAppendDurable with the
// appends of casework: each to one of 10,000 participant streams that
// already hold a few events, chosen at random. Short streams keep an
// append's index entries on one page, where each writer's own ever-growing
// stream spreads its event ids over many.
func BenchmarkAppendDurableParticipants(b *testing.B) {
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			const participants = 10_000
			path := filepath.Join(b.TempDir(), "events.db")
			streams, err := writeRealistic(path, bolt.Options{}, 3*participants, participants, 64, 3, 3)
			if err != nil {
				b.Fatal(err)
			}
			s := openStore(b, path, bolt.Options{})
			const pool = 64
			events := make([][]eventstore.EventData, writers)
			for w := range writers {
				rng := rand.New(rand.NewPCG(uint64(w), 1))
				for range pool {
					events[w] = append(events[w], realisticEvent(rng, "participant"))
				}
			}
			var next atomic.Int64
			var wg sync.WaitGroup
			before := s.Stats()
			b.ResetTimer()
			start := time.Now()
			for w := range writers {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(w), 2))
					for i := 0; next.Add(1) <= int64(b.N); i++ {
						ev := events[w][i%pool]
						ev.ID = uuid.New()
						if _, err := s.Append(context.Background(), streams[rng.IntN(len(streams))], eventstore.Any, ev); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			st := s.Stats()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(st.Appends-before.Appends)/float64(st.Commits-before.Commits), "appends/commit")
		})
	}
}

// BenchmarkAppendBatch appends 1,000 events per call, each call to a new
// stream, as an import would.
func BenchmarkAppendBatch(b *testing.B) {
	const batch = 1000
	s := openStore(b, filepath.Join(b.TempDir(), "events.db"), bolt.Options{})
	rng := rand.New(rand.NewPCG(1, 2))
	stream := participantStream()
	evs := make([]eventstore.EventData, batch)
	for i := range evs {
		evs[i] = realisticEvent(rng, stream)
	}
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		for i := range evs {
			evs[i].ID = uuid.New()
		}
		if _, err := s.Append(context.Background(), participantStream(), eventstore.NoStream, evs...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "events/s")
}

// readAllFixture is a store file of readAllEvents realistic events, written
// once per test binary run and shared by the read benchmarks.
const readAllEvents = 1_000_000

var fixture struct {
	once    sync.Once
	dir     string
	path    string
	streams []string
	err     error
}

func readAllFixture(b *testing.B) (path string, streams []string) {
	b.Helper()
	fixture.once.Do(func() {
		fixture.dir, fixture.err = os.MkdirTemp("", "caseledger-bolt-bench-")
		if fixture.err != nil {
			return
		}
		fixture.path = filepath.Join(fixture.dir, "events.db")
		start := time.Now()
		fixture.streams, fixture.err = writeRealistic(fixture.path, bolt.Options{}, readAllEvents, 50_000, 16, 10, 30)
		b.Logf("fixture of %d events written in %v", readAllEvents, time.Since(start))
	})
	if fixture.err != nil {
		b.Fatal(fixture.err)
	}
	return fixture.path, fixture.streams
}

func removeFixture() {
	if fixture.dir != "" {
		os.RemoveAll(fixture.dir)
	}
}

// writeRealistic appends n events to a new store at path, spread over
// (up to) nStreams participant streams, and returns the streams it wrote to, from writers goroutines whose appends hold
// minBatch to maxBatch events: a store grown the way the service grows one.
func writeRealistic(path string, opts bolt.Options, n, nStreams, writers, minBatch, maxBatch int) ([]string, error) {
	s, err := bolt.Open(path, opts)
	if err != nil {
		return nil, err
	}
	streams := make([]string, nStreams)
	for i := range streams {
		streams[i] = participantStream()
	}
	var (
		left     atomic.Int64
		wg       sync.WaitGroup
		firstErr atomic.Value
		written  sync.Map
	)
	left.Store(int64(n))
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 3))
			for {
				k := minBatch + rng.IntN(maxBatch-minBatch+1)
				if rest := left.Add(-int64(k)); rest < 0 {
					k += int(rest)
					if k <= 0 {
						return
					}
				}
				stream := streams[rng.IntN(len(streams))]
				evs := make([]eventstore.EventData, k)
				for i := range evs {
					evs[i] = realisticEvent(rng, stream)
				}
				if _, err := s.Append(context.Background(), stream, eventstore.Any, evs...); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				written.Store(stream, true)
			}
		})
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		return nil, err
	}
	if err, _ := firstErr.Load().(error); err != nil {
		return nil, err
	}
	var used []string
	for _, stream := range streams {
		if _, ok := written.Load(stream); ok {
			used = append(used, stream)
		}
	}
	return used, nil
}

// readEverything pages through the whole log, as a projection rebuild does.
func readEverything(b *testing.B, s *bolt.Store) int {
	const page = 10_000
	n := 0
	var from uint64
	for {
		evs, err := s.ReadAll(context.Background(), eventstore.ReadAllOptions{From: from, Limit: page})
		if err != nil {
			b.Fatal(err)
		}
		n += len(evs)
		if len(evs) < page {
			return n
		}
		from = evs[len(evs)-1].Position
	}
}

// BenchmarkReadAll reads the 1,000,000 events of the fixture forwards with a
// warm page cache.
func BenchmarkReadAll(b *testing.B) {
	path, _ := readAllFixture(b)
	s := openStore(b, path, bolt.Options{})
	if n := readEverything(b, s); n != readAllEvents { // warms the cache
		b.Fatalf("fixture holds %d events", n)
	}
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		readEverything(b, s)
	}
	b.ReportMetric(float64(b.N*readAllEvents)/time.Since(start).Seconds(), "events/s")
	b.StopTimer()
	if fi, err := os.Stat(path); err == nil {
		b.ReportMetric(float64(fi.Size())/readAllEvents, "bytes/event")
	}
}

// BenchmarkReadStream loads whole participant streams of about 20 events
// each, chosen at random, with a warm page cache: what loading an aggregate
// costs.
func BenchmarkReadStream(b *testing.B) {
	path := filepath.Join(b.TempDir(), "events.db")
	streams, err := writeRealistic(path, bolt.Options{}, 40_000, 2_000, 64, 1, 3)
	if err != nil {
		b.Fatal(err)
	}
	s := openStore(b, path, bolt.Options{})
	rng := rand.New(rand.NewPCG(3, 3))
	events := 0
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		evs, err := s.ReadStream(context.Background(), streams[rng.IntN(len(streams))], eventstore.ReadStreamOptions{})
		if err != nil {
			b.Fatal(err)
		}
		events += len(evs)
	}
	elapsed := time.Since(start).Seconds()
	b.ReportMetric(float64(b.N)/elapsed, "streams/s")
	b.ReportMetric(float64(events)/elapsed, "events/s")
}
