package audit_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
)

// BenchmarkRecord is the cost of one look's record with 1 and with 64
// callers recording at once, as a server's concurrent requests do; b.N
// records in all, shared among the callers. group-commit is Log.Record;
// one-append-each is how Record worked before group commit, for
// comparison in the same run: callers take turns, and each record is its
// own Execute on the day's stream (which loads, decodes and keeps the
// stream's history).
//
//	go test ./audit -run '^$' -bench Record -benchtime 4000x
func BenchmarkRecord(b *testing.B) {
	for _, way := range []string{"group-commit", "one-append-each"} {
		for _, callers := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/callers=%d", way, callers), func(b *testing.B) {
				ctx := context.Background()
				f := newFixture(b, time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC))
				record := f.log.Record
				if way == "one-append-each" {
					record = f.oneAppendEach()
				}
				var next atomic.Int64
				var wg sync.WaitGroup
				b.ResetTimer()
				start := time.Now()
				for range callers {
					wg.Go(func() {
						for next.Add(1) <= int64(b.N) {
							if err := record(ctx, access("u-kari", uuid.New(), domain.ViewParticipant)); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
			})
		}
	}
}

// oneAppendEach records one look at a time, each in an Execute of its own.
func (f *fixture) oneAppendEach() func(context.Context, audit.Access) error {
	var turn sync.Mutex
	return func(ctx context.Context, a audit.Access) error {
		turn.Lock()
		defer turn.Unlock()
		_, err := f.svc.Execute(ctx, domain.AccessLogStream(f.svc.Today()), casework.Request{Actor: a.Reader, CorrelationID: a.CorrelationID},
			func([]domain.Recorded, domain.Date) ([]domain.Event, error) { return []domain.Event{a.Record}, nil })
		return err
	}
}

// BenchmarkQuery reads a month of looks, 1000 a day, for one participant
// among a hundred.
//
//	go test ./audit -run '^$' -bench Query -benchtime 20x
func BenchmarkQuery(b *testing.B) {
	ctx := context.Background()
	start := time.Date(2026, 4, 15, 10, 0, 0, 0, time.UTC)
	f := newFixture(b, start)
	participants := make([]uuid.UUID, 100)
	for i := range participants {
		participants[i] = uuid.New()
	}
	const days, perDay = 31, 1000
	for d := range days {
		// Written straight through the command handler's batch, a day at
		// a time: the benchmark measures reading, not writing.
		f.set(start.AddDate(0, 0, d))
		if err := f.bulk(ctx, participants, perDay); err != nil {
			b.Fatal(err)
		}
	}
	f.set(start.AddDate(0, 0, days))
	b.ResetTimer()
	for b.Loop() {
		page, err := f.log.Query(ctx, audit.Query{Participant: participants[7], Limit: audit.MaxLimit})
		if err != nil || len(page.Records) != days*perDay/len(participants) {
			b.Fatalf("%d records, %v", len(page.Records), err)
		}
	}
	b.ReportMetric(float64(days*perDay), "records-read/op")
}

// bulk writes n looks at the participants in turn into today's stream, in
// appends of many records each.
func (f *fixture) bulk(ctx context.Context, participants []uuid.UUID, n int) error {
	const batch = 500
	for done := 0; done < n; done += batch {
		_, err := f.svc.Execute(ctx, domain.AccessLogStream(f.svc.Today()),
			casework.Request{Actor: domain.Actor{UserID: "u-kari", Role: "caseworker", Office: "oslo"}, CorrelationID: uuid.New()},
			func([]domain.Recorded, domain.Date) ([]domain.Event, error) {
				var evs []domain.Event
				for i := done; i < min(n, done+batch); i++ {
					evs = append(evs, access("u-kari", participants[i%len(participants)], domain.ViewParticipant).Record)
				}
				return evs, nil
			})
		if err != nil {
			return err
		}
	}
	return nil
}
