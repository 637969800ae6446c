package caseload_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/projections"
	"github.com/caseledger/caseledger/projections/caseload"
)

func hasFlag(flags []caseload.Flag, f caseload.Flag) bool { return slices.Contains(flags, f) }

// Each flag on its boundary: the day before it is due, and the day it is.
func TestFlagsOnTheirBoundaryDays(t *testing.T) {
	f := newFixture(t)

	// No contact: last meeting 2026-04-01 → 13 days on 04-14, 14 on 04-15.
	contact := f.enrol(t, "oslo", "2026-03-02", false, "u-kari")
	contact.meeting(t, "2026-04-01", "")
	// Never met: counted from enrolment (2026-05-01).
	never := f.enrol(t, "oslo", "2026-05-01", false, "u-kari")
	// No baseline: enrolled 2026-05-01 → due 05-15.
	// Midway: baseline 2026-01-10 → due 90 days later, 2026-04-10.
	midway := f.enrol(t, "oslo", "2026-01-05", false, "u-kari")
	midway.score(t, "2026-01-10", domain.TimepointBaseline, 4)
	// End score missing after exit.
	exited := f.enrol(t, "oslo", "2026-01-05", false, "u-kari")
	exited.score(t, "2026-01-06", domain.TimepointBaseline, 4)
	exited.exit(t, "2026-03-01")
	// Processing consent.
	consented := f.enrol(t, "oslo", "2026-05-01", false, "u-kari")
	consented.consent(t, "2026-05-01", domain.ConsentProcessing)
	// Follow-up: a job started 2026-04-01, last meeting 2026-04-20 →
	// due 7 days later (04-27) while the job is under 8 weeks old (until
	// 05-26 inclusive; 05-27 is day 56).
	job := f.enrol(t, "oslo", "2026-03-02", false, "u-kari")
	job.job(t, "2026-04-01")
	job.meeting(t, "2026-04-20", "2026-05-04")
	// Placement ending: planned to end 2026-06-10 → raised from 14 days
	// before (05-27) to the day itself; 15 days before (05-26) and the
	// day after (06-11, passed without an end recorded) it is not.
	ending := f.enrol(t, "oslo", "2026-03-02", false, "u-kari")
	ending.practice(t, "2026-04-01", "2026-06-10")
	f.sync(t)

	cases := []struct {
		name     string
		p        participant
		flag     caseload.Flag
		off, on  string // the last day without the flag, the first with it
		stopsOff string // optional: the first day it is gone again
	}{
		{"no contact in 14 days", contact, caseload.FlagNoContact, "2026-04-14", "2026-04-15", ""},
		{"no contact since enrolment", never, caseload.FlagNoContact, "2026-05-14", "2026-05-15", ""},
		{"no baseline 14 days after enrolment", never, caseload.FlagNoBaseline, "2026-05-14", "2026-05-15", ""},
		{"midway due 90 days after baseline", midway, caseload.FlagMidwayDue, "2026-04-09", "2026-04-10", ""},
		{"follow-up due: 7 days without contact in a new job", job, caseload.FlagFollowUpDue, "2026-04-26", "2026-04-27", "2026-05-27"},
		{"next meeting overdue", job, caseload.FlagMeetingOverdue, "2026-05-04", "2026-05-05", ""},
		{"placement planned to end within 14 days", ending, caseload.FlagPlacementEnding, "2026-05-26", "2026-05-27", "2026-06-11"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := flagsOf(t, f.model, c.p.id, c.off); hasFlag(got, c.flag) {
				t.Errorf("on %s: flags %v, want no %s", c.off, got, c.flag)
			}
			if got := flagsOf(t, f.model, c.p.id, c.on); !hasFlag(got, c.flag) {
				t.Errorf("on %s: flags %v, want %s", c.on, got, c.flag)
			}
			if c.stopsOff != "" {
				if got := flagsOf(t, f.model, c.p.id, c.stopsOff); hasFlag(got, c.flag) {
					t.Errorf("on %s: flags %v, want no %s any more", c.stopsOff, got, c.flag)
				}
			}
		})
	}

	t.Run("end score missing after exit", func(t *testing.T) {
		if got := flagsOf(t, f.model, exited.id, "2026-03-01"); !hasFlag(got, caseload.FlagEndScoreMissing) {
			t.Errorf("flags %v, want %s", got, caseload.FlagEndScoreMissing)
		}
		scored := f.enrol(t, "oslo", "2026-01-05", false, "u-kari")
		scored.score(t, "2026-03-01", domain.TimepointEnd, 6)
		scored.exit(t, "2026-03-01")
		f.sync(t)
		if got := flagsOf(t, f.model, scored.id, "2026-03-01"); hasFlag(got, caseload.FlagEndScoreMissing) {
			t.Errorf("with an end score: flags %v", got)
		}
	})
	t.Run("processing consent", func(t *testing.T) {
		if got := flagsOf(t, f.model, never.id, "2026-05-01"); !hasFlag(got, caseload.FlagNoProcessingConsent) {
			t.Errorf("without consent: flags %v", got)
		}
		if got := flagsOf(t, f.model, consented.id, "2026-05-01"); hasFlag(got, caseload.FlagNoProcessingConsent) {
			t.Errorf("with consent: flags %v", got)
		}
	})
	t.Run("a meeting resets no-contact and the midway score clears midway", func(t *testing.T) {
		contact.meeting(t, "2026-05-10", "")
		midway.score(t, "2026-04-12", domain.TimepointMidway, 6)
		f.sync(t)
		if got := flagsOf(t, f.model, contact.id, "2026-05-15"); hasFlag(got, caseload.FlagNoContact) {
			t.Errorf("contact: flags %v", got)
		}
		if got := flagsOf(t, f.model, midway.id, "2026-05-15"); hasFlag(got, caseload.FlagMidwayDue) {
			t.Errorf("midway: flags %v", got)
		}
		row, _ := f.model.Get(midway.id, d(t, "2026-05-15"))
		if row.LatestScores == nil || row.LatestScores.ChangeSinceBaseline == nil || row.LatestScores.ChangeSinceBaseline.Hope != 2 {
			t.Errorf("latest scores %+v, want a change of 2 since baseline", row.LatestScores)
		}
	})
}

