package domain

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// scenario is one specification: given these entries, when this command,
// then these events (or, with an empty then, any accepted events) or this
// rejection.
type scenario struct {
	name  string
	given []Event
	when  func(p Participant, h []Recorded) ([]Event, error)
	then  []Event
	// kind is "invalid" or "rejected" when the command must fail.
	kind, pointer, code string
}

func run(t *testing.T, specs []scenario) {
	t.Helper()
	for _, s := range specs {
		t.Run(s.name, func(t *testing.T) {
			h := given(s.given...)
			got, err := s.when(FoldParticipant(h), h)
			noPersonalData(t, err)
			switch {
			case s.kind != "":
				wantErr(t, err, s.kind, s.pointer, s.code)
				if got != nil {
					t.Fatalf("events with an error: %v", got)
				}
			case s.then != nil:
				wantEvents(t, got, err, s.then...)
			case err != nil:
				t.Fatalf("want events, got %v", err)
			case len(got) == 0:
				t.Fatal("no events")
			}
		})
	}
}

// Command helpers: each takes edits to a valid command.

func enrol(t *testing.T, edit func(*EnrolCommand)) func(Participant, []Recorded) ([]Event, error) {
	cmd := enrolCmd(t)
	p := *cmd.Personal
	cmd.Personal = &p
	if edit != nil {
		edit(&cmd)
	}
	return func(s Participant, _ []Recorded) ([]Event, error) { return Enrol(s, cmd, today) }
}

func recordMeeting(edit func(*RecordMeetingCommand)) func(Participant, []Recorded) ([]Event, error) {
	cmd := RecordMeetingCommand(meeting("2026-03-10"))
	if edit != nil {
		edit(&cmd)
	}
	return func(s Participant, _ []Recorded) ([]Event, error) { return RecordMeeting(s, cmd, today) }
}

// syntheticDNumber is a synthetic D-number (day + 40, month + 80).
func syntheticDNumber(t *testing.T, birth string) string {
	b := d(birth)
	for indiv := 100; indiv < 500; indiv++ {
		base := fmt.Sprintf("%02d%02d%02d%03d", b.Day()+40, int(b.Month())+80, b.Year()%100, indiv)
		if s, ok := withCheckDigits(base); ok {
			return s
		}
	}
	t.Fatal("no D-number")
	return ""
}

func long(n int) string { return strings.Repeat("x", n) }

