package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"time"

	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore/bolt"
	"github.com/caseledger/caseledger/seed"
)

// runSeed writes demo data. Like demo, it defaults to ./demo-data and never
// reads CASELEDGER_DATA: a demo population written into a real store would
// stay in its immutable log for good, so a real directory must be named
// on purpose.
func runSeed(ctx context.Context, e *env, args []string) (err error) {
	fs := newFlagSet("seed", "caseledger seed [--participants N] [--seed S] [--data DIR] [--workers W] [--today YYYY-MM-DD]")
	var (
		participants, workers int
		seedValue             uint64
		dataDir, today, prof  string
	)
	fs.IntVar(&participants, "participants", 1000, "how many participants to generate, 1 to "+strconv.Itoa(seed.MaxParticipants))
	fs.Uint64Var(&seedValue, "seed", 1, "seed of the population: the same seed and date give the same data and event ids")
	fs.StringVar(&dataDir, "data", defaultDemoDataDir, "data directory to write the demo data into")
	fs.IntVar(&workers, "workers", seed.DefaultWorkers, "participants written at once, 1 to "+strconv.Itoa(seed.MaxWorkers))
	fs.StringVar(&today, "today", "", "reference date the life-cycles end on, YYYY-MM-DD (default today in Europe/Oslo)")
	fs.StringVar(&prof, "cpuprofile", "", "write a CPU profile of the run to this file")
	if err := fs.parse(e, args); err != nil {
		return err
	}
	if err := fs.required("data"); err != nil {
		return err
	}
	if participants < 1 || participants > seed.MaxParticipants {
		return usageErrorf(fs.Name(), "--participants must be 1 to %d, not %d", seed.MaxParticipants, participants)
	}
	if workers < 1 || workers > seed.MaxWorkers {
		return usageErrorf(fs.Name(), "--workers must be 1 to %d, not %d", seed.MaxWorkers, workers)
	}
	cfg := seed.Config{Participants: participants, Seed: seedValue, Workers: workers}
	if today != "" {
		d, err := domain.ParseDate(today)
		if err != nil {
			return usageErrorf(fs.Name(), "--today: %v", err)
		}
		loc, err := time.LoadLocation("Europe/Oslo")
		if err != nil {
			return fmt.Errorf("load business time zone: %w", err)
		}
		if now := domain.DateIn(time.Now(), loc); d.After(now) {
			return usageErrorf(fs.Name(), "--today %s is in the future (today is %s)", d, now)
		}
		cfg.Today = d
	}

	// Files come after the flags, so that a mistake in them leaves nothing
	// behind. Seeding writes demo data, so it seals them under the demo's
	// own master key, beside them, as demo does: demo reads a seeded
	// directory with no key to hand over.
	master, _, err := openDemoMasterKey(dataDir)
	if err != nil {
		return err
	}
	keys, err := openKeyring(ctx, dataDir, master)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, filepath.Join(dataDir, storeFile), nil)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := store.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close event store: %w", cerr))
		}
	}()
	// Each worker writes one participant from intake to exit, so only the
	// streams in hand need their histories cached; a larger cache only
	// gives the garbage collector more to scan.
	svc, err := casework.New(store, casework.Options{Keys: keys, CacheStreams: 2 * workers})
	if err != nil {
		return err
	}
	// Seeding allocates fast and keeps little: collecting less often
	// nearly halves the time of a large run, for a few hundred MB.
	stop, err := batchRun(e, prof)
	if err != nil {
		return err
	}
	defer stop()

	stats, err := seed.Run(ctx, svc, cfg, e.stderr)
	if err != nil {
		return err
	}
	printSeedStats(e, dataDir, cfg, stats)
	if b, ok := store.(*bolt.Store); ok {
		st := b.Stats()
		fmt.Fprintf(e.stdout, "  store: %d commits, %.1f appends and %.1f events per commit\n",
			st.Commits, float64(st.Appends)/max(1, float64(st.Commits)), float64(st.Events)/max(1, float64(st.Commits)))
	}
	return nil
}

func printSeedStats(e *env, dataDir string, cfg seed.Config, s seed.Stats) {
	fmt.Fprintf(e.stdout, "seeded %s: seed %d, as of %s\n", dataDir, cfg.Seed, s.Today)
	fmt.Fprintf(e.stdout, "  %d programmes, %d employers, %d participants in %d episodes\n", s.Programmes, s.Employers, s.Participants, s.Episodes)
	fmt.Fprintf(e.stdout, "  %d events written, %d already stored, in %s (%.0f events/s)\n",
		s.Written, s.Existing, s.Elapsed.Round(100*time.Millisecond), float64(s.Events())/max(s.Elapsed.Seconds(), 1e-9))
	types := make([]string, 0, len(s.ByType))
	for t := range s.ByType {
		types = append(types, t)
	}
	slices.Sort(types)
	for _, t := range types {
		fmt.Fprintf(e.stdout, "  %-22s %9d\n", t, s.ByType[t])
	}
}

// batchRun sets a batch command up: the collector at GOGC 400 unless the
// environment sets GOGC (a batch job allocates fast and keeps little of
// it), and a CPU profile into prof when given. stop undoes both.
func batchRun(e *env, prof string) (stop func(), err error) {
	var undo []func()
	stop = func() {
		for _, f := range slices.Backward(undo) {
			f()
		}
	}
	if e.getenv("GOGC") == "" {
		was := debug.SetGCPercent(400)
		undo = append(undo, func() { debug.SetGCPercent(was) })
	}
	if prof != "" {
		f, err := os.Create(prof)
		if err != nil {
			stop()
			return nil, fmt.Errorf("create CPU profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			stop()
			return nil, fmt.Errorf("start CPU profile: %w", err)
		}
		undo = append(undo, func() {
			pprof.StopCPUProfile()
			f.Close()
		})
	}
	return stop, nil
}
