// Package overview is the read model of the participant overview (GET
// /v1/participants/{id}): each participant's state as domain.FoldParticipant
// folds it, team, consents, goal tree, meetings, scores, placements, income
// sources and pauses, without personal data.
//
// The state is kept event by event with domain.Participant.Extend, the
// fold itself, so the model cannot fold differently from the log. A
// correction or void can change any earlier entry, so for those the
// participant is folded again from their stream up to it, stripped of its
// personal members (projections.PublicHistory), as the caseload model does.
//
// Personal data (names, contact details, notes, minutes, goal titles) are
// never in the model nor in its snapshots; they stay sealed in the log,
// and the API opens them for the items it shows, for callers allowed to
// see them. Items carry the id of the event that recorded them for that.
// The model keeps those events' revisions in the stream instead of their
// ids, and Get takes the participant's stream, which the API has loaded
// anyway, to give the ids back.
//
// Memory: a participant is held packed into one string (codec.go), about
// 540 B for a participant of the demo data's shape (57 events, 30 of them
// meetings); see BenchmarkMemoryPerParticipant. Reads unpack it.
package overview

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/projections"
)

// Name and SchemaVersion of the projection; bump the version whenever the
// packed layout (codec.go) or its meaning changes.
const (
	Name          = "overview"
	SchemaVersion = 2 // 2: event ids are kept as revisions
)

// Model is the overview read model. It is safe for concurrent use: the
// projection runner applies events while requests read.
type Model struct {
	streams projections.StreamReader

	// Only Apply, Reset and Restore write, all from the runner's one
	// goroutine, under mu; readers hold mu's read lock.
	mu       sync.RWMutex
	rows     map[uuid.UUID]string
	tab      *table
	position uint64

	// hot holds the unpacked state of the participants Apply saw last, so
	// that a participant's next event (a command often records several,
	// and a catch-up meets each participant's events close together) is
	// neither unpacked nor packed again: a participant is packed into rows
	// only when it leaves the set, and every one at a snapshot, which
	// comes when a catch-up is done and at most once a minute after.
	// Between bursts the model holds the packed rows alone. Guarded by mu
	// like the rows: a request may read a participant while it is hot.
	hot hotSet
}

// hotSize bounds the unpacked participants Apply keeps: about 10 KB each
// for a participant of the demo data's shape.
const hotSize = 1024

// hotRow is an unpacked participant and the last event applied to them.
// Its items carry stand-in event ids (revisionID), which the fold leaves
// as they are.
type hotRow struct {
	p                  *domain.Participant
	revision, position uint64
}

type hotSet struct {
	rows  map[uuid.UUID]*hotRow
	order [hotSize]uuid.UUID // ring: the oldest is evicted first
	next  int
}

func (h *hotSet) reset() { *h = hotSet{rows: make(map[uuid.UUID]*hotRow, hotSize)} }

// put adds a participant, returning the one it evicts, if any.
func (h *hotSet) put(id uuid.UUID, r *hotRow) (evicted uuid.UUID, out *hotRow) {
	if _, ok := h.rows[id]; !ok {
		if old := h.order[h.next]; old != uuid.Nil {
			evicted, out = old, h.rows[old]
			delete(h.rows, old)
		}
		h.order[h.next] = id
		h.next = (h.next + 1) % hotSize
	}
	h.rows[id] = r
	return evicted, out
}

// pack writes a hot participant into rows; the caller holds mu.
func (m *Model) pack(id uuid.UUID, r *hotRow) {
	m.rows[id] = encode(m.tab, row{Revision: r.revision, Position: r.position, P: *r.p}, len(m.rows[id]))
}

// New returns an empty model that reads participant streams from streams
// when a correction or void needs a participant folded again.
func New(streams projections.StreamReader) *Model {
	m := &Model{streams: streams}
	m.Reset()
	return m
}

// Overview is one participant as the model holds them.
type Overview struct {
	// Participant is the fold's state with every Personal member nil.
	Participant domain.Participant
	// Revision is the stream revision of the participant's last event the
	// model has applied, and Position its log position.
	Revision uint64
	Position uint64
}

// Name implements projections.Projection.
func (m *Model) Name() string { return Name }

// SchemaVersion implements projections.Projection.
func (m *Model) SchemaVersion() int { return SchemaVersion }

// Filter implements projections.Projection: participant streams only.
func (m *Model) Filter() eventstore.Filter {
	return eventstore.Filter{StreamPrefixes: []string{domain.ParticipantStreamPrefix}}
}