func TestEnrol(t *testing.T) {
	en := enrolled(t)
	secondEpisode := en
	secondEpisode.Episode, secondEpisode.EnrolledOn = 2, d("2026-05-01")
	run(t, []scenario{
		{name: "a first enrolment starts episode 1", when: enrol(t, nil), then: []Event{en}},
		{name: "enrolled today", when: enrol(t, func(c *EnrolCommand) { c.EnrolledOn = today })},
		{name: "enrolled tomorrow", when: enrol(t, func(c *EnrolCommand) { c.EnrolledOn = today.AddDays(1) }),
			kind: "invalid", pointer: "/enrolled_on", code: CodeFutureDate},
		{name: "no enrolment date", when: enrol(t, func(c *EnrolCommand) { c.EnrolledOn = Date{} }),
			kind: "invalid", pointer: "/enrolled_on", code: CodeRequired},
		{name: "one open enrolment at a time", given: []Event{en}, when: enrol(t, nil),
			kind: "rejected", pointer: "", code: CodeAlreadyEnrolled},
		{name: "a re-enrolment after exit starts episode 2", given: []Event{en, exited("2026-05-01")},
			when: enrol(t, func(c *EnrolCommand) { c.EnrolledOn = d("2026-05-01") }), then: []Event{secondEpisode}},
		{name: "a re-enrolment before the previous exit", given: []Event{en, exited("2026-05-01")},
			when: enrol(t, func(c *EnrolCommand) { c.EnrolledOn = d("2026-04-30") }),
			kind: "invalid", pointer: "/enrolled_on", code: CodeDateOrder},
		{name: "national id with a wrong check digit", when: enrol(t, func(c *EnrolCommand) {
			id := []byte(c.Personal.NationalID)
			id[10] = '0' + (id[10]-'0'+1)%10
			c.Personal.NationalID = string(id)
		}), kind: "invalid", pointer: "/personal/national_id", code: CodeCheckDigit},
		{name: "national id of 10 digits", when: enrol(t, func(c *EnrolCommand) { c.Personal.NationalID = c.Personal.NationalID[:10] }),
			kind: "invalid", pointer: "/personal/national_id", code: CodeFormat},
		{name: "a synthetic D-number", when: enrol(t, func(c *EnrolCommand) { c.Personal.NationalID = syntheticDNumber(t, "1990-05-17") })},
		{name: "no national id (some participants have none)", when: enrol(t, func(c *EnrolCommand) { c.Personal.NationalID = "" })},
		{name: "birth year that contradicts the national id", when: enrol(t, func(c *EnrolCommand) { c.Profile.BirthYear = 1991 }),
			kind: "invalid", pointer: "/profile/birth_year", code: CodeMismatch},
		{name: "no personal section", when: enrol(t, func(c *EnrolCommand) { c.Personal = nil }),
			kind: "invalid", pointer: "/personal/name", code: CodeRequired},
		{name: "blank name", when: enrol(t, func(c *EnrolCommand) { c.Personal.Name = "  " }),
			kind: "invalid", pointer: "/personal/name", code: CodeRequired},
		{name: "name of 200 characters", when: enrol(t, func(c *EnrolCommand) { c.Personal.Name = strings.Repeat("ø", 200) })},
		{name: "name of 201 characters", when: enrol(t, func(c *EnrolCommand) { c.Personal.Name = long(201) }),
			kind: "invalid", pointer: "/personal/name", code: CodeTooLong},
		{name: "name with a line break", when: enrol(t, func(c *EnrolCommand) { c.Personal.Name = "Test\nPerson" }),
			kind: "invalid", pointer: "/personal/name", code: CodeFormat},
		{name: "programme not a slug", when: enrol(t, func(c *EnrolCommand) { c.Programme = "Hope Bergen" }),
			kind: "invalid", pointer: "/programme", code: CodeFormat},
		{name: "no office", when: enrol(t, func(c *EnrolCommand) { c.Office = "" }),
			kind: "invalid", pointer: "/office", code: CodeRequired},
		{name: "referral source not listed", when: enrol(t, func(c *EnrolCommand) { c.ReferralSource = "police" }),
			kind: "invalid", pointer: "/referral_source", code: CodeNotAllowed},
		{name: "no gender", when: enrol(t, func(c *EnrolCommand) { c.Profile.Gender = "" }),
			kind: "invalid", pointer: "/profile/gender", code: CodeRequired},
		{name: "region of birth not listed", when: enrol(t, func(c *EnrolCommand) { c.Profile.RegionOfBirth = "eritrea" }),
			kind: "invalid", pointer: "/profile/region_of_birth", code: CodeNotAllowed},
		{name: "income source not listed", when: enrol(t, func(c *EnrolCommand) { c.Profile.IncomeSource = "salary" }),
			kind: "invalid", pointer: "/profile/income_source", code: CodeNotAllowed},
		{name: "CEFR level in capitals", when: enrol(t, func(c *EnrolCommand) { c.Profile.NorwegianLevel = "A2" }),
			kind: "invalid", pointer: "/profile/norwegian_level", code: CodeNotAllowed},
		{name: "education level missing", when: enrol(t, func(c *EnrolCommand) { c.Profile.EducationLevel = "" }),
			kind: "invalid", pointer: "/profile/education_level", code: CodeRequired},
		{name: "birth year 1899", when: enrol(t, func(c *EnrolCommand) { c.Profile.BirthYear = 1899; c.Personal.NationalID = "" }),
			kind: "invalid", pointer: "/profile/birth_year", code: CodeOutOfRange},
		{name: "birth year 1900", when: enrol(t, func(c *EnrolCommand) {
			c.Profile.BirthYear = 1900
			c.Personal.NationalID = ""
			c.Profile.YearsInNorway = nil
		})},
		{name: "born the year of enrolment", when: enrol(t, func(c *EnrolCommand) {
			c.Profile.BirthYear = 2026
			c.Personal.NationalID = ""
			c.Profile.YearsInNorway = nil
		})},
		{name: "born after the year of enrolment", when: enrol(t, func(c *EnrolCommand) { c.Profile.BirthYear = 2027; c.Personal.NationalID = "" }),
			kind: "invalid", pointer: "/profile/birth_year", code: CodeOutOfRange},
		{name: "years in Norway equal to age", when: enrol(t, func(c *EnrolCommand) { n := 36; c.Profile.YearsInNorway = &n })},
		{name: "years in Norway beyond age", when: enrol(t, func(c *EnrolCommand) { n := 37; c.Profile.YearsInNorway = &n }),
			kind: "invalid", pointer: "/profile/years_in_norway", code: CodeOutOfRange},
		{name: "negative years in Norway", when: enrol(t, func(c *EnrolCommand) { n := -1; c.Profile.YearsInNorway = &n }),
			kind: "invalid", pointer: "/profile/years_in_norway", code: CodeOutOfRange},
		{name: "20 children", when: enrol(t, func(c *EnrolCommand) { c.Profile.ChildrenToProvideFor = 20 })},
		{name: "21 children", when: enrol(t, func(c *EnrolCommand) { c.Profile.ChildrenToProvideFor = 21 }),
			kind: "invalid", pointer: "/profile/children_to_provide_for", code: CodeOutOfRange},
		{name: "address protection with an address", when: enrol(t, func(c *EnrolCommand) { c.AddressProtection = true }),
			kind: "invalid", pointer: "/personal/address", code: CodeAddressProtect},
		{name: "address protection without an address", when: enrol(t, func(c *EnrolCommand) { c.AddressProtection = true; c.Personal.Address = "" })},
		{name: "address of 501 characters", when: enrol(t, func(c *EnrolCommand) { c.Personal.Address = long(501) }),
			kind: "invalid", pointer: "/personal/address", code: CodeTooLong},
		{name: "phone with letters", when: enrol(t, func(c *EnrolCommand) { c.Personal.Phone = "call me" }),
			kind: "invalid", pointer: "/personal/phone", code: CodeFormat},
		{name: "email without @", when: enrol(t, func(c *EnrolCommand) { c.Personal.Email = "test.example.org" }),
			kind: "invalid", pointer: "/personal/email", code: CodeFormat},
		{name: "language as a name, not a tag", when: enrol(t, func(c *EnrolCommand) { c.Personal.PreferredLanguage = "Tigrinya" }),
			kind: "invalid", pointer: "/personal/preferred_language", code: CodeFormat},
		{name: "language tag with region", when: enrol(t, func(c *EnrolCommand) { c.Personal.PreferredLanguage = "nb-NO" })},
		{name: "re-enrolment after erasure with personal data", given: []Event{en, exited("2026-04-01"), PersonalDataErased{Date: d("2026-04-02"), LegalBasis: ErasureRetentionExpired, RequestedBy: RequesterController}},
			when: enrol(t, func(c *EnrolCommand) { c.EnrolledOn = d("2026-05-01") }), kind: "rejected", pointer: "/personal", code: CodeErased},
	})
}

