package overview

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
)

// A participant is held as one immutable string of bytes: the public
// members of their domain.Participant, packed. Integers are varints; dates
// are day numbers, each written as the difference from the date written
// before it (a meeting a week after the last one costs one byte); enum
// values, programmes, offices and user ids are indexes into the model's
// table of strings, and employer ids into its table of ids, since every
// participant repeats the same few of them.
//
// The id of the event that recorded an item (an enrolment, exit, goal,
// meeting, score, contact, placement or pause) is the id of an event of
// the participant's own stream, corrected or not (a correction keeps the
// entry's id and place): a row holds that event's revision instead, as the
// difference from the revision written before it, a byte where the id
// takes sixteen. Unpacked for Apply, such an item carries a stand-in id
// that holds the revision (revisionID); Get gives it its real id back from
// the stream the caller loaded. Goal and placement ids, chosen by clients,
// and employer ids are not events of the stream and are kept as they are.
//
// Every Personal member is nil in what decode returns: the model never
// holds personal data.

// table interns the strings and employer ids rows refer to. It only grows:
// rows written earlier keep their indexes.
type table struct {
	strs   []string
	strIdx map[string]uint32
	ids    []uuid.UUID
	idIdx  map[uuid.UUID]uint32
}

func newTable() *table {
	t := &table{strIdx: map[string]uint32{}, idIdx: map[uuid.UUID]uint32{}}
	t.str("") // index 0: an absent enum value or id is the common case
	return t
}

func (t *table) str(s string) uint32 {
	if i, ok := t.strIdx[s]; ok {
		return i
	}
	i := uint32(len(t.strs))
	t.strs = append(t.strs, s)
	t.strIdx[s] = i
	return i
}

func (t *table) id(u uuid.UUID) uint32 {
	if i, ok := t.idIdx[u]; ok {
		return i
	}
	i := uint32(len(t.ids))
	t.ids = append(t.ids, u)
	t.idIdx[u] = i
	return i
}

// revisionMark begins every stand-in event id. Its version nibble (the
// high half of byte 6) is 0, which no event id has: the store's ids are
// random (version 4) or name-based (version 5).
const revisionMark = "ovrev\x00\x00\x00"

// revisionID is the stand-in id of the event of revision rev.
func revisionID(rev uint64) uuid.UUID {
	var u uuid.UUID
	copy(u[:], revisionMark)
	binary.BigEndian.PutUint64(u[len(revisionMark):], rev)
	return u
}

// revisionOf is the revision a stand-in id holds; ok is false for any
// other id.
func revisionOf(u uuid.UUID) (rev uint64, ok bool) {
	if string(u[:len(revisionMark)]) != revisionMark {
		return 0, false
	}
	return binary.BigEndian.Uint64(u[len(revisionMark):]), true
}

// eventIDs calls f with every event id p holds, each of which is the id
// of an event of p's stream. The exits are p's own: f may change them.
func eventIDs(p *domain.Participant, f func(*uuid.UUID)) {
	for i := range p.Episodes {
		f(&p.Episodes[i].EnrolmentID)
		if x := p.Episodes[i].Exit; x != nil {
			f(&x.EventID)
		}
	}
	for i := range p.Goals {
		f(&p.Goals[i].EventID)
	}
	for i := range p.Meetings {
		f(&p.Meetings[i].EventID)
	}
	for i := range p.Scores {
		f(&p.Scores[i].EventID)
	}
	for i := range p.Contacts {
		f(&p.Contacts[i].EventID)
	}
	for i := range p.Placements {
		f(&p.Placements[i].EventID)
	}
	for i := range p.Pauses {
		f(&p.Pauses[i].EventID)
	}
}

// withStandIns gives every item of p, folded from history, the stand-in
// id of its event's revision in place of the event's id.
func withStandIns(p *domain.Participant, history []domain.Recorded) {
	revs := make(map[uuid.UUID]uint64, len(history))
	for _, r := range history {
		revs[r.ID] = r.Revision
	}
	eventIDs(p, func(u *uuid.UUID) {
		if rev, ok := revs[*u]; ok {
			*u = revisionID(rev)
		}
	})
}

