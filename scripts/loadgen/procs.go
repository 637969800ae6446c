package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// startTimeout bounds how long a process may take to answer its first
// request: the server catches its read models up with the log first.
const startTimeout = 5 * time.Minute

// process is a child this program started, and stops.
type process struct {
	cmd  *exec.Cmd
	done chan error // Wait's result, once
}

func startProcess(cmd *exec.Cmd) (*process, error) {
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", filepath.Base(cmd.Path), err)
	}
	p := &process{cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	return p, nil
}

// stop asks the process to shut down (SIGTERM), and kills it if it has
// not within a while.
func (p *process) stop() {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return // gone already
	}
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// waitReady polls url until it answers 200, the process exits, or the
// start timeout passes.
func (p *process) waitReady(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-p.done:
			p.done <- err
			return fmt.Errorf("%s exited before it was ready: %v", filepath.Base(p.cmd.Path), err)
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s: %w", filepath.Base(p.cmd.Path), url, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// freeAddr is a loopback address with a port nobody listens on now. The
// port is passed to a child, which listens on it a moment later.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// server is a running caseledger serve.
type server struct {
	*process
	cfg       config
	base      string // http://host:port
	pprofBase string // http://host:port of its profiler, "" without
	logPath   string
}

// startServer starts caseledger serve over the data directory, with its
// log in a file, and waits until it is ready.
func startServer(ctx context.Context, cfg config) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--data", cfg.data, "--addr", addr, "--master-key-file", filepath.Join(cfg.data, "master.key")}
	s := &server{cfg: cfg, base: "http://" + addr, logPath: cfg.serverLog}
	if cfg.profileDir != "" {
		paddr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		args = append(args, "--pprof", paddr)
		s.pprofBase = "http://" + paddr
	}
	args = append(args, cfg.serverFlags...)
	if s.logPath == "" {
		f, err := os.CreateTemp("", "caseledger-load-*.log")
		if err != nil {
			return nil, fmt.Errorf("server log: %w", err)
		}
		f.Close()
		s.logPath = f.Name()
	}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return nil, fmt.Errorf("server log: %w", err)
	}
	defer logFile.Close() // the child has its own descriptor
	// The server's environment is this one's without CASELEDGER_*, so that
	// the flags above say everything about it.
	cmd := exec.Command(cfg.caseledger, args...)
	cmd.Env = cleanEnv()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if s.process, err = startProcess(cmd); err != nil {
		return nil, err
	}
	if err := s.waitReady(ctx, s.base+"/readyz"); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w (see %s)", err, s.logPath)
	}
	return s, nil
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CASELEDGER_") {
			env = append(env, kv)
		}
	}
	return env
}

// token mints a bearer token with caseledger token.
func (s *server) token(ctx context.Context, user, role, office string) (string, error) {
	cmd := exec.CommandContext(ctx, s.cfg.caseledger, "token", "--data", s.cfg.data, "--user", user, "--role", role, "--office", office, "--ttl", "12h")
	cmd.Env = cleanEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("mint a token for %s (%s, %s): %w: %s", user, role, office, err, strings.TrimSpace(stderr.String()))
	}
	tok := strings.TrimSpace(string(out))
	if tok == "" || strings.ContainsAny(tok, " \n") {
		return "", fmt.Errorf("mint a token for %s: unexpected output of caseledger token", user)
	}
	return tok, nil
}

// profile fetches a CPU profile of the server over d into file; it runs
// alongside a phase.
func (s *server) profile(ctx context.Context, d time.Duration, file string) error {
	url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", s.pprofBase, int(d.Round(time.Second)/time.Second))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetch a CPU profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch a CPU profile: %s", resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", file, err)
	}
	return f.Close()
}

// trivialBody is what the trivial handler answers: about the size of a
// small JSON answer.
var trivialBody = []byte(`{"ok":true}` + "\n")

// serveTrivial serves the trivial handler on addr until ctx ends, and
// writes the address it listens on to stdout.
func serveTrivial(ctx context.Context, addr string, stdout io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(trivialBody)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	fmt.Fprintln(stdout, ln.Addr().String())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// startTrivial starts this program again as the trivial server, in a
// process of its own as the caseledger server is, and waits until it
// answers.
func startTrivial(ctx context.Context) (*process, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", fmt.Errorf("find this program to start it as the trivial server: %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(self, "-trivial", "-addr", addr)
	cmd.Stderr = os.Stderr
	p, err := startProcess(cmd)
	if err != nil {
		return nil, "", err
	}
	base := "http://" + addr
	if err := p.waitReady(ctx, base+"/"); err != nil {
		p.stop()
		return nil, "", err
	}
	return p, base, nil
}
