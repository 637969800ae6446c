// Command loadgen drives a real caseledger server process on loopback and
// reports what it serves: requests per second and latency percentiles,
// for a trivial net/http handler (this machine's ceiling, measured by the
// same client), for a caseworkers' mix of reads and writes, and for
// writes alone. scripts/load.sh builds the server, seeds a population and
// runs it; see docs/performance.md, "Load".
//
//	go run ./scripts/loadgen -caseledger /tmp/caseledger -data /tmp/p10k -duration 20s -conns 64
//
// It starts `caseledger serve` over the data directory (which `caseledger
// seed` filled, master key included), mints bearer tokens with
// `caseledger token` for team leads and caseworkers of several offices,
// finds each caseworker's active participants through the caseload, and
// runs the phases one after another:
//
//   - trivial: a handler that answers 200 with a few bytes, served by a
//     second loadgen process (-trivial), which is the ceiling of this
//     machine with this client;
//   - mix: 80 % reads (caseload pages and participant overviews of the
//     caller's own participants, half each) and 20 % writes (meetings,
//     scores and placements, a third each, each with a unique
//     Idempotency-Key);
//   - writes: the same writes alone.
//
// The load model is a closed loop: -conns workers, each with its own
// connection, send a request, read the whole answer and send the next.
// Latency is the time from sending a request to reading the last byte of
// its answer; every sample is kept, so the percentiles are exact. A
// closed loop does not send while the server stalls, so a stall shows as
// lower throughput and a high maximum, not in the percentiles of requests
// that were never sent (coordinated omission); compare throughputs as well
// as latencies. Every phase is preceded by an unmeasured warm-up.
//
// Any answer that is not 2xx, and any transport error, is counted and
// printed as a failure, and the exit status is 1: a run with errors is not
// a valid measurement.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// config is what a run is told by its flags.
type config struct {
	caseledger  string        // the server binary
	data        string        // its data directory, seeded
	duration    time.Duration // measured, per phase
	warmup      time.Duration // unmeasured, before each phase
	conns       int           // concurrent connections (closed-loop workers)
	offices     []string      // whose team leads and caseworkers act
	perOffice   int           // caseworkers per office
	phases      []string      // of trivial, mix, writes, in order
	seed        uint64        // of the workers' random choices
	serverLog   string        // where the server's log lines go
	profileDir  string        // when set, CPU profiles of the server per phase
	jsonOut     string        // when set, the report as JSON
	serverFlags []string      // passed on to caseledger serve
}

// defaultOffices are the offices of the demo population (docs/demo-data.md).
var defaultOffices = []string{"hope-bergen", "hope-trondheim", "city-mission-oslo", "welfare-hadeland", "crisis-centre-oslo", "oslo-district-east"}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// errFailures is a run that completed but saw failed requests.
var errFailures = errors.New("requests failed: this run is not a valid measurement")

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	var (
		cfg       config
		trivial   = fs.Bool("trivial", false, "serve the trivial handler on -addr until stopped (used by loadgen itself)")
		addr      = fs.String("addr", "127.0.0.1:0", "with -trivial: address to listen on")
		offices   = fs.String("offices", strings.Join(defaultOffices, ","), "comma-separated offices whose staff act")
		phases    = fs.String("phases", "trivial,mix,writes", "comma-separated phases to run, in order: trivial, mix, writes")
		extraFlag = fs.String("server-flags", "", "space-separated extra flags for caseledger serve, e.g. \"--log-level warn\"")
	)
	fs.StringVar(&cfg.caseledger, "caseledger", "", "the caseledger binary (required)")
	fs.StringVar(&cfg.data, "data", "", "a data directory seeded by caseledger seed (required)")
	fs.DurationVar(&cfg.duration, "duration", 20*time.Second, "measured time per phase")
	fs.DurationVar(&cfg.warmup, "warmup", 2*time.Second, "unmeasured time before each phase")
	fs.IntVar(&cfg.conns, "conns", 64, "concurrent connections, each a closed-loop worker")
	fs.IntVar(&cfg.perOffice, "caseworkers", 4, "caseworkers per office (those with the most active participants)")
	fs.Uint64Var(&cfg.seed, "seed", 1, "seed of the workers' random choices")
	fs.StringVar(&cfg.serverLog, "server-log", "", "file for the server's log (default: a file in the system's temp directory)")
	fs.StringVar(&cfg.profileDir, "profile-dir", "", "directory for CPU profiles of the server, one per phase (starts the server with --pprof)")
	fs.StringVar(&cfg.jsonOut, "json", "", "also write the report as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *trivial {
		return serveTrivial(ctx, *addr, stdout)
	}
	cfg.offices = splitList(*offices)
	cfg.phases = splitList(*phases)
	cfg.serverFlags = strings.Fields(*extraFlag)
	if err := cfg.check(); err != nil {
		return err
	}
	rep, err := loadTest(ctx, cfg, stdout)
	if err != nil {
		return err
	}
	if cfg.jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return fmt.Errorf("encode the report: %w", err)
		}
		if err := os.WriteFile(cfg.jsonOut, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write the report: %w", err)
		}
	}
	if rep.Failures > 0 {
		return errFailures
	}
	return nil
}

