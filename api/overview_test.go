package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore/bolt"
	"github.com/caseledger/caseledger/projections/caseload"
	"github.com/caseledger/caseledger/projections/overview"
)

// overviewWorld writes participants of varied histories through the API
// and returns their ids and the position of the last write.
func overviewWorld(t *testing.T, h *harness) (map[string]uuid.UUID, uint64) {
	t.Helper()
	h.setupProgramme(t, "hope-oslo")
	employer := h.setupEmployer(t, orgNumber(91234567))
	var last uint64
	write := func(who string, id uuid.UUID, route string, body any) writeResult {
		t.Helper()
		res := h.ok(t, http.StatusOK, who, participantPath(id, route), body)
		last = res.Position
		return res
	}
	team := func(id uuid.UUID, on string, users ...string) {
		t.Helper()
		for _, u := range users {
			role := "job_specialist"
			if u == "u-vera" {
				role = "volunteer_mentor"
			}
			write("team-lead", id, "/caseworkers/assign", object{"user_id": u, "role": role, "date": on})
		}
	}
	ids := map[string]uuid.UUID{}

	// Everything once, a mentor's meeting among the caseworker's.
	full := h.enrol(t, "caseworker", enrolBody("oslo", nationalID(t, "1990-04-12", 100), "2026-03-02"))
	ids["full"] = full
	team(full, "2026-03-02", "u-kari", "u-vera")
	write("caseworker", full, "/consents/give", object{"scope": "employer_disclosure", "date": "2026-03-03"})
	write("caseworker", full, "/consents/give", object{"scope": "evaluation", "date": "2026-03-03"})
	write("caseworker", full, "/consents/withdraw", object{"scope": "evaluation", "date": "2026-03-20"})
	goal := uuid.New()
	write("caseworker", full, "/goals/set", object{"goal_id": goal, "area": "work", "date": "2026-03-04", "target_date": "2026-09-01",
		"personal": object{"title": "Test goal: a job in a kitchen", "note": "Test note"}})
	sub := uuid.New()
	write("caseworker", full, "/goals/set", object{"goal_id": sub, "parent_goal_id": goal, "area": "language", "date": "2026-03-04",
		"personal": object{"title": "Test sub-goal"}})
	write("caseworker", full, "/goals/close", object{"goal_id": sub, "outcome": "achieved", "date": "2026-04-01", "personal": object{"note": "Test closing note"}})
	write("caseworker", full, "/meetings", object{"date": "2026-03-05", "kind": "guidance", "next_meeting_on": "2026-03-12",
		"personal": object{"attendees": []string{"Test Person"}, "minutes": "Test minutes"}})
	write("volunteer", full, "/meetings", object{"date": "2026-03-07", "kind": "phone", "personal": object{"note": "Test mentor note"}})
	write("caseworker", full, "/scores", object{"date": "2026-03-05", "timepoint": "baseline", "instrument": "indicator_index", "instrument_version": 1,
		"scores": object{"hope": 4, "well_being": 5, "network": 3, "work_attachment": 2}})
	write("caseworker", full, "/employer-contacts", object{"employer_id": employer, "date": "2026-03-06", "purpose": "present_candidate",
		"personal": object{"note": "Test contact note"}})
	practice := uuid.New()
	write("caseworker", full, "/placements/start", object{"placement_id": practice, "kind": "work_practice", "employer_id": employer,
		"started_on": "2026-03-16", "hours_percentage": 50, "planned_end": "2026-06-15", "personal": object{"title": "Test kitchen assistant"}})
	write("caseworker", full, "/placements/change", object{"placement_id": practice, "date": "2026-04-01", "hours_percentage": 80,
		"contract": "temporary", "planned_end": "2026-05-29"})
	write("caseworker", full, "/income-source", object{"date": "2026-04-01", "income_source": "work"})
	write("caseworker", full, "/pause", object{"date": "2026-04-10", "reason": "health", "personal": object{"note": "Test pause note"}})
	write("caseworker", full, "/resume", object{"date": "2026-04-20"})

	// Corrections and voids, an exit voided, a second exit while paused.
	fixed := h.enrol(t, "caseworker", enrolBody("oslo", nationalID(t, "1990-05-13", 100), "2026-03-02"))
	ids["corrected"] = fixed
	team(fixed, "2026-03-02", "u-kari")
	m := write("caseworker", fixed, "/meetings", object{"date": "2026-03-05", "kind": "guidance", "personal": object{"minutes": "Test minutes"}}).EventIDs[0]
	twice := write("caseworker", fixed, "/meetings", object{"date": "2026-03-05", "kind": "guidance"}).EventIDs[0]
	job := uuid.New()
	start := write("caseworker", fixed, "/placements/start", object{"placement_id": job, "kind": "ordinary_job", "started_on": "2026-03-10",
		"hours_percentage": 100}).EventIDs[0]
	write("caseworker", fixed, "/corrections", object{"entry_id": m, "entry_type": "MeetingHeld", "reason": "wrong_date",
		"replacement": object{"date": "2026-03-06", "kind": "home_visit", "next_meeting_on": "2026-03-20"},
		"personal":    object{"note": "Test: the date was wrong", "replacement": object{"minutes": "Test corrected minutes"}}})
	write("caseworker", fixed, "/voids", object{"entry_id": twice, "reason": "duplicate"})
	write("caseworker", fixed, "/corrections", object{"entry_id": start, "entry_type": "PlacementStarted", "reason": "wrong_value",
		"replacement": object{"placement_id": job, "kind": "ordinary_job", "started_on": "2026-03-10", "hours_percentage": 100, "planned_end": "2026-05-20"}})
	exit := write("caseworker", fixed, "/exit", object{"date": "2026-04-01", "reason": "completed", "destination": "ordinary_job",
		"personal": object{"note": "Test exit note"}}).EventIDs[0]
	write("caseworker", fixed, "/voids", object{"entry_id": exit, "reason": "recorded_in_error"})
	write("caseworker", fixed, "/pause", object{"date": "2026-04-02", "reason": "travel"})
	write("caseworker", fixed, "/exit", object{"date": "2026-04-15", "reason": "moved", "destination": "unknown", "personal": object{"note": "Test exit note"}})

	// Exit, re-enrolment, erasure.
	erased := h.enrol(t, "caseworker", enrolBody("oslo", nationalID(t, "1990-06-14", 100), "2026-01-05"))
	ids["re-enrolled and erased"] = erased
	team(erased, "2026-01-05", "u-kari")
	write("caseworker", erased, "/meetings", object{"date": "2026-01-12", "kind": "guidance", "personal": object{"minutes": "Test minutes"}})
	write("caseworker", erased, "/exit", object{"date": "2026-02-01", "reason": "dropped_out", "destination": "unknown"})
	write("caseworker", erased, "/enrolments", enrolBody("oslo", nationalID(t, "1990-06-14", 100), "2026-03-02"))
	write("caseworker", erased, "/meetings", object{"date": "2026-03-05", "kind": "guidance", "personal": object{"minutes": "Test minutes"}})
	last = h.del(t, "admin", participantPath(erased, "/personal-data"), erasureBody()).written(t, http.StatusOK).Position

	// Under address protection: the team sees it all, others the label.
	protected := h.enrol(t, "caseworker", enrolBody("oslo", nationalID(t, "1990-07-15", 100), "2026-03-02").with("/address_protection", true))
	ids["protected"] = protected
	team(protected, "2026-03-02", "u-kari", "u-vera")
	write("caseworker", protected, "/goals/set", object{"goal_id": uuid.New(), "area": "housing", "date": "2026-03-03",
		"personal": object{"title": "Test goal: a safe flat"}})
	write("volunteer", protected, "/meetings", object{"date": "2026-03-07", "kind": "phone", "personal": object{"note": "Test mentor note"}})
	return ids, last
}

