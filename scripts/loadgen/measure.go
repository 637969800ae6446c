package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Targets of issue 9, printed beside the figures.
const (
	targetMixRatio  = 0.35                  // the mix's throughput over the trivial handler's
	targetMixP99    = 20 * time.Millisecond // the mix's p99
	targetWritesRPS = 5000                  // durable writes alone, per second
)

// Report is a run's figures, as -json writes them.
type Report struct {
	Conns    int           `json:"conns"`
	Duration float64       `json:"duration_seconds"`
	Warmup   float64       `json:"warmup_seconds"`
	Phases   []PhaseReport `json:"phases"`
	// MixRatio is the mix's throughput over the trivial handler's, when
	// both ran.
	MixRatio float64 `json:"mix_ratio,omitempty"`
	Failures int     `json:"failures"`
}

// PhaseReport is one phase: all its requests, and each kind's.
type PhaseReport struct {
	Name     string       `json:"name"`
	Elapsed  float64      `json:"elapsed_seconds"`
	All      KindReport   `json:"all"`
	Kinds    []KindReport `json:"kinds"`
	Failures int          `json:"failures"`
	// Examples are a few of the failures, as status and problem type.
	Examples []string `json:"failure_examples,omitempty"`
}

// KindReport is the figures of one kind of request (or "all").
type KindReport struct {
	Kind     string  `json:"kind"`
	Requests int     `json:"requests"`
	Failures int     `json:"failures"`
	RPS      float64 `json:"requests_per_second"`
	P50      float64 `json:"p50_ms"`
	P90      float64 `json:"p90_ms"`
	P99      float64 `json:"p99_ms"`
	Max      float64 `json:"max_ms"`
	// Statuses counts the answers by status ("transport" for none).
	Statuses map[string]int `json:"statuses"`
}

// samples is what a worker saw of one kind: every latency, and the
// statuses.
type samples struct {
	latencies []time.Duration
	statuses  map[string]int
	failures  int
}

// worker is one closed-loop client: one request at a time.
type worker struct {
	req      *requester
	mix      mix
	kinds    map[string]*samples
	examples []string
}

func (w *worker) sample(kind string) *samples {
	s := w.kinds[kind]
	if s == nil {
		s = &samples{statuses: map[string]int{}}
		w.kinds[kind] = s
	}
	return s
}

// loop sends requests until ctx ends or the deadline passes; measure says
// whether to keep what it sees.
func (w *worker) loop(ctx context.Context, until time.Time, measure bool) {
	for time.Now().Before(until) && ctx.Err() == nil {
		kind := w.mix.pick(w.req.rng.IntN(w.mix.total()))
		req, err := w.req.next(ctx, kind)
		start := time.Now()
		status, problem := "", ""
		if err == nil {
			status, problem = w.do(req)
		} else {
			status, problem = "request", err.Error()
		}
		took := time.Since(start)
		if !measure {
			continue
		}
		s := w.sample(kind)
		s.latencies = append(s.latencies, took)
		s.statuses[status]++
		if !strings.HasPrefix(status, "2") {
			s.failures++
			if len(w.examples) < 5 {
				w.examples = append(w.examples, fmt.Sprintf("%s %s: %s", kind, status, problem))
			}
		}
	}
}

// do sends req and reads the whole answer; it returns the status, and for
// a failure what the answer says about it (a problem's type and detail,
// which never hold personal data).
func (w *worker) do(req *http.Request) (status, problem string) {
	resp, err := w.req.client.Do(req)
	if err != nil {
		return "transport", err.Error()
	}
	defer resp.Body.Close()
	status = strconv.Itoa(resp.StatusCode)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return "transport", err.Error()
		}
		return status, ""
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var p struct {
		Type   string `json:"type"`
		Detail string `json:"detail"`
	}
	if json.Unmarshal(body, &p) == nil && p.Type != "" {
		return status, p.Type + " " + p.Detail
	}
	return status, strings.TrimSpace(string(body))
}

// newClient is the client of a phase: conns connections at most, all
// kept alive.
func newClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxConnsPerHost:     conns,
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
	}
}

// runTrivial measures the trivial handler in a process of its own.
func runTrivial(ctx context.Context, cfg config) (PhaseReport, error) {
	p, base, err := startTrivial(ctx)
	if err != nil {
		return PhaseReport{}, err
	}
	defer p.stop()
	return measure(ctx, cfg, phaseTrivial, base, nil, mix{{kindTrivial, 100}}, nil)
}

// runPhase measures the mix or the writes against the server, with a CPU
// profile of the server alongside when asked.
func runPhase(ctx context.Context, cfg config, name string, srv *server, pop *population) (PhaseReport, error) {
	m := caseworkerMix
	if name == phaseWrites {
		m = writesMix
	}
	var profiled func()
	if cfg.profileDir != "" {
		profiled = func() {
			file := filepath.Join(cfg.profileDir, "server-"+name+".pprof")
			if err := srv.profile(ctx, cfg.duration, file); err != nil {
				fmt.Printf("profile of %s: %v\n", name, err)
			}
		}
	}
	return measure(ctx, cfg, name, srv.base, pop, m, profiled)
}