// Reset implements projections.Projection.
func (m *Model) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rows = map[uuid.UUID]string{}
	m.tab = newTable()
	m.position = 0
	m.hot.reset()
}

// Position is the log position of the last event applied.
func (m *Model) Position() uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.position
}

// Len is the number of participants the model holds.
func (m *Model) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n := len(m.rows)
	for id := range m.hot.rows {
		if _, ok := m.rows[id]; !ok {
			n++
		}
	}
	return n
}

// Get returns the overview of participant id, if the model holds any
// event of theirs. history is their stream, or its start, as the caller
// has loaded it, in order: the model holds the revisions of the events
// that recorded the items, and gives the items those events' ids from it.
// When history lacks one of those events (the model has applied events
// the caller has not loaded), Get reports that it holds nothing.
func (m *Model) Get(id uuid.UUID, history []domain.Recorded) (Overview, bool, error) {
	ids := streamIDs(history)
	m.mu.RLock()
	defer m.mu.RUnlock()
	if h, hot := m.hot.rows[id]; hot {
		p, ok := resolved(*h.p, ids)
		if !ok {
			return Overview{}, false, nil
		}
		return Overview{Participant: p, Revision: h.revision, Position: h.position}, true, nil
	}
	s, ok := m.rows[id]
	if !ok {
		return Overview{}, false, nil
	}
	r, err := decode(m.tab, s, ids)
	switch {
	case errors.Is(err, errUnresolved):
		return Overview{}, false, nil
	case err != nil:
		return Overview{}, false, fmt.Errorf("overview of %s: %w", id, err)
	}
	return Overview{Participant: r.P, Revision: r.Revision, Position: r.Position}, true, nil
}

// resolved is a copy of a hot participant, which the next event's fold
// does not touch, with the ids ids resolves its stand-in event ids to; ok
// is false if it does not resolve them all. It is not packed and unpacked
// for that: packing interns strings into the table, which readers may not
// write.
func resolved(p domain.Participant, ids resolver) (domain.Participant, bool) {
	p = p.Clone()
	// The fold replaces an exit rather than change it, so Clone shares
	// them; they are copied all the same, as their ids are given back
	// below.
	for i, ep := range p.Episodes {
		if ep.Exit != nil {
			x := *ep.Exit
			p.Episodes[i].Exit = &x
		}
	}
	// An emptied map and none are the same state; a packed row has none.
	if len(p.Team) == 0 {
		p.Team = nil
	}
	if len(p.Consents) == 0 {
		p.Consents = nil
	}
	ok := true
	eventIDs(&p, func(u *uuid.UUID) {
		if rev, standIn := revisionOf(*u); standIn {
			var found bool
			*u, found = ids(rev)
			ok = ok && found
		}
	})
	return p, ok
}

// Apply implements projections.Projection.
func (m *Model) Apply(ctx context.Context, ev eventstore.RecordedEvent) error {
	id, err := domain.ParseParticipantStream(ev.Stream)
	if err != nil {
		return fmt.Errorf("event %s: %w", ev.ID, err)
	}
	if domain.StreamKindOf(ev.Type) != domain.StreamParticipant {
		return fmt.Errorf("event %s in %s: %q is not a participant event", ev.ID, ev.Stream, ev.Type)
	}
	if ev.Type == domain.TypeEntryCorrected || ev.Type == domain.TypeEntryVoided {
		h, err := projections.PublicHistory(ctx, m.streams, ev)
		if err != nil {
			return fmt.Errorf("fold %s again: %w", ev.Stream, err)
		}
		p := domain.FoldParticipant(h)
		withStandIns(&p, h)
		m.mu.Lock()
		defer m.mu.Unlock()
		m.keep(id, &hotRow{p: &p, revision: ev.Revision, position: ev.Position})
		m.position = ev.Position
		return nil
	}
	rec, err := projections.DecodePublic(ev)
	if err != nil {
		return err
	}
	// The fold gives an item the id of the event that recorded it, and
	// uses the id for nothing else; the model keeps the revision instead.
	rec.ID = revisionID(ev.Revision)
	m.mu.Lock()
	defer m.mu.Unlock()
	h, ok := m.hot.rows[id]
	if !ok {
		h = &hotRow{p: &domain.Participant{}}
		if s, ok := m.rows[id]; ok {
			r, err := decode(m.tab, s, standIns)
			if err != nil {
				return fmt.Errorf("event %s in %s: %w", ev.ID, ev.Stream, err)
			}
			h.p = &r.P
		}
	}
	if !h.p.Extend(rec) {
		return fmt.Errorf("event %s in %s: %s was not folded", ev.ID, ev.Stream, ev.Type)
	}
	h.revision, h.position = ev.Revision, ev.Position
	if !ok {
		m.keep(id, h)
	}
	m.position = ev.Position
	return nil
}

