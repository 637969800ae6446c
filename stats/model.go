package stats

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/google/uuid"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/projections"
)

// The outcome read model: what the measures need of every participant,
// folded event by event, so that a report at the head of the log is
// computed from memory (Model.Report) instead of from the whole log.
//
// It keeps per participant stream a record (record.go): the facts
// EpisodesOf reads (episodes, placements, income sources, pauses, meeting
// days and indicator scores) as day numbers and codes, no personal data,
// and a running digest and count of the stream's events (digest.go). Over
// the whole log it keeps every programme's latest definition, the number
// of events applied and the position of the last. It applies every event
// of the log, of every stream, so that its count is what a recompute
// reports as events_read.
//
// Corrections and voids (EntryCorrected, EntryVoided) can change any fact
// before them, so the participant's record is recomputed: the model reads
// the stream up to the correction through the store, without its personal
// members, and folds it with domain.FoldParticipant, the fold every other
// reader uses. Every other event is folded into the record directly; the
// two paths are tested to agree, and the reports to be byte-identical to
// those FromLog computes from the whole log.

// Name and SchemaVersion of the projection; bump the version whenever the
// snapshot's layout or meaning changes.
const (
	ModelName          = "outcomes"
	ModelSchemaVersion = 1
)

// ErrPastKnownAt: the request's known_at lies before the model's position,
// or is a time, which the model does not place in the log; Compute
// recomputes such a report from the log.
var ErrPastKnownAt = errors.New("statistics: known_at is before the read model's position")

// StreamReader reads one stream; eventstore.Store is one.
type StreamReader = projections.StreamReader

// Model is the outcome read model. It implements projections.Projection
// and is safe for concurrent use: the runner applies events while reports
// read.
type Model struct {
	streams StreamReader

	mu sync.RWMutex
	// records holds each participant stream's record and ids its
	// participant's id; the first sorted of them are in stream-name order
	// (the order of a report: the order of the ids' bytes, as stream names
	// hold them in canonical form), the rest as they came. index finds a
	// participant's place.
	records []record
	ids     []uuid.UUID
	sorted  int
	index   map[uuid.UUID]int
	// inSlab marks the records that lie in the slab compact copied them
	// to, in report order, and moved counts those that left it since.
	inSlab []bool
	moved  int
	// texts are the strings a record's codes stand for (programmes,
	// offices, the domain's enumerations); texts[0] is "".
	texts      []string
	codes      map[string]int32
	programmes map[string]ProgrammeDefinition
	position   uint64
	events     int
	// A report reads the records in runs of at least scanRun, in at most
	// scanners goroutines.
	scanRun, scanners int
}

// NewModel returns an empty model that reads participant streams from
// streams when a correction or void needs their facts recomputed.
func NewModel(streams StreamReader) *Model {
	m := &Model{streams: streams, scanRun: minScanRun, scanners: min(runtime.GOMAXPROCS(0), maxScanners)}
	m.Reset()
	return m
}

// Name implements projections.Projection.
func (m *Model) Name() string { return ModelName }

// SchemaVersion implements projections.Projection.
func (m *Model) SchemaVersion() int { return ModelSchemaVersion }

// Filter implements projections.Projection: every event, so that the
// model counts the events of the log as a recompute reads them.
func (m *Model) Filter() eventstore.Filter { return eventstore.Filter{} }

// Reset implements projections.Projection.
func (m *Model) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records, m.ids, m.sorted, m.index = nil, nil, 0, map[uuid.UUID]int{}
	m.inSlab, m.moved = nil, 0
	m.texts, m.codes = []string{""}, map[string]int32{"": 0}
	m.programmes = map[string]ProgrammeDefinition{}
	m.position, m.events = 0, 0
}

// Position is the log position of the last event applied.
func (m *Model) Position() uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.position
}

// Len is the number of participant streams the model holds.
func (m *Model) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.records)
}

