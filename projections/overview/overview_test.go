package overview

import (
	"bytes"
	"context"
	"io"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
)

// Fixtures are synthetic: "Test Person", synthetic national ids, made-up
// user ids.

func d(t testing.TB, s string) domain.Date {
	t.Helper()
	v, err := domain.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// log is an in-memory event log of participant streams, written as the
// store holds them (personal members in clear, which the model strips
// exactly as it strips sealed ones).
type log struct {
	t       testing.TB
	streams map[string][]eventstore.RecordedEvent
	all     []eventstore.RecordedEvent
	history map[uuid.UUID][]domain.Recorded
}

func newLog(t testing.TB) *log {
	return &log{t: t, streams: map[string][]eventstore.RecordedEvent{}, history: map[uuid.UUID][]domain.Recorded{}}
}

func (l *log) ReadStream(_ context.Context, stream string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	evs := l.streams[stream]
	if opts.Limit > 0 && opts.Limit < len(evs) {
		evs = evs[:opts.Limit]
	}
	return evs, nil
}

// append records events of participant id and returns their ids.
func (l *log) append(id uuid.UUID, events ...domain.Event) []uuid.UUID {
	l.t.Helper()
	stream := domain.ParticipantStream(id)
	var ids []uuid.UUID
	for _, e := range events {
		typ, data, err := domain.EncodeEvent(e)
		if err != nil {
			l.t.Fatal(err)
		}
		ev := eventstore.RecordedEvent{ID: uuid.New(), Stream: stream, Revision: uint64(len(l.streams[stream])),
			Position: uint64(len(l.all) + 1), Type: typ, Data: data, Recorded: time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC)}
		l.streams[stream] = append(l.streams[stream], ev)
		l.all = append(l.all, ev)
		l.history[id] = append(l.history[id], domain.Recorded{ID: ev.ID, Stream: stream, Revision: ev.Revision, Position: ev.Position, Event: e})
		ids = append(ids, ev.ID)
	}
	return ids
}

// public is the fold of a history with every personal section taken out,
// which is what the model must hold.
func public(p domain.Participant) domain.Participant {
	p.Personal = nil
	p.Episodes = clone(p.Episodes, func(e *domain.Episode) {
		if e.Exit != nil {
			x := *e.Exit
			x.Personal = nil
			e.Exit = &x
		}
	})
	p.Goals = clone(p.Goals, func(g *domain.Goal) { g.Personal, g.ClosingNote = nil, nil })
	p.Meetings = clone(p.Meetings, func(m *domain.Meeting) { m.Personal = nil })
	p.Contacts = clone(p.Contacts, func(c *domain.Contact) { c.Personal = nil })
	p.Placements = clone(p.Placements, func(pl *domain.Placement) { pl.Personal = nil })
	p.Pauses = clone(p.Pauses, func(pa *domain.Pause) { pa.Personal = nil })
	// An emptied team or consent map and none at all are the same state.
	if len(p.Team) == 0 {
		p.Team = nil
	}
	if len(p.Consents) == 0 {
		p.Consents = nil
	}
	return p
}

func clone[T any](xs []T, edit func(*T)) []T {
	if xs == nil {
		return nil
	}
	out := make([]T, len(xs))
	copy(out, xs)
	for i := range out {
		edit(&out[i])
	}
	return out
}

// Histories of varied shape. Each returns the participant's id.
type history func(t testing.TB, l *log) uuid.UUID

func enrolment(t testing.TB, office, on string, protected bool) domain.ParticipantEnrolled {
	years := 4
	nid, err := domain.SyntheticNationalID(d(t, "1988-02-03"), 123)
	if err != nil {
		t.Fatal(err)
	}
	return domain.ParticipantEnrolled{Episode: 1, Programme: "hope-bergen", Office: office, EnrolledOn: d(t, on),
		ReferralSource: domain.ReferralWelfareOffice, AddressProtection: protected,
		Profile: domain.Profile{BirthYear: 1988, Gender: domain.GenderFemale, RegionOfBirth: domain.RegionAfrica, YearsInNorway: &years,
			IncomeSource: domain.IncomeSocialAssistance, ChildrenToProvideFor: 1, NorwegianLevel: domain.NorwegianA2, EducationLevel: domain.EducationPrimary},
		Personal: &domain.EnrolmentPersonal{Name: "Test Person", NationalID: nid, Phone: "+47 400 00 000"}}
}

func note() *domain.NotePersonal { return &domain.NotePersonal{Note: "Test note"} }