func TestTeam(t *testing.T) {
	en := enrolled(t)
	assign := func(user string, role CaseworkerRole, on string) func(Participant, []Recorded) ([]Event, error) {
		return func(p Participant, _ []Recorded) ([]Event, error) {
			return AssignCaseworker(p, AssignCaseworkerCommand{UserID: user, Role: role, Date: d(on)}, today)
		}
	}
	unassign := func(user, on string) func(Participant, []Recorded) ([]Event, error) {
		return func(p Participant, _ []Recorded) ([]Event, error) {
			return UnassignCaseworker(p, UnassignCaseworkerCommand{UserID: user, Date: d(on)}, today)
		}
	}
	js := CaseworkerAssigned{UserID: "u-js", Role: RoleJobSpecialist, Date: d("2026-03-02")}
	run(t, []scenario{
		{name: "assign a job specialist", given: []Event{en}, when: assign("u-js", RoleJobSpecialist, "2026-03-02"), then: []Event{js}},
		{name: "assign the same user twice", given: []Event{en, js}, when: assign("u-js", RoleSocialWorker, "2026-03-03"),
			kind: "rejected", pointer: "/user_id", code: CodeAlreadyAssigned},
		{name: "role not listed", given: []Event{en}, when: assign("u-js", "boss", "2026-03-02"),
			kind: "invalid", pointer: "/role", code: CodeNotAllowed},
		{name: "user id of 101 characters", given: []Event{en}, when: assign(long(101), RoleCoordinator, "2026-03-02"),
			kind: "invalid", pointer: "/user_id", code: CodeTooLong},
		{name: "before enrolment", given: []Event{en}, when: assign("u-js", RoleJobSpecialist, "2026-03-01"),
			kind: "invalid", pointer: "/date", code: CodeDateOrder},
		{name: "in the future", given: []Event{en}, when: assign("u-js", RoleJobSpecialist, "2026-05-16"),
			kind: "invalid", pointer: "/date", code: CodeFutureDate},
		{name: "never enrolled", when: assign("u-js", RoleJobSpecialist, "2026-03-02"),
			kind: "rejected", pointer: "", code: CodeNotEnrolled},
		{name: "after exit", given: []Event{en, exited("2026-04-01")}, when: assign("u-js", RoleJobSpecialist, "2026-04-02"),
			kind: "rejected", pointer: "", code: CodeExited},
		{name: "unassign takes the role from the team", given: []Event{en, js}, when: unassign("u-js", "2026-03-05"),
			then: []Event{CaseworkerUnassigned{UserID: "u-js", Role: RoleJobSpecialist, Date: d("2026-03-05")}}},
		{name: "unassign someone not in the team", given: []Event{en, js}, when: unassign("u-sw", "2026-03-05"),
			kind: "rejected", pointer: "/user_id", code: CodeNotAssigned},
		{name: "unassign after exit, to take access away", given: []Event{en, js, exited("2026-04-01")}, when: unassign("u-js", "2026-04-05")},
	})
}

func TestConsent(t *testing.T) {
	en := enrolled(t)
	give := func(scope ConsentScope, on string) func(Participant, []Recorded) ([]Event, error) {
		return func(p Participant, _ []Recorded) ([]Event, error) {
			return GiveConsent(p, GiveConsentCommand{Scope: scope, Date: d(on)}, today)
		}
	}
	withdraw := func(scope ConsentScope, on string) func(Participant, []Recorded) ([]Event, error) {
		return func(p Participant, _ []Recorded) ([]Event, error) {
			return WithdrawConsent(p, WithdrawConsentCommand{Scope: scope, Date: d(on)}, today)
		}
	}
	given := consent(ConsentEmployerDisclosure, "2026-03-05")
	run(t, []scenario{
		{name: "give consent", given: []Event{en}, when: give(ConsentEmployerDisclosure, "2026-03-05"), then: []Event{given}},
		{name: "give consent already in force", given: []Event{en, given}, when: give(ConsentEmployerDisclosure, "2026-03-06"),
			kind: "rejected", pointer: "/scope", code: CodeConsentGiven},
		{name: "give again after withdrawal", given: []Event{en, given, ConsentWithdrawn{Scope: ConsentEmployerDisclosure, Date: d("2026-03-07")}},
			when: give(ConsentEmployerDisclosure, "2026-03-08")},
		{name: "scope not listed", given: []Event{en}, when: give("everything", "2026-03-05"),
			kind: "invalid", pointer: "/scope", code: CodeNotAllowed},
		{name: "withdraw on the day given", given: []Event{en, given}, when: withdraw(ConsentEmployerDisclosure, "2026-03-05")},
		{name: "withdraw before it was given", given: []Event{en, given}, when: withdraw(ConsentEmployerDisclosure, "2026-03-04"),
			kind: "invalid", pointer: "/date", code: CodeDateOrder},
		{name: "withdraw a consent never given", given: []Event{en}, when: withdraw(ConsentEvaluation, "2026-03-05"),
			kind: "rejected", pointer: "/scope", code: CodeConsentNotGiven},
		{name: "withdraw after exit", given: []Event{en, given, exited("2026-04-01")}, when: withdraw(ConsentEmployerDisclosure, "2026-05-01")},
	})
}

