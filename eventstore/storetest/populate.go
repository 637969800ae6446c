package storetest

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/caseledger/caseledger/eventstore"
)

// BenchParticipants is the population a benchmark builds:
// CASELEDGER_BENCH_PARTICIPANTS, or def when it is not set.
func BenchParticipants(b *testing.B, def int) int {
	b.Helper()
	v := os.Getenv("CASELEDGER_BENCH_PARTICIPANTS")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("CASELEDGER_BENCH_PARTICIPANTS=%q", v)
	}
	return n
}

// Populate appends participant i's history to a new stream, stream(i), for
// every i below n, from 64 goroutines: a benchmark's population of a
// hundred thousand is written in seconds, not one append after another.
func Populate(b *testing.B, store eventstore.Store, n int, stream func(i int) string, history func(i int) []eventstore.EventData) {
	b.Helper()
	var wg sync.WaitGroup
	next := make(chan int)
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			for i := range next {
				if _, err := store.Append(context.Background(), stream(i), eventstore.NoStream, history(i)...); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}
