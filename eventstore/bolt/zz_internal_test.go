package bolt

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/eventstore"
)

func TestZZInternal(t *testing.T) {
	if os.Getenv("ZZ3") == "" {
		t.Skip()
	}
	path := filepath.Join(t.TempDir(), "e.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 500)
	meta := make([]byte, 150)
	streams := make([]string, 10000)
	for i := range streams {
		streams[i] = "participant-" + uuid.NewString()
	}
	var wg sync.WaitGroup
	for w := range 64 {
		wg.Go(func() {
			for i := w; i < len(streams); i += 64 {
				evs := []eventstore.EventData{{ID: uuid.New(), Type: "A", Data: data, Metadata: meta}, {ID: uuid.New(), Type: "A", Data: data, Metadata: meta}, {ID: uuid.New(), Type: "A", Data: data, Metadata: meta}}
				if _, err := s.Append(context.Background(), streams[i], eventstore.Any, evs...); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if os.Getenv("REOPEN") != "" {
		s.Close()
		s, _ = Open(path, Options{})
	}
	defer s.Close()
	writers, _ := strconv.Atoi(os.Getenv("W"))
	per := 3000 / writers * 10
	before := s.db.Stats()
	c0 := s.Stats().Commits
	start := time.Now()
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			for range per {
				ev := eventstore.EventData{ID: uuid.New(), Type: "MeetingHeld", Data: data, Metadata: meta}
				st := streams[rng.IntN(len(streams))]
				if os.Getenv("OWN") != "" {
					st = streams[w]
				}
				if _, err := s.Append(context.Background(), st, eventstore.Any, ev); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	after := s.db.Stats()
	d := after.Sub(&before)
	c := float64(s.Stats().Commits - c0)
	fmt.Printf("events/s %.0f commits %v ev/commit %.1f\n", float64(writers*per)/el.Seconds(), c, float64(writers*per)/c)
	fmt.Printf("per commit: wall %v pages alloc %.1f writes %.1f writeTime %v spill %v nodes %.1f splits %.1f\n",
		el/time.Duration(c), float64(d.TxStats.GetPageCount())/c, float64(d.TxStats.GetWrite())/c,
		d.TxStats.GetWriteTime()/time.Duration(c), d.TxStats.GetSpillTime()/time.Duration(c),
		float64(d.TxStats.GetNodeCount())/c, float64(d.TxStats.GetSplit())/c)
}