func TestGoals(t *testing.T) {
	en := enrolled(t)
	set := func(edit func(*SetGoalCommand)) func(Participant, []Recorded) ([]Event, error) {
		cmd := SetGoalCommand(goalSet(goalA, uuid.Nil, AreaWork, "2026-03-05"))
		if edit != nil {
			edit(&cmd)
		}
		return func(p Participant, _ []Recorded) ([]Event, error) { return SetGoal(p, cmd, today) }
	}
	closeGoal := func(edit func(*CloseGoalCommand)) func(Participant, []Recorded) ([]Event, error) {
		cmd := CloseGoalCommand{GoalID: goalA, Outcome: OutcomeAchieved, Date: d("2026-04-01")}
		if edit != nil {
			edit(&cmd)
		}
		return func(p Participant, _ []Recorded) ([]Event, error) { return CloseGoal(p, cmd, today) }
	}
	a := goalSet(goalA, uuid.Nil, AreaWork, "2026-03-05")
	run(t, []scenario{
		{name: "set a goal", given: []Event{en}, when: set(nil), then: []Event{a}},
		{name: "set a sub-goal under an existing goal", given: []Event{en, a}, when: set(func(c *SetGoalCommand) { c.GoalID, c.ParentGoalID = goalB, goalA }),
			then: []Event{goalSet(goalB, goalA, AreaWork, "2026-03-05")}},
		{name: "a sub-goal's parent must exist", given: []Event{en}, when: set(func(c *SetGoalCommand) { c.GoalID, c.ParentGoalID = goalB, goalA }),
			kind: "rejected", pointer: "/parent_goal_id", code: CodeUnknownGoal},
		{name: "a goal cannot be its own parent", given: []Event{en}, when: set(func(c *SetGoalCommand) { c.ParentGoalID = goalA }),
			kind: "invalid", pointer: "/parent_goal_id", code: CodeMismatch},
		{name: "goal id taken", given: []Event{en, a}, when: set(nil), kind: "rejected", pointer: "/goal_id", code: CodeGoalExists},
		{name: "no goal id", given: []Event{en}, when: set(func(c *SetGoalCommand) { c.GoalID = uuid.Nil }),
			kind: "invalid", pointer: "/goal_id", code: CodeRequired},
		{name: "area not listed", given: []Event{en}, when: set(func(c *SetGoalCommand) { c.Area = "career" }),
			kind: "invalid", pointer: "/area", code: CodeNotAllowed},
		{name: "no title", given: []Event{en}, when: set(func(c *SetGoalCommand) { c.Personal = nil }),
			kind: "invalid", pointer: "/personal/title", code: CodeRequired},
		{name: "title of 500 characters", given: []Event{en}, when: set(func(c *SetGoalCommand) { c.Personal = &GoalPersonal{Title: long(500)} })},
		{name: "title of 501 characters", given: []Event{en}, when: set(func(c *SetGoalCommand) { c.Personal = &GoalPersonal{Title: long(501)} }),
			kind: "invalid", pointer: "/personal/title", code: CodeTooLong},
		{name: "target date in the future", given: []Event{en}, when: set(func(c *SetGoalCommand) { c.TargetDate = d("2027-01-01") })},
		{name: "target date before the goal", given: []Event{en}, when: set(func(c *SetGoalCommand) { c.TargetDate = d("2026-03-04") }),
			kind: "invalid", pointer: "/target_date", code: CodeDateOrder},
		{name: "close a goal", given: []Event{en, a}, when: closeGoal(nil), then: []Event{GoalClosed{GoalID: goalA, Outcome: OutcomeAchieved, Date: d("2026-04-01")}}},
		{name: "close an unknown goal", given: []Event{en}, when: closeGoal(nil), kind: "rejected", pointer: "/goal_id", code: CodeUnknownGoal},
		{name: "close a closed goal", given: []Event{en, a, GoalClosed{GoalID: goalA, Outcome: OutcomeRevised, Date: d("2026-03-20")}}, when: closeGoal(nil),
			kind: "rejected", pointer: "/goal_id", code: CodeGoalClosed},
		{name: "close before it was set", given: []Event{en, a}, when: closeGoal(func(c *CloseGoalCommand) { c.Date = d("2026-03-04") }),
			kind: "invalid", pointer: "/date", code: CodeDateOrder},
		{name: "close on the day it was set", given: []Event{en, a}, when: closeGoal(func(c *CloseGoalCommand) { c.Date = d("2026-03-05") })},
		{name: "outcome not listed", given: []Event{en, a}, when: closeGoal(func(c *CloseGoalCommand) { c.Outcome = "done" }),
			kind: "invalid", pointer: "/outcome", code: CodeNotAllowed},
	})
}

func TestRecordMeeting(t *testing.T) {
	en := enrolled(t)
	attendees := make([]string, 51)
	for i := range attendees {
		attendees[i] = "Test Person"
	}
	run(t, []scenario{
		{name: "record a meeting", given: []Event{en}, when: recordMeeting(nil), then: []Event{meeting("2026-03-10")}},
		{name: "on the day of enrolment", given: []Event{en}, when: recordMeeting(func(c *RecordMeetingCommand) { c.Date = d("2026-03-02") })},
		{name: "the day before enrolment", given: []Event{en}, when: recordMeeting(func(c *RecordMeetingCommand) { c.Date = d("2026-03-01") }),
			kind: "invalid", pointer: "/date", code: CodeDateOrder},
		{name: "today", given: []Event{en}, when: recordMeeting(func(c *RecordMeetingCommand) { c.Date = today })},
		{name: "tomorrow", given: []Event{en}, when: recordMeeting(func(c *RecordMeetingCommand) { c.Date = today.AddDays(1) }),
			kind: "invalid", pointer: "/date", code: CodeFutureDate},
		{name: "kind not listed", given: []Event{en}, when: recordMeeting(func(c *RecordMeetingCommand) { c.Kind = "party" }),
			kind: "invalid", pointer: "/kind", code: CodeNotAllowed},
		{name: "next meeting in the future", given: []Event{en}, when: recordMeeting(func(c *RecordMeetingCommand) { c.NextMeetingOn = d("2026-06-01") })},
		{name: "next meeting before this one", given: []Event{en}, when: recordMeeting(func(c *RecordMeetingCommand) { c.NextMeetingOn = d("2026-03-09") }),
			kind: "invalid", pointer: "/next_meeting_on", code: CodeDateOrder},
		{name: "51 attendees", given: []Event{en}, when: recordMeeting(func(c *RecordMeetingCommand) { c.Personal = &MeetingPersonal{Attendees: attendees} }),
			kind: "invalid", pointer: "/personal/attendees", code: CodeTooLong},
		{name: "a blank attendee", given: []Event{en}, when: recordMeeting(func(c *RecordMeetingCommand) { c.Personal = &MeetingPersonal{Attendees: []string{"Test Person", " "}} }),
			kind: "invalid", pointer: "/personal/attendees/1", code: CodeRequired},
		{name: "minutes of 10,000 characters", given: []Event{en}, when: recordMeeting(func(c *RecordMeetingCommand) { c.Personal = &MeetingPersonal{Minutes: long(10_000)} })},
		{name: "minutes of 10,001 characters", given: []Event{en}, when: recordMeeting(func(c *RecordMeetingCommand) { c.Personal = &MeetingPersonal{Minutes: long(10_001)} }),
			kind: "invalid", pointer: "/personal/minutes", code: CodeTooLong},
		{name: "a note with line breaks", given: []Event{en}, when: recordMeeting(func(c *RecordMeetingCommand) { c.Personal = &MeetingPersonal{Note: "one\ntwo\r\n\tthree"} })},
		{name: "a note with a NUL", given: []Event{en}, when: recordMeeting(func(c *RecordMeetingCommand) { c.Personal = &MeetingPersonal{Note: "one\x00two"} }),
			kind: "invalid", pointer: "/personal/note", code: CodeFormat},
		{name: "never enrolled", when: recordMeeting(nil), kind: "rejected", pointer: "", code: CodeNotEnrolled},
		{name: "after exit", given: []Event{en, exited("2026-03-20")}, when: recordMeeting(nil), kind: "rejected", pointer: "", code: CodeExited},
	})
}

