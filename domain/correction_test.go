package domain

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/google/uuid"
)

// correctCmd builds the body of a correction of entry n by replacement.
func correctCmd(t *testing.T, n int, replacement Event) CorrectEntryCommand {
	t.Helper()
	public, personal := splitPersonal(replacement)
	pub, err := json.Marshal(public)
	if err != nil {
		t.Fatal(err)
	}
	cmd := CorrectEntryCommand{EntryID: entryID(n), EntryType: replacement.EventType(), Reason: CorrectionWrongValue, Replacement: pub}
	if personal != nil {
		pers, _ := json.Marshal(personal)
		cmd.Personal = &CorrectEntryPersonal{Replacement: pers}
	}
	return cmd
}

func correct(t *testing.T, n int, replacement Event) func(Participant, []Recorded) ([]Event, error) {
	cmd := correctCmd(t, n, replacement)
	return func(_ Participant, h []Recorded) ([]Event, error) { return CorrectEntry(h, cmd, today) }
}

func void(n int) func(Participant, []Recorded) ([]Event, error) {
	return func(_ Participant, h []Recorded) ([]Event, error) {
		return VoidEntry(h, VoidEntryCommand{EntryID: entryID(n), Reason: VoidRecordedInError}, today)
	}
}

func TestFoldAppliesVoidsAndCorrections(t *testing.T) {
	en := enrolled(t)
	t.Run("a voided meeting is gone from state and still in the stream", func(t *testing.T) {
		h := given(en, meeting("2026-03-10"), meeting("2026-03-12"),
			EntryVoided{EntryID: entryID(1), EntryType: TypeMeetingHeld, Reason: VoidDuplicate})
		p := FoldParticipant(h)
		if len(p.Meetings) != 1 || p.Meetings[0].Date != d("2026-03-12") || p.Meetings[0].EventID != entryID(2) {
			t.Fatalf("meetings = %+v", p.Meetings)
		}
		if h[1].Event.(MeetingHeld).Date != d("2026-03-10") {
			t.Fatal("the voided meeting must stay in the stream")
		}
	})
	t.Run("a corrected score changes state", func(t *testing.T) {
		h := given(en, scored(TimepointBaseline, "2026-03-10", 3),
			EntryCorrected{EntryID: entryID(1), Reason: CorrectionTypingError, Replacement: scored(TimepointBaseline, "2026-03-10", 7)})
		p := FoldParticipant(h)
		if len(p.Scores) != 1 || p.Scores[0].Scores.Hope != 7 || p.Scores[0].EventID != entryID(1) {
			t.Fatalf("scores = %+v", p.Scores)
		}
	})
	t.Run("the latest correction wins", func(t *testing.T) {
		h := given(en, scored(TimepointBaseline, "2026-03-10", 3),
			EntryCorrected{EntryID: entryID(1), Replacement: scored(TimepointBaseline, "2026-03-10", 7)},
			EntryCorrected{EntryID: entryID(1), Replacement: scored(TimepointBaseline, "2026-03-10", 8)})
		if got := FoldParticipant(h).Scores[0].Scores.Hope; got != 8 {
			t.Fatalf("hope = %d, want 8", got)
		}
	})
	t.Run("a corrected then voided entry is gone", func(t *testing.T) {
		h := given(en, meeting("2026-03-10"),
			EntryCorrected{EntryID: entryID(1), Replacement: meeting("2026-03-11")},
			EntryVoided{EntryID: entryID(1), EntryType: TypeMeetingHeld})
		if n := len(FoldParticipant(h).Meetings); n != 0 {
			t.Fatalf("%d meetings, want 0", n)
		}
	})
	t.Run("a correction applies at the corrected entry's place", func(t *testing.T) {
		// The placement's start is corrected after it ended; it stays ended.
		h := given(en, started(placementA, PlacementOrdinaryJob, uuid.Nil, "2026-03-10"),
			PlacementEnded{PlacementID: placementA, EndedOn: d("2026-04-01"), Reason: EndResigned},
			EntryCorrected{EntryID: entryID(1), Replacement: started(placementA, PlacementOrdinaryJob, uuid.Nil, "2026-03-12")})
		pl, _ := FoldParticipant(h).Placement(placementA)
		if pl.StartedOn != d("2026-03-12") || pl.Open() {
			t.Fatalf("placement = %+v", pl)
		}
	})
	t.Run("corrections and voids that do not fit are ignored", func(t *testing.T) {
		h := given(en, meeting("2026-03-10"),
			EntryVoided{EntryID: entryID(1), EntryType: TypeIndicatorScored},                        // wrong type
			EntryVoided{EntryID: testID(0xee, 9), EntryType: TypeMeetingHeld},                       // unknown entry
			EntryCorrected{EntryID: entryID(1), Replacement: scored(TimepointEnd, "2026-03-10", 3)}, // wrong type
			EntryVoided{EntryID: entryID(2), EntryType: TypeEntryVoided},                            // a void of a void
			EntryCorrected{EntryID: entryID(5), Replacement: meeting("2026-03-11")},                 // points forward
			meeting("2026-03-12"))
		p := FoldParticipant(h)
		if len(p.Meetings) != 2 || p.Meetings[0].Date != d("2026-03-10") || len(p.Scores) != 0 {
			t.Fatalf("meetings = %+v, scores = %+v", p.Meetings, p.Scores)
		}
	})
}

