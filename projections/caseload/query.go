package caseload

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
)

// Flag is a reason to look at a participant today.
type Flag string

// Flags, computed at query time from a row and today's date (Europe/Oslo).
const (
	// FlagNoContact: an active participant (not paused, not exited) has had
	// no meeting for 14 days or more (counted from enrolment when there was
	// none).
	FlagNoContact Flag = "no_contact_14d"
	// FlagNoBaseline: no baseline score 14 days or more after enrolment,
	// in an open episode.
	FlagNoBaseline Flag = "no_baseline"
	// FlagMidwayDue: 90 days or more after the baseline without a midway
	// score, in an open episode.
	FlagMidwayDue Flag = "midway_due"
	// FlagEndScoreMissing: the episode was exited without an end score.
	FlagEndScoreMissing Flag = "end_score_missing"
	// FlagNoProcessingConsent: an open episode without processing consent
	// in force.
	FlagNoProcessingConsent Flag = "no_processing_consent"
	// FlagFollowUpDue: an ordinary or subsidised job started less than 8
	// weeks (56 days) ago, and no meeting for 7 days or more since the
	// later of its start and the last meeting.
	FlagFollowUpDue Flag = "follow_up_due"
	// FlagMeetingOverdue: the next meeting planned at the last meeting is
	// before today, in an open episode.
	FlagMeetingOverdue Flag = "meeting_overdue"
	// FlagPlacementEnding: an open placement of an open episode is planned
	// to end (planned_end of its start or latest change) within the next
	// 14 days, today and the 14th day included. A planned end already
	// passed without the end being recorded does not raise it: that
	// placement is not ending but overdue to be recorded as ended, which
	// this flag would only hide among those about to end.
	FlagPlacementEnding Flag = "placement_ending_14d"
)

const flagCount = 8

// flagList is every flag, in the order counts show them; bit i of a
// row's flag set is flagList()[i]. An array, so that the list's scan
// copies it on the stack instead of allocating.
func flagList() [flagCount]Flag {
	return [flagCount]Flag{FlagNoContact, FlagNoBaseline, FlagMidwayDue, FlagEndScoreMissing,
		FlagNoProcessingConsent, FlagFollowUpDue, FlagMeetingOverdue, FlagPlacementEnding}
}

// Flags lists every flag, in the order counts show them.
func Flags() []Flag {
	l := flagList()
	return l[:]
}

// Thresholds of the flags, in days.
const (
	noContactDays     = 14
	noBaselineDays    = 14
	midwayDays        = 90
	followUpWindow    = 56
	followUpQuietDays = 7
	endingWithinDays  = 14
)

// flags returns the bit set of a row's flags on today: bit i is flagList()[i].
func (r *record) flags(today day) uint16 {
	var f uint16
	set := func(i int) { f |= 1 << i }
	open := r.ExitedOn == 0
	if open && !r.Paused {
		since := r.LastContact
		if since == 0 {
			since = r.EnrolledOn
		}
		if today-since >= noContactDays {
			set(0)
		}
	}
	if open && r.Baseline.On == 0 && today-r.EnrolledOn >= noBaselineDays {
		set(1)
	}
	if open && r.Baseline.On != 0 && r.MidwayOn == 0 && today-r.Baseline.On >= midwayDays {
		set(2)
	}
	if !open && r.EndOn == 0 {
		set(3)
	}
	if open && r.Consents&consentBit(domain.ConsentProcessing) == 0 {
		set(4)
	}
	if open {
		for _, pl := range r.Placements {
			if !pl.Kind.IsJob() || today-pl.Since >= followUpWindow || today < pl.Since {
				continue
			}
			if today-max(pl.Since, r.LastContact) >= followUpQuietDays {
				set(5)
				break
			}
		}
	}
	if open && r.NextMeeting != 0 && r.NextMeeting < today {
		set(6)
	}
	if open {
		for _, pl := range r.Placements {
			if pl.PlannedEnd != 0 && pl.PlannedEnd >= today && pl.PlannedEnd-today <= endingWithinDays {
				set(7)
				break
			}
		}
	}
	return f
}

func (r *record) status() domain.Status {
	switch {
	case !r.enrolled():
		return domain.StatusNotEnrolled
	case r.ExitedOn != 0:
		return domain.StatusExited
	case r.Paused:
		return domain.StatusPaused
	}
	return domain.StatusActive
}

