package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api/identity"
	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/eventstore/bolt"
)

// syncBuffer is written by a serving goroutine while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// withMasterKey is an environment with a master key (bytes 1 to 32, for
// tests only), which serve needs to start.
func withMasterKey() map[string]string {
	return map[string]string{envMasterKey: "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="}
}

// environ is a fake environment.
func environ(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// invoke runs the binary in-process as main would and returns its exit
// code and output.
func invoke(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, environ(vars), &out, &errOut)
	code = exitCode(err, &errOut)
	return code, out.String(), errOut.String()
}

func TestTokenMintsAVerifiableToken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	tests := []struct {
		name string
		vars map[string]string
		args []string
		want identity.Identity
	}{
		{"caseworker, data by flag", nil,
			[]string{"token", "--data", dir, "--user", "u-17", "--role", "caseworker", "--office", "oslo"},
			identity.Identity{UserID: "u-17", Role: identity.Caseworker, Office: "oslo"}},
		{"auditor, data from the environment", map[string]string{"CASELEDGER_DATA": dir},
			[]string{"token", "-user=a-1", "-role=auditor", "-ttl=1h"},
			identity.Identity{UserID: "a-1", Role: identity.Auditor}},
		{"the flag wins over the environment", map[string]string{"CASELEDGER_DATA": filepath.Join(dir, "not-this")},
			[]string{"token", "--data", dir, "--user", "v", "--role", "volunteer", "--office", "bergen"},
			identity.Identity{UserID: "v", Role: identity.Volunteer, Office: "bergen"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := invoke(t, tt.vars, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			issuer, err := identity.OpenLocalIssuer(context.Background(), dir, identity.Config{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := issuer.Verifier().Verify(context.Background(), strings.TrimSpace(out))
			if err != nil {
				t.Fatalf("printed token does not verify: %v", err)
			}
			if got != tt.want {
				t.Fatalf("token names %+v, want %+v", got, tt.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "not-this")); !errors.Is(err, os.ErrNotExist) {
		t.Error("the environment's data directory was used despite --data")
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		vars map[string]string
		args []string
		want string // in the one line on stderr
	}{
		{"no command", nil, nil, "no command given"},
		{"unknown command", nil, []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"token without user", nil, []string{"token", "--data", dir, "--role", "auditor"}, "missing --user"},
		{"token without role", nil, []string{"token", "--data", dir, "--user", "u"}, "missing --role"},
		{"token with unknown role", nil, []string{"token", "--data", dir, "--user", "u", "--role", "root"}, `--role "root" is not one of`},
		{"caseworker without office", nil, []string{"token", "--data", dir, "--user", "u", "--role", "caseworker"}, "missing --office"},
		{"negative ttl", nil, []string{"token", "--data", dir, "--user", "u", "--role", "auditor", "--ttl", "-1h"}, "--ttl"},
		{"ttl too long", nil, []string{"token", "--data", dir, "--user", "u", "--role", "auditor", "--ttl", "2000h"}, "--ttl"},
		{"bad ttl", nil, []string{"token", "--data", dir, "--user", "u", "--role", "auditor", "--ttl", "soon"}, "invalid value"},
		{"unknown flag", nil, []string{"token", "--colour", "red"}, "flag provided but not defined: -colour"},
		{"stray argument", nil, []string{"serve", "now"}, `unexpected argument "now"`},
		{"bad size in the environment", map[string]string{"CASELEDGER_MAX_BODY_BYTES": "lots"}, []string{"serve"}, "CASELEDGER_MAX_BODY_BYTES"},
		{"bad log level", nil, []string{"serve", "--log-level", "loud"}, "-log-level: want debug, info, warn or error"},
		{"zero body size", nil, []string{"demo", "--max-body-bytes", "0"}, "--max-body-bytes must be positive"},
		{"empty issuer", nil, []string{"serve", "--issuer", ""}, "missing --issuer"},
		{"OpenID Connect issuer without audience", nil, []string{"serve", "--data", dir, "--oidc-issuer", "https://login.example"}, "--oidc-issuer needs --oidc-audience"},
		{"OpenID Connect issuer over plain http", withMasterKey(), []string{"serve", "--data", dir, "--oidc-issuer", "http://login.example", "--oidc-audience", "caseledger"}, "https"},
		{"OpenID Connect issuer with HS256", map[string]string{"CASELEDGER_OIDC_ALGS": "HS256", envMasterKey: withMasterKey()[envMasterKey]}, []string{"serve", "--data", dir, "--oidc-issuer", "https://login.example", "--oidc-audience", "caseledger"}, "HS256"},
		{"demo takes no OpenID Connect issuer", nil, []string{"demo", "--oidc-issuer", "https://login.example"}, "flag provided but not defined: -oidc-issuer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := invoke(t, tt.vars, tt.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2 (stderr %q)", code, errOut)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q, want one line with %q", errOut, tt.want)
			}
		})
	}
}

func TestRuntimeFailureIsOneLineAndExitOne(t *testing.T) {
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := invoke(t, nil, "token", "--data", notADir, "--user", "u", "--role", "auditor")
	if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "caseledger: ") {
		t.Fatalf("exit %d, stderr %q; want 1 and one line", code, errOut)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"help"}, {"token", "-h"}, {"serve", "--help"}, {"demo", "-h"}} {
		code, out, errOut := invoke(t, nil, args...)
		if code != 0 || !strings.HasPrefix(out, "usage: caseledger") || errOut != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	_, out, _ := invoke(t, nil, "serve", "-h")
	for _, v := range []string{"CASELEDGER_DATA", "CASELEDGER_ADDR"} {
		if !strings.Contains(out, v) {
			t.Errorf("serve -h does not mention %s", v)
		}
	}
}

// server runs a serving subcommand until the returned stop is called.
type server struct {
	addr   string
	stdout *syncBuffer
	stderr *syncBuffer
	stop   func() error
}

func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	addrs := make(chan string, 1)
	e := &env{getenv: environ(withMasterKey()), stdout: s.stdout, stderr: s.stderr, listening: func(a string) { addrs <- a }}
	done := make(chan error, 1)
	go func() { done <- runWith(ctx, e, append(args, "--addr", "127.0.0.1:0")) }()
	select {
	case s.addr = <-addrs:
	case err := <-done:
		cancel()
		t.Fatalf("server ended before listening: %v\n%s", err, s.stderr)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("server did not start listening")
	}
	var once sync.Once
	var stopErr error
	s.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(10 * time.Second):
				stopErr = errors.New("server did not stop")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { _ = s.stop() })
	return s
}

