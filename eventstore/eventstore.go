// Package eventstore defines the port through which caseledger keeps its
// immutable event log, modelled on EventStoreDB: named streams whose events
// carry a contiguous revision, and one global, ordered log in which every
// event has a position.
//
// The package knows nothing of the domain's types: it moves bytes with a
// type name, a content type and metadata. Backends live in sub-packages
// (bolt, esdb) and must pass the contract suite in storetest.
package eventstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"syscall"
	"time"

	"github.com/google/uuid"
)

// Limits every backend enforces, so that the same input is accepted or
// refused the same way whichever backend is configured.
const (
	MaxStreamNameLen = 255
	MaxTypeLen       = 255
	// DefaultMaxEventSize bounds data plus metadata of one event.
	DefaultMaxEventSize = 1 << 20
)

// End stands for "the end": the last revision of a stream, or the head of
// the global log, when reading backwards.
const End uint64 = math.MaxUint64

// EventData is an event to be appended.
type EventData struct {
	// ID identifies the event; appending an ID the stream already holds is
	// an idempotent retry. It must not be the nil UUID.
	ID uuid.UUID
	// Type names the event, e.g. "MeetingHeld". Required.
	Type string
	// ContentType of Data; "application/json" when empty.
	ContentType string
	Data        []byte
	Metadata    []byte
}

// RecordedEvent is an event as the store holds it.
type RecordedEvent struct {
	ID          uuid.UUID
	Stream      string
	Revision    uint64 // 0 for the first event of a stream, contiguous after that
	Position    uint64 // place in the global log: > 0, strictly increasing
	Type        string
	ContentType string
	Data        []byte
	Metadata    []byte
	Recorded    time.Time // when the store committed it, UTC
}

// ExpectedKind says what an append expects of the stream it writes to.
type ExpectedKind uint8

const (
	// ExpectAny appends whatever the stream holds. It is the zero value.
	ExpectAny ExpectedKind = iota
	// ExpectNoStream appends only to a stream that has no events.
	ExpectNoStream
	// ExpectStreamExists appends only to a stream that has events.
	ExpectStreamExists
	// ExpectRevision appends only when the stream's last revision is Revision.
	ExpectRevision
)

func (k ExpectedKind) String() string {
	switch k {
	case ExpectAny:
		return "any"
	case ExpectNoStream:
		return "no stream"
	case ExpectStreamExists:
		return "stream exists"
	case ExpectRevision:
		return "revision"
	default:
		return fmt.Sprintf("unknown(%d)", uint8(k))
	}
}

// Expected is the optimistic-concurrency condition of an append.
type Expected struct {
	Kind     ExpectedKind
	Revision uint64 // with ExpectRevision only
}

// Convenience constructors for Expected.
var (
	Any          = Expected{Kind: ExpectAny}
	NoStream     = Expected{Kind: ExpectNoStream}
	StreamExists = Expected{Kind: ExpectStreamExists}
)

// AtRevision expects the stream's last event to have revision rev.
func AtRevision(rev uint64) Expected { return Expected{Kind: ExpectRevision, Revision: rev} }

func (e Expected) String() string {
	if e.Kind == ExpectRevision {
		return fmt.Sprintf("revision %d", e.Revision)
	}
	return e.Kind.String()
}

// AppendResult tells where an append landed: the revision and global
// position of the last event it wrote (or, for an idempotent retry, of the
// last event the original append wrote).
type AppendResult struct {
	Revision uint64
	Position uint64
}

// ReadStreamOptions select events of one stream. Revisions are inclusive:
// forwards reads From and later, backwards reads From and earlier; End reads
// backwards from the last event. Limit 0 reads everything selected; a
// negative Limit is ErrInvalidReadRange.
type ReadStreamOptions struct {
	Backwards bool
	From      uint64
	Limit     int
}