// phase is domain.Participant.Phase of the row's episode.
func (r *record) phase() domain.Phase {
	ph := domain.PhaseEngagement
	if r.HasGoal || r.Baseline.On != 0 {
		ph = domain.PhaseVocationalProfile
	}
	if r.HasWorkGoal || r.HasEmployerContact {
		ph = domain.PhaseJobFinding
	}
	for _, pl := range r.Placements {
		if pl.Kind.IsJob() {
			return domain.PhaseOngoingSupport
		}
		ph = domain.PhaseEmployerEngagement
	}
	return ph
}

func (r *record) daysInProgramme(today day) int {
	end := today
	if r.ExitedOn != 0 {
		end = r.ExitedOn
	}
	return int(end - r.EnrolledOn)
}

func (r *record) assigned(user string) bool {
	return slices.ContainsFunc(r.Team, func(m member) bool { return m.User == user })
}

// Sort names a column the list can be sorted by.
type Sort string

// Sortable columns: dates and counts.
const (
	SortEnrolledOn       Sort = "enrolled_on"
	SortDaysInProgramme  Sort = "days_in_programme"
	SortLastContact      Sort = "last_contact"
	SortDaysSinceContact Sort = "days_since_contact"
	SortNextMeeting      Sort = "next_meeting"
	SortOpenGoals        Sort = "open_goals"
	SortPlacementSince   Sort = "placement_since"
	SortLatestScore      Sort = "latest_score_on"
	SortFlags            Sort = "flags"
)

// Sorts lists the sortable columns.
func Sorts() []Sort {
	return []Sort{SortEnrolledOn, SortDaysInProgramme, SortLastContact, SortDaysSinceContact,
		SortNextMeeting, SortOpenGoals, SortPlacementSince, SortLatestScore, SortFlags}
}

// key is a row's sort key for s: missing values (no contact yet, no
// meeting planned) sort after every present one, in either direction.
func (r *record) key(s Sort, today day) (int64, bool) {
	switch s {
	case SortEnrolledOn:
		return int64(r.EnrolledOn), true
	case SortDaysInProgramme:
		return int64(r.daysInProgramme(today)), true
	case SortLastContact:
		return int64(r.LastContact), r.LastContact != 0
	case SortDaysSinceContact:
		return int64(today - r.LastContact), r.LastContact != 0
	case SortNextMeeting:
		return int64(r.NextMeeting), r.NextMeeting != 0
	case SortOpenGoals:
		return int64(len(r.OpenGoals)), true
	case SortPlacementSince:
		if len(r.Placements) == 0 {
			return 0, false
		}
		return int64(r.Placements[len(r.Placements)-1].Since), true
	case SortLatestScore:
		return int64(r.Latest.On), r.Latest.On != 0
	case SortFlags:
		return int64(popcount(r.flags(today))), true
	}
	return 0, false
}

func popcount(f uint16) int {
	n := 0
	for ; f != 0; f &= f - 1 {
		n++
	}
	return n
}

// Scope is whose participants a caller sees: an office's participants
// (Office), narrowed to those in a caseworker's team when Caseworker is
// set.
type Scope struct {
	Office     string
	Caseworker string
}

// Query selects and orders a page of the list. Empty lists filter
// nothing; several values of one filter match any of them; Flags must all
// hold.
type Query struct {
	Scope          Scope
	Today          domain.Date
	Programmes     []string
	Caseworkers    []string
	Phases         []domain.Phase
	Statuses       []domain.Status
	PlacementKinds []domain.PlacementKind
	// ConsentsMissing: the scope is not in force.
	ConsentsMissing  []domain.ConsentScope
	AddressProtected *bool
	Flags            []Flag
	// Keep, when set, further narrows the rows (the API's name search);
	// it is called with the model's read lock held and must not call back.
	Keep func(Row) bool
	Sort Sort
	Desc bool
	// After is the cursor of the previous page ("" for the first).
	After string
	Limit int
}

// Page is one page of the list.
type Page struct {
	Rows []Row
	// Next is the cursor of the next page, "" on the last.
	Next string
	// Total is how many rows match the filters.
	Total int
	// Counts are of the whole scope, before filters.
	Counts Counts
	// Position is the log position the page reflects.
	Position uint64
}