// The planned end is the one of the latest terms, of an open placement of
// an open episode; a correction or void that changes it is folded again.
func TestPlacementEndingFollowsThePlacement(t *testing.T) {
	f := newFixture(t)
	const on = "2026-06-01" // 9 days before the planned end of 2026-06-10
	changed := f.enrol(t, "oslo", "2026-03-02", false, "u-kari")
	id := changed.practice(t, "2026-04-01", "2026-06-10")
	do(t, changed, domain.ChangePlacement, domain.ChangePlacementCommand{PlacementID: id, Date: d(t, "2026-05-01"), HoursPercentage: 80})
	moved := f.enrol(t, "oslo", "2026-03-02", false, "u-kari")
	id = moved.practice(t, "2026-04-01", "2026-08-31")
	do(t, moved, domain.ChangePlacement, domain.ChangePlacementCommand{PlacementID: id, Date: d(t, "2026-05-01"), HoursPercentage: 80, PlannedEnd: d(t, "2026-06-10")})
	ended := f.enrol(t, "oslo", "2026-03-02", false, "u-kari")
	id = ended.practice(t, "2026-04-01", "2026-06-10")
	do(t, ended, domain.EndPlacement, domain.EndPlacementCommand{PlacementID: id, EndedOn: d(t, "2026-05-10"), Reason: domain.PlacementEndReasons()[0]})
	exited := f.enrol(t, "oslo", "2026-03-02", false, "u-kari")
	exited.practice(t, "2026-04-01", "2026-06-10")
	exited.exit(t, "2026-05-10")
	corrected := f.enrol(t, "oslo", "2026-03-02", false, "u-kari")
	start := corrected.practice(t, "2026-04-01", "2026-08-31")
	f.sync(t)
	h, _, err := f.svc.Load(context.Background(), domain.ParticipantStream(corrected.id))
	if err != nil {
		t.Fatal(err)
	}
	f.exec(t, corrected.id, func(_ []domain.Recorded, today domain.Date) ([]domain.Event, error) {
		return domain.CorrectEntry(h, domain.CorrectEntryCommand{EntryID: h[len(h)-1].ID, EntryType: domain.TypePlacementStarted,
			Reason: domain.CorrectionReasons()[0], Replacement: []byte(`{"placement_id":"` + start.String() +
				`","kind":"work_practice","started_on":"2026-04-01","hours_percentage":50,"planned_end":"2026-06-10"}`)}, today)
	})
	f.sync(t)
	for _, c := range []struct {
		name string
		p    participant
		want bool
	}{
		{"a change without a planned end clears it", changed, false},
		{"a change moves it closer", moved, true},
		{"an ended placement is not ending", ended, false},
		{"after exit nothing is ending", exited, false},
		{"a corrected start moves it closer", corrected, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := hasFlag(flagsOf(t, f.model, c.p.id, on), caseload.FlagPlacementEnding); got != c.want {
				t.Errorf("on %s: %s %v, want %v", on, caseload.FlagPlacementEnding, got, c.want)
			}
		})
	}
}

