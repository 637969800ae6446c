// Package caseload is the caseworkers' read model: one compact row per
// participant, folded event by event from the participant streams, from
// which the caseload list, its flags and its counts are computed at query
// time for "today" (so that flags change with the date without events).
//
// Rows hold no personal data: names stay sealed in the log and are opened
// at query time, for the rows shown only, by the caller (see package api).
// Snapshots therefore never hold a name.
//
// Corrections and voids (EntryCorrected, EntryVoided) can change any fact
// of a row, so the row of their participant is recomputed: the model reads
// the participant's stream up to the correction through the store, strips
// the sealed personal members, and folds it with domain.FoldParticipant,
// the same fold every other reader uses. Every other event is folded into
// the row directly; the two paths are tested to agree.
package caseload

import (
	"context"
	"encoding/gob"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	// The JSON v2 reference implementation (encoding/json/v2 behind
	// GOEXPERIMENT=jsonv2 in Go 1.26) decodes a payload in less than half
	// the time of encoding/json, and decoding is most of a rebuild.
	"github.com/go-json-experiment/json"
	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/projections"
)

// Name and SchemaVersion of the projection; bump the version whenever
// record or its meaning changes.
const (
	Name          = "caseload"
	SchemaVersion = 2 // 2: placements keep their planned end
)

// StreamReader reads one stream; eventstore.Store is one.
type StreamReader = projections.StreamReader

// Model is the caseload read model. It is safe for concurrent use: the
// projection runner applies events while queries read.
type Model struct {
	streams StreamReader

	mu       sync.RWMutex
	rows     map[uuid.UUID]*record
	byOffice map[string]*officeRows
	strings  map[string]string // interned office, programme and user ids
	position uint64
}

// New returns an empty model that reads participant streams from streams
// when a correction needs a row recomputed.
func New(streams StreamReader) *Model {
	m := &Model{streams: streams}
	m.Reset()
	return m
}

// record is one participant's row, in the current (latest) episode.
// Fields are exported for the snapshot's encoding only.
type record struct {
	ID                uuid.UUID
	Episode           int32
	Programme, Office string
	Team              []member
	EnrolledOn        day
	ExitedOn          day
	Paused            bool
	AddressProtection bool
	Erased            bool
	// Phase inputs of the episode.
	HasGoal, HasWorkGoal, HasEmployerContact bool
	OpenGoals                                []uuid.UUID
	LastContact, NextMeeting                 day
	Placements                               []placement // open placements of the episode
	Baseline, Latest                         score
	MidwayOn, EndOn                          day
	Consents                                 uint8 // bit i: ConsentScopes()[i] in force
	LastPosition                             uint64
}

type member struct {
	User string
	Role domain.CaseworkerRole
}

type placement struct {
	ID         uuid.UUID
	Kind       domain.PlacementKind
	EmployerID uuid.UUID
	Hours      int32
	Since      day
	PlannedEnd day // 0 when none is planned
}

type score struct {
	On        day
	Timepoint domain.Timepoint
	Scores    domain.Scores
}

func (r *record) enrolled() bool { return r.Episode > 0 }

// addScore records a score of the current episode: the first baseline,
// midway and end count for the flags, the latest for the list. Both the
// event-by-event update and the recompute after a correction go through
// it, so that they cannot disagree.
func (r *record) addScore(s score) {
	switch s.Timepoint {
	case domain.TimepointBaseline:
		if r.Baseline.On == 0 {
			r.Baseline = s
		}
	case domain.TimepointMidway:
		if r.MidwayOn == 0 {
			r.MidwayOn = s.On
		}
	case domain.TimepointEnd:
		if r.EndOn == 0 {
			r.EndOn = s.On
		}
	}
	if s.On >= r.Latest.On {
		r.Latest = s
	}
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
	m.rows = map[uuid.UUID]*record{}
	m.byOffice = map[string]*officeRows{}
	m.strings = map[string]string{}
	m.position = 0
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
	return len(m.rows)
}

