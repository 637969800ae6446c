package domain

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// SchemaVersion is the version of the event payloads this package writes.
const SchemaVersion = 1

// Metadata accompanies every event, stored as the store's metadata bytes.
// The event id, revision and position are the store's and not repeated.
type Metadata struct {
	SchemaVersion int `json:"schema_version"`
	// OccurredOn is the business date in Europe/Oslo: the event's own date
	// when it has one (see BusinessDate), else the day it was recorded.
	OccurredOn    Date      `json:"occurred_on"`
	RecordedAt    time.Time `json:"recorded_at"` // UTC
	Actor         Actor     `json:"actor"`
	CorrelationID uuid.UUID `json:"correlation_id"`
	// CausationID is the event or command that caused this one, if any.
	CausationID uuid.UUID `json:"causation_id,omitzero"`
	// RequestDigest identifies the request that wrote the event under an
	// idempotency key, so that the key reused for another request is
	// refused rather than answered with this event.
	RequestDigest string `json:"request_digest,omitempty"`
	// PrevDigest links the event to its predecessor in the stream: the
	// SHA-256, in lower-case hex, of the predecessor as stored, or of the
	// stream's genesis for the first event (see package chain). The writer
	// sets it as it appends; the domain does not read it.
	PrevDigest string `json:"prev_digest,omitempty"`
}

// Actor is who recorded an event, in which role, for which office.
type Actor struct {
	UserID string `json:"user_id"`
	Role   string `json:"role"`             // the access role (access.md), e.g. "caseworker"
	Office string `json:"office,omitempty"` // empty for roles without an office (admin, system)
}

// NewMetadata stamps an event: recorded now (kept in UTC), on the event's
// business date, or on today's date in loc when the event has none.
func NewMetadata(e Event, actor Actor, now time.Time, loc *time.Location, correlationID, causationID uuid.UUID) Metadata {
	occurred, ok := BusinessDate(e)
	if !ok {
		occurred = DateIn(now, loc)
	}
	return Metadata{
		SchemaVersion: SchemaVersion,
		OccurredOn:    occurred,
		RecordedAt:    now.UTC(),
		Actor:         actor,
		CorrelationID: correlationID,
		CausationID:   causationID,
	}
}

// Validate reports metadata that must not be written or trusted: an
// unknown schema version, a missing date, time, actor or correlation id.
func (m Metadata) Validate() error {
	switch {
	case m.SchemaVersion < 1 || m.SchemaVersion > SchemaVersion:
		return fmt.Errorf("metadata: schema version %d is not supported", m.SchemaVersion)
	case m.OccurredOn.IsZero():
		return fmt.Errorf("metadata: occurred_on is required")
	case m.RecordedAt.IsZero():
		return fmt.Errorf("metadata: recorded_at is required")
	case m.RecordedAt.Location() != time.UTC:
		return fmt.Errorf("metadata: recorded_at must be in UTC")
	case m.Actor.UserID == "" || len(m.Actor.UserID) > MaxIDLen:
		return fmt.Errorf("metadata: actor.user_id is required, at most %d bytes", MaxIDLen)
	case m.Actor.Role == "" || len(m.Actor.Role) > MaxIDLen:
		return fmt.Errorf("metadata: actor.role is required, at most %d bytes", MaxIDLen)
	case len(m.Actor.Office) > MaxIDLen:
		return fmt.Errorf("metadata: actor.office is at most %d bytes", MaxIDLen)
	case m.CorrelationID == uuid.Nil:
		return fmt.Errorf("metadata: correlation_id is required")
	case m.PrevDigest != "" && !isDigest(m.PrevDigest):
		return fmt.Errorf("metadata: prev_digest must be 64 lower-case hex digits")
	}
	return nil
}

// isDigest reports whether s is a SHA-256 digest in lower-case hex.
func isDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// EncodeMetadata returns the JSON of valid metadata.
func EncodeMetadata(m Metadata) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// DecodeMetadata reads metadata strictly (exact member names, nothing
// unknown) and validates it. Errors match ErrMalformed.
func DecodeMetadata(data []byte) (Metadata, error) {
	var m Metadata
	if err := decodeStrict(data, &m); err != nil {
		return Metadata{}, fmt.Errorf("decode metadata: %w: %v", ErrMalformed, err)
	}
	if m.RecordedAt.Location() != time.UTC && !m.RecordedAt.IsZero() {
		_, offset := m.RecordedAt.Zone()
		if offset == 0 {
			m.RecordedAt = m.RecordedAt.UTC()
		}
	}
	if err := m.Validate(); err != nil {
		return Metadata{}, fmt.Errorf("decode metadata: %w: %v", ErrMalformed, err)
	}
	return m, nil
}

// Recorded is an event as the fold consumes it: decoded, with the store's
// id, stream, revision and position, and its metadata.
type Recorded struct {
	ID       uuid.UUID
	Stream   string
	Revision uint64
	Position uint64
	Meta     Metadata
	Event    Event
}

// DecodeRecorded decodes what the store holds for one event.
func DecodeRecorded(id uuid.UUID, stream string, revision, position uint64, typ string, data, metadata []byte) (Recorded, error) {
	ev, err := DecodeEvent(typ, data)
	if err != nil {
		return Recorded{}, fmt.Errorf("event %s in %s: %w", id, stream, err)
	}
	meta, err := DecodeMetadata(metadata)
	if err != nil {
		return Recorded{}, fmt.Errorf("event %s in %s: %w", id, stream, err)
	}
	return Recorded{ID: id, Stream: stream, Revision: revision, Position: position, Meta: meta, Event: ev}, nil
}