// openDataStore opens the embedded store of the data directory dir.
func openDataStore(t *testing.T, dir string) *bolt.Store {
	t.Helper()
	store, err := bolt.Open(filepath.Join(dir, storeFile), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return store
}

// client talks to the server at base ("" when paths are whole URLs).
type client struct {
	base string
	http *http.Client
}

// reply is what a request got: a response, or err when none came.
type reply struct {
	status int
	header http.Header
	body   []byte
	err    error
}

func (c *client) do(method, path, token string, hdr map[string]string, body string) reply {
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		return reply{err: err}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{err: err}
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServe(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, "serve", "--data", dir)
	base := "http://" + s.addr

	if code, _ := get(t, base+"/livez", ""); code != 200 {
		t.Errorf("livez %d", code)
	}
	// Ready once every projection has caught up with the (empty) log,
	// which on a loaded machine may take a moment after listening.
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := get(t, base+"/readyz", "")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz %d after 10 s: %s", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, _ := get(t, base+"/v1/me", ""); code != 401 {
		t.Errorf("me without token %d, want 401", code)
	}
	// A token from the token subcommand works against the server.
	code, tok, errOut := invoke(t, nil, "token", "--data", dir, "--user", "u-1", "--role", "team_lead", "--office", "oslo")
	if code != 0 {
		t.Fatalf("token: %s", errOut)
	}
	code, body := get(t, base+"/v1/me", strings.TrimSpace(tok))
	if code != 200 || !strings.Contains(body, `"role":"team_lead"`) {
		t.Errorf("me %d: %s", code, body)
	}

	if err := s.stop(); err != nil {
		t.Fatalf("serve returned %v after the signal", err)
	}
	// The store is closed: its file lock is free again.
	st, err := bolt.Open(filepath.Join(dir, storeFile), bolt.Options{LockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("store still held after shutdown: %v", err)
	}
	st.Close()

	var sawRequest, sawStopped bool
	for _, line := range strings.Split(strings.TrimSpace(s.stderr.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON", line)
		}
		sawRequest = sawRequest || (m["msg"] == "request" && m["route"] == "/v1/me" && m["correlation_id"] != nil)
		sawStopped = sawStopped || m["msg"] == "stopped"
	}
	if !sawRequest || !sawStopped {
		t.Errorf("log lacks a request line or the stop:\n%s", s.stderr)
	}
}

func TestServeRefusesAStoreInUse(t *testing.T) {
	dir := t.TempDir()
	startServer(t, "serve", "--data", dir)
	code, _, errOut := invoke(t, withMasterKey(), "serve", "--data", dir, "--addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errOut, "in use") {
		t.Fatalf("second serve: exit %d, stderr %q", code, errOut)
	}
}

// TestServeRefusesASpillJournalItCannotUse: serve does not start on an
// access spill journal it cannot write, that another process holds, or
// that is damaged, and says why in its last line.
func TestServeRefusesASpillJournalItCannotUse(t *testing.T) {
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	inUse := t.TempDir()
	held, err := audit.OpenSpill(inUse)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	damaged := t.TempDir()
	if err := os.WriteFile(filepath.Join(damaged, audit.SpillFile), []byte("{not a line}\n{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, spill, want string }{
		{"not a directory", notADir, "not a directory"},
		{"in use", inUse, "another process uses it"},
		{"damaged", damaged, "damaged: line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := invoke(t, withMasterKey(), "serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--access-spill", tc.spill)
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if last := lines[len(lines)-1]; code != 1 || !strings.HasPrefix(last, "caseledger: ") || !strings.Contains(last, tc.want) {
				t.Fatalf("exit %d, last line %q; want 1 and a line saying %q", code, last, tc.want)
			}
		})
	}
}

func TestDemoPrintsAWorkingTokenAndCurlLine(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, "demo", "--data", dir, "--participants", "40")
	out := s.stdout.String()
	m := regexp.MustCompile(`curl -s -H 'Authorization: Bearer ([A-Za-z0-9_.-]+)' '(http://\S+/v1/caseload\S*)'`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no curl line in:\n%s", out)
	}
	if !strings.Contains(out, "\n"+m[1]+"\n") {
		t.Errorf("the token is not printed on a line of its own:\n%s", out)
	}
	// The token sees the office's caseload, and the demo data fill it.
	code, body := get(t, m[2], m[1])
	var page struct {
		Rows []struct {
			Name string `json:"name"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(body), &page); code != 200 || err != nil || len(page.Rows) == 0 || page.Rows[0].Name == "" {
		t.Fatalf("the printed curl line gets %d: %s", code, body)
	}
}

func TestDemoIgnoresTheDataEnvironment(t *testing.T) {
	var out bytes.Buffer
	err := runWith(context.Background(), &env{getenv: environ(map[string]string{"CASELEDGER_DATA": "/must/not/be/used"}), stdout: &out, stderr: io.Discard}, []string{"demo", "-h"})
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), defaultDemoDataDir) || strings.Contains(out.String(), "CASELEDGER_DATA") {
		t.Fatalf("demo -h:\n%s", out.String())
	}
}