func meeting(t testing.TB, on, next string) domain.MeetingHeld {
	m := domain.MeetingHeld{Date: d(t, on), Kind: domain.MeetingGuidance, Personal: &domain.MeetingPersonal{Minutes: "Test minutes"}}
	if next != "" {
		m.NextMeetingOn = d(t, next)
	}
	return m
}

func score(t testing.TB, on string, tp domain.Timepoint, v int) domain.IndicatorScored {
	return domain.IndicatorScored{Date: d(t, on), Timepoint: tp, Instrument: domain.InstrumentIndicatorIndex,
		InstrumentVersion: domain.IndicatorIndexVersion, Scores: domain.Scores{Hope: v, WellBeing: v + 1, Network: v, WorkAttachment: v - 1}}
}

var employer = uuid.MustParse("c0000000-0000-4000-8000-000000000001")

func histories() map[string]history {
	return map[string]history{
		"a full episode": func(t testing.TB, l *log) uuid.UUID {
			id, goal, sub, job := uuid.New(), uuid.New(), uuid.New(), uuid.New()
			l.append(id, enrolment(t, "bergen", "2026-01-05", false),
				domain.CaseworkerAssigned{UserID: "u-js", Role: domain.RoleJobSpecialist, Date: d(t, "2026-01-05")},
				domain.CaseworkerAssigned{UserID: "u-sw", Role: domain.RoleSocialWorker, Date: d(t, "2026-01-05")},
				domain.ConsentGiven{Scope: domain.ConsentProcessing, Date: d(t, "2026-01-05")},
				domain.ConsentGiven{Scope: domain.ConsentEmployerDisclosure, Date: d(t, "2026-01-06")},
				domain.ConsentGiven{Scope: domain.ConsentEvaluation, Date: d(t, "2026-01-06")},
				domain.ConsentWithdrawn{Scope: domain.ConsentEvaluation, Date: d(t, "2026-02-01")},
				domain.GoalSet{GoalID: goal, Area: domain.AreaWork, Date: d(t, "2026-01-10"), TargetDate: d(t, "2026-12-31"), Personal: &domain.GoalPersonal{Title: "Test goal"}},
				domain.GoalSet{GoalID: sub, ParentGoalID: goal, Area: domain.AreaLanguage, Date: d(t, "2026-01-10"), Personal: &domain.GoalPersonal{Title: "Test sub-goal"}},
				score(t, "2026-01-12", domain.TimepointBaseline, 3),
				meeting(t, "2026-01-12", "2026-01-19"), meeting(t, "2026-01-19", "2026-01-26"), meeting(t, "2026-01-26", ""),
				domain.EmployerContacted{EmployerID: employer, Date: d(t, "2026-02-02"), Purpose: domain.PurposePresentCandidate, Personal: note()},
				domain.PlacementStarted{PlacementID: job, Kind: domain.PlacementWorkPractice, EmployerID: employer, StartedOn: d(t, "2026-02-09"),
					HoursPercentage: 50, Contract: domain.ContractTemporary, PlannedEnd: d(t, "2026-05-08"), Personal: &domain.PlacementPersonal{Title: "Test title"}},
				domain.PlacementChanged{PlacementID: job, Date: d(t, "2026-03-02"), HoursPercentage: 80, Contract: domain.ContractTemporary, PlannedEnd: d(t, "2026-05-29")},
				domain.GoalClosed{GoalID: sub, Outcome: domain.OutcomeAchieved, Date: d(t, "2026-03-10"), Personal: note()},
				domain.IncomeSourceChanged{Date: d(t, "2026-03-01"), IncomeSource: domain.IncomeWork},
				score(t, "2026-04-12", domain.TimepointMidway, 6),
				domain.ParticipationPaused{Date: d(t, "2026-04-13"), Reason: domain.PauseHealth, Personal: note()},
				domain.ParticipationResumed{Date: d(t, "2026-04-20")},
				domain.CaseworkerUnassigned{UserID: "u-sw", Role: domain.RoleSocialWorker, Date: d(t, "2026-04-21")},
			)
			return id
		},
		"corrections and voids": func(t testing.TB, l *log) uuid.UUID {
			id, job := uuid.New(), uuid.New()
			ids := l.append(id, enrolment(t, "bergen", "2026-01-05", false),
				meeting(t, "2026-01-12", ""), meeting(t, "2026-01-19", ""),
				score(t, "2026-01-12", domain.TimepointBaseline, 3),
				domain.PlacementStarted{PlacementID: job, Kind: domain.PlacementOrdinaryJob, StartedOn: d(t, "2026-02-09"), HoursPercentage: 100},
				domain.ParticipantExited{Date: d(t, "2026-03-01"), Reason: domain.ExitCompleted, Destination: domain.DestinationOrdinaryJob, Personal: note()})
			moved := enrolment(t, "oslo", "2026-01-05", true)
			moved.Personal.Phone = ""
			withEnd := domain.PlacementStarted{PlacementID: job, Kind: domain.PlacementOrdinaryJob, StartedOn: d(t, "2026-02-09"), HoursPercentage: 100, PlannedEnd: d(t, "2026-08-31")}
			l.append(id,
				domain.EntryCorrected{EntryID: ids[1], Reason: domain.CorrectionWrongDate, Replacement: meeting(t, "2026-01-13", "2026-01-20")},
				domain.EntryCorrected{EntryID: ids[3], Reason: domain.CorrectionTypingError, Replacement: score(t, "2026-01-12", domain.TimepointBaseline, 5)},
				domain.EntryVoided{EntryID: ids[2], EntryType: domain.TypeMeetingHeld, Reason: domain.VoidDuplicate},
				domain.EntryCorrected{EntryID: ids[0], Reason: domain.CorrectionWrongValue, Replacement: moved},
				domain.EntryVoided{EntryID: ids[5], EntryType: domain.TypeParticipantExited, Reason: domain.VoidRecordedInError},
				domain.EntryCorrected{EntryID: ids[4], Reason: domain.CorrectionWrongValue, Replacement: withEnd},
				meeting(t, "2026-03-05", ""))
			return id
		},
		"exit while paused, re-enrolment, erasure": func(t testing.TB, l *log) uuid.UUID {
			id, pl := uuid.New(), uuid.New()
			again := enrolment(t, "trondheim", "2026-03-01", false)
			again.Episode = 2
			l.append(id, enrolment(t, "bergen", "2025-06-02", false),
				domain.CaseworkerAssigned{UserID: "u-js", Role: domain.RoleJobSpecialist, Date: d(t, "2025-06-02")},
				domain.PlacementStarted{PlacementID: pl, Kind: domain.PlacementEducation, StartedOn: d(t, "2025-08-15"), HoursPercentage: 40},
				domain.ParticipationPaused{Date: d(t, "2025-10-01"), Reason: domain.PauseFamily},
				domain.ParticipantExited{Date: d(t, "2025-11-01"), Reason: domain.ExitMoved, Destination: domain.DestinationUnknown,
					OpenPlacements: []domain.OpenPlacement{{PlacementID: pl, Kind: domain.PlacementEducation}}},
				again,
				domain.IncomeSourceChanged{Date: d(t, "2026-03-15"), IncomeSource: domain.IncomeQualificationBenefit},
				meeting(t, "2026-03-16", ""),
				domain.GoalSet{GoalID: uuid.New(), Area: domain.AreaHealth, Date: d(t, "2026-03-16"), Personal: &domain.GoalPersonal{Title: "Test goal"}},
				domain.PersonalDataErased{Date: d(t, "2026-04-01"), LegalBasis: domain.ErasureObjection, RequestedBy: domain.RequesterParticipant},
				score(t, "2026-04-02", domain.TimepointBaseline, 4))
			return id
		},
		"what the fold leaves out": func(t testing.TB, l *log) uuid.UUID {
			id := uuid.New()
			l.append(id,
				meeting(t, "2026-01-02", ""), // before any enrolment
				enrolment(t, "bergen", "2026-01-05", false),
				domain.PlacementChanged{PlacementID: uuid.New(), Date: d(t, "2026-01-06"), HoursPercentage: 10},               // unknown placement
				domain.GoalClosed{GoalID: uuid.New(), Outcome: domain.OutcomeAbandoned, Date: d(t, "2026-01-06")},             // unknown goal
				domain.GoalSet{GoalID: uuid.New(), ParentGoalID: uuid.New(), Area: domain.AreaWork, Date: d(t, "2026-01-07")}, // parent not in the plan
				domain.EntryVoided{EntryID: uuid.New(), EntryType: domain.TypeMeetingHeld})                                    // unknown entry
			return id
		},
	}
}

