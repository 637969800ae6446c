package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/projections"
	"github.com/caseledger/caseledger/projections/caseload"
	"github.com/caseledger/caseledger/projections/overview"
	"github.com/caseledger/caseledger/stats"
)

// projectionsDir holds the read models' snapshots in the data directory.
const projectionsDir = "projections"

// readModels are the read models the server keeps.
type readModels struct {
	caseload *caseload.Model
	overview *overview.Model
	outcomes *stats.Model
}

// newProjections returns the read models the server keeps, and their
// runner, snapshotting into the data directory.
func newProjections(store eventstore.Store, dataDir string, opts projections.Options) (readModels, *projections.Runner, error) {
	m := readModels{caseload: caseload.New(store), overview: overview.New(store), outcomes: stats.NewModel(store)}
	opts.Dir = filepath.Join(dataDir, projectionsDir)
	r, err := projections.New(store, opts, m.caseload, m.overview, m.outcomes)
	if err != nil {
		return readModels{}, nil, err
	}
	return m, r, nil
}

func runRebuild(ctx context.Context, e *env, args []string) (err error) {
	fs := newFlagSet("rebuild", "caseledger rebuild [--data DIR] [--store CONNECTION] [--cpuprofile FILE]")
	var dataDir string
	fs.StringVar(&dataDir, "data", defaultDataDir, "data directory: the event store and the read models' snapshots")
	fs.fromEnv("data", "CASELEDGER_DATA")
	storeFlag := addStoreFlag(fs)
	var prof string
	fs.StringVar(&prof, "cpuprofile", "", "write a CPU profile of the rebuild to this file")
	if err := fs.parse(e, args); err != nil {
		return err
	}
	log := newLogger(e.stderr, 0)
	store, err := openStore(ctx, storeLocation(*storeFlag, dataDir), log)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := store.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close event store: %w", cerr)
		}
	}()
	models, runner, err := newProjections(store, dataDir, projections.Options{Logger: log})
	if err != nil {
		return err
	}
	// A rebuild allocates an event's worth for every event and keeps a
	// little of it: collecting less often makes it about a fifth faster,
	// for a heap about twice the read models' size.
	stop, err := batchRun(e, prof)
	if err != nil {
		return err
	}
	defer stop()
	start := time.Now()
	bar := progressBar{w: e.stderr, start: start}
	if err := runner.Rebuild(ctx, bar.show); err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	took := time.Since(start)
	// The projections read the log side by side; the one that applies
	// the most (the outcomes model takes every event) read all of it.
	var applied, read uint64
	for _, s := range runner.Statuses() {
		applied += s.Applied
		read = max(read, s.Applied)
	}
	bar.done()
	fmt.Fprintf(e.stdout, "rebuilt %d read models from %d events of the log in %s (%.0f events/s; %d applied in all), %d participants\n",
		len(runner.Statuses()), read, took.Round(time.Millisecond), float64(read)/took.Seconds(), applied, models.caseload.Len())
	return nil
}

// progressBar draws one line, redrawn in place: how far into the log the
// rebuild is, and its rate.
type progressBar struct {
	w     io.Writer
	start time.Time
	drawn bool
}

func (b *progressBar) show(applied, position, head uint64) {
	frac := 1.0
	if head > 0 {
		frac = min(1, float64(position)/float64(head))
	}
	const width = 30
	n := int(frac * width)
	rate := float64(applied) / max(time.Since(b.start).Seconds(), 1e-9)
	fmt.Fprintf(b.w, "\r[%s%s] %3.0f%%  %d applied  %.0f applied/s", strings.Repeat("=", n), strings.Repeat(" ", width-n), frac*100, applied, rate)
	b.drawn = true
}

func (b *progressBar) done() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}