// FlagsOf, which the participant overview shows, is the list's flags of
// the same participant, day by day.
func TestFlagsOfIsTheRowsFlags(t *testing.T) {
	f := newFixture(t)
	var all []participant
	a := f.enrol(t, "oslo", "2026-01-05", false, "u-kari")
	a.score(t, "2026-01-10", domain.TimepointBaseline, 4)
	a.meeting(t, "2026-03-01", "2026-03-20")
	a.practice(t, "2026-03-02", "2026-04-15")
	b := f.enrol(t, "oslo", "2026-02-01", false, "u-kari")
	b.consent(t, "2026-02-01", domain.ConsentProcessing)
	b.job(t, "2026-03-10")
	b.exit(t, "2026-04-01")
	all = append(all, a, b, f.enrol(t, "oslo", "2026-03-20", false))
	f.sync(t)
	for _, p := range all {
		h, _, err := f.svc.Load(context.Background(), domain.ParticipantStream(p.id))
		if err != nil {
			t.Fatal(err)
		}
		state := domain.FoldParticipant(h)
		for day := d(t, "2026-01-01"); day.Before(d(t, "2026-06-01")); day = day.AddDays(3) {
			row, _ := f.model.Get(p.id, day)
			if got := caseload.FlagsOf(state, day); !slices.Equal(got, row.Flags) {
				t.Fatalf("on %s: FlagsOf %v, the row %v", day, got, row.Flags)
			}
		}
	}
	if got := caseload.FlagsOf(domain.Participant{}, d(t, "2026-05-15")); got == nil || len(got) != 0 {
		t.Errorf("never enrolled: flags %v, want none", got)
	}
}

