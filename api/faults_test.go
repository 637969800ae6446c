package api_test

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/personaldata"
)

// A store whose disk refuses a write (full, read-only, failing) answers
// 503 with Retry-After, saying the server cannot write, and naming
// neither the file nor the stream; so does any other unavailable store.
// Other errors carry no Retry-After.
func TestStorageFaultsAnswer503(t *testing.T) {
	const path = "/srv/caseledger/keys/participant-7d1e.key"
	onDisk := func(errno syscall.Errno) error {
		return &fs.PathError{Op: "write", Path: path, Err: errno}
	}
	tests := []struct {
		name    string
		err     error
		status  int
		problem string
	}{
		{"event store commit, disk full", fmt.Errorf("append to participant-7d1e: commit: %w: %w", eventstore.ErrUnavailable, onDisk(syscall.ENOSPC)), 503, api.ProblemCannotWrite},
		{"key store, read-only", fmt.Errorf("write to participant-7d1e: create key: %w: %w", personaldata.ErrKeyStoreUnavailable, onDisk(syscall.EROFS)), 503, api.ProblemCannotWrite},
		{"failing disk", fmt.Errorf("snapshot: sync: %w", onDisk(syscall.EIO)), 503, api.ProblemCannotWrite},
		{"over quota", onDisk(syscall.EDQUOT), 503, api.ProblemCannotWrite},
		{"past the file size limit", onDisk(syscall.EFBIG), 503, api.ProblemCannotWrite},
		{"key store gone", fmt.Errorf("create key: %w: %w", personaldata.ErrKeyStoreUnavailable, onDisk(syscall.ENOTDIR)), 503, api.ProblemUnavailable},
		{"event store unreachable", fmt.Errorf("append: %w", eventstore.ErrUnavailable), 503, api.ProblemUnavailable},
		{"another errno is no storage fault", onDisk(syscall.EACCES), 500, ""},
		{"not a store error", errors.New("fold participant-7d1e: bad event"), 500, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newFixture(t, api.Config{}).failing(t, tt.err)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			p := decodeProblem(t, w)
			if wantType := problemType(tt.problem); p.Type != wantType {
				t.Errorf("type %q, want %q", p.Type, wantType)
			}
			if got, want := w.Header().Get("Retry-After") != "", tt.status == 503; got != want {
				t.Errorf("Retry-After %q on a %d", w.Header().Get("Retry-After"), w.Code)
			}
			if tt.problem == api.ProblemCannotWrite && !strings.Contains(p.Detail, "cannot write") {
				t.Errorf("detail %q does not say the server cannot write", p.Detail)
			}
			for _, secret := range []string{"/srv", "participant-7d1e", "keys"} {
				if strings.Contains(w.Body.String(), secret) {
					t.Errorf("the answer names %q: %s", secret, w.Body)
				}
			}
		})
	}
}

// deadlineBody is a request body whose client stopped sending: the read
// ends as the server's read deadline passes.
type deadlineBody struct{ sent bool }

func (b *deadlineBody) Read(p []byte) (int, error) {
	if !b.sent {
		b.sent = true
		return copy(p, `{"date":`), nil
	}
	return 0, &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
}

// A body that does not arrive within the server's read timeout is
// answered 408, not as a malformed body.
func TestSlowBodyAnswers408(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/v1/things", &deadlineBody{})
	r.Header.Set("Content-Type", "application/json")
	_, err := api.ReadBody(httptest.NewRecorder(), r, 0)
	var p *api.Problem
	if !errors.As(err, &p) || p.Status != http.StatusRequestTimeout || p.Type != api.ProblemTypeBase+api.ProblemBodyTimeout {
		t.Fatalf("ReadBody of a stalled body: %v, want a 408 problem", err)
	}
}