// ReadAllOptions select events of the global log. Positions are exclusive, so
// that the last position seen is where the next page starts: forwards reads
// events after From (0 reads from the start), backwards reads events before
// From (End reads from the head). Limit 0 reads everything selected; a
// negative Limit is ErrInvalidReadRange.
type ReadAllOptions struct {
	Backwards bool
	From      uint64
	Limit     int
}

// Filter narrows a subscription. An event passes when its stream starts with
// one of StreamPrefixes (or there are none) and its type is one of
// EventTypes (or there are none).
type Filter struct {
	StreamPrefixes []string
	EventTypes     []string
}

// Match reports whether an event of this stream and type passes the filter.
func (f Filter) Match(stream, eventType string) bool {
	return matchPrefix(f.StreamPrefixes, stream) && matchExact(f.EventTypes, eventType)
}

func matchPrefix(prefixes []string, s string) bool {
	if len(prefixes) == 0 {
		return true
	}
	for _, p := range prefixes {
		if len(s) >= len(p) && s[:len(p)] == p {
			return true
		}
	}
	return false
}

func matchExact(names []string, s string) bool {
	if len(names) == 0 {
		return true
	}
	for _, n := range names {
		if n == s {
			return true
		}
	}
	return false
}

// SubscribeOptions start a subscription to the global log after position
// From (exclusive; 0 starts at the beginning of the log).
type SubscribeOptions struct {
	From   uint64
	Filter Filter
}

// SubscriptionMessage is one thing a subscription delivers: an event, or the
// signal that the history up to the head of the log has been delivered and
// what follows is live.
type SubscriptionMessage struct {
	Event    *RecordedEvent
	CaughtUp bool
}

// Subscription delivers the events of the global log in order: history, a
// single CaughtUp message, then events as they are committed. It never skips
// an event and never delivers one twice.
type Subscription interface {
	// Next blocks until the next message, or returns an error when the
	// subscription's or the call's context ends (ctx.Err()), when the
	// subscription was closed (ErrClosed), or when the backend failed.
	Next(ctx context.Context) (SubscriptionMessage, error)
	// Close ends the subscription and frees what it holds.
	Close() error
}

// Store is the event log. Implementations are safe for concurrent use.
type Store interface {
	// Append writes events to one stream atomically, if the stream meets
	// expected. It returns only once the events are durable.
	//
	// Idempotency is decided before the expectation: when the stream
	// already holds every event ID of the call, nothing is written and the
	// result names the revision and position of the one of them with the
	// highest revision, whatever was appended in between. When it holds
	// some of them but not all, the call fails with ErrIdempotency.
	//
	// A stream the expectation does not fit fails with a *ConflictError;
	// invalid input fails with ErrInvalidStream, ErrInvalidEvent,
	// ErrEventTooLarge or ErrInvalidExpected (see ValidateAppend). Either
	// way nothing is written.
	Append(ctx context.Context, stream string, expected Expected, events ...EventData) (AppendResult, error)
	// ReadStream reads events of one stream; a stream without events is
	// ErrStreamNotFound.
	ReadStream(ctx context.Context, stream string, opts ReadStreamOptions) ([]RecordedEvent, error)
	// ReadAll reads events of the global log.
	ReadAll(ctx context.Context, opts ReadAllOptions) ([]RecordedEvent, error)
	// Subscribe follows the global log until ctx ends or the subscription is
	// closed.
	Subscribe(ctx context.Context, opts SubscribeOptions) (Subscription, error)
	// Close releases the store; later calls fail with ErrClosed.
	Close() error
}

// Sentinel errors; callers match them with errors.Is.
var (
	ErrStreamNotFound   = errors.New("stream not found")
	ErrConflict         = errors.New("wrong expected revision")
	ErrClosed           = errors.New("event store closed")
	ErrInvalidStream    = errors.New("invalid stream name")
	ErrInvalidEvent     = errors.New("invalid event")
	ErrEventTooLarge    = errors.New("event too large")
	ErrInvalidExpected  = errors.New("invalid expected revision")
	ErrIdempotency      = errors.New("event ids partly appended already")
	ErrUnavailable      = errors.New("event store unavailable")
	ErrInvalidReadRange = errors.New("invalid read options")
)

