package overview

import (
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
// participant repeats the same few of them. Event, goal and placement ids
// are written whole: they are what a client corrects and voids by.
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

// row is what the model keeps of one participant.
type row struct {
	Revision uint64 // of the participant's last event applied
	Position uint64 // the log position of that event
	P        domain.Participant
}

type encoder struct {
	b    []byte
	tab  *table
	last int // day number of the date written last
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
		e.id(ep.EnrolmentID)
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
			e.id(x.EventID)
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
		e.id(g.EventID)
		e.int(g.Episode)
		e.str(string(g.Area))
		e.date(g.SetOn)
		e.date(g.TargetDate)
		e.str(string(g.Outcome))
		e.date(g.ClosedOn)
	}

	e.uint(uint64(len(p.Meetings)))
	for _, m := range p.Meetings {
		e.id(m.EventID)
		e.int(m.Episode)
		e.date(m.Date)
		e.str(string(m.Kind))
		e.date(m.NextMeetingOn)
	}

	e.uint(uint64(len(p.Scores)))
	for _, s := range p.Scores {
		e.id(s.EventID)
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
		e.id(c.EventID)
		e.int(c.Episode)
		e.ref(c.EmployerID)
		e.date(c.Date)
		e.str(string(c.Purpose))
	}

	e.uint(uint64(len(p.Placements)))
	for _, pl := range p.Placements {
		e.id(pl.ID)
		e.id(pl.EventID)
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
		e.id(pa.EventID)
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
	s    string
	i    int
	tab  *table
	last int
	err  error
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

// decode unpacks a row written by encode with the same table.
func decode(tab *table, s string) (row, error) {
	d := &decoder{s: s, tab: tab}
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
			ep.EnrolmentID = d.id()
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
				ep.Exit = &domain.EpisodeExit{EventID: d.id(), Date: d.date(),
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
			g.EventID = d.id()
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
			m.EventID = d.id()
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
			s.EventID = d.id()
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
			c.EventID = d.id()
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
			pl.EventID = d.id()
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
			pa.EventID = d.id()
			pa.Episode = d.int()
			pa.From = d.date()
			pa.To = d.date()
			pa.Reason = domain.PauseReason(d.str())
		}
	}
	if d.err == nil && d.i != len(d.s) {
		d.err = fmt.Errorf("%w: %d bytes left over", errCorrupt, len(d.s)-d.i)
	}
	return r, d.err
}