// getJSON reads GET path as who (an auditor with a purpose) as a JSON
// object.
func (h *harness) getJSON(t *testing.T, who, path string) (map[string]any, response) {
	t.Helper()
	r := h.get(t, who, path, "Purpose", "quality review")
	if r.status != http.StatusOK {
		t.Fatalf("GET %s as %s: %s", path, who, r)
	}
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatal(err)
	}
	return v, r
}

// TestOverviewIsTheFoldedView: for every participant and caller, the
// overview now (from the read model, once it has caught up) is the view
// the fold of the whole stream gives (known_at at the participant's last
// event), flags aside.
func TestOverviewIsTheFoldedView(t *testing.T) {
	var model *overview.Model
	h := newHarnessWith(t, harnessSetup{overview: func(t *testing.T, store *bolt.Store) (*overview.Model, api.PositionWaiter) {
		m, w := runOverview(t, store)
		model = m
		return m, w
	}})
	ids, last := overviewWorld(t, h)
	for name, id := range ids {
		evs := h.events(t, "participant-"+id.String())
		end := evs[len(evs)-1].Position
		for _, who := range []string{"caseworker", "caseworker-2", "team-lead", "auditor", "volunteer"} {
			t.Run(name+" as "+who, func(t *testing.T) {
				r := h.get(t, who, participantPath(id, "?min_position="+strconv.FormatUint(last, 10)), "Purpose", "quality review")
				if r.status == http.StatusNotFound {
					// Outside the caller's scope (a volunteer not mentoring
					// them): the fold must be refused alike.
					if past := h.get(t, who, participantPath(id, "?known_at="+strconv.FormatUint(end, 10)), "Purpose", "quality review"); past.status != http.StatusNotFound {
						t.Fatalf("now 404, known_at %d", past.status)
					}
					return
				}
				now, _ := h.getJSON(t, who, participantPath(id, "?min_position="+strconv.FormatUint(last, 10)))
				past, pr := h.getJSON(t, who, participantPath(id, "?known_at="+strconv.FormatUint(end, 10)))
				if pr.header.Get("ETag") != r.header.Get("ETag") {
					t.Errorf("ETag now %s, folded %s", r.header.Get("ETag"), pr.header.Get("ETag"))
				}
				_, isView := now["status"]
				if flags, ok := now["flags"]; ok != isView || (ok && flags == nil) {
					t.Errorf("flags %v in a view (%v)", flags, isView)
				}
				delete(now, "flags")
				if past["known_at"] != strconv.FormatUint(end, 10) {
					t.Errorf("known_at echoed as %v", past["known_at"])
				}
				delete(past, "known_at")
				if !reflect.DeepEqual(now, past) {
					a, _ := json.MarshalIndent(now, "", " ")
					b, _ := json.MarshalIndent(past, "", " ")
					t.Fatalf("the overview differs from the folded view\noverview: %s\n  folded: %s", a, b)
				}
			})
		}
		// The model, caught up, answers for the stream as loaded, giving
		// the items their event ids from it: the reads at min_position
		// above were its answers, not a fold's.
		stream := make([]domain.Recorded, len(evs))
		for i, ev := range evs {
			stream[i] = domain.Recorded{ID: ev.ID, Stream: ev.Stream, Revision: ev.Revision, Position: ev.Position}
		}
		if ov, ok, err := model.Get(id, stream); err != nil || !ok || ov.Revision != evs[len(evs)-1].Revision {
			t.Errorf("%s: the model answers %v, %v at revision %d, not at the stream's %d", name, ok, err, ov.Revision, evs[len(evs)-1].Revision)
		}
	}
}