// payload is the union of the public members the rows need, of every
// participant event. The decoder skips the rest, the sealed "personal"
// member included.
type payload struct {
	Episode           int32                 `json:"episode"`
	Programme         string                `json:"programme"`
	Office            string                `json:"office"`
	EnrolledOn        day                   `json:"enrolled_on"`
	AddressProtection bool                  `json:"address_protection"`
	UserID            string                `json:"user_id"`
	Role              domain.CaseworkerRole `json:"role"`
	Scope             domain.ConsentScope   `json:"scope"`
	GoalID            uuid.UUID             `json:"goal_id"`
	Area              domain.GoalArea       `json:"area"`
	Date              day                   `json:"date"`
	Kind              string                `json:"kind"`
	NextMeetingOn     day                   `json:"next_meeting_on"`
	Timepoint         domain.Timepoint      `json:"timepoint"`
	Scores            domain.Scores         `json:"scores"`
	EmployerID        uuid.UUID             `json:"employer_id"`
	PlacementID       uuid.UUID             `json:"placement_id"`
	StartedOn         day                   `json:"started_on"`
	HoursPercentage   int32                 `json:"hours_percentage"`
	PlannedEnd        day                   `json:"planned_end"`
	EndedOn           day                   `json:"ended_on"`
	Outcome           domain.GoalOutcome    `json:"outcome"`
	Reason            string                `json:"reason"`
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
		return m.recompute(ctx, id, ev)
	}
	var p payload
	if err := json.Unmarshal(ev.Data, &p); err != nil {
		return fmt.Errorf("event %s (%s) in %s: decode: %w", ev.ID, ev.Type, ev.Stream, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.rows[id]
	if r == nil {
		// The fold is lenient about events before an enrolment; so are
		// rows, and the list shows enrolled participants only.
		r = &record{ID: id}
		m.rows[id] = r
	}
	if err := m.fold(r, ev.Type, &p); err != nil {
		return fmt.Errorf("event %s (%s) in %s: %w", ev.ID, ev.Type, ev.Stream, err)
	}
	r.LastPosition = ev.Position
	m.position = ev.Position
	return nil
}

// fold applies one event's public members to r, with the fold's lenience
// (domain/fold_participant.go): what does not fit is left out.
func (m *Model) fold(r *record, typ string, p *payload) error {
	switch typ {
	case domain.TypeParticipantEnrolled:
		if p.Office == "" || p.Programme == "" || p.EnrolledOn == 0 {
			return fmt.Errorf("enrolment without office, programme or date")
		}
		n := p.Episode
		if n <= 0 {
			n = r.Episode + 1
		}
		m.unindex(r)
		team, consents, erased := r.Team, r.Consents, r.Erased
		*r = record{ID: r.ID, Episode: n, Programme: m.intern(p.Programme), Office: m.intern(p.Office),
			EnrolledOn: p.EnrolledOn, AddressProtection: p.AddressProtection, Team: team, Consents: consents, Erased: erased}
		m.index(r)
	case domain.TypeCaseworkerAssigned:
		for i := range r.Team {
			if r.Team[i].User == p.UserID {
				r.Team[i].Role = p.Role
				return nil
			}
		}
		user := m.intern(p.UserID)
		r.Team = append(r.Team, member{User: user, Role: p.Role})
		sortTeam(r.Team)
		if o := m.indexed(r); o != nil {
			o.addMember(user, r)
		}
	case domain.TypeCaseworkerUnassigned:
		for i := range r.Team {
			if r.Team[i].User == p.UserID {
				if o := m.indexed(r); o != nil {
					o.removeMember(r.Team[i].User, r)
				}
				r.Team = append(r.Team[:i:i], r.Team[i+1:]...)
				break
			}
		}
	case domain.TypeConsentGiven:
		r.Consents |= consentBit(p.Scope)
	case domain.TypeConsentWithdrawn:
		r.Consents &^= consentBit(p.Scope)
	case domain.TypeGoalSet:
		// A goal id already set (in any episode) is ignored by the fold;
		// rows know only the open goals, which covers the usual case.
		for _, g := range r.OpenGoals {
			if g == p.GoalID {
				return nil
			}
		}
		if r.enrolled() {
			r.HasGoal = true
			r.HasWorkGoal = r.HasWorkGoal || p.Area == domain.AreaWork
			r.OpenGoals = append(r.OpenGoals, p.GoalID)
		}
	case domain.TypeGoalClosed:
		for i, g := range r.OpenGoals {
			if g == p.GoalID {
				r.OpenGoals = append(r.OpenGoals[:i:i], r.OpenGoals[i+1:]...)
				break
			}
		}
	case domain.TypeMeetingHeld:
		if r.enrolled() && p.Date >= r.LastContact {
			r.LastContact, r.NextMeeting = p.Date, p.NextMeetingOn
		}
	case domain.TypeIndicatorScored:
		if !r.enrolled() {
			return nil
		}
		r.addScore(score{On: p.Date, Timepoint: p.Timepoint, Scores: p.Scores})
	case domain.TypeEmployerContacted:
		if r.enrolled() {
			r.HasEmployerContact = true
		}
	case domain.TypePlacementStarted:
		if !r.enrolled() {
			return nil
		}
		for _, pl := range r.Placements {
			if pl.ID == p.PlacementID {
				return nil
			}
		}
		r.Placements = append(r.Placements, placement{ID: p.PlacementID, Kind: domain.PlacementKind(p.Kind),
			EmployerID: p.EmployerID, Hours: p.HoursPercentage, Since: p.StartedOn, PlannedEnd: p.PlannedEnd})
	case domain.TypePlacementChanged:
		// A change carries the terms in full: no planned end is none.
		for i := range r.Placements {
			if r.Placements[i].ID == p.PlacementID {
				r.Placements[i].Hours, r.Placements[i].PlannedEnd = p.HoursPercentage, p.PlannedEnd
			}
		}
	case domain.TypePlacementEnded:
		for i := range r.Placements {
			if r.Placements[i].ID == p.PlacementID {
				r.Placements = append(r.Placements[:i:i], r.Placements[i+1:]...)
				break
			}
		}
	case domain.TypeParticipationPaused:
		if r.enrolled() && r.ExitedOn == 0 {
			r.Paused = true
		}
	case domain.TypeParticipationResumed:
		r.Paused = false
	case domain.TypeParticipantExited:
		if r.enrolled() && r.ExitedOn == 0 {
			r.ExitedOn, r.Paused = p.Date, false
		}
	case domain.TypePersonalDataErased:
		r.Erased = true
	case domain.TypeIncomeSourceChanged:
		// Not a column of the list.
	default:
		return fmt.Errorf("no rule to fold %q", typ)
	}
	return nil
}

// recompute rebuilds the row of participant id from its stream up to ev,
// which corrects or voids an earlier entry.
func (m *Model) recompute(ctx context.Context, id uuid.UUID, ev eventstore.RecordedEvent) error {
	h, err := projections.PublicHistory(ctx, m.streams, ev)
	if err != nil {
		return fmt.Errorf("recompute: %w", err)
	}
	r := rowOf(id, domain.FoldParticipant(h))
	r.LastPosition = ev.Position
	m.mu.Lock()
	defer m.mu.Unlock()
	if old := m.rows[id]; old != nil {
		m.unindex(old)
	}
	r.Programme, r.Office = m.intern(r.Programme), m.intern(r.Office)
	for i := range r.Team {
		r.Team[i].User = m.intern(r.Team[i].User)
	}
	m.rows[id] = r
	m.index(r)
	m.position = ev.Position
	return nil
}

// rowOf is the row of a participant's folded state: what fold computes
// event by event, computed from the whole state at once.
func rowOf(id uuid.UUID, p domain.Participant) *record {
	r := &record{ID: id}
	ep, ok := p.CurrentEpisode()
	if !ok {
		return r
	}
	n := ep.Number
	r.Episode, r.Programme, r.Office = int32(n), ep.Programme, ep.Office
	r.EnrolledOn, r.AddressProtection, r.Erased = dayOf(ep.EnrolledOn), p.AddressProtection, p.Erased
	if ep.Exit != nil {
		r.ExitedOn = dayOf(ep.Exit.Date)
	}
	r.Paused = p.Paused()
	for user, role := range p.Team {
		r.Team = append(r.Team, member{User: user, Role: role})
	}
	sortTeam(r.Team)
	for i, s := range domain.ConsentScopes() {
		if c, ok := p.Consents[s]; ok && c.InForce {
			r.Consents |= 1 << i
		}
	}
	for _, g := range p.Goals {
		if g.Episode != n {
			continue
		}
		r.HasGoal = true
		r.HasWorkGoal = r.HasWorkGoal || g.Area == domain.AreaWork
		if g.Open() {
			r.OpenGoals = append(r.OpenGoals, g.ID)
		}
	}
	for _, mt := range p.Meetings {
		if mt.Episode == n && dayOf(mt.Date) >= r.LastContact {
			r.LastContact, r.NextMeeting = dayOf(mt.Date), dayOf(mt.NextMeetingOn)
		}
	}
	for _, s := range p.Scores {
		if s.Episode != n {
			continue
		}
		r.addScore(score{On: dayOf(s.Date), Timepoint: s.Timepoint, Scores: s.Scores})
	}
	for _, c := range p.Contacts {
		if c.Episode == n {
			r.HasEmployerContact = true
		}
	}
	for _, pl := range p.OpenPlacements() {
		r.Placements = append(r.Placements, placement{ID: pl.ID, Kind: pl.Kind, EmployerID: pl.EmployerID,
			Hours: int32(pl.HoursPercentage), Since: dayOf(pl.StartedOn), PlannedEnd: dayOf(pl.PlannedEnd)})
	}
	return r
}

func sortTeam(team []member) {
	slices.SortFunc(team, func(a, b member) int { return strings.Compare(a.User, b.User) })
}

func consentBit(s domain.ConsentScope) uint8 {
	for i, c := range domain.ConsentScopes() {
		if c == s {
			return 1 << i
		}
	}
	return 0
}

func (m *Model) intern(s string) string {
	if v, ok := m.strings[s]; ok {
		return v
	}
	m.strings[s] = s
	return s
}

// officeRows are an office's enrolled rows in a dense slice, which a list
// query scans in order (a map's iteration costs several times as much),
// with each row's place in it for removal.
type officeRows struct {
	rows []*record
	slot map[uuid.UUID]int
	// byUser are the rows of each member of a team here: a caseworker's
	// list reads their own few rows, not the office's thousands (which
	// took a tenth of the server's time in the caseworkers' load mix).
	// A user is in few teams, so a row is found in theirs by a scan.
	byUser map[string][]*record
}

func (o *officeRows) addMember(user string, r *record) {
	o.byUser[user] = append(o.byUser[user], r)
}

func (o *officeRows) removeMember(user string, r *record) {
	rows := o.byUser[user]
	i := slices.Index(rows, r)
	if i < 0 {
		return
	}
	last := len(rows) - 1
	rows[i] = rows[last]
	rows[last] = nil
	if last == 0 {
		delete(o.byUser, user)
		return
	}
	o.byUser[user] = rows[:last]
}

// indexed returns r's office when r is in its index.
func (m *Model) indexed(r *record) *officeRows {
	o := m.byOffice[r.Office]
	if o == nil {
		return nil
	}
	if i, ok := o.slot[r.ID]; ok && o.rows[i] == r {
		return o
	}
	return nil
}

func (m *Model) index(r *record) {
	if !r.enrolled() {
		return
	}
	o := m.byOffice[r.Office]
	if o == nil {
		o = &officeRows{slot: map[uuid.UUID]int{}, byUser: map[string][]*record{}}
		m.byOffice[r.Office] = o
	}
	if i, ok := o.slot[r.ID]; ok {
		for _, mb := range o.rows[i].Team {
			o.removeMember(mb.User, o.rows[i])
		}
		o.rows[i] = r
	} else {
		o.slot[r.ID] = len(o.rows)
		o.rows = append(o.rows, r)
	}
	for _, mb := range r.Team {
		o.addMember(mb.User, r)
	}
}

// userRows returns the enrolled rows of an office whose team has user;
// the caller holds the lock.
func (m *Model) userRows(office, user string) []*record {
	if o := m.byOffice[office]; o != nil {
		return o.byUser[user]
	}
	return nil
}

// officeRows returns an office's enrolled rows; the caller holds the lock.
func (m *Model) officeRows(office string) []*record {
	if o := m.byOffice[office]; o != nil {
		return o.rows
	}
	return nil
}

func (m *Model) unindex(r *record) {
	o := m.byOffice[r.Office]
	if o == nil {
		return
	}
	i, ok := o.slot[r.ID]
	if !ok {
		return
	}
	for _, mb := range o.rows[i].Team {
		o.removeMember(mb.User, o.rows[i])
	}
	last := len(o.rows) - 1
	o.rows[i] = o.rows[last]
	o.slot[o.rows[i].ID] = i
	o.rows[last] = nil
	o.rows = o.rows[:last]
	delete(o.slot, r.ID)
}

// snapshotHeader leads the snapshot body.
type snapshotHeader struct {
	Position uint64
	Rows     int
}

// Snapshot implements projections.Projection: the rows, gob-encoded. No
// row holds personal data.
func (m *Model) Snapshot(w io.Writer) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	enc := gob.NewEncoder(w)
	if err := enc.Encode(snapshotHeader{Position: m.position, Rows: len(m.rows)}); err != nil {
		return fmt.Errorf("caseload snapshot: %w", err)
	}
	// In batches: one gob value per row costs its type information each
	// time, one value for all rows would be held twice in memory.
	batch := make([]*record, 0, 1024)
	for _, r := range m.rows {
		batch = append(batch, r)
		if len(batch) == cap(batch) {
			if err := enc.Encode(batch); err != nil {
				return fmt.Errorf("caseload snapshot: %w", err)
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		if err := enc.Encode(batch); err != nil {
			return fmt.Errorf("caseload snapshot: %w", err)
		}
	}
	return nil
}

// Restore implements projections.Projection.
func (m *Model) Restore(rd io.Reader) error {
	m.Reset()
	m.mu.Lock()
	defer m.mu.Unlock()
	dec := gob.NewDecoder(rd)
	var h snapshotHeader
	if err := dec.Decode(&h); err != nil {
		return fmt.Errorf("caseload restore: %w", err)
	}
	m.rows = make(map[uuid.UUID]*record, h.Rows)
	for len(m.rows) < h.Rows {
		var batch []*record
		if err := dec.Decode(&batch); err != nil {
			return fmt.Errorf("caseload restore: after %d of %d rows: %w", len(m.rows), h.Rows, err)
		}
		for _, r := range batch {
			r.Programme, r.Office = m.intern(r.Programme), m.intern(r.Office)
			for i := range r.Team {
				r.Team[i].User = m.intern(r.Team[i].User)
			}
			m.rows[r.ID] = r
			m.index(r)
		}
	}
	m.position = h.Position
	return nil
}
