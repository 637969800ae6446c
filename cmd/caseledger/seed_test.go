package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSeedFlagErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	tests := []struct {
		name string
		args []string
		want string // in the one line on stderr
	}{
		{"no participants", []string{"--participants", "0"}, "--participants must be 1 to 1000000, not 0"},
		{"too many participants", []string{"--participants", "1000001"}, "--participants must be 1 to 1000000"},
		{"not a number", []string{"--participants", "many"}, `invalid value "many" for flag -participants`},
		{"negative seed", []string{"--seed", "-1"}, "invalid value"},
		{"no workers", []string{"--workers", "0"}, "--workers must be 1 to 1024, not 0"},
		{"too many workers", []string{"--workers", "5000"}, "--workers must be 1 to 1024"},
		{"a date that does not exist", []string{"--today", "2026-02-30"}, "--today: date 2026-02-30 does not exist"},
		{"a date in another layout", []string{"--today", "15.05.2026"}, "--today: date must be written YYYY-MM-DD"},
		{"a date in the future", []string{"--today", "2999-01-01"}, "--today 2999-01-01 is in the future"},
		{"an empty data directory", []string{"--data", ""}, "missing --data"},
		{"a stray argument", []string{"now"}, `unexpected argument "now"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"seed", "--data", dir}, tt.args...)
			code, out, errOut := invoke(t, nil, args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2 (stderr %q)", code, errOut)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tt.want) || !strings.HasPrefix(errOut, "caseledger seed: ") {
				t.Errorf("stderr %q, want one line with %q", errOut, tt.want)
			}
		})
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("a refused seed left %s behind (%v)", dir, err)
	}
}

func TestSeedWritesAndReRunsIdempotently(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	args := []string{"seed", "--data", dir, "--participants", "12", "--seed", "5", "--today", "2026-01-15", "--workers", "4"}
	code, out, errOut := invoke(t, nil, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"seeded " + dir + ": seed 5, as of 2026-01-15", "12 participants", "0 already stored", "ParticipantEnrolled", "MeetingHeld"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "12/12 participants (100%)") {
		t.Errorf("no final progress line on stderr:\n%s", errOut)
	}
	for _, f := range []string{storeFile, demoMasterKeyFile, keysDir} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	code, out, errOut = invoke(t, nil, args...)
	if code != 0 || !strings.Contains(out, " 0 events written") {
		t.Fatalf("re-run: exit %d, stdout:\n%s\nstderr: %s", code, out, errOut)
	}
}

func TestDemoSeedsAnEmptyStoreOnly(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, "demo", "--data", dir, "--participants", "8")
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if log := s.stderr.String(); !strings.Contains(log, `"msg":"demo data seeded","participants":8`) {
		t.Fatalf("the demo did not seed its empty store:\n%s", log)
	}
	s = startServer(t, "demo", "--data", dir, "--participants", "8")
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if log := s.stderr.String(); !strings.Contains(log, "demo store holds events already; not seeding") || strings.Contains(log, "demo data seeded") {
		t.Fatalf("the demo seeded a store that holds events:\n%s", log)
	}
	code, _, errOut := invoke(t, nil, "demo", "--data", dir, "--participants", "-1")
	if code != 2 || !strings.Contains(errOut, "--participants must be 0 to") {
		t.Fatalf("demo --participants -1: exit %d, %q", code, errOut)
	}
}
