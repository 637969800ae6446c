// Package casework runs commands against the event log: it loads a stream,
// folds it, lets the domain decide which events follow, and appends them
// with the revision it read as the expected revision. Every write of the
// product, from the HTTP API or the demo-data seeder, goes through Execute.
//
// On the way to the store every event's personal member is sealed under
// its stream's data key (package personaldata) and its metadata link it to
// its predecessor (package chain); on the way back the links are checked
// and the personal members opened, so that the domain never sees
// ciphertext. Once a participant's personal data are erased, nothing of
// theirs is opened again, and their data key is destroyed.
package casework

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"
	// Business dates are counted in Europe/Oslo on every machine, including
	// those without a system time-zone database.
	_ "time/tzdata"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/chain"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/personaldata"
)

// Errors callers decide on.
var (
	// ErrPreconditionFailed: the client named the revision it expects
	// (If-Match) and the stream is elsewhere. The client must reload.
	ErrPreconditionFailed = errors.New("stream is not at the expected revision")
	// ErrIdempotencyKeyReused: the key was used before for a different
	// request, so replaying the earlier answer would be wrong.
	ErrIdempotencyKeyReused = errors.New("idempotency key was used for a different request")
	// ErrNotFound: the stream holds no events.
	ErrNotFound = errors.New("not found")
	// ErrKeyNotDestroyed: an erasure is recorded but the data key could
	// not be destroyed yet; the stream's next load destroys it.
	ErrKeyNotDestroyed = errors.New("data key not destroyed yet")
)

// Request says who asks, and how the write must relate to what came before.
type Request struct {
	Actor         domain.Actor
	CorrelationID uuid.UUID
	// IdempotencyKey, when set, makes the request safe to retry: event ids
	// derive from it, so a retry stores nothing twice and gets the first
	// answer again.
	IdempotencyKey string
	// Digest identifies the request's content (method, path, body), so that
	// a key reused for another request is refused rather than replayed.
	Digest string
	// IfMatch, when set, is the stream revision the client last saw (-1 for
	// a stream it saw empty); a stream elsewhere fails with
	// ErrPreconditionFailed instead of being decided again.
	IfMatch *int64
	// Stamps, when set, has one Stamp for each decided event, which is
	// then recorded as done by its stamp's actor under its correlation id
	// rather than Actor's: one append carries the events of several
	// requests (the access log's group commit). Not with IdempotencyKey,
	// whose event ids are scoped to one actor.
	Stamps []Stamp
}

// Stamp is who did one event, and in which request.
type Stamp struct {
	Actor         domain.Actor
	CorrelationID uuid.UUID
	// At and EventID, when set, are the time the event was recorded and
	// its id, for an event recorded elsewhere before it reaches the store
	// (an access record held while the store refused writes): its
	// metadata keeps the time it happened, and appending it again after
	// a failure that did write it stores it once.
	At      time.Time
	EventID uuid.UUID
}

// Result is where a write landed.
type Result struct {
	Stream string `json:"stream"`
	// Revision is the stream's revision after the write (its ETag).
	Revision uint64 `json:"revision"`
	// Position is the global log position of the last event written; a
	// later query may ask to have seen it.
	Position uint64      `json:"position"`
	EventIDs []uuid.UUID `json:"event_ids"`
}

// Decision decides the events a command leads to, given the stream's
// history and today's date (Europe/Oslo).
type Decision func(history []domain.Recorded, today domain.Date) ([]domain.Event, error)

// Options tune a Service. Keys is required; the zero value of the rest
// works.
type Options struct {
	// Keys seals personal members before they are appended and opens them
	// when they are read. There is no way to write personal data in clear.
	Keys *personaldata.Keyring
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Location is where business dates are counted; Europe/Oslo when nil.
	Location *time.Location
	// MaxAttempts bounds how often a command is decided again after a
	// concurrent write won the race; 5 when 0.
	MaxAttempts int
	// CacheStreams bounds how many folded streams are kept; 10,000 when 0.
	CacheStreams int
}

// Service executes commands. It is safe for concurrent use.
type Service struct {
	store       eventstore.Store
	keys        *personaldata.Keyring
	now         func() time.Time
	loc         *time.Location
	maxAttempts int
	cache       *historyCache
	logs        logHeads // of the streams AppendLog writes
}