// payload is the union of the public members the facts need, of every
// participant event the fold reads. JSON v2 skips the rest, the sealed
// "personal" member included.
type payload struct {
	Episode    int     `json:"episode"`
	Programme  string  `json:"programme"`
	Office     string  `json:"office"`
	EnrolledOn jsonDay `json:"enrolled_on"`
	Profile    struct {
		Gender        domain.Gender        `json:"gender"`
		RegionOfBirth domain.RegionOfBirth `json:"region_of_birth"`
		IncomeSource  domain.IncomeSource  `json:"income_source"`
	} `json:"profile"`
	Date              jsonDay              `json:"date"`
	Timepoint         domain.Timepoint     `json:"timepoint"`
	Instrument        string               `json:"instrument"`
	InstrumentVersion int                  `json:"instrument_version"`
	Scores            domain.Scores        `json:"scores"`
	PlacementID       uuid.UUID            `json:"placement_id"`
	Kind              domain.PlacementKind `json:"kind"`
	StartedOn         jsonDay              `json:"started_on"`
	EndedOn           jsonDay              `json:"ended_on"`
	IncomeSource      domain.IncomeSource  `json:"income_source"`
	Reason            domain.ExitReason    `json:"reason"`
	Destination       domain.Destination   `json:"destination"`
}

// folded reports whether the fold reads events of type typ; the others
// (team, consents, goals, contacts, changed terms, erasure) change no fact
// a measure reads and are only counted.
func folded(typ string) bool {
	switch typ {
	case domain.TypeParticipantEnrolled, domain.TypeMeetingHeld, domain.TypeIndicatorScored,
		domain.TypePlacementStarted, domain.TypePlacementEnded, domain.TypeIncomeSourceChanged,
		domain.TypeParticipationPaused, domain.TypeParticipationResumed, domain.TypeParticipantExited:
		return true
	}
	return false
}