// resolver gives the id of the event of a revision of the participant's
// stream; ok is false when it does not know that event.
type resolver func(rev uint64) (id uuid.UUID, ok bool)

// standIns resolves every revision to its stand-in id, for Apply.
func standIns(rev uint64) (uuid.UUID, bool) { return revisionID(rev), true }

// streamIDs resolves revisions to the ids of history's events, history
// being a participant's stream, or a part of it, in order.
func streamIDs(history []domain.Recorded) resolver {
	return func(rev uint64) (uuid.UUID, bool) {
		// A stream's revisions run from 0 without a gap: in the whole
		// stream, the event of revision rev is at index rev.
		if rev < uint64(len(history)) && history[rev].Revision == rev {
			return history[rev].ID, true
		}
		i, ok := slices.BinarySearchFunc(history, rev, func(r domain.Recorded, rev uint64) int { return cmp.Compare(r.Revision, rev) })
		if !ok {
			return uuid.Nil, false
		}
		return history[i].ID, true
	}
}

// row is what the model keeps of one participant.
type row struct {
	Revision uint64 // of the participant's last event applied
	Position uint64 // the log position of that event
	P        domain.Participant
}

type encoder struct {
	b       []byte
	tab     *table
	last    int    // day number of the date written last
	lastRev uint64 // revision of the event id written last
}

func (e *encoder) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) int(v int)     { e.b = binary.AppendVarint(e.b, int64(v)) }
func (e *encoder) id(u uuid.UUID) {
	e.b = append(e.b, u[:]...)
}
func (e *encoder) str(s string) { e.uint(uint64(e.tab.str(s))) }

func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

// event writes the id of the event that recorded an item: 1 + the zigzag
// difference of the revision its stand-in holds from the revision written
// last, or, for an id that is no stand-in, 0 and the whole id.
func (e *encoder) event(u uuid.UUID) {
	rev, ok := revisionOf(u)
	if !ok {
		e.uint(0)
		e.id(u)
		return
	}
	delta := int64(rev - e.lastRev)
	e.uint(uint64(delta<<1^delta>>63) + 1)
	e.lastRev = rev
}

// ref writes an employer id: 0 for none, else its index in the table + 1.
func (e *encoder) ref(u uuid.UUID) {
	if u == uuid.Nil {
		e.uint(0)
		return
	}
	e.uint(uint64(e.tab.id(u)) + 1)
}

// date writes 0 for the zero Date, else 1 + the zigzag difference from the
// date written last.
func (e *encoder) date(d domain.Date) {
	if d.IsZero() {
		e.uint(0)
		return
	}
	n := d.UnixDay()
	delta := int64(n - e.last)
	e.uint(uint64(delta<<1^delta>>63) + 1)
	e.last = n
}

