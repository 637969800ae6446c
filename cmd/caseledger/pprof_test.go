package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServeProfiler: --pprof serves Go's profiler on its own listener,
// never on the API's, and stops with the server.
func TestServeProfiler(t *testing.T) {
	s := startServer(t, "serve", "--data", t.TempDir(), "--pprof", "127.0.0.1:0")
	var addr string
	deadline := time.Now().Add(10 * time.Second)
	for addr == "" && time.Now().Before(deadline) {
		for _, line := range strings.Split(s.stderr.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "profiler" {
				addr, _ = m["addr"].(string)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if addr == "" {
		t.Fatalf("no profiler address logged:\n%s", s.stderr)
	}
	if code, body := get(t, "http://"+addr+"/debug/pprof/goroutine?debug=1", ""); code != 200 || !strings.Contains(body, "goroutine profile") {
		t.Errorf("profiler: %d %q", code, body)
	}
	if code, _ := get(t, "http://"+addr+"/debug/pprof/cmdline", ""); code != 404 {
		t.Errorf("the profiler serves the command line: %d", code)
	}
	if code, _ := get(t, "http://"+s.addr+"/debug/pprof/goroutine?debug=1", ""); code != 404 {
		t.Errorf("the API's listener serves the profiler: %d", code)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	client := http.Client{Timeout: 2 * time.Second}
	if resp, err := client.Get("http://" + addr + "/debug/pprof/"); err == nil {
		resp.Body.Close()
		t.Error("the profiler still answers after the server stopped")
	}
}

// TestServeWithoutProfiler: by default no profiler is served, on the API's
// listener or elsewhere.
func TestServeWithoutProfiler(t *testing.T) {
	s := startServer(t, "serve", "--data", t.TempDir())
	if code, _ := get(t, "http://"+s.addr+"/debug/pprof/", ""); code != 404 {
		t.Errorf("the API's listener serves the profiler: %d", code)
	}
	if strings.Contains(s.stderr.String(), `"msg":"profiler"`) {
		t.Errorf("a profiler was started:\n%s", s.stderr)
	}
}