func (c *config) check() error {
	switch {
	case c.caseledger == "":
		return errors.New("-caseledger: the server binary is required")
	case c.data == "":
		return errors.New("-data: a seeded data directory is required")
	case c.duration <= 0:
		return errors.New("-duration: must be positive")
	case c.warmup < 0:
		return errors.New("-warmup: must not be negative")
	case c.conns < 1:
		return errors.New("-conns: at least 1")
	case len(c.offices) == 0:
		return errors.New("-offices: at least one office")
	case c.perOffice < 1:
		return errors.New("-caseworkers: at least 1 per office")
	}
	for _, p := range c.phases {
		if p != phaseTrivial && p != phaseMix && p != phaseWrites {
			return fmt.Errorf("-phases: %q is not one of trivial, mix, writes", p)
		}
	}
	if len(c.phases) == 0 {
		return errors.New("-phases: at least one phase")
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// loadTest runs the phases cfg names against the processes it starts, and
// prints the report as it goes.
func loadTest(ctx context.Context, cfg config, stdout io.Writer) (Report, error) {
	rep := Report{Conns: cfg.conns, Duration: cfg.duration.Seconds(), Warmup: cfg.warmup.Seconds()}
	var srv *server
	var staff *population
	needServer := false
	for _, p := range cfg.phases {
		needServer = needServer || p != phaseTrivial
	}
	if needServer {
		var err error
		srv, err = startServer(ctx, cfg)
		if err != nil {
			return rep, err
		}
		defer srv.stop()
		fmt.Fprintf(stdout, "server: %s (log %s)\n", srv.base, srv.logPath)
		if staff, err = discover(ctx, cfg, srv); err != nil {
			return rep, err
		}
		fmt.Fprintf(stdout, "staff: %d caseworkers of %d offices, %d active participants in their caseloads, today %s\n",
			len(staff.caseworkers), len(cfg.offices), staff.participants(), staff.today)
	}
	fmt.Fprintf(stdout, "load: closed loop, %d connections, %s warm-up and %s measured per phase\n\n", cfg.conns, cfg.warmup, cfg.duration)

	for _, name := range cfg.phases {
		var res PhaseReport
		var err error
		switch name {
		case phaseTrivial:
			res, err = runTrivial(ctx, cfg)
		default:
			res, err = runPhase(ctx, cfg, name, srv, staff)
		}
		if err != nil {
			return rep, fmt.Errorf("phase %s: %w", name, err)
		}
		res.print(stdout)
		rep.Phases = append(rep.Phases, res)
		rep.Failures += res.Failures
	}
	rep.summarise(stdout)
	return rep, nil
}