// encode packs r; it interns into tab, so the caller holds the model's
// write lock. sizeHint is the length r's row had before its latest event,
// which it mostly grows by a few bytes.
func encode(tab *table, r row, sizeHint int) string {
	e := &encoder{b: make([]byte, 0, sizeHint+64), tab: tab}
	p := r.P
	e.uint(r.Revision)
	e.uint(r.Position)
	e.bool(p.AddressProtection)
	e.bool(p.Erased)
	e.date(p.ErasedOn)

	e.uint(uint64(len(p.Episodes)))
	for _, ep := range p.Episodes {
		e.int(ep.Number)
		e.event(ep.EnrolmentID)
		e.str(ep.Programme)
		e.str(ep.Office)
		e.date(ep.EnrolledOn)
		e.str(string(ep.ReferralSource))
		pr := ep.Profile
		e.int(pr.BirthYear)
		e.str(string(pr.Gender))
		e.str(string(pr.RegionOfBirth))
		e.bool(pr.YearsInNorway != nil)
		if pr.YearsInNorway != nil {
			e.int(*pr.YearsInNorway)
		}
		e.str(string(pr.IncomeSource))
		e.int(pr.ChildrenToProvideFor)
		e.str(string(pr.NorwegianLevel))
		e.str(string(pr.EducationLevel))
		e.bool(ep.Exit != nil)
		if x := ep.Exit; x != nil {
			e.event(x.EventID)
			e.date(x.Date)
			e.str(string(x.Reason))
			e.str(string(x.Destination))
		}
		e.date(ep.LastEntryOn)
	}

	users := slices.Sorted(maps.Keys(p.Team))
	e.uint(uint64(len(users)))
	for _, u := range users {
		e.str(u)
		e.str(string(p.Team[u]))
	}
	scopes := slices.Sorted(maps.Keys(p.Consents))
	e.uint(uint64(len(scopes)))
	for _, s := range scopes {
		c := p.Consents[s]
		e.str(string(s))
		e.bool(c.InForce)
		e.date(c.GivenOn)
		e.date(c.WithdrawnOn)
	}

	e.uint(uint64(len(p.Goals)))
	for i, g := range p.Goals {
		e.id(g.ID)
		// A sub-goal's parent is nearly always a goal before it: its
		// index costs a byte where the id costs sixteen.
		switch j := slices.IndexFunc(p.Goals[:i], func(o domain.Goal) bool { return o.ID == g.ParentID }); {
		case g.ParentID == uuid.Nil:
			e.uint(0)
		case j >= 0:
			e.uint(uint64(j) + 2)
		default:
			e.uint(1)
			e.id(g.ParentID)
		}
		e.event(g.EventID)
		e.int(g.Episode)
		e.str(string(g.Area))
		e.date(g.SetOn)
		e.date(g.TargetDate)
		e.str(string(g.Outcome))
		e.date(g.ClosedOn)
	}

	e.uint(uint64(len(p.Meetings)))
	for _, m := range p.Meetings {
		e.event(m.EventID)
		e.int(m.Episode)
		e.date(m.Date)
		e.str(string(m.Kind))
		e.date(m.NextMeetingOn)
	}

	e.uint(uint64(len(p.Scores)))
	for _, s := range p.Scores {
		e.event(s.EventID)
		e.int(s.Episode)
		e.date(s.Date)
		e.str(string(s.Timepoint))
		e.str(s.Instrument)
		e.int(s.InstrumentVersion)
		e.int(s.Scores.Hope)
		e.int(s.Scores.WellBeing)
		e.int(s.Scores.Network)
		e.int(s.Scores.WorkAttachment)
	}

	e.uint(uint64(len(p.Contacts)))
	for _, c := range p.Contacts {
		e.event(c.EventID)
		e.int(c.Episode)
		e.ref(c.EmployerID)
		e.date(c.Date)
		e.str(string(c.Purpose))
	}

	e.uint(uint64(len(p.Placements)))
	for _, pl := range p.Placements {
		e.id(pl.ID)
		e.event(pl.EventID)
		e.int(pl.Episode)
		e.str(string(pl.Kind))
		e.ref(pl.EmployerID)
		e.date(pl.StartedOn)
		e.int(pl.HoursPercentage)
		e.str(string(pl.Contract))
		e.date(pl.ChangedOn)
		e.date(pl.PlannedEnd)
		e.date(pl.EndedOn)
		e.str(string(pl.EndReason))
	}

	e.uint(uint64(len(p.IncomeSources)))
	for _, in := range p.IncomeSources {
		e.int(in.Episode)
		e.date(in.From)
		e.str(string(in.Source))
	}

	e.uint(uint64(len(p.Pauses)))
	for _, pa := range p.Pauses {
		e.event(pa.EventID)
		e.int(pa.Episode)
		e.date(pa.From)
		e.date(pa.To)
		e.str(string(pa.Reason))
	}
	return string(e.b)
}

// errCorrupt: a row does not decode. Rows are written by encode only, so
// this is a bug or a damaged snapshot, never bad input from a client.
var errCorrupt = errors.New("overview row does not decode")

type decoder struct {
	s       string
	i       int
	tab     *table
	ids     resolver
	last    int
	lastRev uint64
	err     error
	// missing names the first revision ids did not resolve: only a row
	// that decodes whole is reported so.
	missing error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = fmt.Errorf("%w at byte %d of %d", errCorrupt, d.i, len(d.s))
	}
	d.i = len(d.s)
}

