package domain

import (
	"errors"
	"strings"
	"testing"
)

// fixtureSecrets are the personal values the fixtures use; no error may
// repeat them.
var fixtureSecrets = []string{"Test Person", "Test note", "Test minutes", "Test goal", "Test title", "Testveien", "example.org", "+47 400"}

func noPersonalData(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, s := range fixtureSecrets {
		if strings.Contains(msg, s) {
			t.Fatalf("error %q contains personal data %q", msg, s)
		}
	}
	if id := syntheticID(t, "1990-05-17", 100); strings.Contains(msg, id[:6]) {
		t.Fatalf("error %q contains part of a national id", msg)
	}
}

func TestErrorsNeverContainPersonalData(t *testing.T) {
	id := syntheticID(t, "1990-05-17", 100)
	wrong := id[:10] + string('0'+(id[10]-'0'+1)%10)
	secrets := []string{id, wrong, id[:6], "Secret Name Zq", "Secret note Zq", "secret@mail.zq", "Secret street Zq"}
	en := enrolled(t)
	h := given(en)
	p := FoldParticipant(h)

	var errs []error
	collect := func(_ []Event, err error) { errs = append(errs, err) }

	cmd := enrolCmd(t)
	cmd.Personal = &EnrolmentPersonal{Name: "Secret Name Zq", NationalID: wrong, Email: "secret@mail.zq", Address: "Secret street Zq"}
	collect(Enrol(Participant{}, cmd, today))
	cmd.Personal.NationalID = id
	cmd.Profile.BirthYear = 1991
	collect(Enrol(Participant{}, cmd, today))
	cmd.Profile.BirthYear = 1990
	cmd.AddressProtection = true
	collect(Enrol(Participant{}, cmd, today))
	cmd.AddressProtection = false
	cmd.Personal.Email = "Secret Name Zq"
	collect(Enrol(Participant{}, cmd, today))
	cmd.Personal.Email = ""
	cmd.Personal.Name = "Secret Name Zq\n"
	collect(Enrol(Participant{}, cmd, today))
	collect(Enrol(p, enrolCmd(t), today))
	collect(RecordMeeting(p, RecordMeetingCommand{Date: d("2026-03-10"), Kind: "Secret note Zq", Personal: &MeetingPersonal{Note: "Secret note Zq" + long(10_000)}}, today))
	collect(SetGoal(p, SetGoalCommand{GoalID: goalA, Area: AreaWork, Date: d("2026-03-10"), Personal: &GoalPersonal{Title: "Secret note Zq\x00"}}, today))
	collect(EndPlacement(p, EndPlacementCommand{PlacementID: placementA, EndedOn: d("2026-03-10"), Reason: EndOther, Personal: &NotePersonal{Note: "Secret note Zq"}}, today))
	collect(RegisterEmployer(Employer{}, RegisterEmployerCommand{OrganisationNumber: wrong[:9], Name: "Secret Name Zq"}))
	collect(CorrectEntry(h, CorrectEntryCommand{EntryID: entryID(0), EntryType: TypeParticipantEnrolled, Reason: CorrectionTypingError,
		Replacement: []byte(`{"programme":"hope-bergen"}`), Personal: &CorrectEntryPersonal{Replacement: []byte(`{"name":"Secret Name Zq","national_id":"` + wrong + `"}`)}}, today))
	collect(nil, DecodeCommand([]byte(`{"personal":{"name":`+id+`}}`), &EnrolCommand{}))
	collect(nil, DecodeCommand([]byte(`{"personal":{"interpreter_needed":"Secret Name Zq"}}`), &EnrolCommand{}))
	_, err := ParseNationalID(wrong)
	collect(nil, err)
	_, err = ParseNationalID(id + "0")
	collect(nil, err)
	_, err = DecodeEvent(TypeParticipantEnrolled, []byte(`{"personal":{"name":"Secret Name Zq","national_id":`+id+`}}`))
	collect(nil, err)

	for i, err := range errs {
		if err == nil {
			t.Errorf("case %d: no error", i)
			continue
		}
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("case %d: %q contains %q", i, err, s)
			}
		}
		var ie *InvalidError
		var re *RejectedError
		if !errors.As(err, &ie) && !errors.As(err, &re) && !errors.Is(err, ErrMalformed) {
			t.Errorf("case %d: untyped error %T %v", i, err, err)
		}
	}
}

func TestErrorStrings(t *testing.T) {
	e := &InvalidError{Pointer: "/scores/hope", Code: CodeOutOfRange, Message: "must be from 1 to 10"}
	if e.Error() != "invalid /scores/hope: must be from 1 to 10 (out_of_range)" {
		t.Errorf("InvalidError = %q", e.Error())
	}
	r := &RejectedError{Code: CodeNotEnrolled, Message: "the participant has never been enrolled"}
	if r.Error() != "rejected body: the participant has never been enrolled (not_enrolled)" {
		t.Errorf("RejectedError = %q", r.Error())
	}
}
