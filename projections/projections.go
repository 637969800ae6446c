// Package projections keeps read models up to date with the event log.
//
// A Runner drives each Projection: it restores the projection from its
// last snapshot (the snapshot holds the log position it reflects), then
// subscribes to the log after that position with the projection's stream
// filter, applies every event in order, and writes a new snapshot now and
// then and when it stops. A restart therefore replays only what came after
// the snapshot. A snapshot of another schema version, or one that cannot be
// read, is set aside and the projection rebuilt from the start of the log.
//
// An event a projection cannot apply stops that projection: its status
// names the event and the error, the failure is logged and counted, and
// readiness fails until an operator has dealt with it. Nothing is skipped.
//
// Read your writes: WaitFor blocks until every projection has reached a
// log position, or its context ends.
package projections

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/eventstore"
)

// Projection is a read model fed by the log. The Runner calls Apply,
// Snapshot, Restore and Reset from one goroutine; the projection guards
// its state against concurrent readers (queries) itself.
type Projection interface {
	// Name identifies the projection; it names its snapshot file, so it is
	// a short word of letters, digits and '-'.
	Name() string
	// SchemaVersion changes whenever the snapshot's layout or the meaning
	// of its contents changes; a snapshot of another version is rebuilt.
	SchemaVersion() int
	// Filter selects the events the projection needs.
	Filter() eventstore.Filter
	// Apply folds one event, in log order. An error stops the projection.
	Apply(ctx context.Context, ev eventstore.RecordedEvent) error
	// Snapshot writes the projection's state; Restore reads what Snapshot
	// wrote, replacing the state.
	Snapshot(w io.Writer) error
	Restore(r io.Reader) error
	// Reset empties the state, for a rebuild from the start of the log.
	Reset()
}

// Errors callers decide on.
var (
	// ErrStopped: a projection stopped at an event it could not apply (see
	// ApplyError), or its subscription failed.
	ErrStopped = errors.New("projection stopped")
	// ErrNotRunning: WaitFor was called on a runner that is not running.
	ErrNotRunning = errors.New("projections are not running")
)

// ApplyError is the failure of one projection at one event. It matches
// ErrStopped.
type ApplyError struct {
	Projection string
	EventID    uuid.UUID
	Stream     string
	Type       string
	Position   uint64
	Err        error
}

func (e *ApplyError) Error() string {
	return fmt.Sprintf("projection %s stopped at event %s (%s, position %d): %v", e.Projection, e.EventID, e.Type, e.Position, e.Err)
}

// Unwrap returns the projection's error.
func (e *ApplyError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrStopped) true.
func (e *ApplyError) Is(target error) bool { return target == ErrStopped }

// Status is where one projection stands.
type Status struct {
	Name string `json:"name"`
	// Position is the log position the read model reflects: its last
	// applied event, or further when the log holds nothing for it in
	// between.
	Position uint64 `json:"position"`
	// CaughtUp: the projection has applied the history that was in the
	// log when it subscribed, and follows live events.
	CaughtUp bool `json:"caught_up"`
	// Err is why the projection stopped (an *ApplyError for an event it
	// could not apply); nil while it runs.
	Err error `json:"-"`
	// Applied counts the events applied since the process started;
	// Failures the events it could not apply (0 or 1: it stops at one).
	Applied  uint64 `json:"applied"`
	Failures uint64 `json:"failures"`
	// Restored is the position of the snapshot the projection started
	// from (0 when it was built from the start of the log).
	Restored uint64 `json:"restored"`
	// LastRecorded is when the store committed the last applied event.
	LastRecorded time.Time `json:"last_recorded"`
}

// Lag is how far a projection is behind the head of the log.
type Lag struct {
	Name string `json:"name"`
	// Positions between the read model and the head of the log. Events of
	// streams the projection does not read are counted while it is
	// behind; a projection that has provably seen everything it needs up
	// to the head has no lag.
	Positions uint64 `json:"positions"`
	// Seconds between the commit of the head event and of the last event
	// the projection applied; 0 without lag.
	Seconds float64 `json:"seconds"`
}
