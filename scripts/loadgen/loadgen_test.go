package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMixes(t *testing.T) {
	for _, tt := range []struct {
		name          string
		m             mix
		reads, writes int // percent
	}{
		{"caseworkers", caseworkerMix, 80, 20},
		{"writes", writesMix, 0, 100},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.m.total() != 100 {
				t.Fatalf("shares add up to %d %%", tt.m.total())
			}
			// Every roll from 0 to 99 once: each kind comes up as often as
			// its share says.
			got := map[string]int{}
			for roll := range 100 {
				got[tt.m.pick(roll)]++
			}
			reads := got[kindCaseload] + got[kindOverview]
			writes := got[kindMeeting] + got[kindScore] + got[kindPlacement]
			if reads != tt.reads || writes != tt.writes {
				t.Errorf("%d %% reads, %d %% writes; want %d and %d", reads, writes, tt.reads, tt.writes)
			}
			for _, k := range tt.m {
				if got[k.kind] != k.percent {
					t.Errorf("%s comes up %d times in 100, want %d", k.kind, got[k.kind], k.percent)
				}
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, tt := range []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{ms(7), 50, 7 * time.Millisecond},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(1, 2), 50, 1 * time.Millisecond},
		{ms(1, 2), 51, 2 * time.Millisecond},
		{ms(hundred...), 50, 50 * time.Millisecond},
		{ms(hundred...), 90, 90 * time.Millisecond},
		{ms(hundred...), 99, 99 * time.Millisecond},
		{ms(hundred...), 99.5, 100 * time.Millisecond},
		{ms(hundred...), 100, 100 * time.Millisecond},
	} {
		if got := percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("p%v of %d samples = %v, want %v", tt.p, len(tt.sorted), got, tt.want)
		}
	}
}

// TestSmoke runs the load generator as scripts/load.sh does, briefly,
// against a small seeded population: every phase runs, every kind of
// request is sent, none fails. It asserts no speed: the figures of a
// two-second run on a busy machine say nothing.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two programs and seeds a population; not with -short")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the smoke test builds the server with the go command: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := func(name, pkg string) string {
		t.Helper()
		out := filepath.Join(dir, name)
		cmd := exec.CommandContext(ctx, goTool, "build", "-o", out, pkg)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
		return out
	}
	caseledger := bin("caseledger", "github.com/caseledger/caseledger/cmd/caseledger")
	loadgen := bin("loadgen", "github.com/caseledger/caseledger/scripts/loadgen")

	data := filepath.Join(dir, "data")
	seed := exec.CommandContext(ctx, caseledger, "seed", "--participants", "150", "--seed", "1", "--data", data)
	seed.Env = cleanEnv()
	if b, err := seed.CombinedOutput(); err != nil {
		t.Fatalf("seed: %v\n%s", err, b)
	}

	report := filepath.Join(dir, "report.json")
	serverLog := filepath.Join(dir, "server.log")
	run := exec.CommandContext(ctx, loadgen, "-caseledger", caseledger, "-data", data,
		"-offices", "hope-bergen,city-mission-oslo", "-caseworkers", "2",
		"-duration", "2s", "-warmup", "200ms", "-conns", "4", "-json", report, "-server-log", serverLog)
	out, err := run.CombinedOutput()
	if err != nil {
		logged, _ := os.ReadFile(serverLog)
		t.Fatalf("loadgen: %v\n%s\nserver log (tail):\n%s", err, out, tail(string(logged), 20))
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		phaseTrivial: {kindTrivial},
		phaseMix:     {kindCaseload, kindMeeting, kindOverview, kindPlacement, kindScore},
		phaseWrites:  {kindMeeting, kindPlacement, kindScore},
	}
	var phases []string
	for _, p := range rep.Phases {
		phases = append(phases, p.Name)
		var kinds []string
		for _, k := range p.Kinds {
			kinds = append(kinds, k.Kind)
			if k.Requests == 0 || k.RPS <= 0 || k.Failures != 0 {
				t.Errorf("%s %s: %d requests at %.0f/s, %d failed", p.Name, k.Kind, k.Requests, k.RPS, k.Failures)
			}
		}
		if !slices.Equal(kinds, want[p.Name]) {
			t.Errorf("%s sent %v, want %v", p.Name, kinds, want[p.Name])
		}
	}
	if !slices.Equal(phases, []string{phaseTrivial, phaseMix, phaseWrites}) {
		t.Errorf("phases %v", phases)
	}
	if rep.Failures != 0 || rep.MixRatio <= 0 {
		t.Errorf("%d failures, mix ratio %v", rep.Failures, rep.MixRatio)
	}
	t.Logf("loadgen output:\n%s", out)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