// TestModelIsTheFold applies each history event by event and compares the
// model's participant after every event, as Get gives it and as its row
// packs it, with the fold of the history so far; halfway, the model is
// snapshotted and restored into a new one.
func TestModelIsTheFold(t *testing.T) {
	for name, h := range histories() {
		t.Run(name, func(t *testing.T) {
			l := newLog(t)
			id := h(t, l)
			other := histories()["a full episode"](t, l) // interleaved with another participant
			m := New(l)
			for i, ev := range l.all {
				if err := m.Apply(context.Background(), ev); err != nil {
					t.Fatalf("apply %s: %v", ev.Type, err)
				}
				if i == len(l.all)/2 {
					m = restored(t, m, l)
				}
				pid, _ := domain.ParseParticipantStream(ev.Stream)
				folded := l.history[pid][:ev.Revision+1]
				want := public(domain.FoldParticipant(folded))
				got, ok, err := m.Get(pid, folded)
				if err != nil || !ok {
					t.Fatalf("after %s: Get = %v, %v", ev.Type, ok, err)
				}
				if !reflect.DeepEqual(got.Participant, want) {
					t.Fatalf("after event %d (%s):\nmodel: %+v\n fold: %+v", ev.Revision, ev.Type, got.Participant, want)
				}
				if got.Revision != ev.Revision || got.Position != ev.Position {
					t.Fatalf("after %s: revision %d at %d, want %d at %d", ev.Type, got.Revision, got.Position, ev.Revision, ev.Position)
				}
				r, err := decode(m.tab, packed(m, pid), streamIDs(folded))
				if err != nil {
					t.Fatalf("after %s: the row does not decode: %v", ev.Type, err)
				}
				if !reflect.DeepEqual(r.P, want) || r.Revision != ev.Revision || r.Position != ev.Position {
					t.Fatalf("after event %d (%s), the row holds revision %d at %d:\n  row: %+v\n fold: %+v", ev.Revision, ev.Type, r.Revision, r.Position, r.P, want)
				}
				// Without the events that recorded the items, the model
				// cannot give their ids: it answers that it holds nothing,
				// and the caller folds.
				if _, ok, err := m.Get(pid, folded[:ev.Revision]); err != nil || ok == recorded(want, ev.ID) {
					t.Fatalf("after %s, without it: Get = %v, %v", ev.Type, ok, err)
				}
				var items int
				eventIDs(&want, func(*uuid.UUID) { items++ })
				if _, ok, err := m.Get(pid, nil); err != nil || ok != (items == 0) {
					t.Fatalf("after %s, with %d items and no history: Get = %v, %v", ev.Type, items, ok, err)
				}
			}
			if m.Len() != 2 || m.Position() != l.all[len(l.all)-1].Position {
				t.Errorf("model holds %d participants at %d", m.Len(), m.Position())
			}
			for _, pid := range []uuid.UUID{id, other} {
				if _, ok, _ := m.Get(pid, l.history[pid]); !ok {
					t.Errorf("participant %s is missing", pid)
				}
			}
			if _, ok, _ := m.Get(uuid.New(), l.history[id]); ok {
				t.Error("a participant never seen was found")
			}
		})
	}
}

