package api_test

// The harness of the access-log and history tests: newHarness's parts,
// with a clock the test moves (so that events differ in recorded_at) and
// the event store seen by the server through a wrapper that can fail the
// access log's appends.

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
)

// clock is a test's clock: it stands still until the test moves it.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// advance moves the clock on by d and returns the new time.
func (c *clock) advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// accessLogFailure is what failingStore answers while it fails: a store
// error of no known kind, so that the test shows the read is refused
// whatever the store says.
var accessLogFailure = errors.New("disk full (test)")

// failingStore is the real store, except that while fail is set it refuses
// every append to the access log.
type failingStore struct {
	eventstore.Store
	fail atomic.Bool
}

func (s *failingStore) Append(ctx context.Context, stream string, expected eventstore.Expected, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if s.fail.Load() && strings.HasPrefix(stream, domain.AccessLogStreamPrefix) {
		return eventstore.AppendResult{}, accessLogFailure
	}
	return s.Store.Append(ctx, stream, expected, events...)
}

// auditHarness is a harness whose server writes through a failingStore
// and runs on a clock the test moves.
type auditHarness struct {
	*harness
	clock  *clock
	failer *failingStore
	logs   *lockedBuffer // the server's log, at debug level
}

// lockedBuffer is written by the server while a test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newAuditHarness(t *testing.T) *auditHarness {
	t.Helper()
	clk := &clock{now: caseNow}
	var failer *failingStore
	logs := &lockedBuffer{}
	h := newHarnessWith(t, harnessSetup{
		wrap: func(s eventstore.Store) eventstore.Store {
			failer = &failingStore{Store: s}
			return failer
		},
		now:    clk.Now,
		logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	return &auditHarness{harness: h, clock: clk, failer: failer, logs: logs}
}

// caseworkHead is the position of the last event outside the access log,
// 0 when there is none: what a refused request must not move, now that
// refusals are recorded in the access log.
func (h *harness) caseworkHead(t *testing.T) uint64 {
	t.Helper()
	from := eventstore.End
	for {
		evs, err := h.store.ReadAll(context.Background(), eventstore.ReadAllOptions{Backwards: true, From: from, Limit: 64})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if !strings.HasPrefix(ev.Stream, domain.AccessLogStreamPrefix) {
				return ev.Position
			}
		}
		if len(evs) == 0 {
			return 0
		}
		from = evs[len(evs)-1].Position
	}
}

// accessRow is an access record as stored: the event, its metadata, and
// the raw bytes, which tests search for what must not be there.
type accessRow struct {
	stream   string
	position uint64
	meta     domain.Metadata
	access   domain.AccessRecorded
	raw      string
}

// accessLog is every access record in the store, in log order.
func (h *harness) accessLog(t *testing.T) []accessRow {
	t.Helper()
	evs, err := h.store.ReadAll(context.Background(), eventstore.ReadAllOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var rows []accessRow
	for _, ev := range evs {
		if !strings.HasPrefix(ev.Stream, domain.AccessLogStreamPrefix) {
			continue
		}
		r, err := domain.DecodeRecorded(ev.ID, ev.Stream, ev.Revision, ev.Position, ev.Type, ev.Data, ev.Metadata)
		if err != nil {
			t.Fatalf("access record at %d: %v", ev.Position, err)
		}
		a, ok := r.Event.(domain.AccessRecorded)
		if !ok {
			t.Fatalf("%s at %d in the access log", ev.Type, ev.Position)
		}
		rows = append(rows, accessRow{stream: ev.Stream, position: ev.Position, meta: r.Meta, access: a,
			raw: string(ev.Data) + string(ev.Metadata)})
	}
	return rows
}

// lastAccess is the newest access record; the test fails when there is
// none after position after.
func (h *harness) lastAccess(t *testing.T, after uint64) accessRow {
	t.Helper()
	rows := h.accessLog(t)
	if len(rows) == 0 || rows[len(rows)-1].position <= after {
		t.Fatalf("no access record after position %d", after)
	}
	return rows[len(rows)-1]
}

// checkParam checks that the problem points at query parameter name only;
// "" wants no field errors at all.
func checkParam(t *testing.T, p api.Problem, name string) {
	t.Helper()
	if name == "" {
		if len(p.Errors) != 0 {
			t.Errorf("errors %+v, want none", p.Errors)
		}
		return
	}
	if len(p.Errors) != 1 || p.Errors[0].Parameter != name || p.Errors[0].Code == "" || p.Errors[0].Detail == "" {
		t.Errorf("errors %+v, want one about parameter %s", p.Errors, name)
	}
}