// Counts are per flag and per status, of the caller's scope.
type Counts struct {
	Total    int                   `json:"total"`
	ByFlag   map[Flag]int          `json:"by_flag"`
	ByStatus map[domain.Status]int `json:"by_status"`
}

// Row is one participant as the list shows them, without the name, which
// the caller resolves for the rows it shows.
type Row struct {
	ID                uuid.UUID             `json:"id"`
	Programme         string                `json:"programme"`
	Office            string                `json:"office"`
	Caseworkers       []Caseworker          `json:"caseworkers"`
	Phase             domain.Phase          `json:"phase"`
	Status            domain.Status         `json:"status"`
	EnrolledOn        domain.Date           `json:"enrolled_on"`
	ExitedOn          domain.Date           `json:"exited_on,omitzero"`
	DaysInProgramme   int                   `json:"days_in_programme"`
	LastContact       domain.Date           `json:"last_contact,omitzero"`
	DaysSinceContact  *int                  `json:"days_since_contact,omitempty"`
	NextMeeting       domain.Date           `json:"next_meeting,omitzero"`
	OpenGoals         int                   `json:"open_goals"`
	Placement         *Placement            `json:"placement,omitempty"`
	LatestScores      *Scores               `json:"latest_scores,omitempty"`
	Consents          []domain.ConsentScope `json:"consents"`
	Flags             []Flag                `json:"flags"`
	AddressProtection bool                  `json:"address_protection"`
	Erased            bool                  `json:"erased"`
}

// Caseworker is a member of the participant's team.
type Caseworker struct {
	UserID string                `json:"user_id"`
	Role   domain.CaseworkerRole `json:"role"`
}

// Placement is the current placement (the latest started of those open).
type Placement struct {
	Kind       domain.PlacementKind `json:"kind"`
	EmployerID uuid.UUID            `json:"employer_id,omitzero"`
	Hours      int                  `json:"hours_percentage"`
	Since      domain.Date          `json:"since"`
}

// Scores are the latest scores and their change since the baseline.
type Scores struct {
	On                  domain.Date      `json:"on"`
	Timepoint           domain.Timepoint `json:"timepoint"`
	Scores              domain.Scores    `json:"scores"`
	ChangeSinceBaseline *domain.Scores   `json:"change_since_baseline,omitempty"`
}

func (r *record) view(today day) Row {
	v := Row{
		ID: r.ID, Programme: r.Programme, Office: r.Office, Phase: r.phase(), Status: r.status(),
		EnrolledOn: r.EnrolledOn.date(), ExitedOn: r.ExitedOn.date(), DaysInProgramme: r.daysInProgramme(today),
		LastContact: r.LastContact.date(), NextMeeting: r.NextMeeting.date(), OpenGoals: len(r.OpenGoals),
		AddressProtection: r.AddressProtection, Erased: r.Erased,
		Caseworkers: make([]Caseworker, len(r.Team)), Consents: []domain.ConsentScope{}, Flags: []Flag{},
	}
	for i, m := range r.Team {
		v.Caseworkers[i] = Caseworker{UserID: m.User, Role: m.Role}
	}
	if r.LastContact != 0 {
		d := int(today - r.LastContact)
		v.DaysSinceContact = &d
	}
	if n := len(r.Placements); n > 0 {
		pl := r.Placements[n-1]
		v.Placement = &Placement{Kind: pl.Kind, EmployerID: pl.EmployerID, Hours: int(pl.Hours), Since: pl.Since.date()}
	}
	if r.Latest.On != 0 {
		v.LatestScores = &Scores{On: r.Latest.On.date(), Timepoint: r.Latest.Timepoint, Scores: r.Latest.Scores}
		if r.Baseline.On != 0 {
			b, l := r.Baseline.Scores, r.Latest.Scores
			v.LatestScores.ChangeSinceBaseline = &domain.Scores{Hope: l.Hope - b.Hope, WellBeing: l.WellBeing - b.WellBeing,
				Network: l.Network - b.Network, WorkAttachment: l.WorkAttachment - b.WorkAttachment}
		}
	}
	for i, s := range domain.ConsentScopes() {
		if r.Consents&(1<<i) != 0 {
			v.Consents = append(v.Consents, s)
		}
	}
	f := r.flags(today)
	for i, fl := range flagList() {
		if f&(1<<i) != 0 {
			v.Flags = append(v.Flags, fl)
		}
	}
	return v
}

