package domain

import (
	"reflect"
	"testing"

	"github.com/google/uuid"
)

func TestFoldKeepsPlannedEnd(t *testing.T) {
	en := enrolled(t)
	job := started(placementA, PlacementWorkPractice, uuid.Nil, "2026-03-10")
	job.PlannedEnd = d("2026-06-30")
	change := func(on, plannedEnd string) PlacementChanged {
		c := PlacementChanged{PlacementID: placementA, Date: d(on), HoursPercentage: 80}
		if plannedEnd != "" {
			c.PlannedEnd = d(plannedEnd)
		}
		return c
	}
	moved := job
	moved.PlannedEnd = d("2026-08-31")
	for _, tc := range []struct {
		name  string
		given []Event
		want  string // "" for none
	}{
		{"the start sets it", []Event{en, job}, "2026-06-30"},
		{"a change sets it anew", []Event{en, job, change("2026-04-01", "2026-07-31")}, "2026-07-31"},
		{"a change without one clears it: a change carries the terms in full", []Event{en, job, change("2026-04-01", "")}, ""},
		{"a correction of the start changes it", []Event{en, job, EntryCorrected{EntryID: entryID(1), Replacement: moved}}, "2026-08-31"},
		{"a voided change restores the start's", []Event{en, job, change("2026-04-01", "2026-07-31"),
			EntryVoided{EntryID: entryID(2), EntryType: TypePlacementChanged}}, "2026-06-30"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pl, ok := FoldParticipant(given(tc.given...)).Placement(placementA)
			if !ok {
				t.Fatal("no placement")
			}
			var want Date
			if tc.want != "" {
				want = d(tc.want)
			}
			if pl.PlannedEnd != want {
				t.Fatalf("planned end %v, want %v", pl.PlannedEnd, want)
			}
		})
	}
}