func TestListScopeFiltersCountsAndSort(t *testing.T) {
	f := newFixture(t)
	a := f.enrol(t, "oslo", "2026-01-05", false, "u-kari")
	a.meeting(t, "2026-05-01", "")
	b := f.enrol(t, "oslo", "2026-02-05", true, "u-ola")
	b.meeting(t, "2026-04-01", "")
	c := f.enrol(t, "oslo", "2026-03-05", false, "u-kari", "u-ola")
	c.job(t, "2026-04-01")
	e := f.enrol(t, "oslo", "2026-03-05", false, "u-kari")
	e.exit(t, "2026-04-01")
	f.enrol(t, "bergen", "2026-03-05", false, "u-kari")
	f.sync(t)
	today := "2026-05-15"

	ids := func(p caseload.Page) []uuid.UUID {
		var out []uuid.UUID
		for _, r := range p.Rows {
			out = append(out, r.ID)
		}
		return out
	}
	t.Run("a caseworker sees their own participants of their office", func(t *testing.T) {
		p := list(t, f.model, today, func(q *caseload.Query) { q.Scope.Caseworker = "u-kari"; q.Sort = caseload.SortEnrolledOn })
		if got, want := ids(p), []uuid.UUID{a.id, c.id, e.id}; !sameSet(got, want) {
			t.Errorf("rows %v, want %v", got, want)
		}
		if p.Counts.Total != 3 || p.Counts.ByStatus[domain.StatusExited] != 1 || p.Counts.ByStatus[domain.StatusActive] != 2 {
			t.Errorf("counts %+v", p.Counts)
		}
	})
	t.Run("a team lead's office", func(t *testing.T) {
		p := list(t, f.model, today, nil)
		if p.Counts.Total != 4 || len(p.Rows) != 4 {
			t.Errorf("counts %+v, %d rows, want 4", p.Counts, len(p.Rows))
		}
		// a: 14 days since 05-01 → no contact; b: since 04-01; c: never met
		// since 03-05; e exited.
		if got := p.Counts.ByFlag[caseload.FlagNoContact]; got != 3 {
			t.Errorf("no-contact count %d, want 3", got)
		}
	})
	t.Run("filters", func(t *testing.T) {
		cases := []struct {
			name string
			edit func(*caseload.Query)
			want []uuid.UUID
		}{
			{"status", func(q *caseload.Query) { q.Statuses = []domain.Status{domain.StatusExited} }, []uuid.UUID{e.id}},
			{"phase", func(q *caseload.Query) { q.Phases = []domain.Phase{domain.PhaseOngoingSupport} }, []uuid.UUID{c.id}},
			{"caseworker", func(q *caseload.Query) { q.Caseworkers = []string{"u-ola"} }, []uuid.UUID{b.id, c.id}},
			{"placement kind", func(q *caseload.Query) { q.PlacementKinds = []domain.PlacementKind{domain.PlacementOrdinaryJob} }, []uuid.UUID{c.id}},
			{"flag", func(q *caseload.Query) { q.Flags = []caseload.Flag{caseload.FlagEndScoreMissing} }, []uuid.UUID{e.id}},
			{"address protection", func(q *caseload.Query) { yes := true; q.AddressProtected = &yes }, []uuid.UUID{b.id}},
			{"programme", func(q *caseload.Query) { q.Programmes = []string{"other"} }, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				p := list(t, f.model, today, tc.edit)
				if got := ids(p); !sameSet(got, tc.want) {
					t.Errorf("rows %v, want %v", got, tc.want)
				}
				if p.Counts.Total != 4 {
					t.Errorf("counts are of the scope, before filters: %+v", p.Counts)
				}
			})
		}
	})
	t.Run("sort by last contact, missing last either way", func(t *testing.T) {
		asc := ids(list(t, f.model, today, func(q *caseload.Query) { q.Sort = caseload.SortLastContact }))
		if want := []uuid.UUID{b.id, a.id}; !slices.Equal(asc[:2], want) {
			t.Errorf("ascending %v, want %v first", asc, want)
		}
		desc := ids(list(t, f.model, today, func(q *caseload.Query) { q.Sort = caseload.SortLastContact; q.Desc = true }))
		if want := []uuid.UUID{a.id, b.id}; !slices.Equal(desc[:2], want) {
			t.Errorf("descending %v, want %v first", desc, want)
		}
	})
}