// Resubscriber is a store whose subscriptions resume by themselves after
// its server dropped them (EventStoreDB); Resubscriptions counts those
// since it opened. A store that is not one never drops a subscription.
type Resubscriber interface {
	Resubscriptions() uint64
}

// IsStorageFault reports whether err, however wrapped (the stores wrap
// *os.PathError in their own errors), is what a file system answers when
// the medium is at fault, not the request: full, read-only, failing, over
// quota or past the file size limit. Nothing is written until an operator
// fixes the disk.
func IsStorageFault(err error) bool {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return false
	}
	switch errno {
	case syscall.ENOSPC, syscall.EROFS, syscall.EIO, syscall.EDQUOT, syscall.EFBIG:
		return true
	}
	return false
}

// ConflictError is returned when an append's expectation does not hold. It
// matches ErrConflict with errors.Is.
type ConflictError struct {
	Stream   string
	Expected Expected
	// Actual is the stream's last revision; meaningful only if Exists.
	Actual uint64
	Exists bool
}

func (e *ConflictError) Error() string {
	actual := "no stream"
	if e.Exists {
		actual = fmt.Sprintf("revision %d", e.Actual)
	}
	return fmt.Sprintf("append to %s: expected %s, stream is at %s", e.Stream, e.Expected, actual)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// ValidateAppend checks what every backend must refuse before writing
// anything, so that all backends refuse the same input with the same error.
func ValidateAppend(stream string, expected Expected, events []EventData, maxEventSize int) error {
	if err := ValidateStreamName(stream); err != nil {
		return err
	}
	if expected.Kind > ExpectRevision {
		return fmt.Errorf("append to %s: %w: kind %s", stream, ErrInvalidExpected, expected.Kind)
	}
	if len(events) == 0 {
		return fmt.Errorf("append to %s: %w: no events", stream, ErrInvalidEvent)
	}
	seen := make(map[uuid.UUID]struct{}, len(events))
	for i, ev := range events {
		if ev.ID == uuid.Nil {
			return fmt.Errorf("append to %s: %w: event %d has no id", stream, ErrInvalidEvent, i)
		}
		if _, dup := seen[ev.ID]; dup {
			return fmt.Errorf("append to %s: %w: event %d repeats id %s", stream, ErrInvalidEvent, i, ev.ID)
		}
		seen[ev.ID] = struct{}{}
		if ev.Type == "" {
			return fmt.Errorf("append to %s: %w: event %d has no type", stream, ErrInvalidEvent, i)
		}
		if len(ev.Type) > MaxTypeLen {
			return fmt.Errorf("append to %s: %w: event %d type is %d bytes, at most %d", stream, ErrInvalidEvent, i, len(ev.Type), MaxTypeLen)
		}
		if len(ev.ContentType) > MaxTypeLen {
			return fmt.Errorf("append to %s: %w: event %d content type is %d bytes, at most %d", stream, ErrInvalidEvent, i, len(ev.ContentType), MaxTypeLen)
		}
		if size := len(ev.Data) + len(ev.Metadata); size > maxEventSize {
			return fmt.Errorf("append to %s: %w: event %d is %d bytes, at most %d", stream, ErrEventTooLarge, i, size, maxEventSize)
		}
	}
	return nil
}

// ValidateStreamName refuses names no backend can hold: empty, too long, or
// starting with '$' (reserved for the store's own streams).
func ValidateStreamName(stream string) error {
	switch {
	case stream == "":
		return fmt.Errorf("%w: empty", ErrInvalidStream)
	case len(stream) > MaxStreamNameLen:
		return fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidStream, len(stream), MaxStreamNameLen)
	case stream[0] == '$':
		return fmt.Errorf("%w: %q is reserved", ErrInvalidStream, stream)
	}
	return nil
}

// ContentTypeOrDefault is the content type an event is stored with.
func ContentTypeOrDefault(ct string) string {
	if ct == "" {
		return "application/json"
	}
	return ct
}