// New returns a Service writing to store.
func New(store eventstore.Store, opts Options) (*Service, error) {
	if opts.Keys == nil {
		return nil, errors.New("casework: Options.Keys is required: personal data are never stored in clear")
	}
	s := &Service{store: store, keys: opts.Keys, now: opts.Now, loc: opts.Location, maxAttempts: opts.MaxAttempts}
	if s.now == nil {
		s.now = time.Now
	}
	if s.loc == nil {
		loc, err := time.LoadLocation("Europe/Oslo")
		if err != nil {
			return nil, fmt.Errorf("load business time zone: %w", err)
		}
		s.loc = loc
	}
	if s.maxAttempts <= 0 {
		s.maxAttempts = 5
	}
	size := opts.CacheStreams
	if size <= 0 {
		size = 10_000
	}
	s.cache = newHistoryCache(size)
	return s, nil
}

// Now is the service's clock: the time it stamps events with.
func (s *Service) Now() time.Time { return s.now() }

// Today is the current business date.
func (s *Service) Today() domain.Date { return s.DateOf(s.now()) }

// DateOf is the business date (Europe/Oslo) at t.
func (s *Service) DateOf(t time.Time) domain.Date { return domain.DateIn(t, s.loc) }

// Load returns the decoded history of a stream and its revision; a stream
// without events is ErrNotFound.
func (s *Service) Load(ctx context.Context, stream string) ([]domain.Recorded, uint64, error) {
	h, err := s.load(ctx, stream)
	if err != nil {
		return nil, 0, err
	}
	if len(h.events) == 0 {
		return nil, 0, fmt.Errorf("load %s: %w", stream, ErrNotFound)
	}
	// Clipped: the next version of the history may be appended in place
	// after it, so a caller's append must copy.
	return slices.Clip(h.events), h.revision(), nil
}

// Participant returns the participant a stream's history folds to
// (domain.FoldParticipant) and the history's revision; a stream without
// events is ErrNotFound. The fold is done once for each version of the
// history and shared by every caller, who must not change it: reads that
// look at many participants (a caseload page's names) then cost a lookup
// rather than a fold each.
func (s *Service) Participant(ctx context.Context, stream string) (*domain.Participant, uint64, error) {
	h, err := s.load(ctx, stream)
	if err != nil {
		return nil, 0, err
	}
	if len(h.events) == 0 {
		return nil, 0, fmt.Errorf("load %s: %w", stream, ErrNotFound)
	}
	return h.participant(), h.revision(), nil
}

// Execute decides and appends the events of one command to stream.
//
// When the events include PersonalDataErased, Execute destroys the
// stream's data key once they are appended: the event first, so that a
// crash in between leaves a key that the stream's next load destroys,
// never a participant whose data are unreadable without a record of why.
// If the key cannot be destroyed, Execute returns the Result with an error
// that matches ErrKeyNotDestroyed.
func (s *Service) Execute(ctx context.Context, stream string, req Request, decide Decision) (Result, error) {
	return s.execute(ctx, stream, req, nil, func(h history, today domain.Date) ([]domain.Event, error) {
		return decide(slices.Clip(h.events), today)
	})
}

// ParticipantDecision is a Decision on a participant stream that is given
// the participant the history folds to as well. The participant is shared
// by every caller of that version of the history (see Participant): a
// decision must not change it.
type ParticipantDecision func(history []domain.Recorded, p *domain.Participant, today domain.Date) ([]domain.Event, error)

// Admission decides whether a request may act on a participant at all:
// exists is false for a stream without events, p then being the empty
// participant. Its error is returned as it is.
type Admission func(p *domain.Participant, exists bool) error

// ExecuteParticipant is Execute for decisions on the folded participant,
// which it folds once for each version of the history, extending the
// previous version's rather than folding every event again. admit, when
// set, is asked on the version loaded before anything else is done with
// it: before a retry is answered from what is stored, and before If-Match
// is compared, either of which would tell a caller who may not see the
// participant that it exists. It is asked again on every version a
// concurrent write makes the command decide on.
func (s *Service) ExecuteParticipant(ctx context.Context, stream string, req Request, admit Admission, decide ParticipantDecision) (Result, error) {
	var check func(history) error
	if admit != nil {
		check = func(h history) error {
			if len(h.events) == 0 {
				return admit(&domain.Participant{}, false)
			}
			return admit(h.participant(), true)
		}
	}
	return s.execute(ctx, stream, req, check, func(h history, today domain.Date) ([]domain.Event, error) {
		return decide(slices.Clip(h.events), h.participant(), today)
	})
}