// ErrBadCursor: the cursor was not made by this list for this sort.
var ErrBadCursor = errors.New("cursor is not valid for this list and sort")

// cursor is where a page ends: the last row's sort key and id.
type cursor struct {
	sort    Sort
	desc    bool
	present bool
	key     int64
	id      uuid.UUID
}

func (c cursor) encode() string {
	var b bytes.Buffer
	b.WriteByte(1) // version
	b.WriteByte(byte(len(c.sort)))
	b.WriteString(string(c.sort))
	flags := byte(0)
	if c.desc {
		flags |= 1
	}
	if c.present {
		flags |= 2
	}
	b.WriteByte(flags)
	b.Write(binary.BigEndian.AppendUint64(nil, uint64(c.key)))
	b.Write(c.id[:])
	return base64.RawURLEncoding.EncodeToString(b.Bytes())
}

func decodeCursor(s string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2 || b[0] != 1 {
		return cursor{}, ErrBadCursor
	}
	n := int(b[1])
	if len(b) != 2+n+1+8+16 {
		return cursor{}, ErrBadCursor
	}
	c := cursor{sort: Sort(b[2 : 2+n])}
	rest := b[2+n:]
	c.desc, c.present = rest[0]&1 != 0, rest[0]&2 != 0
	c.key = int64(binary.BigEndian.Uint64(rest[1:9]))
	copy(c.id[:], rest[9:])
	return c, nil
}

// entry is a row being listed, with its sort key.
type entry struct {
	r       *record
	present bool
	key     int64
}

// compare orders entries: present keys first, by key in the direction
// asked, then by id, which makes the order total and so the cursor
// stable while rows change.
func compare(a, b entry, desc bool) int {
	if a.present != b.present {
		if a.present {
			return -1
		}
		return 1
	}
	c := cmp.Compare(a.key, b.key)
	if desc {
		c = -c
	}
	if c != 0 {
		return c
	}
	return bytes.Compare(a.r.ID[:], b.r.ID[:])
}

// DefaultLimit and MaxLimit bound a page.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// List answers a query: the page, the number of matching rows, and the
// counts of the scope.
func (m *Model) List(q Query) (Page, error) {
	if q.Scope.Office == "" {
		return Page{}, fmt.Errorf("list the caseload: no office in scope")
	}
	if q.Sort == "" {
		q.Sort = SortDaysSinceContact
		q.Desc = true
	}
	if !slices.Contains(Sorts(), q.Sort) {
		return Page{}, fmt.Errorf("list the caseload: cannot sort by %q", q.Sort)
	}
	if q.Limit <= 0 {
		q.Limit = DefaultLimit
	}
	q.Limit = min(q.Limit, MaxLimit)
	var after *entry
	if q.After != "" {
		c, err := decodeCursor(q.After)
		if err != nil {
			return Page{}, err
		}
		if c.sort != q.Sort || c.desc != q.Desc {
			return Page{}, ErrBadCursor
		}
		after = &entry{r: &record{ID: c.id}, present: c.present, key: c.key}
	}
	today := dayOf(q.Today)
	var want uint16
	for _, f := range q.Flags {
		i := slices.Index(Flags(), f)
		if i < 0 {
			return Page{}, fmt.Errorf("list the caseload: no flag %q", f)
		}
		want |= 1 << i
	}
	var missing uint8
	for _, s := range q.ConsentsMissing {
		missing |= consentBit(s)
	}

	m.mu.RLock()
	defer m.mu.RUnlock()
	flags, statuses := flagList(), statusList()
	var byFlag [len(flags)]int
	var byStatus [len(statuses)]int
	// The page is the Limit smallest matches in the list's order, and one
	// more tells whether a next page exists: a bounded heap keeps them
	// instead of sorting every match, which at an office of thousands
	// costs more than the scan and its garbage.
	top := pageHeap{desc: q.Desc, entries: make([]entry, 0, q.Limit+1)}
	total := 0
	for _, r := range m.scopeRows(q.Scope) {
		f := r.flags(today)
		st := r.status()
		byStatus[slices.Index(statuses[:], st)]++
		for i := range flags {
			if f&(1<<i) != 0 {
				byFlag[i]++
			}
		}
		if f&want != want ||
			(len(q.Programmes) > 0 && !slices.Contains(q.Programmes, r.Programme)) ||
			(len(q.Statuses) > 0 && !slices.Contains(q.Statuses, st)) ||
			(len(q.Phases) > 0 && !slices.Contains(q.Phases, r.phase())) ||
			(len(q.Caseworkers) > 0 && !slices.ContainsFunc(q.Caseworkers, r.assigned)) ||
			(len(q.PlacementKinds) > 0 && !slices.ContainsFunc(r.Placements, func(p placement) bool { return slices.Contains(q.PlacementKinds, p.Kind) })) ||
			(r.Consents&missing != 0) ||
			(q.AddressProtected != nil && *q.AddressProtected != r.AddressProtection) {
			continue
		}
		if q.Keep != nil && !q.Keep(r.view(today)) {
			continue
		}
		total++
		e := entry{r: r}
		e.key, e.present = r.key(q.Sort, today)
		if after != nil && compare(e, *after, q.Desc) <= 0 {
			continue
		}
		top.offer(e, q.Limit+1)
	}
	hits := top.sorted()
	page := Page{Position: m.position, Total: total, Counts: Counts{ByFlag: map[Flag]int{}, ByStatus: map[domain.Status]int{}}}
	for i, f := range flags {
		page.Counts.ByFlag[f] = byFlag[i]
	}
	for i, st := range statuses {
		if byStatus[i] > 0 {
			page.Counts.ByStatus[st] = byStatus[i]
		}
		page.Counts.Total += byStatus[i]
	}
	if len(hits) > q.Limit {
		last := hits[q.Limit-1]
		page.Next = cursor{sort: q.Sort, desc: q.Desc, present: last.present, key: last.key, id: last.r.ID}.encode()
		hits = hits[:q.Limit]
	}
	page.Rows = make([]Row, len(hits))
	for i, e := range hits {
		page.Rows[i] = e.r.view(today)
	}
	return page, nil
}