func TestRecordScore(t *testing.T) {
	en := enrolled(t)
	score := func(tp Timepoint, edit func(*RecordScoreCommand)) func(Participant, []Recorded) ([]Event, error) {
		cmd := RecordScoreCommand(scored(tp, "2026-03-10", 5))
		if edit != nil {
			edit(&cmd)
		}
		return func(p Participant, _ []Recorded) ([]Event, error) { return RecordScore(p, cmd, today) }
	}
	base := scored(TimepointBaseline, "2026-03-03", 3)
	end := scored(TimepointEnd, "2026-04-03", 6)
	run(t, []scenario{
		{name: "a baseline", given: []Event{en}, when: score(TimepointBaseline, nil), then: []Event{scored(TimepointBaseline, "2026-03-10", 5)}},
		{name: "a second baseline in the episode", given: []Event{en, base}, when: score(TimepointBaseline, nil),
			kind: "rejected", pointer: "/timepoint", code: CodeDuplicateScore},
		{name: "a second end in the episode", given: []Event{en, base, end}, when: score(TimepointEnd, nil),
			kind: "rejected", pointer: "/timepoint", code: CodeDuplicateScore},
		{name: "midway twice", given: []Event{en, base, scored(TimepointMidway, "2026-03-05", 4)}, when: score(TimepointMidway, nil)},
		{name: "follow-up twice", given: []Event{en, base, scored(TimepointFollowUp, "2026-03-05", 4)}, when: score(TimepointFollowUp, nil)},
		{name: "a baseline in a new episode", given: []Event{en, base, exited("2026-03-05"), func() Event { e := en; e.Episode, e.EnrolledOn = 2, d("2026-03-06"); return e }()},
			when: score(TimepointBaseline, nil)},
		{name: "scores at the scale's ends", given: []Event{en}, when: score(TimepointBaseline, func(c *RecordScoreCommand) { c.Scores = Scores{1, 10, 1, 10} })},
		{name: "hope 0", given: []Event{en}, when: score(TimepointBaseline, func(c *RecordScoreCommand) { c.Scores.Hope = 0 }),
			kind: "invalid", pointer: "/scores/hope", code: CodeOutOfRange},
		{name: "well-being 11", given: []Event{en}, when: score(TimepointBaseline, func(c *RecordScoreCommand) { c.Scores.WellBeing = 11 }),
			kind: "invalid", pointer: "/scores/well_being", code: CodeOutOfRange},
		{name: "network missing", given: []Event{en}, when: score(TimepointBaseline, func(c *RecordScoreCommand) { c.Scores.Network = 0 }),
			kind: "invalid", pointer: "/scores/network", code: CodeOutOfRange},
		{name: "work attachment -1", given: []Event{en}, when: score(TimepointBaseline, func(c *RecordScoreCommand) { c.Scores.WorkAttachment = -1 }),
			kind: "invalid", pointer: "/scores/work_attachment", code: CodeOutOfRange},
		{name: "unknown instrument", given: []Event{en}, when: score(TimepointBaseline, func(c *RecordScoreCommand) { c.Instrument = "happiness" }),
			kind: "invalid", pointer: "/instrument", code: CodeNotAllowed},
		{name: "unknown instrument version", given: []Event{en}, when: score(TimepointBaseline, func(c *RecordScoreCommand) { c.InstrumentVersion = 2 }),
			kind: "invalid", pointer: "/instrument_version", code: CodeNotAllowed},
		{name: "timepoint not listed", given: []Event{en}, when: score("start", nil),
			kind: "invalid", pointer: "/timepoint", code: CodeNotAllowed},
	})
}