func sameSet(a, b []uuid.UUID) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// Pages stay stable while events arrive: a row that changes between pages
// is neither shown twice nor skipped when its key does not move across the
// cursor, and new participants land where their key puts them.
func TestPaginationIsStableWhileEventsArrive(t *testing.T) {
	f := newFixture(t)
	var all []participant
	for i := range 25 {
		all = append(all, f.enrol(t, "oslo", d(t, "2026-01-01").AddDays(i).String(), false, "u-kari"))
	}
	f.sync(t)
	seen := map[uuid.UUID]int{}
	cursor := ""
	for page := 0; ; page++ {
		p := list(t, f.model, "2026-05-15", func(q *caseload.Query) {
			q.Sort, q.Limit, q.After = caseload.SortEnrolledOn, 10, cursor
		})
		for _, r := range p.Rows {
			seen[r.ID]++
		}
		// Between pages: meetings for everyone, and a newcomer enrolled
		// before every cursor (so it must not appear) .
		for _, x := range all {
			x.meeting(t, "2026-05-14", "")
		}
		f.enrol(t, "oslo", "2025-12-01", false, "u-kari")
		f.sync(t)
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	for _, x := range all {
		if seen[x.id] != 1 {
			t.Errorf("participant seen %d times, want once", seen[x.id])
		}
	}
	if len(seen) != len(all) {
		t.Errorf("saw %d participants, want %d", len(seen), len(all))
	}
	if _, err := f.model.List(caseload.Query{Scope: caseload.Scope{Office: "oslo"}, Sort: caseload.SortLastContact, After: cursor}); err == nil {
		t.Error("a cursor of another sort was accepted")
	}
}

// A correction or void recomputes the row from the stream; the result is
// what folding the whole stream gives.
func TestCorrectionsRecomputeTheRow(t *testing.T) {
	f := newFixture(t)
	p := f.enrol(t, "oslo", "2026-03-02", false, "u-kari")
	m := p.meeting(t, "2026-04-01", "")
	job := p.job(t, "2026-04-10")
	_ = job
	f.sync(t)
	if row, _ := f.model.Get(p.id, d(t, "2026-05-15")); row.Phase != domain.PhaseOngoingSupport {
		t.Fatalf("phase %s", row.Phase)
	}
	// Correct the meeting's date, and void the job.
	f.exec(t, p.id, func(h []domain.Recorded, today domain.Date) ([]domain.Event, error) {
		return domain.CorrectEntry(h, domain.CorrectEntryCommand{EntryID: m.EventIDs[0], EntryType: domain.TypeMeetingHeld,
			Reason: domain.CorrectionReasons()[0], Replacement: []byte(`{"date":"2026-04-03","kind":"guidance"}`)}, today)
	})
	var startID uuid.UUID
	h, _, err := f.svc.Load(context.Background(), domain.ParticipantStream(p.id))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range h {
		if r.Event.EventType() == domain.TypePlacementStarted {
			startID = r.ID
		}
	}
	f.exec(t, p.id, func(h []domain.Recorded, today domain.Date) ([]domain.Event, error) {
		return domain.VoidEntry(h, domain.VoidEntryCommand{EntryID: startID, Reason: domain.VoidReasons()[0]}, today)
	})
	p.meeting(t, "2026-05-01", "2026-05-20")
	f.sync(t)
	row, _ := f.model.Get(p.id, d(t, "2026-05-15"))
	if row.Placement != nil || row.Phase != domain.PhaseEngagement {
		t.Errorf("after the void: placement %+v, phase %s", row.Placement, row.Phase)
	}
	if row.LastContact != d(t, "2026-05-01") || row.NextMeeting != d(t, "2026-05-20") {
		t.Errorf("last contact %s, next %s", row.LastContact, row.NextMeeting)
	}
	if len(row.Caseworkers) != 1 || row.Caseworkers[0].UserID != "u-kari" {
		t.Errorf("team %+v", row.Caseworkers)
	}
}

// A restart loads the snapshot and replays only the events after it.
func TestRestartReplaysOnlyWhatCameAfterTheSnapshot(t *testing.T) {
	f := newFixture(t)
	for range 5 {
		f.enrol(t, "oslo", "2026-03-02", false, "u-kari").meeting(t, "2026-04-01", "")
	}
	f.sync(t)
	// The snapshot is written on catching up and on stop; stop this runner
	// by starting over (the cleanup of the first stops it too).
	before := f.runner.Statuses()[0].Position
	stopAndRestart(t, f)
	late := f.enrol(t, "oslo", "2026-03-02", false, "u-kari")
	f.sync(t)
	s := f.runner.Statuses()[0]
	if s.Restored < before {
		t.Errorf("restored from position %d, want at least %d", s.Restored, before)
	}
	if s.Applied != 2 { // the late enrolment and its assignment
		t.Errorf("applied %d events after the restart, want 2", s.Applied)
	}
	if f.model.Len() != 6 {
		t.Errorf("model holds %d participants, want 6", f.model.Len())
	}
	if _, ok := f.model.Get(late.id, d(t, "2026-05-15")); !ok {
		t.Error("the late participant is missing")
	}
}

// A poison event stops the projection, names itself in readiness and
// status, and is not skipped: later events are not applied.
func TestPoisonEventStopsTheProjection(t *testing.T) {
	f := newFixture(t)
	p := f.enrol(t, "oslo", "2026-03-02", false, "u-kari")
	f.sync(t)
	if err := f.runner.Ready(context.Background()); err != nil {
		t.Fatalf("not ready before the poison: %v", err)
	}
	poison := eventstore.EventData{ID: uuid.New(), Type: domain.TypeMeetingHeld, Data: []byte(`{"date":"2026-13-45"}`), Metadata: []byte(`{}`)}
	res, err := f.store.Append(context.Background(), domain.ParticipantStream(p.id), eventstore.Any, poison)
	if err != nil {
		t.Fatal(err)
	}
	q := f.enrol(t, "oslo", "2026-03-02", false, "u-kari")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = f.runner.WaitFor(ctx, f.last)
	if !errors.Is(err, projections.ErrStopped) {
		t.Fatalf("WaitFor = %v, want ErrStopped", err)
	}
	ready := f.runner.Ready(context.Background())
	if ready == nil || !strings.Contains(ready.Error(), poison.ID.String()) {
		t.Errorf("readiness = %v, want it to name event %s", ready, poison.ID)
	}
	s := f.runner.Statuses()[0]
	var aerr *projections.ApplyError
	if !errors.As(s.Err, &aerr) || aerr.Position != res.Position || s.Failures != 1 {
		t.Errorf("status %+v, want stopped at position %d", s, res.Position)
	}
	if _, ok := f.model.Get(q.id, d(t, "2026-05-15")); ok {
		t.Error("an event after the poison was applied")
	}
}

// Paging through an office in small pages gives, for every sort and
// direction, exactly the order of sorting all its rows by the column
// (missing values last, ties by id), each row once: the page selection
// keeps only a page's worth of rows, and this holds it to the whole sort.
func TestPagesFollowTheFullSortOfEveryColumn(t *testing.T) {
	m := loaded(t, 700) // 35 per office; enrolment dates repeat, so keys tie
	today := d(t, "2025-09-30")
	scope := caseload.Scope{Office: "office-07"}
	all := m.Rows(scope, today)
	if len(all) != 35 {
		t.Fatalf("office holds %d rows, want 35", len(all))
	}
	keyOf := func(s caseload.Sort, r caseload.Row) (int64, bool) {
		epoch := d(t, "2000-01-01")
		date := func(x domain.Date) (int64, bool) { return int64(x.DaysSince(epoch)), !x.IsZero() }
		switch s {
		case caseload.SortEnrolledOn:
			return date(r.EnrolledOn)
		case caseload.SortDaysInProgramme:
			return int64(r.DaysInProgramme), true
		case caseload.SortLastContact:
			return date(r.LastContact)
		case caseload.SortDaysSinceContact:
			if r.DaysSinceContact == nil {
				return 0, false
			}
			return int64(*r.DaysSinceContact), true
		case caseload.SortNextMeeting:
			return date(r.NextMeeting)
		case caseload.SortOpenGoals:
			return int64(r.OpenGoals), true
		case caseload.SortPlacementSince:
			if r.Placement == nil {
				return 0, false
			}
			return date(r.Placement.Since)
		case caseload.SortLatestScore:
			if r.LatestScores == nil {
				return 0, false
			}
			return date(r.LatestScores.On)
		case caseload.SortFlags:
			return int64(len(r.Flags)), true
		}
		t.Fatalf("no key for sort %q", s)
		return 0, false
	}
	for _, s := range caseload.Sorts() {
		for _, desc := range []bool{false, true} {
			want := slices.Clone(all)
			slices.SortFunc(want, func(a, b caseload.Row) int {
				ka, pa := keyOf(s, a)
				kb, pb := keyOf(s, b)
				if pa != pb {
					if pa {
						return -1
					}
					return 1
				}
				c := cmp.Compare(ka, kb)
				if desc {
					c = -c
				}
				if c != 0 {
					return c
				}
				return bytes.Compare(a.ID[:], b.ID[:])
			})
			var got []uuid.UUID
			after := ""
			for range len(all) {
				p, err := m.List(caseload.Query{Scope: scope, Today: today, Sort: s, Desc: desc, After: after, Limit: 4})
				if err != nil {
					t.Fatalf("%s desc=%v: %v", s, desc, err)
				}
				if p.Total != len(all) && after == "" {
					t.Errorf("%s desc=%v: total %d, want %d", s, desc, p.Total, len(all))
				}
				for _, r := range p.Rows {
					got = append(got, r.ID)
				}
				if after = p.Next; after == "" {
					break
				}
			}
			if len(got) != len(want) {
				t.Errorf("%s desc=%v: paged %d rows, want %d", s, desc, len(got), len(want))
				continue
			}
			for i := range want {
				if got[i] != want[i].ID {
					t.Errorf("%s desc=%v: row %d is %s, want %s", s, desc, i, got[i], want[i].ID)
					break
				}
			}
		}
	}
}

// TestACaseworkersListIsTheirRowsOfTheOffice: a caseworker's list (read
// from the index of each user's rows) is the office's list filtered to
// the rows whose team has them, through assignments, unassignments,
// re-enrolment in another office, a correction that recomputes the row,
// and a restart from the snapshot.
func TestACaseworkersListIsTheirRowsOfTheOffice(t *testing.T) {
	f := newFixture(t)
	users := []string{"u-kari", "u-ola", "u-per"}
	a := f.enrol(t, "oslo", "2026-01-05", false, "u-kari", "u-ola")
	b := f.enrol(t, "oslo", "2026-02-05", false, "u-ola")
	c := f.enrol(t, "bergen", "2026-02-05", false, "u-kari")
	e := f.enrol(t, "oslo", "2026-03-05", false)
	today := "2026-05-15"
	check := func(t *testing.T, step string) {
		t.Helper()
		f.sync(t)
		for _, office := range []string{"oslo", "bergen"} {
			for _, u := range users {
				mine := list(t, f.model, today, func(q *caseload.Query) {
					q.Scope = caseload.Scope{Office: office, Caseworker: u}
					q.Limit = caseload.MaxLimit
				})
				filtered := list(t, f.model, today, func(q *caseload.Query) {
					q.Scope = caseload.Scope{Office: office}
					q.Caseworkers = []string{u}
					q.Limit = caseload.MaxLimit
				})
				var got, want []uuid.UUID
				for _, r := range mine.Rows {
					got = append(got, r.ID)
				}
				for _, r := range filtered.Rows {
					want = append(want, r.ID)
				}
				if !slices.Equal(got, want) || mine.Total != filtered.Total || mine.Counts.Total != filtered.Total {
					t.Fatalf("%s: %s's list in %s: %v (total %d, counted %d), want %v (total %d)", step, u, office, got, mine.Total, mine.Counts.Total, want, filtered.Total)
				}
			}
		}
	}
	check(t, "enrolled")
	do(t, b, domain.AssignCaseworker, domain.AssignCaseworkerCommand{UserID: "u-per", Role: domain.CaseworkerRoles()[0], Date: d(t, "2026-03-01")})
	do(t, e, domain.AssignCaseworker, domain.AssignCaseworkerCommand{UserID: "u-kari", Role: domain.CaseworkerRoles()[0], Date: d(t, "2026-03-05")})
	check(t, "assigned")
	do(t, a, domain.AssignCaseworker, domain.AssignCaseworkerCommand{UserID: "u-per", Role: domain.CaseworkerRoles()[1], Date: d(t, "2026-03-06")})
	do(t, a, domain.UnassignCaseworker, domain.UnassignCaseworkerCommand{UserID: "u-ola", Date: d(t, "2026-03-07")})
	check(t, "a caseworker assigned, another unassigned")
	c.exit(t, "2026-04-01")
	do(t, c, domain.Enrol, domain.EnrolCommand{
		Programme: "hope-bergen", Office: "oslo", EnrolledOn: d(t, "2026-04-10"),
		ReferralSource: domain.ReferralSources()[0],
		Profile: domain.Profile{BirthYear: 1990, Gender: domain.Genders()[0], RegionOfBirth: domain.RegionsOfBirth()[0],
			IncomeSource: domain.IncomeSources()[0], NorwegianLevel: domain.NorwegianLevels()[0], EducationLevel: domain.EducationLevels()[0]},
		Personal: &domain.EnrolmentPersonal{Name: "Test Person"},
	})
	check(t, "re-enrolled in another office")
	m := a.meeting(t, "2026-04-02", "")
	f.exec(t, a.id, func(h []domain.Recorded, today domain.Date) ([]domain.Event, error) {
		return domain.VoidEntry(h, domain.VoidEntryCommand{EntryID: m.EventIDs[0], Reason: domain.VoidReasons()[0]}, today)
	})
	check(t, "a void recomputed the row")
	stopAndRestart(t, f)
	check(t, "restarted from the snapshot")
	do(t, b, domain.UnassignCaseworker, domain.UnassignCaseworkerCommand{UserID: "u-ola", Date: d(t, "2026-05-01")})
	do(t, b, domain.UnassignCaseworker, domain.UnassignCaseworkerCommand{UserID: "u-per", Date: d(t, "2026-05-01")})
	check(t, "the last members of a team unassigned after the restart")
}