// recorded reports whether an item of p was recorded by event id.
func recorded(p domain.Participant, id uuid.UUID) bool {
	var found bool
	eventIDs(&p, func(u *uuid.UUID) { found = found || *u == id })
	return found
}

// packed is participant id's row as the model packs it.
func packed(m *Model, id uuid.UUID) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if h, ok := m.hot.rows[id]; ok {
		return encode(m.tab, row{Revision: h.revision, Position: h.position, P: *h.p}, 0)
	}
	return m.rows[id]
}

// A request's overview is its own: the events applied after it do not
// change it. Requests read while events are applied (for -race).
func TestGetWhileApplying(t *testing.T) {
	l := newLog(t)
	id := histories()["a full episode"](t, l)
	m := New(l)
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, _, err := m.Get(id, l.history[id]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var got []Overview
	for _, ev := range l.all {
		if err := m.Apply(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		ov, ok, err := m.Get(id, l.history[id])
		if err != nil || !ok {
			t.Fatalf("after %s: Get = %v, %v", ev.Type, ok, err)
		}
		got = append(got, ov)
	}
	close(stop)
	readers.Wait()
	for i, ov := range got {
		if want := public(domain.FoldParticipant(l.history[id][:i+1])); !reflect.DeepEqual(ov.Participant, want) {
			t.Fatalf("the overview after event %d changed:\n  now: %+v\n fold: %+v", i, ov.Participant, want)
		}
	}
}

// Many participants written in turn: more than the model keeps unpacked,
// so that their states are packed, dropped and unpacked again between
// their events.
func TestModelOfManyParticipantsInTurn(t *testing.T) {
	l := newLog(t)
	ids := make([]uuid.UUID, 3*hotSize)
	for i := range ids {
		ids[i] = uuid.New()
		l.append(ids[i], enrolment(t, "bergen", "2026-01-05", false))
	}
	for week := range 4 {
		for i, id := range ids {
			on := d(t, "2026-01-05").AddDays(7*week + i%7)
			l.append(id, meeting(t, on.String(), on.AddDays(7).String()))
		}
	}
	m := New(l)
	for i, ev := range l.all {
		if err := m.Apply(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		if i == 2*len(ids) {
			// A snapshot empties what is kept unpacked.
			if err := m.Snapshot(io.Discard); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, id := range ids {
		got, _, err := m.Get(id, l.history[id])
		if want := public(domain.FoldParticipant(l.history[id])); err != nil || !reflect.DeepEqual(got.Participant, want) {
			t.Fatalf("participant %s: %v\nmodel: %+v\n fold: %+v", id, err, got.Participant, want)
		}
	}
}

// restored is a new model restored from m's snapshot.
func restored(t *testing.T, m *Model, l *log) *Model {
	t.Helper()
	var buf bytes.Buffer
	if err := m.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Test Person", "Test minutes", "Test note", "Test goal", "Test title"} {
		if bytes.Contains(buf.Bytes(), []byte(s)) {
			t.Fatalf("the snapshot holds personal data (%q)", s)
		}
	}
	for _, ev := range l.all {
		if bytes.Contains(buf.Bytes(), ev.ID[:]) {
			t.Fatalf("the snapshot holds the id of event %d of %s, not its revision", ev.Revision, ev.Stream)
		}
	}
	n := New(l)
	if err := n.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	if n.Len() != m.Len() || n.Position() != m.Position() {
		t.Fatalf("restored %d participants at %d, want %d at %d", n.Len(), n.Position(), m.Len(), m.Position())
	}
	return n
}

func TestRestoreRefusesADamagedSnapshot(t *testing.T) {
	l := newLog(t)
	histories()["a full episode"](t, l)
	m := New(l)
	for _, ev := range l.all {
		if err := m.Apply(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := m.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	whole := buf.Bytes()
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"cut short", whole[:len(whole)-3]},
		{"a string longer than the limit", []byte{0x00, 0x01, 0xff, 0xff, 0xff, 0x7f}},
		{"a table without the empty string first", []byte{0x00, 0x01, 0x01, 'x', 0x00, 0x00}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := New(l).Restore(bytes.NewReader(tc.data)); err == nil {
				t.Fatal("restored from a damaged snapshot")
			}
		})
	}
	t.Run("a row that does not decode is an error, not a panic", func(t *testing.T) {
		tab := newTable()
		for _, s := range []string{"", "\x05", "\x01\x01\x00\x00\x00\x09"} {
			if _, err := decode(tab, s, standIns); err == nil {
				t.Errorf("decode(%q) succeeded", s)
			}
		}
	})
}

// A participant of the demo data's shape: 30 meetings, 9 employer
// contacts, a few goals, a placement.
func demoShaped(t testing.TB) domain.Participant {
	l := newLog(t)
	id := histories()["a full episode"](t, l)
	for i := range 27 {
		l.append(id, meeting(t, d(t, "2026-01-05").AddDays(7*i).String(), d(t, "2026-01-05").AddDays(7*i+7).String()))
	}
	for i := range 8 {
		l.append(id, domain.EmployerContacted{EmployerID: uuid.New(), Date: d(t, "2026-02-02").AddDays(i), Purpose: domain.PurposeFollowUp})
	}
	p := public(domain.FoldParticipant(l.history[id]))
	withStandIns(&p, l.history[id]) // as Apply holds it
	return p
}

func BenchmarkEncode(b *testing.B) {
	p := demoShaped(b)
	tab := newTable()
	var s string
	for range b.N {
		s = encode(tab, row{P: p}, 0)
	}
	// After the loop: ResetTimer drops the metrics reported before it.
	b.ReportMetric(float64(len(s)), "bytes")
}

func BenchmarkDecode(b *testing.B) {
	tab := newTable()
	s := encode(tab, row{P: demoShaped(b)}, 0)
	b.ResetTimer()
	for range b.N {
		if _, err := decode(tab, s, standIns); err != nil {
			b.Fatal(err)
		}
	}
}
