package domain

import (
	"testing"

	"github.com/google/uuid"
)

func TestPhase(t *testing.T) {
	en := enrolled(t)
	again := en
	again.Episode, again.EnrolledOn = 2, d("2026-04-15")
	ok := consent(ConsentEmployerDisclosure, "2026-03-03")
	cases := []struct {
		name   string
		given  []Event
		phase  Phase
		status Status
	}{
		{"never enrolled", nil, PhaseNone, StatusNotEnrolled},
		{"1 engagement: enrolled, no plan", []Event{en, meeting("2026-03-05")}, PhaseEngagement, StatusActive},
		{"2 vocational profile: a goal outside work", []Event{en, goalSet(goalA, uuid.Nil, AreaHousing, "2026-03-05")}, PhaseVocationalProfile, StatusActive},
		{"2 vocational profile: a baseline score", []Event{en, scored(TimepointBaseline, "2026-03-05", 4)}, PhaseVocationalProfile, StatusActive},
		{"a midway score is no profile", []Event{en, scored(TimepointMidway, "2026-03-05", 4)}, PhaseEngagement, StatusActive},
		{"3 job finding: a work goal", []Event{en, goalSet(goalA, uuid.Nil, AreaWork, "2026-03-05")}, PhaseJobFinding, StatusActive},
		{"3 job finding: an employer contacted", []Event{en, ok, EmployerContacted{EmployerID: employerA, Date: d("2026-03-05"), Purpose: PurposePresentCandidate}}, PhaseJobFinding, StatusActive},
		{"4 employer engagement: work practice running", []Event{en, started(placementA, PlacementWorkPractice, uuid.Nil, "2026-03-05")}, PhaseEmployerEngagement, StatusActive},
		{"5 ongoing support: an ordinary job running", []Event{en, started(placementA, PlacementOrdinaryJob, uuid.Nil, "2026-03-05")}, PhaseOngoingSupport, StatusActive},
		{"5 ongoing support: a subsidised job running", []Event{en, started(placementA, PlacementSubsidisedJob, uuid.Nil, "2026-03-05")}, PhaseOngoingSupport, StatusActive},
		{"back to job finding when the job ends", []Event{en, goalSet(goalA, uuid.Nil, AreaWork, "2026-03-04"), started(placementA, PlacementOrdinaryJob, uuid.Nil, "2026-03-05"),
			PlacementEnded{PlacementID: placementA, EndedOn: d("2026-04-01"), Reason: EndDismissed}}, PhaseJobFinding, StatusActive},
		{"a voided job counts for nothing", []Event{en, started(placementA, PlacementOrdinaryJob, uuid.Nil, "2026-03-05"),
			EntryVoided{EntryID: entryID(1), EntryType: TypePlacementStarted}}, PhaseEngagement, StatusActive},
		{"paused beside the phase", []Event{en, started(placementA, PlacementOrdinaryJob, uuid.Nil, "2026-03-05"),
			ParticipationPaused{Date: d("2026-04-01"), Reason: PauseHealth}}, PhaseOngoingSupport, StatusPaused},
		{"resumed", []Event{en, ParticipationPaused{Date: d("2026-04-01"), Reason: PauseHealth}, ParticipationResumed{Date: d("2026-04-08")}}, PhaseEngagement, StatusActive},
		{"exited beside the phase at exit", []Event{en, started(placementA, PlacementOrdinaryJob, uuid.Nil, "2026-03-05"), exited("2026-04-01")}, PhaseOngoingSupport, StatusExited},
		{"a new episode starts at engagement", []Event{en, goalSet(goalA, uuid.Nil, AreaWork, "2026-03-04"), started(placementA, PlacementOrdinaryJob, uuid.Nil, "2026-03-05"),
			exited("2026-04-01"), again}, PhaseEngagement, StatusActive},
	}
	for _, c := range cases {
		p := FoldParticipant(given(c.given...))
		if p.Phase() != c.phase || p.Status() != c.status {
			t.Errorf("%s: phase %s, status %s; want %s, %s", c.name, p.Phase(), p.Status(), c.phase, c.status)
		}
	}
	if b, _ := PhaseJobFinding.MarshalText(); string(b) != "job_finding" || int(PhaseJobFinding) != 3 {
		t.Error("phase names")
	}
}