// statusList is every status a row can have, in the order of
// record.status's cases.
func statusList() [4]domain.Status {
	return [4]domain.Status{domain.StatusNotEnrolled, domain.StatusExited, domain.StatusPaused, domain.StatusActive}
}

// pageHeap holds the smallest entries offered so far, at most a bound of
// them, as a max-heap: the root is the greatest kept, the first to give
// way to a smaller one.
type pageHeap struct {
	desc    bool
	entries []entry
}

// less orders the heap: the greater entry (later in the list) is nearer
// the root.
func (h *pageHeap) less(i, j int) bool { return compare(h.entries[i], h.entries[j], h.desc) > 0 }

func (h *pageHeap) offer(e entry, bound int) {
	if len(h.entries) < bound {
		h.entries = append(h.entries, e)
		for i := len(h.entries) - 1; i > 0; {
			parent := (i - 1) / 2
			if !h.less(i, parent) {
				break
			}
			h.entries[i], h.entries[parent] = h.entries[parent], h.entries[i]
			i = parent
		}
		return
	}
	if compare(e, h.entries[0], h.desc) >= 0 {
		return
	}
	h.entries[0] = e
	for i := 0; ; {
		child := 2*i + 1
		if child >= len(h.entries) {
			return
		}
		if child+1 < len(h.entries) && h.less(child+1, child) {
			child++
		}
		if !h.less(child, i) {
			return
		}
		h.entries[i], h.entries[child] = h.entries[child], h.entries[i]
		i = child
	}
}

// sorted returns the kept entries in list order.
func (h *pageHeap) sorted() []entry {
	slices.SortFunc(h.entries, func(a, b entry) int { return compare(a, b, h.desc) })
	return h.entries
}

// Get returns one participant's row, if the model holds an enrolled one.
func (m *Model) Get(id uuid.UUID, today domain.Date) (Row, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.rows[id]
	if !ok || !r.enrolled() {
		return Row{}, false
	}
	return r.view(dayOf(today)), true
}

// Rows returns every row of scope, unordered, for a caller that must look
// at each (a search by name) outside the model's lock.
func (m *Model) Rows(scope Scope, today domain.Date) []Row {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []Row
	for _, r := range m.scopeRows(scope) {
		out = append(out, r.view(dayOf(today)))
	}
	return out
}

// scopeRows are the enrolled rows of scope, unordered; the caller holds
// the lock.
func (m *Model) scopeRows(scope Scope) []*record {
	if scope.Caseworker != "" {
		return m.userRows(scope.Office, scope.Caseworker)
	}
	return m.officeRows(scope.Office)
}