// keep makes r participant id's hot state, packing the one it evicts;
// the caller holds mu.
func (m *Model) keep(id uuid.UUID, r *hotRow) {
	if evicted, out := m.hot.put(id, r); out != nil {
		m.pack(evicted, out)
	}
}

// flush packs every hot participant into rows; the caller holds mu.
func (m *Model) flush() {
	for id, r := range m.hot.rows {
		m.pack(id, r)
	}
	m.hot.reset()
}

// The snapshot body, after the runner's header: the model's position, the
// table of strings, the table of employer ids, then every row with its
// participant id; counts and lengths are uvarints. It holds no personal
// data, as the rows hold none.

// Limits on what Restore accepts before it allocates, against a damaged
// snapshot (the runner checks the checksum only after Restore).
const (
	maxStringLen = 1 << 16
	maxRowLen    = 1 << 24
)

// Snapshot implements projections.Projection. The runner calls it from
// the goroutine that applies events, between events.
func (m *Model) Snapshot(w io.Writer) error {
	m.mu.Lock()
	m.flush()
	m.mu.Unlock()
	m.mu.RLock()
	defer m.mu.RUnlock()
	bw := bufio.NewWriter(w)
	var buf []byte
	put := func(v uint64) { buf = binary.AppendUvarint(buf[:0], v); bw.Write(buf) }
	put(m.position)
	put(uint64(len(m.tab.strs)))
	for _, s := range m.tab.strs {
		put(uint64(len(s)))
		bw.WriteString(s)
	}
	put(uint64(len(m.tab.ids)))
	for _, u := range m.tab.ids {
		bw.Write(u[:])
	}
	put(uint64(len(m.rows)))
	for id, s := range m.rows {
		bw.Write(id[:])
		put(uint64(len(s)))
		bw.WriteString(s)
	}
	// bufio keeps the first write error and reports it here.
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("overview snapshot: %w", err)
	}
	return nil
}

// Restore implements projections.Projection.
func (m *Model) Restore(rd io.Reader) error {
	m.Reset()
	br := bufio.NewReader(rd)
	tab := newTable()
	rows := map[uuid.UUID]string{}
	position, err := m.restore(br, tab, rows)
	if err != nil {
		return fmt.Errorf("overview restore: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rows, m.tab, m.position = rows, tab, position
	m.hot.reset()
	return nil
}

func (m *Model) restore(br *bufio.Reader, tab *table, rows map[uuid.UUID]string) (uint64, error) {
	position, err := binary.ReadUvarint(br)
	if err != nil {
		return 0, err
	}
	readString := func(limit uint64) (string, error) {
		n, err := binary.ReadUvarint(br)
		if err != nil {
			return "", err
		}
		if n > limit {
			return "", fmt.Errorf("a length of %d is over the limit of %d", n, limit)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return "", err
		}
		return string(b), nil
	}
	n, err := binary.ReadUvarint(br)
	if err != nil {
		return 0, err
	}
	for i := range n {
		s, err := readString(maxStringLen)
		if err != nil {
			return 0, fmt.Errorf("string %d of %d: %w", i, n, err)
		}
		// The table starts with "" at index 0; indexes must come out as
		// they went in.
		if i == 0 && s == "" {
			continue
		}
		if tab.str(s) != uint32(i) {
			return 0, errors.New("the table of strings repeats a string")
		}
	}
	if n, err = binary.ReadUvarint(br); err != nil {
		return 0, err
	}
	for i := range n {
		var u uuid.UUID
		if _, err := io.ReadFull(br, u[:]); err != nil {
			return 0, fmt.Errorf("id %d of %d: %w", i, n, err)
		}
		if tab.id(u) != uint32(i) {
			return 0, errors.New("the table of ids repeats an id")
		}
	}
	if n, err = binary.ReadUvarint(br); err != nil {
		return 0, err
	}
	for i := range n {
		var id uuid.UUID
		if _, err := io.ReadFull(br, id[:]); err != nil {
			return 0, fmt.Errorf("row %d of %d: %w", i, n, err)
		}
		s, err := readString(maxRowLen)
		if err != nil {
			return 0, fmt.Errorf("row %d of %d: %w", i, n, err)
		}
		rows[id] = s
	}
	return position, nil
}