func TestEmployerDisclosure(t *testing.T) {
	en := enrolled(t)
	contact := func(on string) func(Participant, []Recorded) ([]Event, error) {
		return func(p Participant, _ []Recorded) ([]Event, error) {
			return RecordEmployerContact(p, RecordEmployerContactCommand{EmployerID: employerA, Date: d(on), Purpose: PurposePresentCandidate}, today)
		}
	}
	start := func(employer uuid.UUID, on string) func(Participant, []Recorded) ([]Event, error) {
		return func(p Participant, _ []Recorded) ([]Event, error) {
			return StartPlacement(p, StartPlacementCommand(started(placementA, PlacementWorkPractice, employer, on)), today)
		}
	}
	ok := consent(ConsentEmployerDisclosure, "2026-03-05")
	withdrawn := ConsentWithdrawn{Scope: ConsentEmployerDisclosure, Date: d("2026-03-20")}
	run(t, []scenario{
		{name: "contact with consent", given: []Event{en, ok}, when: contact("2026-03-10"),
			then: []Event{EmployerContacted{EmployerID: employerA, Date: d("2026-03-10"), Purpose: PurposePresentCandidate}}},
		{name: "contact on the day consent was given", given: []Event{en, ok}, when: contact("2026-03-05")},
		{name: "contact the day before consent was given", given: []Event{en, ok}, when: contact("2026-03-04"),
			kind: "rejected", pointer: "/employer_id", code: CodeNoEmployerConsent},
		{name: "contact without consent", given: []Event{en}, when: contact("2026-03-10"),
			kind: "rejected", pointer: "/employer_id", code: CodeNoEmployerConsent},
		{name: "contact with another scope only", given: []Event{en, consent(ConsentProcessing, "2026-03-02")}, when: contact("2026-03-10"),
			kind: "rejected", pointer: "/employer_id", code: CodeNoEmployerConsent},
		{name: "contact after withdrawal", given: []Event{en, ok, withdrawn}, when: contact("2026-03-10"),
			kind: "rejected", pointer: "/employer_id", code: CodeNoEmployerConsent},
		{name: "placement with an employer and consent", given: []Event{en, ok}, when: start(employerA, "2026-03-10")},
		{name: "placement with an employer, no consent", given: []Event{en}, when: start(employerA, "2026-03-10"),
			kind: "rejected", pointer: "/employer_id", code: CodeNoEmployerConsent},
		{name: "placement with an employer after withdrawal", given: []Event{en, ok, withdrawn}, when: start(employerA, "2026-03-21"),
			kind: "rejected", pointer: "/employer_id", code: CodeNoEmployerConsent},
		{name: "placement without an employer needs no consent", given: []Event{en}, when: start(uuid.Nil, "2026-03-10")},
		{name: "contact without an employer id", given: []Event{en, ok}, when: func(p Participant, _ []Recorded) ([]Event, error) {
			return RecordEmployerContact(p, RecordEmployerContactCommand{Date: d("2026-03-10"), Purpose: PurposeFollowUp}, today)
		}, kind: "invalid", pointer: "/employer_id", code: CodeRequired},
		{name: "purpose not listed", given: []Event{en, ok}, when: func(p Participant, _ []Recorded) ([]Event, error) {
			return RecordEmployerContact(p, RecordEmployerContactCommand{EmployerID: employerA, Date: d("2026-03-10"), Purpose: "chat"}, today)
		}, kind: "invalid", pointer: "/purpose", code: CodeNotAllowed},
	})
}

func TestPlacements(t *testing.T) {
	en := enrolled(t)
	start := func(edit func(*StartPlacementCommand)) func(Participant, []Recorded) ([]Event, error) {
		cmd := StartPlacementCommand(started(placementA, PlacementOrdinaryJob, uuid.Nil, "2026-03-10"))
		if edit != nil {
			edit(&cmd)
		}
		return func(p Participant, _ []Recorded) ([]Event, error) { return StartPlacement(p, cmd, today) }
	}
	change := func(on string, hours int) func(Participant, []Recorded) ([]Event, error) {
		return func(p Participant, _ []Recorded) ([]Event, error) {
			return ChangePlacement(p, ChangePlacementCommand{PlacementID: placementA, Date: d(on), HoursPercentage: hours}, today)
		}
	}
	end := func(on string) func(Participant, []Recorded) ([]Event, error) {
		return func(p Participant, _ []Recorded) ([]Event, error) {
			return EndPlacement(p, EndPlacementCommand{PlacementID: placementA, EndedOn: d(on), Reason: EndContractEnded}, today)
		}
	}
	job := started(placementA, PlacementOrdinaryJob, uuid.Nil, "2026-03-10")
	changed := PlacementChanged{PlacementID: placementA, Date: d("2026-04-01"), HoursPercentage: 80}
	ended := PlacementEnded{PlacementID: placementA, EndedOn: d("2026-04-10"), Reason: EndResigned}
	episode2 := en
	episode2.Episode, episode2.EnrolledOn = 2, d("2026-04-02")
	run(t, []scenario{
		{name: "start a job", given: []Event{en}, when: start(nil), then: []Event{job}},
		{name: "1 %", given: []Event{en}, when: start(func(c *StartPlacementCommand) { c.HoursPercentage = 1 })},
		{name: "100 %", given: []Event{en}, when: start(func(c *StartPlacementCommand) { c.HoursPercentage = 100 })},
		{name: "0 %", given: []Event{en}, when: start(func(c *StartPlacementCommand) { c.HoursPercentage = 0 }),
			kind: "invalid", pointer: "/hours_percentage", code: CodeOutOfRange},
		{name: "101 %", given: []Event{en}, when: start(func(c *StartPlacementCommand) { c.HoursPercentage = 101 }),
			kind: "invalid", pointer: "/hours_percentage", code: CodeOutOfRange},
		{name: "no contract (education)", given: []Event{en}, when: start(func(c *StartPlacementCommand) { c.Kind, c.Contract = PlacementEducation, "" })},
		{name: "contract not listed", given: []Event{en}, when: start(func(c *StartPlacementCommand) { c.Contract = "zero_hours" }),
			kind: "invalid", pointer: "/contract", code: CodeNotAllowed},
		{name: "kind not listed", given: []Event{en}, when: start(func(c *StartPlacementCommand) { c.Kind = "internship" }),
			kind: "invalid", pointer: "/kind", code: CodeNotAllowed},
		{name: "placement id taken", given: []Event{en, job}, when: start(nil), kind: "rejected", pointer: "/placement_id", code: CodePlacementExists},
		{name: "started before enrolment", given: []Event{en}, when: start(func(c *StartPlacementCommand) { c.StartedOn = d("2026-03-01") }),
			kind: "invalid", pointer: "/started_on", code: CodeDateOrder},
		{name: "change an open placement", given: []Event{en, job}, when: change("2026-04-01", 80), then: []Event{changed}},
		{name: "change on the start date", given: []Event{en, job}, when: change("2026-03-10", 80)},
		{name: "change before the start", given: []Event{en, job}, when: change("2026-03-09", 80),
			kind: "invalid", pointer: "/date", code: CodeDateOrder},
		{name: "change before the latest change", given: []Event{en, job, changed}, when: change("2026-03-31", 70),
			kind: "invalid", pointer: "/date", code: CodeDateOrder},
		{name: "change to 101 %", given: []Event{en, job}, when: change("2026-04-01", 101),
			kind: "invalid", pointer: "/hours_percentage", code: CodeOutOfRange},
		{name: "change an unknown placement", given: []Event{en}, when: change("2026-04-01", 80),
			kind: "rejected", pointer: "/placement_id", code: CodeUnknownPlacement},
		{name: "change an ended placement", given: []Event{en, job, ended}, when: change("2026-04-11", 80),
			kind: "rejected", pointer: "/placement_id", code: CodePlacementNotOpen},
		{name: "end an open placement", given: []Event{en, job}, when: end("2026-04-10"),
			then: []Event{PlacementEnded{PlacementID: placementA, EndedOn: d("2026-04-10"), Reason: EndContractEnded}}},
		{name: "end on the start date", given: []Event{en, job}, when: end("2026-03-10")},
		{name: "end before the start", given: []Event{en, job}, when: end("2026-03-09"),
			kind: "invalid", pointer: "/ended_on", code: CodeDateOrder},
		{name: "end before the latest change", given: []Event{en, job, changed}, when: end("2026-03-31"),
			kind: "invalid", pointer: "/ended_on", code: CodeDateOrder},
		{name: "end in the future", given: []Event{en, job}, when: end("2026-05-16"),
			kind: "invalid", pointer: "/ended_on", code: CodeFutureDate},
		{name: "end twice", given: []Event{en, job, ended}, when: end("2026-04-11"),
			kind: "rejected", pointer: "/placement_id", code: CodePlacementNotOpen},
		{name: "end a placement left open at a previous exit", given: []Event{en, job, exited("2026-04-01"), episode2}, when: end("2026-04-10"),
			kind: "rejected", pointer: "/placement_id", code: CodePlacementNotOpen},
		{name: "reason not listed", given: []Event{en, job}, when: func(p Participant, _ []Recorded) ([]Event, error) {
			return EndPlacement(p, EndPlacementCommand{PlacementID: placementA, EndedOn: d("2026-04-10"), Reason: "bored"}, today)
		}, kind: "invalid", pointer: "/reason", code: CodeNotAllowed},
	})
}