func TestFoldParticipantState(t *testing.T) {
	en := enrolled(t)
	en.AddressProtection = true
	en.Personal.Address = ""
	h := given(en,
		CaseworkerAssigned{UserID: "u-js", Role: RoleJobSpecialist, Date: d("2026-03-02")},
		CaseworkerAssigned{UserID: "u-sw", Role: RoleSocialWorker, Date: d("2026-03-02")},
		CaseworkerUnassigned{UserID: "u-sw", Role: RoleSocialWorker, Date: d("2026-03-03")},
		consent(ConsentEmployerDisclosure, "2026-03-03"),
		consent(ConsentEvaluation, "2026-03-03"),
		ConsentWithdrawn{Scope: ConsentEvaluation, Date: d("2026-03-04")},
		goalSet(goalA, uuid.Nil, AreaWork, "2026-03-05"),
		goalSet(goalB, goalA, AreaLanguage, "2026-03-05"),
		GoalClosed{GoalID: goalB, Outcome: OutcomeAchieved, Date: d("2026-04-01")},
		started(placementA, PlacementWorkPractice, employerA, "2026-03-10"),
		PlacementEnded{PlacementID: placementA, EndedOn: d("2026-03-31"), Reason: EndConverted},
		started(placementB, PlacementOrdinaryJob, employerA, "2026-04-01"),
		IncomeSourceChanged{Date: d("2026-04-15"), IncomeSource: IncomeWork},
		ParticipationPaused{Date: d("2026-04-20"), Reason: PauseTravel},
		PlacementStarted{PlacementID: testID(0xb0, 9), Kind: PlacementVolunteerWork, StartedOn: d("2026-04-20"), HoursPercentage: 10}, // lenient: kept
		PlacementEnded{PlacementID: testID(0xb0, 8), EndedOn: d("2026-04-20"), Reason: EndOther},                                      // unknown: ignored
	)
	p := FoldParticipant(h)
	if p.Status() != StatusPaused || !p.Enrolled() || p.Exited() || !p.Paused() || !p.AddressProtection {
		t.Errorf("status = %s", p.Status())
	}
	if len(p.Team) != 1 || p.Team["u-js"] != RoleJobSpecialist {
		t.Errorf("team = %v", p.Team)
	}
	if !p.ConsentInForce(ConsentEmployerDisclosure, d("2026-03-03")) || p.ConsentInForce(ConsentEmployerDisclosure, d("2026-03-02")) ||
		p.ConsentInForce(ConsentEvaluation, today) || p.Consents[ConsentEvaluation].WithdrawnOn != d("2026-03-04") {
		t.Errorf("consents = %+v", p.Consents)
	}
	if subs := p.SubGoals(goalA); len(subs) != 1 || subs[0].ID != goalB || subs[0].Open() {
		t.Errorf("sub-goals = %+v", subs)
	}
	if g, _ := p.Goal(goalA); !g.Open() || g.Personal.Title != "Test goal" {
		t.Errorf("goal A = %+v", g)
	}
	open := p.OpenPlacements()
	if len(open) != 2 || open[0].ID != placementB {
		t.Errorf("open placements = %+v", open)
	}
	if pl, _ := p.Placement(placementA); pl.Open() || pl.EndReason != EndConverted {
		t.Errorf("placement A = %+v", pl)
	}
	if p.IncomeSourceOn(d("2026-04-14")) != IncomeSocialAssistance || p.IncomeSourceOn(d("2026-04-15")) != IncomeWork || len(p.IncomeSources) != 2 {
		t.Errorf("income sources = %+v", p.IncomeSources)
	}
	if ep, _ := p.OpenEpisode(); ep.Number != 1 || ep.EnrolmentID != entryID(0) || ep.LastEntryOn != d("2026-04-20") {
		t.Errorf("episode = %+v", ep)
	}
	if p.Personal == nil || p.Personal.Name != "Test Person" {
		t.Errorf("personal = %+v", p.Personal)
	}

	// Exit, erase, and enrol again: a new episode, the old one kept.
	more := append(h[:len(h):len(h)], given(
		exited("2026-04-30"),
		PersonalDataErased{Date: d("2026-05-02"), LegalBasis: ErasureObjection, RequestedBy: RequesterParticipant},
	)...)
	for i := range more {
		more[i].ID = entryID(i)
	}
	p = FoldParticipant(more)
	if p.Status() != StatusExited || p.Paused() || p.Pauses[0].To != d("2026-04-30") {
		t.Errorf("after exit: status %s, pauses %+v", p.Status(), p.Pauses)
	}
	if !p.Erased || p.Personal != nil || p.Goals[0].Personal != nil || len(p.Scores) != 0 || len(p.Goals) != 2 {
		t.Errorf("after erasure personal data remain: %+v", p)
	}
	if ep, _ := p.CurrentEpisode(); ep.Exit == nil || ep.Exit.Destination != DestinationOrdinaryJob {
		t.Errorf("exit = %+v", ep.Exit)
	}
}