// measure runs cfg.conns workers over base with the mix: a warm-up, then
// cfg.duration measured; profile, when set, runs alongside the measured
// part.
func measure(ctx context.Context, cfg config, name, base string, pop *population, m mix, profile func()) (PhaseReport, error) {
	own := make([][]assignment, cfg.conns)
	if pop != nil {
		var err error
		if own, err = pop.deal(cfg.conns); err != nil {
			return PhaseReport{}, err
		}
	}
	client := newClient(cfg.conns)
	defer client.CloseIdleConnections()
	runID := uuid.NewString()[:8]
	workers := make([]*worker, cfg.conns)
	for i := range workers {
		workers[i] = &worker{
			req: &requester{base: base, pop: pop, own: own[i], client: client,
				rng:  rand.New(rand.NewPCG(cfg.seed, uint64(i))),
				keys: fmt.Sprintf("load-%s-%s-%d-", runID, name, i)},
			mix:   m,
			kinds: map[string]*samples{},
		}
	}
	var wg sync.WaitGroup
	phase := func(until time.Time, measured bool) {
		for _, w := range workers {
			wg.Go(func() { w.loop(ctx, until, measured) })
		}
		wg.Wait()
	}
	phase(time.Now().Add(cfg.warmup), false)

	var profiling sync.WaitGroup
	if profile != nil {
		profiling.Go(profile)
	}
	start := time.Now()
	phase(start.Add(cfg.duration), true)
	elapsed := time.Since(start)
	profiling.Wait()
	return report(name, elapsed, workers), nil
}

// report merges the workers' samples.
func report(name string, elapsed time.Duration, workers []*worker) PhaseReport {
	merged := map[string]*samples{}
	all := &samples{statuses: map[string]int{}}
	rep := PhaseReport{Name: name, Elapsed: elapsed.Seconds()}
	for _, w := range workers {
		for kind, s := range w.kinds {
			m := merged[kind]
			if m == nil {
				m = &samples{statuses: map[string]int{}}
				merged[kind] = m
			}
			for _, into := range []*samples{m, all} {
				into.latencies = append(into.latencies, s.latencies...)
				into.failures += s.failures
				for st, n := range s.statuses {
					into.statuses[st] += n
				}
			}
		}
		for _, ex := range w.examples {
			if len(rep.Examples) < 5 {
				rep.Examples = append(rep.Examples, ex)
			}
		}
	}
	rep.All = all.summary("all", elapsed)
	for _, kind := range slices.Sorted(maps.Keys(merged)) {
		rep.Kinds = append(rep.Kinds, merged[kind].summary(kind, elapsed))
	}
	rep.Failures = all.failures
	return rep
}

func (s *samples) summary(kind string, elapsed time.Duration) KindReport {
	slices.Sort(s.latencies)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	k := KindReport{Kind: kind, Requests: len(s.latencies), Failures: s.failures, Statuses: s.statuses,
		RPS: float64(len(s.latencies)) / elapsed.Seconds()}
	if len(s.latencies) > 0 {
		k.P50, k.P90, k.P99 = ms(percentile(s.latencies, 50)), ms(percentile(s.latencies, 90)), ms(percentile(s.latencies, 99))
		k.Max = ms(s.latencies[len(s.latencies)-1])
	}
	return k
}

// percentile is the nearest-rank percentile p (0 < p <= 100) of sorted,
// which is not empty: the smallest sample with at least p % of the
// samples at or below it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(float64(len(sorted))*p/100 + 0.999999999)
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func (p PhaseReport) print(w io.Writer) {
	fmt.Fprintf(w, "== %s: %d requests in %.1f s, %d failed\n", p.Name, p.All.Requests, p.Elapsed, p.Failures)
	fmt.Fprintf(w, "%-10s %9s %10s %8s %8s %8s %8s %8s\n", "kind", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "failed")
	rows := p.Kinds
	if len(rows) > 1 {
		rows = append(slices.Clone(rows), p.All)
	}
	for _, k := range rows {
		fmt.Fprintf(w, "%-10s %9d %10.0f %8.2f %8.2f %8.2f %8.1f %8d\n", k.Kind, k.Requests, k.RPS, k.P50, k.P90, k.P99, k.Max, k.Failures)
	}
	for _, k := range p.Kinds {
		if k.Failures > 0 {
			fmt.Fprintf(w, "FAILED %s: statuses %v\n", k.Kind, k.Statuses)
		}
	}
	for _, ex := range p.Examples {
		fmt.Fprintf(w, "FAILED e.g. %s\n", ex)
	}
	fmt.Fprintln(w)
}

// summarise prints the figures against the targets.
func (r *Report) summarise(w io.Writer) {
	byName := map[string]PhaseReport{}
	for _, p := range r.Phases {
		byName[p.Name] = p
	}
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	trivial, haveTrivial := byName[phaseTrivial]
	mixed, haveMix := byName[phaseMix]
	if haveTrivial && haveMix && trivial.All.RPS > 0 {
		r.MixRatio = mixed.All.RPS / trivial.All.RPS
		fmt.Fprintf(w, "mix / trivial throughput: %.0f / %.0f = %.1f %% (target >= %.0f %%: %s)\n",
			mixed.All.RPS, trivial.All.RPS, 100*r.MixRatio, 100*targetMixRatio, verdict(r.MixRatio >= targetMixRatio))
	}
	if haveMix {
		fmt.Fprintf(w, "mix p99: %.2f ms (target < %d ms: %s)\n", mixed.All.P99, targetMixP99.Milliseconds(),
			verdict(mixed.All.P99 < float64(targetMixP99.Milliseconds())))
	}
	if writes, ok := byName[phaseWrites]; ok {
		fmt.Fprintf(w, "writes alone: %.0f/s (target >= %d/s: %s)\n", writes.All.RPS, targetWritesRPS, verdict(writes.All.RPS >= targetWritesRPS))
	}
	if r.Failures > 0 {
		fmt.Fprintf(w, "FAILED: %d requests failed; this run is not a valid measurement\n", r.Failures)
	}
}