// TestExtendIsTheFold folds histories event by event with Extend, folding
// the whole history again only where Extend declines (corrections and
// voids), and compares the state after every event with FoldParticipant of
// the history so far.
func TestExtendIsTheFold(t *testing.T) {
	en := enrolled(t)
	again := en
	again.Episode, again.EnrolledOn, again.Office = 2, d("2026-04-10"), "oslo"
	job := started(placementA, PlacementOrdinaryJob, employerA, "2026-03-12")
	job.PlannedEnd = d("2026-05-20")
	erased := PersonalDataErased{Date: d("2026-05-01"), LegalBasis: ErasureObjection, RequestedBy: RequesterParticipant}
	for _, tc := range []struct {
		name    string
		history []Event
		// declined are the indexes Extend must decline.
		declined []int
	}{
		{"a plain episode", []Event{en,
			CaseworkerAssigned{UserID: "u-js", Role: RoleJobSpecialist, Date: d("2026-03-02")},
			consent(ConsentEmployerDisclosure, "2026-03-03"), goalSet(goalA, uuid.Nil, AreaWork, "2026-03-04"),
			goalSet(goalB, goalA, AreaLanguage, "2026-03-04"), meeting("2026-03-05"), scored(TimepointBaseline, "2026-03-05", 4),
			EmployerContacted{EmployerID: employerA, Date: d("2026-03-06"), Purpose: PurposeFollowUp}, job,
			PlacementChanged{PlacementID: placementA, Date: d("2026-04-01"), HoursPercentage: 90, Contract: ContractPermanent},
			IncomeSourceChanged{Date: d("2026-04-01"), IncomeSource: IncomeWork},
			GoalClosed{GoalID: goalB, Outcome: OutcomeAchieved, Date: d("2026-04-02")}}, nil},
		{"team and consents change", []Event{en,
			CaseworkerAssigned{UserID: "u-js", Role: RoleJobSpecialist, Date: d("2026-03-02")},
			CaseworkerAssigned{UserID: "u-sw", Role: RoleSocialWorker, Date: d("2026-03-02")},
			consent(ConsentEmployerDisclosure, "2026-03-03"), consent(ConsentEvaluation, "2026-03-03"), meeting("2026-03-04"),
			CaseworkerUnassigned{UserID: "u-js", Date: d("2026-03-05")},
			ConsentWithdrawn{Scope: ConsentEmployerDisclosure, Date: d("2026-03-06")}, meeting("2026-03-07")}, nil},
		{"pauses, exit, re-enrolment, erasure", []Event{en, ParticipationPaused{Date: d("2026-03-10"), Reason: PauseHealth},
			ParticipationResumed{Date: d("2026-03-20")}, ParticipationPaused{Date: d("2026-03-25"), Reason: PauseTravel},
			exited("2026-04-01"), again, meeting("2026-04-12"), erased, meeting("2026-05-02")}, nil},
		{"corrections and voids", []Event{en, meeting("2026-03-05"), job,
			EntryCorrected{EntryID: entryID(1), Replacement: meeting("2026-03-06")},
			PlacementEnded{PlacementID: placementA, EndedOn: d("2026-04-01"), Reason: EndResigned},
			EntryVoided{EntryID: entryID(4), EntryType: TypePlacementEnded}, meeting("2026-04-03")}, []int{3, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := given(tc.history...)
			var p Participant
			for i := range h {
				// A state shared by readers is extended through a clone,
				// and must stay as it was.
				for _, clone := range []func(Participant) Participant{
					Participant.Clone,
					func(p Participant) Participant { return p.CloneFor(h[i : i+1]) },
				} {
					shared, before := FoldParticipant(h[:i]), FoldParticipant(h[:i])
					c := clone(shared)
					if c.Extend(h[i]) && !reflect.DeepEqual(c, FoldParticipant(h[:i+1])) {
						t.Fatalf("event %d (%s): the extended clone is not the fold", i, h[i].Event.EventType())
					}
					if !reflect.DeepEqual(shared, before) {
						t.Fatalf("event %d (%s): extending a clone changed the state it was cloned from", i, h[i].Event.EventType())
					}
				}
				declined := !p.Extend(h[i])
				if want := containsInt(tc.declined, i); declined != want {
					t.Fatalf("event %d (%s): Extend declined %v, want %v", i, h[i].Event.EventType(), declined, want)
				}
				if declined {
					p = FoldParticipant(h[:i+1])
				}
				if want := FoldParticipant(h[:i+1]); !reflect.DeepEqual(p, want) {
					t.Fatalf("after event %d (%s):\n extended: %+v\n     fold: %+v", i, h[i].Event.EventType(), p, want)
				}
			}
		})
	}
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func TestEffectiveHistory(t *testing.T) {
	en := enrolled(t)
	fixed := meeting("2026-03-06")
	fixed.Personal = &MeetingPersonal{Minutes: "Corrected minutes"}
	h := given(en, meeting("2026-03-05"), meeting("2026-03-07"),
		EntryCorrected{EntryID: entryID(1), Replacement: fixed},
		EntryVoided{EntryID: entryID(2), EntryType: TypeMeetingHeld})
	got := EffectiveHistory(h)
	if len(got) != 2 || got[0].ID != entryID(0) || got[1].ID != entryID(1) {
		t.Fatalf("effective history %+v, want the enrolment and the corrected meeting", got)
	}
	if m := got[1].Event.(MeetingHeld); m.Date != d("2026-03-06") || m.Personal.Minutes != "Corrected minutes" {
		t.Fatalf("the corrected meeting is %+v, want the replacement with its personal section", m)
	}
}

// TestEffectiveHistoryOfAnUnamendedHistory: without corrections or voids
// the effective history is the history itself, and always what the fold's
// own resolution gives, pointer and nil events included.
func TestEffectiveHistoryOfAnUnamendedHistory(t *testing.T) {
	m := meeting("2026-03-05")
	plain := given(enrolled(t), m, meeting("2026-03-07"))
	withPointer := given(enrolled(t), &m)
	withNil := given(enrolled(t), m)
	withNil[1].Event = nil
	for name, h := range map[string][]Recorded{"plain": plain, "a pointer event": withPointer, "a nil event": withNil, "empty": nil} {
		if got, want := EffectiveHistory(h), effective(h).events; !reflect.DeepEqual(got, want) && (len(got) != 0 || len(want) != 0) {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}
	if got := EffectiveHistory(plain); &got[0] != &plain[0] {
		t.Error("an unamended history was copied")
	}
}