func (d *decoder) uint() uint64 {
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		if d.i >= len(d.s) {
			d.fail()
			return 0
		}
		c := d.s[d.i]
		d.i++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
	d.fail()
	return 0
}

func (d *decoder) int() int {
	u := d.uint()
	return int(int64(u>>1) ^ -int64(u&1))
}

func (d *decoder) bool() bool { return d.uint() != 0 }

// count reads a list's length, bounded by what is left to read (every item
// takes at least one byte), so that a damaged row cannot ask for memory.
func (d *decoder) count() int {
	n := d.uint()
	if n > uint64(len(d.s)-d.i) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) id() uuid.UUID {
	var u uuid.UUID
	if len(d.s)-d.i < len(u) {
		d.fail()
		return u
	}
	copy(u[:], d.s[d.i:])
	d.i += len(u)
	return u
}

func (d *decoder) event() uuid.UUID {
	k := d.uint()
	if k == 0 {
		return d.id()
	}
	k--
	d.lastRev += uint64(int64(k>>1) ^ -int64(k&1))
	u, ok := d.ids(d.lastRev)
	if !ok && d.missing == nil {
		d.missing = fmt.Errorf("%w: revision %d", errUnresolved, d.lastRev)
	}
	return u
}

func (d *decoder) str() string {
	n := d.uint()
	if n >= uint64(len(d.tab.strs)) {
		d.fail()
		return ""
	}
	return d.tab.strs[n]
}

func (d *decoder) ref() uuid.UUID {
	n := d.uint()
	switch {
	case n == 0:
		return uuid.Nil
	case n > uint64(len(d.tab.ids)):
		d.fail()
		return uuid.Nil
	}
	return d.tab.ids[n-1]
}

func (d *decoder) date() domain.Date {
	u := d.uint()
	if u == 0 {
		return domain.Date{}
	}
	u--
	n := d.last + int(int64(u>>1)^-int64(u&1))
	d.last = n
	date, err := domain.DateOfUnixDay(n)
	if err != nil {
		d.fail()
	}
	return date
}

// errUnresolved: a row names the revision of an event the resolver decode
// was given does not know.
var errUnresolved = errors.New("an event of the overview is not in the history given")