func (s *Service) execute(ctx context.Context, stream string, req Request, check func(history) error, decide func(history, domain.Date) ([]domain.Event, error)) (Result, error) {
	if req.Stamps != nil && req.IdempotencyKey != "" {
		return Result{}, fmt.Errorf("write to %s: a request with stamps of several requests cannot carry an idempotency key", stream)
	}
	var lastConflict error
	for range s.maxAttempts {
		h, err := s.load(ctx, stream)
		if err != nil {
			return Result{}, err
		}
		if check != nil {
			if err := check(h); err != nil {
				return Result{}, err
			}
		}
		ids := newIDSource(req, stream)
		if res, ok, err := replay(h, ids, req); ok || err != nil {
			return res, err
		}
		if req.IfMatch != nil && *req.IfMatch != h.expectedRevision() {
			return Result{}, fmt.Errorf("write to %s: %w: expected %d, stream is at %d", stream, ErrPreconditionFailed, *req.IfMatch, h.expectedRevision())
		}
		events, err := decide(h, s.Today())
		if err != nil {
			return Result{}, err
		}
		data, err := s.encode(ctx, h, events, ids, req)
		if err != nil {
			return Result{}, fmt.Errorf("write to %s: %w", stream, err)
		}
		expected := eventstore.NoStream
		if len(h.events) > 0 {
			expected = eventstore.AtRevision(h.revision())
		}
		res, err := s.store.Append(ctx, stream, expected, data...)
		var conflict *eventstore.ConflictError
		if errors.As(err, &conflict) {
			if req.IfMatch != nil {
				return Result{}, fmt.Errorf("write to %s: %w: %w", stream, ErrPreconditionFailed, err)
			}
			lastConflict = err
			continue
		}
		if errors.Is(err, eventstore.ErrIdempotency) && ids.keyed() {
			// Some of this request's ids are stored already: another
			// request under the same key got there first. Loading again
			// lets replay tell a retry from a reused key.
			lastConflict = err
			continue
		}
		if err != nil {
			return Result{}, fmt.Errorf("write to %s: %w", stream, err)
		}
		out := Result{Stream: stream, Revision: res.Revision, Position: res.Position}
		for _, d := range data {
			out.EventIDs = append(out.EventIDs, d.ID)
		}
		if ids.keyed() {
			// The store answers an append whose ids it holds as a success,
			// whoever wrote them, so a request racing another under the
			// same key but with another body would take that one's answer
			// for its own. The stored events say which request wrote them.
			h, err := s.load(ctx, stream)
			if err != nil {
				return Result{}, err
			}
			written, ok, err := replay(h, ids, req)
			if err != nil {
				return Result{}, err
			}
			if ok {
				out = written
			}
		}
		if erases(events) {
			// A client that goes away now must not keep the key alive.
			if err := s.keys.Destroy(context.WithoutCancel(ctx), personaldata.KeyID(stream)); err != nil {
				return out, fmt.Errorf("erase personal data of %s: the erasure is recorded at revision %d: %w: %w", stream, res.Revision, ErrKeyNotDestroyed, err)
			}
		}
		return out, nil
	}
	return Result{}, fmt.Errorf("write to %s: gave up after %d concurrent writes: %w", stream, s.maxAttempts, lastConflict)
}

// encode turns the decided events into what the store keeps: personal
// members sealed, each event linked to the one before it, the first to
// the head of h.
func (s *Service) encode(ctx context.Context, h history, events []domain.Event, ids idSource, req Request) ([]eventstore.EventData, error) {
	if len(events) == 0 {
		return nil, errors.New("the decision produced no events")
	}
	if req.Stamps != nil && len(req.Stamps) != len(events) {
		return nil, fmt.Errorf("the decision produced %d events for %d stamps", len(events), len(req.Stamps))
	}
	now := s.now()
	prev := h.head
	data := make([]eventstore.EventData, len(events))
	for i, ev := range events {
		typ, payload, err := domain.EncodeEvent(ev)
		if err != nil {
			return nil, err
		}
		stamp := Stamp{Actor: req.Actor, CorrelationID: req.CorrelationID}
		if req.Stamps != nil {
			stamp = req.Stamps[i]
		}
		id, at := stamp.EventID, stamp.At
		if id == uuid.Nil {
			id = ids.id(i)
		}
		if at.IsZero() {
			at = now
		}
		switch {
		case !domain.HasPersonal(ev):
			// Nothing to seal (an access record, a meeting without
			// minutes): sealing would only parse the payload to find that.
		case h.erased:
			// The domain refuses personal data after erasure; a key is
			// never made again for a participant whose key was destroyed.
			has, err := personaldata.HasPersonal(payload)
			if err != nil {
				return nil, err
			}
			if has {
				return nil, fmt.Errorf("event %d (%s): personal data after erasure", i, typ)
			}
		case h.sealed:
			if payload, err = s.keys.SealEventWithExistingKey(ctx, h.stream, id, payload); err != nil {
				return nil, err
			}
		default:
			if payload, err = s.keys.SealEvent(ctx, h.stream, id, payload); err != nil {
				return nil, err
			}
		}
		meta := domain.NewMetadata(ev, stamp.Actor, at, s.loc, stamp.CorrelationID, uuid.Nil)
		if req.IdempotencyKey != "" {
			meta.RequestDigest = req.Digest
		}
		meta.PrevDigest = prev.String()
		mb, err := domain.EncodeMetadata(meta)
		if err != nil {
			return nil, err
		}
		data[i] = eventstore.EventData{ID: id, Type: typ, ContentType: "application/json", Data: payload, Metadata: mb}
		prev = chain.OfData(data[i])
	}
	return data, nil
}

