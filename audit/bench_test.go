package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
)

// BenchmarkRecord is the cost of one look's record: one durable append,
// taken in turn.
//
//	go test ./audit -run '^$' -bench Record -benchtime 2000x
func BenchmarkRecord(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b, time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := f.log.Record(ctx, access("u-kari", uuid.New(), domain.ViewParticipant)); err != nil {
				b.Error(err)
			}
		}
	})
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