func TestCorrectEntry(t *testing.T) {
	en := enrolled(t)
	m := meeting("2026-03-10")
	moved := meeting("2026-03-11")
	base := scored(TimepointBaseline, "2026-03-10", 3)
	mid := scored(TimepointMidway, "2026-04-10", 5)
	job := started(placementA, PlacementOrdinaryJob, uuid.Nil, "2026-03-10")
	endJob := PlacementEnded{PlacementID: placementA, EndedOn: d("2026-04-01"), Reason: EndResigned}
	erased := PersonalDataErased{Date: d("2026-04-20"), LegalBasis: ErasureObjection, RequestedBy: RequesterParticipant}
	reEnrolled := en
	reEnrolled.Episode = 5 // the client cannot renumber an episode
	reEnrolled.Office = "oslo"
	fixedEnrolment := en
	fixedEnrolment.Office = "oslo"
	run(t, []scenario{
		{name: "correct a meeting's date", given: []Event{en, m}, when: correct(t, 1, moved),
			then: []Event{EntryCorrected{EntryID: entryID(1), Reason: CorrectionWrongValue, Replacement: moved}}},
		{name: "correct after exit", given: []Event{en, m, exited("2026-04-01")}, when: correct(t, 1, moved)},
		{name: "a replacement in the future", given: []Event{en, m}, when: correct(t, 1, meeting("2026-05-16")),
			kind: "invalid", pointer: "/replacement/date", code: CodeFutureDate},
		{name: "a replacement before enrolment", given: []Event{en, m}, when: correct(t, 1, meeting("2026-03-01")),
			kind: "invalid", pointer: "/replacement/date", code: CodeDateOrder},
		{name: "a replacement after the exit", given: []Event{en, m, exited("2026-04-01")}, when: correct(t, 1, meeting("2026-04-02")),
			kind: "rejected", pointer: "/entry_id", code: CodeBreaksHistory},
		{name: "a replacement's personal part is validated", given: []Event{en, m}, when: correct(t, 1, MeetingHeld{Date: d("2026-03-10"), Kind: MeetingPhone, Personal: &MeetingPersonal{Minutes: long(10_001)}}),
			kind: "invalid", pointer: "/personal/replacement/minutes", code: CodeTooLong},
		{name: "a replacement off the scale", given: []Event{en, base}, when: correct(t, 1, scored(TimepointBaseline, "2026-03-10", 11)),
			kind: "invalid", pointer: "/replacement/scores/hope", code: CodeOutOfRange},
		{name: "correct the baseline itself", given: []Event{en, base}, when: correct(t, 1, scored(TimepointBaseline, "2026-03-10", 7))},
		{name: "turn a midway score into a second baseline", given: []Event{en, base, mid}, when: correct(t, 2, scored(TimepointBaseline, "2026-04-10", 5)),
			kind: "rejected", pointer: "/replacement/timepoint", code: CodeDuplicateScore},
		{name: "a start moved after the placement's end", given: []Event{en, job, endJob}, when: correct(t, 1, started(placementA, PlacementOrdinaryJob, uuid.Nil, "2026-04-02")),
			kind: "rejected", pointer: "/entry_id", code: CodeBreaksHistory},
		{name: "an enrolment keeps its episode number", given: []Event{en, m}, when: correct(t, 0, reEnrolled),
			then: []Event{EntryCorrected{EntryID: entryID(0), Reason: CorrectionWrongValue, Replacement: fixedEnrolment}}},
		{name: "an exit's open placements are recomputed", given: []Event{en, job, ParticipantExited{Date: d("2026-04-01"), Reason: ExitCompleted, Destination: DestinationUnknown}},
			when: correct(t, 2, exited("2026-04-01")),
			then: []Event{EntryCorrected{EntryID: entryID(2), Reason: CorrectionWrongValue, Replacement: ParticipantExited{Date: d("2026-04-01"), Reason: ExitCompleted, Destination: DestinationOrdinaryJob,
				OpenPlacements: []OpenPlacement{{PlacementID: placementA, Kind: PlacementOrdinaryJob}}}}}},
		{name: "entry type differs from the entry's", given: []Event{en, m}, when: correct(t, 1, base),
			kind: "rejected", pointer: "/entry_type", code: CodeEntryType},
		{name: "an entry not in the stream", given: []Event{en, m}, when: correct(t, 7, moved),
			kind: "rejected", pointer: "/entry_id", code: CodeUnknownEntry},
		{name: "a correction cannot be corrected", given: []Event{en, m, EntryCorrected{EntryID: entryID(1), Replacement: moved}}, when: correct(t, 2, moved),
			kind: "rejected", pointer: "/entry_id", code: CodeNotCorrectable},
		{name: "an erasure cannot be corrected", given: []Event{en, erased}, when: correct(t, 1, erased),
			kind: "invalid", pointer: "/entry_type", code: CodeNotAllowed},
		{name: "a voided entry cannot be corrected", given: []Event{en, m, EntryVoided{EntryID: entryID(1), EntryType: TypeMeetingHeld}}, when: correct(t, 1, moved),
			kind: "rejected", pointer: "/entry_id", code: CodeEntryVoided},
		{name: "after erasure, a correction without personal data", given: []Event{en, base, erased}, when: correct(t, 1, scored(TimepointBaseline, "2026-03-10", 7))},
		{name: "after erasure, a correction with personal data", given: []Event{en, m, erased}, when: correct(t, 1, moved),
			kind: "rejected", pointer: "/personal", code: CodeErased},
		{name: "no reason", given: []Event{en, m}, when: func(_ Participant, h []Recorded) ([]Event, error) {
			c := correctCmd(t, 1, moved)
			c.Reason = ""
			return CorrectEntry(h, c, today)
		}, kind: "invalid", pointer: "/reason", code: CodeRequired},
		{name: "no replacement", given: []Event{en, m}, when: func(_ Participant, h []Recorded) ([]Event, error) {
			c := correctCmd(t, 1, moved)
			c.Replacement = nil
			return CorrectEntry(h, c, today)
		}, kind: "invalid", pointer: "/replacement", code: CodeRequired},
		{name: "personal data inside the public replacement", given: []Event{en, m}, when: func(_ Participant, h []Recorded) ([]Event, error) {
			c := correctCmd(t, 1, moved)
			c.Replacement = json.RawMessage(`{"date":"2026-03-11","kind":"guidance","personal":{"minutes":"x"}}`)
			return CorrectEntry(h, c, today)
		}, kind: "invalid", pointer: "/replacement/personal", code: CodeUnknownField},
		{name: "a malformed replacement member", given: []Event{en, m}, when: func(_ Participant, h []Recorded) ([]Event, error) {
			c := correctCmd(t, 1, moved)
			c.Replacement = json.RawMessage(`{"date":"2026-02-30","kind":"guidance"}`)
			return CorrectEntry(h, c, today)
		}, kind: "invalid", pointer: "/replacement/date", code: CodeType},
	})
}