func TestOverviewFlagsAndPlannedEnd(t *testing.T) {
	h := newHarness(t)
	h.setupProgramme(t, "hope-oslo")
	// Today is 2026-05-15: a planned end on 05-29 is 14 days away, on
	// 05-30 fifteen.
	for _, tc := range []struct {
		plannedEnd string
		ending     bool
	}{
		{"2026-05-29", true},
		{"2026-05-30", false},
		{"2026-05-15", true},
	} {
		id := h.enrol(t, "caseworker", enrolBody("oslo", nationalID(t, "1990-04-12", 100), "2026-03-02"))
		res := h.ok(t, http.StatusOK, "caseworker", participantPath(id, "/placements/start"), object{"placement_id": uuid.New(),
			"kind": "work_practice", "started_on": "2026-04-01", "hours_percentage": 50, "planned_end": tc.plannedEnd})
		v, _ := h.getJSON(t, "caseworker", participantPath(id, "?min_position="+strconv.FormatUint(res.Position, 10)))
		var flags []caseload.Flag
		for _, f := range v["flags"].([]any) {
			flags = append(flags, caseload.Flag(f.(string)))
		}
		if got := slices.Contains(flags, caseload.FlagPlacementEnding); got != tc.ending {
			t.Errorf("planned end %s: flags %v, want %s %v", tc.plannedEnd, flags, caseload.FlagPlacementEnding, tc.ending)
		}
		if pl := v["placements"].([]any)[0].(map[string]any); pl["planned_end"] != tc.plannedEnd {
			t.Errorf("placement %v, want planned_end %s", pl, tc.plannedEnd)
		}
	}
	t.Run("a planned end before the start is refused, naming it", func(t *testing.T) {
		id := h.enrol(t, "caseworker", enrolBody("oslo", nationalID(t, "1990-04-12", 100), "2026-03-02"))
		p := h.post(t, "caseworker", participantPath(id, "/placements/start"), object{"placement_id": uuid.New(),
			"kind": "work_practice", "started_on": "2026-04-01", "hours_percentage": 50, "planned_end": "2026-03-31"}).problem(t, http.StatusUnprocessableEntity)
		if len(p.Errors) != 1 || p.Errors[0].Pointer != "/planned_end" {
			t.Errorf("problem %+v, want it to name /planned_end", p)
		}
	})
}

