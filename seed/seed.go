// Package seed writes a realistic, deterministic demo population into an
// event store: the programmes of domain.md, employers near their offices,
// and participants whose whole life-cycles (intake, consents, plans,
// meetings, scores, placements, jobs lost and found, income changes,
// pauses, exits, corrections, voids and re-enrolments) are written through
// casework.Service.Execute with the domain's own decisions.
//
// Everyone in it is made up; see names.go for how names, national id
// numbers, phone numbers and organisation numbers are kept from pointing at
// real people or companies.
//
// A run is deterministic: the same seed and reference date give the same
// business facts and the same event ids, whatever the number of workers,
// and running it again stores nothing new.
package seed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
)

// Bounds of a Config.
const (
	DefaultWorkers  = 64
	MaxWorkers      = 1024
	MaxParticipants = 1_000_000
)

// Config says what to seed.
type Config struct {
	// Participants is how many people to generate, 1 to MaxParticipants.
	Participants int
	// Seed chooses the population; the same seed gives the same one.
	Seed uint64
	// Workers is how many participants are written at once, each by its
	// own goroutine; their appends share the store's fsyncs. 0 means
	// DefaultWorkers.
	Workers int
	// Today is the reference date life-cycles end on; the zero Date means
	// the service's today. It must not lie after the service's today.
	Today domain.Date
}

// Validate reports a Config that Run refuses.
func (c Config) Validate() error {
	switch {
	case c.Participants < 1 || c.Participants > MaxParticipants:
		return fmt.Errorf("participants must be 1 to %d, not %d", MaxParticipants, c.Participants)
	case c.Workers < 0 || c.Workers > MaxWorkers:
		return fmt.Errorf("workers must be 1 to %d, not %d", MaxWorkers, c.Workers)
	}
	return nil
}

// Stats is what a run did.
type Stats struct {
	Today        domain.Date
	Programmes   int
	Employers    int
	Participants int
	Episodes     int
	// Steps is the number of participant requests executed.
	Steps int
	// Written is the number of events this run appended; Existing the
	// number it found stored already (all of them, on a re-run).
	Written, Existing int
	// ByType counts the participant events of the plans by type.
	ByType  map[string]int
	Elapsed time.Duration
}

// Events is the number of events written or found.
func (s Stats) Events() int { return s.Written + s.Existing }

// tally is one worker's share of the Stats, merged at the end so that
// workers never contend on a lock.
type tally struct {
	participants, episodes, steps int
	written, existing             int
	byType                        map[string]int
	// progress, when set, learns of every event as it is stored.
	progress *meter
}

func (t *tally) step(s Step, out outcome) {
	t.steps++
	t.written += out.written
	t.existing += out.existing
	if t.byType == nil {
		t.byType = map[string]int{}
	}
	for _, c := range s.Commands {
		t.byType[eventType(c)]++
	}
	if t.progress != nil {
		t.progress.events.Add(int64(out.written + out.existing))
	}
}

// Run seeds svc's store: programmes first, then employers, then the
// participants, cfg.Workers at a time. Progress goes to progress (nil for
// none): a bar redrawn a few times a second on a terminal, a plain line
// every few seconds elsewhere. A cancelled ctx stops the run between
// requests; what was written stays, and a later run with the same seed
// carries on from there.
func Run(ctx context.Context, svc *casework.Service, cfg Config, progress io.Writer) (Stats, error) {
	if err := cfg.Validate(); err != nil {
		return Stats{}, fmt.Errorf("seed: %w", err)
	}
	workers := cfg.Workers
	if workers == 0 {
		workers = DefaultWorkers
	}
	today := cfg.Today
	if svcToday := svc.Today(); today.IsZero() {
		today = svcToday
	} else if today.After(svcToday) {
		return Stats{}, fmt.Errorf("seed: the reference date %s is after today, %s", today, svcToday)
	}
	began := time.Now()
	cat := newCatalogue()
	stats := Stats{Today: today, ByType: map[string]int{}}

	for _, pr := range cat.programmes {
		out, err := defineProgramme(ctx, svc, pr)
		if err != nil {
			return stats, fmt.Errorf("seed: %w", err)
		}
		stats.Programmes++
		stats.Written += out.written
		stats.Existing += out.existing
	}

	needed := cat.employersFor(cfg.Participants)
	employers := make([]outcome, len(needed))
	err := parallel(ctx, workers, len(needed), func(ctx context.Context, _, i int) error {
		out, err := registerEmployer(ctx, svc, needed[i])
		employers[i] = out
		return err
	})
	if err != nil {
		return stats, fmt.Errorf("seed: %w", err)
	}
	for _, out := range employers {
		stats.Employers++
		stats.Written += out.written
		stats.Existing += out.existing
	}

	m := newMeter(progress, cfg.Participants)
	stop := m.start()
	tallies := make([]tally, workers)
	for i := range tallies {
		tallies[i].progress = m
	}
	err = parallel(ctx, workers, cfg.Participants, func(ctx context.Context, w, n int) error {
		pl := plan(cat, cfg.Seed, n, today)
		if err := writePlan(ctx, svc, cfg.Seed, pl, &tallies[w]); err != nil {
			return err
		}
		m.done.Add(1)
		return nil
	})
	stop()
	for _, t := range tallies {
		stats.Participants += t.participants
		stats.Episodes += t.episodes
		stats.Steps += t.steps
		stats.Written += t.written
		stats.Existing += t.existing
		for k, v := range t.byType {
			stats.ByType[k] += v
		}
	}
	stats.Elapsed = time.Since(began)
	if err != nil {
		return stats, fmt.Errorf("seed: after %d of %d participants: %w", stats.Participants, cfg.Participants, err)
	}
	return stats, nil
}

// parallel calls fn for 0..n-1 from workers goroutines, each taking the
// next number when it is free; worker is the goroutine's number. The first
// error stops the others and is returned.
func parallel(ctx context.Context, workers, n int, fn func(ctx context.Context, worker, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range min(workers, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(ctx, w, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	// Cancelled from outside, or by a worker whose error was the
	// cancellation itself.
	return ctx.Err()
}