// erases reports whether events erase the personal data of their stream.
func erases(events []domain.Event) bool {
	for _, ev := range events {
		if ev.EventType() == domain.TypePersonalDataErased {
			return true
		}
	}
	return false
}

// idSource gives the ids of the events a request writes: random, or
// derived from the idempotency key so that a retry writes the same ids.
type idSource struct {
	base uuid.UUID // uuid.Nil when the request has no key
}

// idempotencyNamespace scopes derived event ids to this product.
var idempotencyNamespace = uuid.MustParse("6f1c2a7e-3d54-4b8e-9a1f-2c7d5e8b4a10")

func newIDSource(req Request, stream string) idSource {
	if req.IdempotencyKey == "" {
		return idSource{}
	}
	// The user is part of the scope: two users who happen to pick the same
	// key must not see each other's answers.
	var b bytes.Buffer
	for _, part := range []string{req.Actor.UserID, req.IdempotencyKey, stream} {
		binary.Write(&b, binary.BigEndian, uint32(len(part)))
		b.WriteString(part)
	}
	return idSource{base: uuid.NewSHA1(idempotencyNamespace, b.Bytes())}
}

func (s idSource) keyed() bool { return s.base != uuid.Nil }

func (s idSource) id(i int) uuid.UUID {
	if !s.keyed() {
		return uuid.New()
	}
	var b [20]byte
	copy(b[:16], s.base[:])
	binary.BigEndian.PutUint32(b[16:], uint32(i))
	return uuid.NewSHA1(idempotencyNamespace, b[:])
}

// replay answers a retried request from the stream: when the stream holds
// the first event id the request derives, the request was carried out
// before and its result is reported again.
func replay(h history, ids idSource, req Request) (Result, bool, error) {
	if !ids.keyed() {
		return Result{}, false, nil
	}
	first := ids.id(0)
	for i, r := range h.events {
		if r.ID != first {
			continue
		}
		if r.Meta.RequestDigest != req.Digest {
			return Result{}, false, fmt.Errorf("write to %s: %w", r.Stream, ErrIdempotencyKeyReused)
		}
		res := Result{Stream: r.Stream}
		for j := i; j < len(h.events) && h.events[j].ID == ids.id(j-i); j++ {
			res.Revision, res.Position = h.events[j].Revision, h.events[j].Position
			res.EventIDs = append(res.EventIDs, h.events[j].ID)
		}
		return res, true, nil
	}
	return Result{}, false, nil
}

// RequestDigest is the digest Request.Digest expects: of the method, the
// route and the body as sent, in hex.
func RequestDigest(method, path string, body []byte) string {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(method), []byte(path), body} {
		binary.Write(h, binary.BigEndian, uint32(len(part)))
		h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// KeyedID derives the id of a new thing (kind: "participant") from the
// request's idempotency key, so that a retry addresses what the first
// attempt created. The request must carry a key.
func KeyedID(req Request, kind string) uuid.UUID {
	return newIDSource(req, kind).base
}

// employerNamespace scopes employer ids derived from organisation numbers.
var employerNamespace = uuid.MustParse("0b6f5f0e-8c1d-4e0a-b7a4-5d2f9e3c6a81")

// EmployerID is the id of the employer with this organisation number: one
// organisation has one employer stream, so registering it twice meets the
// first registration instead of creating a duplicate.
func EmployerID(organisationNumber string) uuid.UUID {
	return uuid.NewSHA1(employerNamespace, []byte(organisationNumber))
}