// A model that has not applied a participant's latest events does not
// make the overview older than the log: the fold of the stream answers.
func TestOverviewNeverOlderThanTheLog(t *testing.T) {
	h := newHarnessWith(t, harnessSetup{overview: func(*testing.T, *bolt.Store) (*overview.Model, api.PositionWaiter) {
		return overview.New(nil), nil // never fed
	}})
	h.setupProgramme(t, "hope-oslo")
	id := h.enrol(t, "caseworker", enrolBody("oslo", nationalID(t, "1990-04-12", 100), "2026-03-02"))
	h.ok(t, http.StatusOK, "caseworker", participantPath(id, "/meetings"), object{"date": "2026-03-05", "kind": "guidance"})
	p := h.participant(t, "caseworker", id)
	if p.Revision != 1 || len(p.Meetings) != 1 || p.Name != "Test Person" {
		t.Fatalf("overview %+v, want the enrolment and the meeting", p)
	}
}

// blocked never reaches a position.
type blocked struct{}

func (blocked) WaitFor(ctx context.Context, _ uint64) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestOverviewMinPosition(t *testing.T) {
	h := newHarnessWith(t, harnessSetup{overview: func(t *testing.T, store *bolt.Store) (*overview.Model, api.PositionWaiter) {
		m, _ := runOverview(t, store)
		return m, blocked{}
	}})
	h.setupProgramme(t, "hope-oslo")
	id := h.enrol(t, "caseworker", enrolBody("oslo", nationalID(t, "1990-04-12", 100), "2026-03-02"))
	t.Run("not reached in time", func(t *testing.T) {
		r := h.get(t, "caseworker", participantPath(id, "?min_position=1"))
		p := r.problem(t, http.StatusServiceUnavailable)
		if r.header.Get("Retry-After") == "" || len(p.Errors) != 1 || p.Errors[0].Parameter != "min_position" {
			t.Errorf("Retry-After %q, problem %+v", r.header.Get("Retry-After"), p)
		}
	})
	for _, tc := range []struct{ name, query string }{
		{"not a number", "?min_position=soon"},
		{"with known_at", "?min_position=1&known_at=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := h.get(t, "caseworker", participantPath(id, tc.query)).problem(t, http.StatusBadRequest)
			if len(p.Errors) != 1 || p.Errors[0].Parameter != "min_position" {
				t.Errorf("problem %+v, want it to name min_position", p)
			}
		})
	}
}