// decode unpacks a row written by encode with the same table, giving the
// items the ids ids resolves their events' revisions to.
func decode(tab *table, s string, ids resolver) (row, error) {
	d := &decoder{s: s, tab: tab, ids: ids}
	var r row
	r.Revision = d.uint()
	r.Position = d.uint()
	p := &r.P
	p.AddressProtection = d.bool()
	p.Erased = d.bool()
	p.ErasedOn = d.date()

	if n := d.count(); n > 0 {
		p.Episodes = make([]domain.Episode, n)
		for i := range p.Episodes {
			ep := &p.Episodes[i]
			ep.Number = d.int()
			ep.EnrolmentID = d.event()
			ep.Programme = d.str()
			ep.Office = d.str()
			ep.EnrolledOn = d.date()
			ep.ReferralSource = domain.ReferralSource(d.str())
			pr := &ep.Profile
			pr.BirthYear = d.int()
			pr.Gender = domain.Gender(d.str())
			pr.RegionOfBirth = domain.RegionOfBirth(d.str())
			if d.bool() {
				y := d.int()
				pr.YearsInNorway = &y
			}
			pr.IncomeSource = domain.IncomeSource(d.str())
			pr.ChildrenToProvideFor = d.int()
			pr.NorwegianLevel = domain.NorwegianLevel(d.str())
			pr.EducationLevel = domain.EducationLevel(d.str())
			if d.bool() {
				ep.Exit = &domain.EpisodeExit{EventID: d.event(), Date: d.date(),
					Reason: domain.ExitReason(d.str()), Destination: domain.Destination(d.str())}
			}
			ep.LastEntryOn = d.date()
		}
	}
	if n := d.count(); n > 0 {
		p.Team = make(map[string]domain.CaseworkerRole, n)
		for range n {
			u := d.str()
			p.Team[u] = domain.CaseworkerRole(d.str())
		}
	}
	if n := d.count(); n > 0 {
		p.Consents = make(map[domain.ConsentScope]domain.Consent, n)
		for range n {
			s := domain.ConsentScope(d.str())
			p.Consents[s] = domain.Consent{InForce: d.bool(), GivenOn: d.date(), WithdrawnOn: d.date()}
		}
	}
	if n := d.count(); n > 0 {
		p.Goals = make([]domain.Goal, n)
		for i := range p.Goals {
			g := &p.Goals[i]
			g.ID = d.id()
			switch k := d.uint(); {
			case k == 0:
			case k == 1:
				g.ParentID = d.id()
			case k-2 < uint64(i):
				g.ParentID = p.Goals[k-2].ID
			default:
				d.fail()
			}
			g.EventID = d.event()
			g.Episode = d.int()
			g.Area = domain.GoalArea(d.str())
			g.SetOn = d.date()
			g.TargetDate = d.date()
			g.Outcome = domain.GoalOutcome(d.str())
			g.ClosedOn = d.date()
		}
	}
	if n := d.count(); n > 0 {
		p.Meetings = make([]domain.Meeting, n)
		for i := range p.Meetings {
			m := &p.Meetings[i]
			m.EventID = d.event()
			m.Episode = d.int()
			m.Date = d.date()
			m.Kind = domain.MeetingKind(d.str())
			m.NextMeetingOn = d.date()
		}
	}
	if n := d.count(); n > 0 {
		p.Scores = make([]domain.Score, n)
		for i := range p.Scores {
			s := &p.Scores[i]
			s.EventID = d.event()
			s.Episode = d.int()
			s.Date = d.date()
			s.Timepoint = domain.Timepoint(d.str())
			s.Instrument = d.str()
			s.InstrumentVersion = d.int()
			s.Scores = domain.Scores{Hope: d.int(), WellBeing: d.int(), Network: d.int(), WorkAttachment: d.int()}
		}
	}
	if n := d.count(); n > 0 {
		p.Contacts = make([]domain.Contact, n)
		for i := range p.Contacts {
			c := &p.Contacts[i]
			c.EventID = d.event()
			c.Episode = d.int()
			c.EmployerID = d.ref()
			c.Date = d.date()
			c.Purpose = domain.ContactPurpose(d.str())
		}
	}
	if n := d.count(); n > 0 {
		p.Placements = make([]domain.Placement, n)
		for i := range p.Placements {
			pl := &p.Placements[i]
			pl.ID = d.id()
			pl.EventID = d.event()
			pl.Episode = d.int()
			pl.Kind = domain.PlacementKind(d.str())
			pl.EmployerID = d.ref()
			pl.StartedOn = d.date()
			pl.HoursPercentage = d.int()
			pl.Contract = domain.Contract(d.str())
			pl.ChangedOn = d.date()
			pl.PlannedEnd = d.date()
			pl.EndedOn = d.date()
			pl.EndReason = domain.PlacementEndReason(d.str())
		}
	}
	if n := d.count(); n > 0 {
		p.IncomeSources = make([]domain.IncomeSourcePeriod, n)
		for i := range p.IncomeSources {
			in := &p.IncomeSources[i]
			in.Episode = d.int()
			in.From = d.date()
			in.Source = domain.IncomeSource(d.str())
		}
	}
	if n := d.count(); n > 0 {
		p.Pauses = make([]domain.Pause, n)
		for i := range p.Pauses {
			pa := &p.Pauses[i]
			pa.EventID = d.event()
			pa.Episode = d.int()
			pa.From = d.date()
			pa.To = d.date()
			pa.Reason = domain.PauseReason(d.str())
		}
	}
	if d.err == nil && d.i != len(d.s) {
		d.err = fmt.Errorf("%w: %d bytes left over", errCorrupt, len(d.s)-d.i)
	}
	if d.err == nil {
		d.err = d.missing
	}
	return r, d.err
}
