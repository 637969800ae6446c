//go:build linux

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// dial opens a raw connection to the server.
func dial(t *testing.T, p *proc) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(p.base, "http://"), pollTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// send writes s to conn.
func send(t *testing.T, conn net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(conn, s); err != nil {
		t.Fatal(err)
	}
}

// closedByServer waits for the server to end conn and returns what it
// sent before; it fails if the connection is still open after wait.
func closedByServer(t *testing.T, conn net.Conn, wait time.Duration) string {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(wait)); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(conn)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the server still holds the connection after %s (it sent %q)", wait, got)
	}
	return string(got)
}

// stillOpen reports whether the server holds conn open: a read waits
// instead of meeting the end.
func stillOpen(conn net.Conn) bool {
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	_, err := conn.Read(make([]byte, 1))
	return errors.Is(err, os.ErrDeadlineExceeded)
}

// TestFaultSlowClients holds connections to a server process the way a
// slow or stalled client does: half the headers and nothing more, the
// headers and half the body, headers larger than allowed, and 200 stalled
// connections at once. The server cuts each off after its limit, stores
// nothing of a cut-off write, and answers others meanwhile.
func TestFaultSlowClients(t *testing.T) {
	const headerTimeout, readTimeout = 2 * time.Second, 3 * time.Second
	dir := t.TempDir()
	srv := startReady(t, dir, "--read-header-timeout", headerTimeout.String(), "--read-timeout", readTimeout.String(), "--max-header-bytes", "4096")
	c := newClient(srv)
	tk := tokensFor(t, dir)
	defineProgramme(t, c, tk)
	cw := tk.caseworker(t, "cw-1")
	today := faultToday()
	e := enrolWrite(t, cw, 0, today.AddDays(-30))
	if r := e.send(c); !e.acked {
		t.Fatalf("enrol: %s", r)
	}
	id := e.participantID(t)

	t.Run("half the headers", func(t *testing.T) {
		conn := dial(t, srv)
		send(t, conn, "GET /v1/me HTTP/1.1\r\nHost: caseledger\r\nAuthoriz")
		// Others are served meanwhile.
		if r := c.do(http.MethodGet, "/v1/me", cw, nil, ""); r.status != http.StatusOK {
			t.Errorf("another client while one stalls: %s", r)
		}
		// net/http answers 400 when the headers stopped half-way, and
		// nothing when none came; either way it hangs up.
		if got := closedByServer(t, conn, headerTimeout+pollTimeout); got != "" {
			resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(got)), nil)
			if err != nil || resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusRequestTimeout {
				t.Errorf("the stalled client was sent %q (%v), want 400, 408 or nothing", got, err)
			}
			t.Logf("the stalled client was sent %d", resp.StatusCode)
		}
	})

	t.Run("half the body", func(t *testing.T) {
		w := meetingWrite(t, cw, id, "slow-meeting", today.AddDays(-1))
		conn := dial(t, srv)
		send(t, conn, fmt.Sprintf("POST %s HTTP/1.1\r\nHost: caseledger\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nIdempotency-Key: %s\r\nContent-Length: %d\r\n\r\n%s",
			w.path, cw, w.key, len(w.body), w.body[:len(w.body)/2]))
		got := closedByServer(t, conn, readTimeout+pollTimeout)
		if got != "" {
			resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(got)), nil)
			if err != nil || resp.StatusCode != http.StatusRequestTimeout {
				t.Fatalf("the client with a slow body was sent %q (%v), want 408 or nothing", got, err)
			}
			t.Logf("the client with a slow body was sent %d", resp.StatusCode)
		}
		// Nothing was stored: the whole request, sent now with the same
		// key, is the participant's first meeting.
		if r := w.send(c); !w.acked || w.result.Revision != e.result.Revision+1 {
			t.Errorf("the write sent whole after the cut-off one: %s, want revision %d", r, e.result.Revision+1)
		}
	})

	t.Run("headers too large", func(t *testing.T) {
		conn := dial(t, srv)
		send(t, conn, "GET /v1/me HTTP/1.1\r\nHost: caseledger\r\nX-Padding: "+strings.Repeat("a", 16<<10)+"\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("headers over the limit: %v, %v", resp, err)
		}
		resp.Body.Close()
	})

	t.Run("many stalled connections", func(t *testing.T) {
		// A server whose header timeout outlasts the test: the stalled
		// connections stay while the normal request is answered.
		busy := startReady(t, t.TempDir(), "--read-header-timeout", "10m", "--read-timeout", "10m")
		const stalled = 200
		conns := make([]net.Conn, stalled)
		for i := range conns {
			conns[i] = dial(t, busy)
			send(t, conns[i], "GET /livez HTTP/1.1\r\nHost: caseledger\r\n")
		}
		if r := newClient(busy).do(http.MethodGet, "/readyz", "", nil, ""); r.status != http.StatusOK {
			t.Fatalf("a normal request beside %d stalled ones: %s", stalled, r)
		}
		open := 0
		for _, conn := range conns {
			if stillOpen(conn) {
				open++
			}
		}
		if open != stalled {
			t.Fatalf("only %d of the %d stalled connections were still open when the normal request was answered", open, stalled)
		}
	})
}