func TestPlacementPlannedEnd(t *testing.T) {
	en := enrolled(t)
	start := func(plannedEnd string) func(Participant, []Recorded) ([]Event, error) {
		cmd := StartPlacementCommand(started(placementA, PlacementWorkPractice, uuid.Nil, "2026-03-10"))
		if plannedEnd != "" {
			cmd.PlannedEnd = d(plannedEnd)
		}
		return func(p Participant, _ []Recorded) ([]Event, error) { return StartPlacement(p, cmd, today) }
	}
	change := func(on, plannedEnd string) func(Participant, []Recorded) ([]Event, error) {
		cmd := ChangePlacementCommand{PlacementID: placementA, Date: d(on), HoursPercentage: 80}
		if plannedEnd != "" {
			cmd.PlannedEnd = d(plannedEnd)
		}
		return func(p Participant, _ []Recorded) ([]Event, error) { return ChangePlacement(p, cmd, today) }
	}
	job := started(placementA, PlacementWorkPractice, uuid.Nil, "2026-03-10")
	withEnd := job
	withEnd.PlannedEnd = d("2026-09-10")
	run(t, []scenario{
		{name: "no planned end", given: []Event{en}, when: start(""), then: []Event{job}},
		{name: "a planned end in the future", given: []Event{en}, when: start("2026-09-10"), then: []Event{withEnd}},
		{name: "a planned end on the start date", given: []Event{en}, when: start("2026-03-10")},
		{name: "a planned end already passed", given: []Event{en}, when: start("2026-04-30")},
		{name: "a planned end the day before the start", given: []Event{en}, when: start("2026-03-09"),
			kind: "invalid", pointer: "/planned_end", code: CodeDateOrder},
		{name: "a change sets a planned end", given: []Event{en, job}, when: change("2026-04-01", "2026-06-30"),
			then: []Event{PlacementChanged{PlacementID: placementA, Date: d("2026-04-01"), HoursPercentage: 80, PlannedEnd: d("2026-06-30")}}},
		{name: "a change's planned end on the change's date", given: []Event{en, job}, when: change("2026-04-01", "2026-04-01")},
		{name: "a change's planned end before the change", given: []Event{en, job}, when: change("2026-04-01", "2026-03-31"),
			kind: "invalid", pointer: "/planned_end", code: CodeDateOrder},
		{name: "a change before the start with a planned end after it", given: []Event{en, job}, when: change("2026-03-09", "2026-06-30"),
			kind: "invalid", pointer: "/date", code: CodeDateOrder},
		{name: "correct a start's planned end", given: []Event{en, job}, when: correct(t, 1, withEnd),
			then: []Event{EntryCorrected{EntryID: entryID(1), Reason: CorrectionWrongValue, Replacement: withEnd}}},
		{name: "correct a start to a planned end before it", given: []Event{en, job}, when: correct(t, 1, func() PlacementStarted {
			bad := job
			bad.PlannedEnd = d("2026-03-01")
			return bad
		}()), kind: "invalid", pointer: "/replacement/planned_end", code: CodeDateOrder},
		{name: "correct a change's planned end", given: []Event{en, job, PlacementChanged{PlacementID: placementA, Date: d("2026-04-01"), HoursPercentage: 80}},
			when: correct(t, 2, PlacementChanged{PlacementID: placementA, Date: d("2026-04-01"), HoursPercentage: 80, PlannedEnd: d("2026-07-01")})},
	})
}