// Apply implements projections.Projection.
func (m *Model) Apply(ctx context.Context, ev eventstore.RecordedEvent) error {
	switch {
	case strings.HasPrefix(ev.Stream, domain.ParticipantStreamPrefix):
		return m.applyParticipant(ctx, ev)
	case strings.HasPrefix(ev.Stream, domain.ProgrammeStreamPrefix):
		return m.applyProgramme(ev)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advance(ev)
	return nil
}

// advance counts ev as applied.
func (m *Model) advance(ev eventstore.RecordedEvent) {
	m.position = ev.Position
	m.events++
}

// applyProgramme keeps a programme's latest definition, as ReadLog does.
func (m *Model) applyProgramme(ev eventstore.RecordedEvent) error {
	r, err := decode(ev)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if def, ok := r.Event.(domain.ProgrammeDefined); ok {
		m.programmes[def.Slug] = ProgrammeDefinition{EventID: r.ID, ProgrammeDefined: def}
	}
	m.advance(ev)
	return nil
}

func (m *Model) applyParticipant(ctx context.Context, ev eventstore.RecordedEvent) error {
	id, err := domain.ParseParticipantStream(ev.Stream)
	if err != nil {
		return fmt.Errorf("event %s: %w", ev.ID, err)
	}
	if domain.StreamKindOf(ev.Type) != domain.StreamParticipant {
		return fmt.Errorf("event %s in %s: %q is not a participant event", ev.ID, ev.Stream, ev.Type)
	}
	var (
		refolded *domain.Participant
		x        payload
	)
	switch {
	case ev.Type == domain.TypeEntryCorrected || ev.Type == domain.TypeEntryVoided:
		h, err := projections.PublicHistory(ctx, m.streams, ev)
		if err != nil {
			return fmt.Errorf("recompute %s at %s: %w", ev.Stream, ev.ID, err)
		}
		p := domain.FoldParticipant(h)
		refolded = &p
	case folded(ev.Type):
		if err := jsonv2.Unmarshal(ev.Data, &x); err != nil {
			return fmt.Errorf("event %s (%s) in %s: decode: %w", ev.ID, ev.Type, ev.Stream, err)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	i, ok := m.index[id]
	if !ok {
		i = len(m.records)
		m.index[id] = i
		m.records, m.ids, m.inSlab = append(m.records, newRecord()), append(m.ids, id), append(m.inSlab, false)
		m.moved++ // a new record is not in the slab
	}
	r := m.records[i]
	was := &r[0]
	switch {
	case refolded != nil:
		fresh := m.recordOf(*refolded)
		copy(fresh[:headerWords], r[:headerWords])
		r = fresh
	case folded(ev.Type):
		m.fold(&r, ev.Type, &x)
	}
	r.setChain(r.chain().next(ev.ID))
	r[chainWords]++
	m.records[i] = r
	if m.inSlab[i] && &r[0] != was {
		m.inSlab[i], m.moved = false, m.moved+1
	}
	m.advance(ev)
	return nil
}

// fold applies one event's public members to r as domain's fold does
// (domain/fold_participant.go), leniently: what does not fit is left out.
func (m *Model) fold(r *record, typ string, x *payload) {
	n := r.episodeNumber()
	switch typ {
	case domain.TypeParticipantEnrolled:
		if x.Episode > 0 {
			n = int32(x.Episode)
		} else {
			n++
		}
		on, intake := day(x.EnrolledOn), m.code(string(x.Profile.IncomeSource))
		r.add(secEpisodes, n, on, 0, 0, m.code(x.Programme), m.code(x.Office), m.code(string(x.Profile.Gender)),
			m.code(string(x.Profile.RegionOfBirth)), intake, 0, 0)
		r.add(secIncomes, n, on, intake)
	case domain.TypeMeetingHeld:
		r.addMeeting(n, day(x.Date))
	case domain.TypeIndicatorScored:
		if indexScore(x.Timepoint, x.Instrument, x.InstrumentVersion) {
			r.add(secScores, scoreItem(n, day(x.Date), x.Timepoint, x.Scores)...)
		}
	case domain.TypePlacementStarted:
		if r.placement(x.PlacementID) == nil {
			r.add(secPlacements, placementItem(x.PlacementID, n, day(x.StartedOn), 0, m.code(string(x.Kind)))...)
		}
	case domain.TypePlacementEnded:
		if pl := r.placement(x.PlacementID); pl != nil && pl[plEnd] == 0 {
			pl[plEnd] = day(x.EndedOn)
		}
	case domain.TypeIncomeSourceChanged:
		r.add(secIncomes, n, day(x.Date), m.code(string(x.IncomeSource)))
	case domain.TypeParticipationPaused:
		if !r.paused() {
			r.add(secPauses, n, day(x.Date), 0)
		}
	case domain.TypeParticipationResumed:
		if r.paused() {
			r.last(secPauses)[paTo] = day(x.Date)
		}
	case domain.TypeParticipantExited:
		if ep := r.last(secEpisodes); ep != nil && ep[epExited] == 0 {
			if r.paused() {
				r.last(secPauses)[paTo] = day(x.Date)
			}
			ep[epExitOn], ep[epExited], ep[epReason], ep[epDest] = day(x.Date), 1, m.code(string(x.Reason)), m.code(string(x.Destination))
		}
	}
}

// recordOf is the record of a folded participant, without its header:
// what fold computes event by event, from the whole state at once.
func (m *Model) recordOf(p domain.Participant) record {
	r := newRecord()
	for _, ep := range p.Episodes {
		var exited, exitOn, reason, dest int32
		if ep.Exit != nil {
			exited, exitOn, reason, dest = 1, dayOf(ep.Exit.Date), m.code(string(ep.Exit.Reason)), m.code(string(ep.Exit.Destination))
		}
		r.add(secEpisodes, int32(ep.Number), dayOf(ep.EnrolledOn), exitOn, exited, m.code(ep.Programme), m.code(ep.Office),
			m.code(string(ep.Profile.Gender)), m.code(string(ep.Profile.RegionOfBirth)), m.code(string(ep.Profile.IncomeSource)), reason, dest)
	}
	for _, pl := range p.Placements {
		r.add(secPlacements, placementItem(pl.ID, int32(pl.Episode), dayOf(pl.StartedOn), dayOf(pl.EndedOn), m.code(string(pl.Kind)))...)
	}
	for _, s := range p.IncomeSources {
		r.add(secIncomes, int32(s.Episode), dayOf(s.From), m.code(string(s.Source)))
	}
	for _, ps := range p.Pauses {
		r.add(secPauses, int32(ps.Episode), dayOf(ps.From), dayOf(ps.To))
	}
	for _, s := range p.Scores {
		if indexScore(s.Timepoint, s.Instrument, s.InstrumentVersion) {
			r.add(secScores, scoreItem(int32(s.Episode), dayOf(s.Date), s.Timepoint, s.Scores)...)
		}
	}
	for _, mt := range p.Meetings {
		r.addMeeting(int32(mt.Episode), dayOf(mt.Date))
	}
	return r
}

// indexScore reports whether a score is one the measures read: a baseline
// or end score of the indicator index as this version defines it.
func indexScore(tp domain.Timepoint, instrument string, version int) bool {
	return instrument == domain.InstrumentIndicatorIndex && version == domain.IndicatorIndexVersion &&
		(tp == domain.TimepointBaseline || tp == domain.TimepointEnd)
}

func scoreItem(episode int32, on day, tp domain.Timepoint, s domain.Scores) []int32 {
	var end int32
	if tp == domain.TimepointEnd {
		end = 1
	}
	w := scoreWordsOf(s)
	return append([]int32{episode, on, end}, w[:]...)
}

func placementItem(id uuid.UUID, episode int32, start, end day, kind int32) []int32 {
	w := idWords(id)
	return []int32{w[0], w[1], w[2], w[3], episode, start, end, kind}
}

// code is the code of s in the table of texts.
func (m *Model) code(s string) int32 {
	if c, ok := m.codes[s]; ok {
		return c
	}
	c := int32(len(m.texts))
	m.texts = append(m.texts, s)
	m.codes[s] = c
	return c
}

// Report computes req from the model, at the position it has reached. A
// req whose known_at lies before that position, or is a time, is
// ErrPastKnownAt: Compute recomputes it from the log. Other errors match
// ErrInvalidRequest.
func (m *Model) Report(req Request) (Report, error) {
	req, err := req.checked()
	if err != nil {
		return Report{}, err
	}
	unlock := m.readSorted()
	defer unlock()
	if !req.KnownAt.Time.IsZero() || (req.KnownAt.Position != 0 && req.KnownAt.Position < m.position) {
		return Report{}, fmt.Errorf("%w (known_at %s, model at %d)", ErrPastKnownAt, req.KnownAt, m.position)
	}
	return m.report(req), nil
}

// readSorted read-locks m with its records in stream-name order, the order
// of a report, and most of them in the slab, and returns the unlock.
func (m *Model) readSorted() (unlock func()) {
	for {
		m.mu.RLock()
		if m.sorted == len(m.records) && m.moved <= len(m.records)/8 {
			return m.mu.RUnlock
		}
		m.mu.RUnlock()
		m.mu.Lock()
		m.sortRecords()
		if m.moved > len(m.records)/8 {
			m.compact()
		}
		m.mu.Unlock()
	}
}

// compact copies the records, in report order, into one allocation (the
// slab), so that a report reads them in the order they lie in memory
// rather than jumping from one allocation to the next. A record that then
// grows moves out of the slab, and a new one is not in it; readSorted
// compacts again once an eighth of them are out.
func (m *Model) compact() {
	total := 0
	for _, r := range m.records {
		total += len(r)
	}
	slab := make([]int32, total)
	for i, r := range m.records {
		n := copy(slab, r)
		m.records[i], slab = slab[:n:n], slab[n:]
		m.inSlab[i] = true
	}
	m.moved = 0
}

// sortRecords puts the streams that came since the last report into
// stream-name order among the others.
func (m *Model) sortRecords() {
	if m.sorted == len(m.records) {
		return
	}
	order := make([]int, len(m.ids))
	for i := range order {
		order[i] = i
	}
	byName := func(a, b int) int { return bytes.Compare(m.ids[a][:], m.ids[b][:]) }
	done, added := order[:m.sorted], slices.Clone(order[m.sorted:])
	slices.SortFunc(added, byName)
	merged := make([]int, 0, len(order))
	for len(done) > 0 && len(added) > 0 {
		if byName(done[0], added[0]) <= 0 {
			merged, done = append(merged, done[0]), done[1:]
		} else {
			merged, added = append(merged, added[0]), added[1:]
		}
	}
	merged = append(append(merged, done...), added...)
	records, ids, inSlab := make([]record, len(merged)), make([]uuid.UUID, len(merged)), make([]bool, len(merged))
	for i, j := range merged {
		records[i], ids[i], inSlab[i] = m.records[j], m.ids[j], m.inSlab[j]
		m.index[ids[i]] = i
	}
	m.records, m.ids, m.inSlab, m.sorted = records, ids, inSlab, len(records)
}

// report computes req, checked, on the model as it stands; the caller
// holds the read lock and has the records sorted.
func (m *Model) report(req Request) Report {
	asOf := dayOf(req.AsOf)
	cohort := req.Cohort.filter()
	var (
		targets []domain.Target
		used    usedDigest
	)
	if def, ok := m.programmes[req.Cohort.Programme]; ok && req.Cohort.Programme != "" {
		targets = def.Targets
		used.addEvent(def.EventID)
	}
	// The records are read in runs side by side, one per core up to
	// maxScanners; the runs' figures are put together in report order.
	runs := min(m.scanners, 1+len(m.records)/m.scanRun)
	parts := make([]scanned, runs)
	var wg sync.WaitGroup
	for i := range runs {
		from, to := len(m.records)*i/runs, len(m.records)*(i+1)/runs
		wg.Go(func() { parts[i] = m.scan(m.records[from:to], asOf, cohort) })
	}
	wg.Wait()
	c := parts[0].measuring
	for i, p := range parts {
		if i > 0 {
			c.merge(p.measuring)
		}
		used.addChains(p.chains, p.events)
	}
	return Report{
		DefinitionsVersion: DefinitionsVersion,
		Cohort:             req.Cohort,
		AsOf:               req.AsOf,
		KnownAt:            req.KnownAt.String(),
		LogPosition:        m.position,
		EventsRead:         m.events,
		EventsUsed:         used.events,
		EventsDigest:       used.sum(),
		K:                  req.K,
		Measures:           c.measures(targets, req.K),
	}
}

// A report reads the records in runs of at least minScanRun (fewer do not
// pay for a goroutine), in at most maxScanners goroutines.
const (
	minScanRun  = 8192
	maxScanners = 8
)

// scanned is what a run of records gives a report: the measures' figures
// of the episodes in the cohort, and the chains and number of events of
// the streams that have one, in order.
type scanned struct {
	*measuring
	chains []byte
	events int
}

// scan reads a run of records for a report as of asOf over cohort.
func (m *Model) scan(records []record, asOf day, cohort cohortFilter) scanned {
	out := scanned{measuring: newMeasuring(asOf, len(records))}
	var (
		f  facts
		ar arena
	)
	t := m.texts
	for _, r := range records {
		v := r.view()
		in := false
		for e := v.episodes; len(e) > 0; e = e[episodeWords:] {
			if e[epEnrolled] > asOf || !cohort.includes(t[e[epProgramme]], t[e[epOffice]], e[epEnrolled],
				domain.Gender(t[e[epGender]]), domain.RegionOfBirth(t[e[epRegion]]), domain.IncomeSource(t[e[epIntake]])) {
				continue
			}
			m.factsOf(&f, v, e[:episodeWords], asOf, &ar)
			out.add(&f)
			in = true
		}
		if in {
			c := r.chain()
			out.chains = append(out.chains, c[:]...)
			out.events += r.events()
		}
	}
	return out
}

// arena holds the spans and income sources of the facts of one episode
// at a time, so that a report does not allocate them for every episode.
type arena struct {
	spans   []span
	incomes []incomeFrom
}

// factsOf sets f to the facts of episode e of a record as of asOf, as
// EpisodesOf builds its Episode: nothing dated after asOf, an exit after
// it leaves the episode open, a placement or pause ending after it is
// open. f holds ar's memory until the next call.
func (m *Model) factsOf(f *facts, v view, e record, asOf day, ar *arena) {
	t, n := m.texts, e[epNumber]
	ar.spans, ar.incomes = ar.spans[:0], ar.incomes[:0]
	*f = facts{enrolledOn: e[epEnrolled], intake: domain.IncomeSource(t[e[epIntake]])}
	if e[epExited] == 1 && e[epExitOn] <= asOf {
		f.exited, f.exitOn = true, e[epExitOn]
		f.reason, f.dest = domain.ExitReason(t[e[epReason]]), domain.Destination(t[e[epDest]])
	}
	start := len(ar.spans)
	for pl := v.placements; len(pl) > 0; pl = pl[placementWords:] {
		if pl[plEpisode] != n || pl[plStart] > asOf {
			continue
		}
		s := span{kind: domain.PlacementKind(t[pl[plKind]]), start: pl[plStart]}
		if pl[plEnd] != 0 && pl[plEnd] <= asOf {
			s.end = pl[plEnd]
		}
		ar.spans = append(ar.spans, s)
	}
	f.placements = ar.spans[start:len(ar.spans):len(ar.spans)]
	start = len(ar.incomes)
	for in := v.incomes; len(in) > 0; in = in[incomeWords:] {
		if in[inEpisode] == n && in[inFrom] <= asOf {
			ar.incomes = append(ar.incomes, incomeFrom{from: in[inFrom], source: domain.IncomeSource(t[in[inSource]])})
		}
	}
	f.incomes = ar.incomes[start:len(ar.incomes):len(ar.incomes)]
	start = len(ar.spans)
	for pa := v.pauses; len(pa) > 0; pa = pa[pauseWords:] {
		if pa[paEpisode] != n || pa[paFrom] > asOf {
			continue
		}
		s := span{start: pa[paFrom]}
		if pa[paTo] != 0 && pa[paTo] <= asOf {
			s.end = pa[paTo]
		}
		ar.spans = append(ar.spans, s)
	}
	f.pauses = ar.spans[start:len(ar.spans):len(ar.spans)]
	f.paused = !f.exited && len(f.pauses) > 0 && f.pauses[len(f.pauses)-1].end == 0
	days := v.meetings(n)
	k, _ := slices.BinarySearch(days, asOf+1)
	f.meetings = days[:k:k]
	var endOn day
	for sc := v.scores; len(sc) > 0; sc = sc[scoreWords:] {
		if sc[scEpisode] != n || sc[scOn] > asOf {
			continue
		}
		switch {
		case sc[scEnd] == 0:
			f.baseline = sc[scScores:scoreWords:scoreWords]
		case f.end == nil || sc[scOn] >= endOn:
			f.end, endOn = sc[scScores:scoreWords:scoreWords], sc[scOn]
		}
	}
	f.settle()
}

// replay applies the log up to known to m, as ReadLog reads it.
func (m *Model) replay(ctx context.Context, log LogReader, known audit.KnownAt) error {
	var from uint64
	for {
		page, err := log.ReadAll(ctx, eventstore.ReadAllOptions{From: from, Limit: pageSize})
		if err != nil {
			return fmt.Errorf("statistics: read the log after position %d: %w", from, err)
		}
		for _, ev := range page {
			if known.Position != 0 && ev.Position > known.Position {
				return nil
			}
			if !known.Time.IsZero() {
				meta, err := domain.DecodeMetadata(ev.Metadata)
				if err != nil {
					return fmt.Errorf("statistics: event at position %d: %w", ev.Position, err)
				}
				if meta.RecordedAt.After(known.Time) {
					return nil
				}
			}
			if err := m.Apply(ctx, ev); err != nil {
				return fmt.Errorf("statistics: %w", err)
			}
			from = ev.Position
		}
		if len(page) < pageSize {
			return nil
		}
	}
}

// snapshotHeader leads the snapshot body; batches of streams follow.
type snapshotHeader struct {
	Position   uint64
	Events     int
	Streams    int
	Texts      []string
	Programmes map[string]ProgrammeDefinition
}

// snapshotBatch is some participants' ids and records.
type snapshotBatch struct {
	IDs     []uuid.UUID
	Records []record
}

// Snapshot implements projections.Projection: the records, gob-encoded.
// They hold no personal data.
func (m *Model) Snapshot(w io.Writer) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	enc := gob.NewEncoder(w)
	h := snapshotHeader{Position: m.position, Events: m.events, Streams: len(m.records), Texts: m.texts, Programmes: m.programmes}
	if err := enc.Encode(h); err != nil {
		return fmt.Errorf("outcomes snapshot: %w", err)
	}
	// In batches, so that neither the encoder nor the decoder holds every
	// record twice.
	const batch = 4096
	for i := 0; i < len(m.records); i += batch {
		j := min(i+batch, len(m.records))
		if err := enc.Encode(snapshotBatch{IDs: m.ids[i:j], Records: m.records[i:j]}); err != nil {
			return fmt.Errorf("outcomes snapshot: %w", err)
		}
	}
	return nil
}

// Restore implements projections.Projection.
func (m *Model) Restore(r io.Reader) error {
	m.Reset()
	m.mu.Lock()
	defer m.mu.Unlock()
	dec := gob.NewDecoder(r)
	var h snapshotHeader
	if err := dec.Decode(&h); err != nil {
		return fmt.Errorf("outcomes restore: %w", err)
	}
	if len(h.Texts) == 0 || h.Texts[0] != "" {
		return errors.New("outcomes restore: the table of texts does not start with the empty text")
	}
	m.texts = h.Texts
	for i, s := range h.Texts {
		m.codes[s] = int32(i)
	}
	if len(m.codes) != len(m.texts) {
		return errors.New("outcomes restore: the table of texts repeats a text")
	}
	m.records, m.ids = make([]record, 0, h.Streams), make([]uuid.UUID, 0, h.Streams)
	for len(m.records) < h.Streams {
		var b snapshotBatch
		if err := dec.Decode(&b); err != nil {
			return fmt.Errorf("outcomes restore: after %d of %d streams: %w", len(m.records), h.Streams, err)
		}
		if len(b.IDs) != len(b.Records) {
			return fmt.Errorf("outcomes restore: a batch of %d ids and %d records", len(b.IDs), len(b.Records))
		}
		for i, r := range b.Records {
			if !r.wellFormed(len(m.texts)) {
				return fmt.Errorf("outcomes restore: the record of stream %d is damaged", len(m.records))
			}
			if _, dup := m.index[b.IDs[i]]; dup {
				return fmt.Errorf("outcomes restore: stream %d is there twice", len(m.records))
			}
			m.index[b.IDs[i]] = len(m.records)
			m.records, m.ids, m.inSlab = append(m.records, r), append(m.ids, b.IDs[i]), append(m.inSlab, false)
		}
	}
	if h.Programmes != nil {
		m.programmes = h.Programmes
	}
	m.position, m.events = h.Position, h.Events
	m.moved = len(m.records) // none is in a slab yet
	return nil
}
