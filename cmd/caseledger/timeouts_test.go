package main

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The HTTP server's limits come from flags or the environment, and a
// value that would switch a protection off is refused in one line.
func TestHTTPLimitFlags(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		args []string
		want string // in the one line on stderr
	}{
		{"zero header timeout", nil, []string{"--read-header-timeout", "0"}, "--read-header-timeout must be positive"},
		{"negative read timeout", nil, []string{"--read-timeout", "-1s"}, "--read-timeout must be positive"},
		{"zero write timeout", nil, []string{"--write-timeout", "0s"}, "--write-timeout must be positive"},
		{"zero idle timeout", nil, []string{"--idle-timeout", "0s"}, "--idle-timeout must be positive"},
		{"header timeout past the read timeout", nil, []string{"--read-header-timeout", "20s", "--read-timeout", "10s"}, "must not exceed --read-timeout"},
		{"no header bytes", nil, []string{"--max-header-bytes", "0"}, "--max-header-bytes must be positive"},
		{"not a duration in the environment", map[string]string{"CASELEDGER_READ_TIMEOUT": "soon"}, nil, "CASELEDGER_READ_TIMEOUT"},
	}
	for _, tt := range tests {
		for _, cmd := range []string{"serve", "demo"} {
			t.Run(cmd+": "+tt.name, func(t *testing.T) {
				code, _, errOut := invoke(t, tt.vars, append([]string{cmd, "--data", t.TempDir()}, tt.args...)...)
				if code != 2 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tt.want) {
					t.Fatalf("exit %d, stderr %q; want 2 and one line with %q", code, errOut, tt.want)
				}
			})
		}
	}
}

func TestHTTPLimitsReachTheServer(t *testing.T) {
	fs := newFlagSet("serve", "")
	f := addServerFlags(fs)
	vars := map[string]string{"CASELEDGER_IDLE_TIMEOUT": "45s", "CASELEDGER_READ_TIMEOUT": "1m"}
	if err := fs.parse(&env{getenv: environ(vars)}, []string{"--read-header-timeout", "3s", "--write-timeout", "20s", "--max-header-bytes", "8192", "--read-timeout", "9s"}); err != nil {
		t.Fatal(err)
	}
	if err := f.check(fs); err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(http.NotFoundHandler(), slog.New(slog.NewTextHandler(io.Discard, nil)), f.limits)
	got := []any{srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes}
	want := []any{3 * time.Second, 9 * time.Second, 20 * time.Second, 45 * time.Second, 8192}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("server limits %v, want %v (the flag wins over the environment)", got, want)
			break
		}
	}
}