func TestIncomePauseExitErase(t *testing.T) {
	en := enrolled(t)
	pause := func(on string) func(Participant, []Recorded) ([]Event, error) {
		return func(p Participant, _ []Recorded) ([]Event, error) {
			return PauseParticipation(p, PauseParticipationCommand{Date: d(on), Reason: PauseHealth}, today)
		}
	}
	resume := func(on string) func(Participant, []Recorded) ([]Event, error) {
		return func(p Participant, _ []Recorded) ([]Event, error) {
			return ResumeParticipation(p, ResumeParticipationCommand{Date: d(on)}, today)
		}
	}
	exit := func(on string) func(Participant, []Recorded) ([]Event, error) {
		return func(p Participant, _ []Recorded) ([]Event, error) {
			return Exit(p, ExitCommand{Date: d(on), Reason: ExitCompleted, Destination: DestinationOrdinaryJob}, today)
		}
	}
	erase := func(on string) func(Participant, []Recorded) ([]Event, error) {
		return func(p Participant, _ []Recorded) ([]Event, error) {
			return ErasePersonalData(p, ErasePersonalDataCommand{Date: d(on), LegalBasis: ErasureObjection, RequestedBy: RequesterParticipant}, today)
		}
	}
	paused := ParticipationPaused{Date: d("2026-03-10"), Reason: PauseFamily}
	resumed := ParticipationResumed{Date: d("2026-03-20")}
	job := started(placementA, PlacementOrdinaryJob, uuid.Nil, "2026-03-10")
	erased := PersonalDataErased{Date: d("2026-04-01"), LegalBasis: ErasureObjection, RequestedBy: RequesterParticipant}
	run(t, []scenario{
		{name: "change income source", given: []Event{en}, when: func(p Participant, _ []Recorded) ([]Event, error) {
			return ChangeIncomeSource(p, ChangeIncomeSourceCommand{Date: d("2026-04-01"), IncomeSource: IncomeWork}, today)
		}, then: []Event{IncomeSourceChanged{Date: d("2026-04-01"), IncomeSource: IncomeWork}}},
		{name: "income source not listed", given: []Event{en}, when: func(p Participant, _ []Recorded) ([]Event, error) {
			return ChangeIncomeSource(p, ChangeIncomeSourceCommand{Date: d("2026-04-01"), IncomeSource: "lottery"}, today)
		}, kind: "invalid", pointer: "/income_source", code: CodeNotAllowed},
		{name: "pause", given: []Event{en}, when: pause("2026-03-10"), then: []Event{ParticipationPaused{Date: d("2026-03-10"), Reason: PauseHealth}}},
		{name: "pause while paused", given: []Event{en, paused}, when: pause("2026-03-11"), kind: "rejected", pointer: "", code: CodeAlreadyPaused},
		{name: "pause again on the day of resuming", given: []Event{en, paused, resumed}, when: pause("2026-03-20")},
		{name: "pause again inside the previous pause", given: []Event{en, paused, resumed}, when: pause("2026-03-19"),
			kind: "invalid", pointer: "/date", code: CodeDateOrder},
		{name: "resume", given: []Event{en, paused}, when: resume("2026-03-20"), then: []Event{resumed}},
		{name: "resume on the day paused", given: []Event{en, paused}, when: resume("2026-03-10")},
		{name: "resume before the pause", given: []Event{en, paused}, when: resume("2026-03-09"), kind: "invalid", pointer: "/date", code: CodeDateOrder},
		{name: "resume when not paused", given: []Event{en}, when: resume("2026-03-20"), kind: "rejected", pointer: "", code: CodeNotPaused},
		{name: "exit reports open placements", given: []Event{en, job}, when: exit("2026-04-01"),
			then: []Event{ParticipantExited{Date: d("2026-04-01"), Reason: ExitCompleted, Destination: DestinationOrdinaryJob,
				OpenPlacements: []OpenPlacement{{PlacementID: placementA, Kind: PlacementOrdinaryJob}}}}},
		{name: "exit on the day of the latest entry", given: []Event{en, meeting("2026-03-20")}, when: exit("2026-03-20")},
		{name: "exit before the latest entry", given: []Event{en, meeting("2026-03-20")}, when: exit("2026-03-19"),
			kind: "invalid", pointer: "/date", code: CodeDateOrder},
		{name: "exit before enrolment", given: []Event{en}, when: exit("2026-03-01"), kind: "invalid", pointer: "/date", code: CodeDateOrder},
		{name: "exit twice", given: []Event{en, exited("2026-04-01")}, when: exit("2026-04-02"), kind: "rejected", pointer: "", code: CodeExited},
		{name: "exit while paused", given: []Event{en, paused}, when: exit("2026-03-12")},
		{name: "exit never enrolled", when: exit("2026-04-01"), kind: "rejected", pointer: "", code: CodeNotEnrolled},
		{name: "destination not listed", given: []Event{en}, when: func(p Participant, _ []Recorded) ([]Event, error) {
			return Exit(p, ExitCommand{Date: d("2026-04-01"), Reason: ExitMoved, Destination: "abroad"}, today)
		}, kind: "invalid", pointer: "/destination", code: CodeNotAllowed},
		{name: "erase", given: []Event{en}, when: erase("2026-04-01"), then: []Event{erased}},
		{name: "erase after exit", given: []Event{en, exited("2026-04-01")}, when: erase("2026-05-01")},
		{name: "erase twice", given: []Event{en, erased}, when: erase("2026-04-02"), kind: "rejected", pointer: "", code: CodeAlreadyErased},
		{name: "legal basis not listed", given: []Event{en}, when: func(p Participant, _ []Recorded) ([]Event, error) {
			return ErasePersonalData(p, ErasePersonalDataCommand{Date: d("2026-04-01"), LegalBasis: "whim", RequestedBy: RequesterParticipant}, today)
		}, kind: "invalid", pointer: "/legal_basis", code: CodeNotAllowed},
		{name: "after erasure, nothing personal", given: []Event{en, erased}, when: recordMeeting(func(c *RecordMeetingCommand) { c.Date = d("2026-04-02") }),
			kind: "rejected", pointer: "/personal", code: CodeErased},
		{name: "after erasure, entries without personal data", given: []Event{en, erased}, when: recordMeeting(func(c *RecordMeetingCommand) { c.Date, c.Personal = d("2026-04-02"), nil })},
		{name: "after erasure, the episode can still end", given: []Event{en, erased}, when: exit("2026-04-02")},
	})
}