func TestVoidEntry(t *testing.T) {
	en := enrolled(t)
	m := meeting("2026-03-10")
	ok := consent(ConsentEmployerDisclosure, "2026-03-05")
	contact := EmployerContacted{EmployerID: employerA, Date: d("2026-03-10"), Purpose: PurposeFollowUp}
	base := scored(TimepointBaseline, "2026-03-10", 3)
	run(t, []scenario{
		{name: "void a meeting", given: []Event{en, m}, when: void(1),
			then: []Event{EntryVoided{EntryID: entryID(1), EntryType: TypeMeetingHeld, Reason: VoidRecordedInError}}},
		{name: "void a consent a later contact relies on", given: []Event{en, ok, contact}, when: void(1),
			kind: "rejected", pointer: "/entry_id", code: CodeBreaksHistory},
		{name: "void the contact, then the consent", given: []Event{en, ok, contact, EntryVoided{EntryID: entryID(2), EntryType: TypeEmployerContacted}}, when: void(1)},
		{name: "void an enrolment with entries after it", given: []Event{en, m}, when: void(0),
			kind: "rejected", pointer: "/entry_id", code: CodeBreaksHistory},
		{name: "void an entry twice", given: []Event{en, m, EntryVoided{EntryID: entryID(1), EntryType: TypeMeetingHeld}}, when: void(1),
			kind: "rejected", pointer: "/entry_id", code: CodeEntryVoided},
		{name: "void a void", given: []Event{en, m, EntryVoided{EntryID: entryID(1), EntryType: TypeMeetingHeld}}, when: void(2),
			kind: "rejected", pointer: "/entry_id", code: CodeNotCorrectable},
		{name: "void an unknown entry", given: []Event{en}, when: void(4), kind: "rejected", pointer: "/entry_id", code: CodeUnknownEntry},
		{name: "a new baseline after voiding the old one", given: []Event{en, base, EntryVoided{EntryID: entryID(1), EntryType: TypeIndicatorScored}},
			when: func(p Participant, _ []Recorded) ([]Event, error) {
				return RecordScore(p, RecordScoreCommand(scored(TimepointBaseline, "2026-03-12", 4)), today)
			}},
		{name: "void an exit, then record in the reopened episode", given: []Event{en, exited("2026-04-01"), EntryVoided{EntryID: entryID(1), EntryType: TypeParticipantExited}},
			when: recordMeeting(func(c *RecordMeetingCommand) { c.Date = d("2026-04-05") })},
		{name: "no reason", given: []Event{en, m}, when: func(_ Participant, h []Recorded) ([]Event, error) {
			return VoidEntry(h, VoidEntryCommand{EntryID: entryID(1)}, today)
		}, kind: "invalid", pointer: "/reason", code: CodeRequired},
		{name: "no entry id", given: []Event{en, m}, when: func(_ Participant, h []Recorded) ([]Event, error) {
			return VoidEntry(h, VoidEntryCommand{Reason: VoidDuplicate}, today)
		}, kind: "invalid", pointer: "/entry_id", code: CodeRequired},
	})
}

// A history without corrections or voids is folded as it stands; the
// result is what the fold through the bookkeeping of corrections gives,
// at every length of the history.
func TestFoldWithoutAmendmentsIsTheResolvedFold(t *testing.T) {
	goal, employer, placement := testID(0xa0, 1), testID(0xb0, 1), testID(0xc0, 1)
	h := given(enrolled(t), consent(ConsentProcessing, "2026-01-06"), goalSet(goal, uuid.Nil, AreaWork, "2026-01-07"),
		meeting("2026-01-08"), scored(TimepointBaseline, "2026-01-09", 4), started(placement, PlacementOrdinaryJob, employer, "2026-02-02"),
		meeting("2026-02-09"), exited("2026-03-02"))
	for n := range len(h) + 1 {
		if got, want := FoldParticipant(h[:n]), foldResolved(effective(h[:n])); !reflect.DeepEqual(got, want) {
			t.Fatalf("first %d events:\n got %+v\nwant %+v", n, got, want)
		}
	}
}
