package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
)

// sampleEvents holds one event of every v1 type with every member set.
func sampleEvents(t testing.TB) []Event {
	en := enrolled(t)
	en.AddressProtection = false
	note := &NotePersonal{Note: "Test note"}
	return []Event{
		en,
		CaseworkerAssigned{UserID: "u-js", Role: RoleJobSpecialist, Date: d("2026-03-02")},
		CaseworkerUnassigned{UserID: "u-js", Role: RoleJobSpecialist, Date: d("2026-03-03")},
		ConsentGiven{Scope: ConsentEmployerDisclosure, Date: d("2026-03-02")},
		ConsentWithdrawn{Scope: ConsentEvaluation, Date: d("2026-03-04")},
		GoalSet{GoalID: goalB, ParentGoalID: goalA, Area: AreaWork, Date: d("2026-03-05"), TargetDate: d("2026-09-01"), Personal: &GoalPersonal{Title: "Test goal", Note: "Test note"}},
		GoalClosed{GoalID: goalB, Outcome: OutcomeAchieved, Date: d("2026-04-01"), Personal: note},
		MeetingHeld{Date: d("2026-03-06"), Kind: MeetingHomeVisit, NextMeetingOn: d("2026-06-01"), Personal: &MeetingPersonal{Attendees: []string{"Test Person", "Test Helper"}, Minutes: "Test minutes", Note: "Test note"}},
		scored(TimepointBaseline, "2026-03-06", 4),
		EmployerContacted{EmployerID: employerA, Date: d("2026-03-07"), Purpose: PurposePresentCandidate, Personal: note},
		PlacementStarted{PlacementID: placementA, Kind: PlacementOrdinaryJob, EmployerID: employerA, StartedOn: d("2026-03-09"), HoursPercentage: 50, Contract: ContractTemporary, PlannedEnd: d("2026-09-08"), Personal: &PlacementPersonal{Title: "Test title", Note: "Test note"}},
		PlacementChanged{PlacementID: placementA, Date: d("2026-04-01"), HoursPercentage: 80, Contract: ContractTemporary, PlannedEnd: d("2026-12-31"), Personal: note},
		PlacementEnded{PlacementID: placementA, EndedOn: d("2026-05-01"), Reason: EndResigned, Personal: note},
		IncomeSourceChanged{Date: d("2026-04-01"), IncomeSource: IncomeWork},
		ParticipationPaused{Date: d("2026-04-02"), Reason: PauseHealth, Personal: note},
		ParticipationResumed{Date: d("2026-04-09"), Personal: note},
		ParticipantExited{Date: d("2026-05-02"), Reason: ExitCompleted, Destination: DestinationOrdinaryJob, OpenPlacements: []OpenPlacement{{PlacementID: placementB, Kind: PlacementEducation}}, Personal: note},
		EntryCorrected{EntryID: entryID(7), Reason: CorrectionWrongDate, Replacement: meeting("2026-03-05"), Personal: note},
		EntryVoided{EntryID: entryID(8), EntryType: TypeIndicatorScored, Reason: VoidDuplicate, Personal: note},
		PersonalDataErased{Date: d("2026-05-10"), LegalBasis: ErasureConsentWithdrawn, RequestedBy: RequesterParticipant},
		EmployerRegistered{OrganisationNumber: "310000019", Name: "Test Employer AS", IndustryCode: "88.990", Municipality: "4601", Personal: &EmployerPersonal{ContactName: "Test Contact", ContactPhone: "+47 500 00 000", ContactEmail: "contact@example.org", Note: "Test note"}},
		EmployerUpdated{Name: "Test Employer ASA", IndustryCode: "47.111", Municipality: "0301"},
		ProgrammeDefined{Slug: "hope-bergen", Name: "Test Programme", Targets: []Target{{Measure: MeasureJobWithin183d, Rate: 0.6}, {Measure: MeasureWorkOrEducationAtExit, Rate: 0.7}}},
		AccessRecorded{ParticipantID: entryID(9), View: ViewHistory, PersonalData: true, Purpose: "complaint review", Decision: AccessPermitted, Via: "GET /v1/participants/{id}/history", KnownAt: "42", SubjectUser: "u-js"},
	}
}

func TestEveryEventTypeRoundTrips(t *testing.T) {
	samples := sampleEvents(t)
	var types []string
	reg := NewRegistry()
	for _, e := range samples {
		types = append(types, e.EventType())
		typ, data, err := EncodeEvent(e)
		if err != nil || typ != e.EventType() {
			t.Fatalf("EncodeEvent(%T) = %q, %v", e, typ, err)
		}
		got, err := DecodeEvent(typ, data)
		if err != nil {
			t.Fatalf("DecodeEvent(%s, %s): %v", typ, data, err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("%s round trip\n got %#v\nwant %#v", typ, got, e)
		}
		ptr := reflect.New(reflect.TypeOf(e))
		ptr.Elem().Set(reflect.ValueOf(e))
		rtyp, rdata, err := reg.Encode(ptr.Interface().(Event)) // a pointer encodes like the value
		if err != nil || rtyp != typ || string(rdata) != string(data) {
			t.Errorf("Registry.Encode(%s) = %s, %v", typ, rdata, err)
		}
		if got, err := reg.Decode(typ, data); err != nil || !reflect.DeepEqual(got, e) {
			t.Errorf("Registry.Decode(%s) = %#v, %v", typ, got, err)
		}
	}
	if !slices.Equal(types, EventTypes()) {
		t.Errorf("samples cover %v, catalogue is %v", types, EventTypes())
	}
	sorted := slices.Sorted(slices.Values(EventTypes()))
	if !slices.Equal(reg.Types(), sorted) {
		t.Errorf("registry holds %v", reg.Types())
	}
}

// encodedMembers is e's encoding, and its members.
func encodedMembers(t *testing.T, e Event) ([]byte, map[string]json.RawMessage) {
	t.Helper()
	_, data, err := EncodeEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		t.Fatal(err)
	}
	return data, members
}

// The command handler seals only events HasPersonal reports, so an event
// whose encoding has a personal member must be one of them: else that
// member would be written in clear.
func TestHasPersonalIsThePersonalMember(t *testing.T) {
	for _, full := range sampleEvents(t) {
		for _, e := range []Event{full, withoutPersonal(full)} {
			_, members := encodedMembers(t, e)
			_, member := members["personal"]
			if member && !HasPersonal(e) {
				t.Errorf("%s: encoded with a personal member, but HasPersonal is false", e.EventType())
			}
		}
	}
}

// DecodePublicEvent reads every event type without its personal member,
// whether that member is in clear, sealed (an object of other members) or
// gone after erasure.
func TestDecodePublicEvent(t *testing.T) {
	sealed := json.RawMessage(`{"sealed":"QUJDRA==","key":"participant-d0000000-0000-4000-8000-000000000001"}`)
	for _, e := range sampleEvents(t) {
		data, members := encodedMembers(t, e)
		forms := map[string][]byte{"in clear": data}
		if _, ok := members["personal"]; ok {
			members["personal"] = sealed
			forms["sealed"], _ = json.Marshal(members)
			delete(members, "personal")
			forms["erased"], _ = json.Marshal(members)
		}
		want := withoutPersonal(e)
		for form, data := range forms {
			got, err := DecodePublicEvent(e.EventType(), data)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s, personal member %s: got %#v, %v; want %#v", e.EventType(), form, got, err, want)
			}
		}
	}
	// A stored value may be personal data: an error names where, never what.
	for _, tc := range []struct{ name, typ, data, where string }{
		{"unknown type", "MeetingMissed", `{}`, ""},
		{"not JSON", TypeMeetingHeld, `{"date":`, ""},
		{"a date that does not exist", TypeMeetingHeld, `{"date":"2026-02-30","kind":"guidance"}`, "/date"},
		{"a name where a kind goes", TypeMeetingHeld, `{"date":"2026-02-03","kind":{"name":"Kari Nordmann"}}`, "/kind"},
		{"a number where a date goes", TypeMeetingHeld, `{"date":31129912345}`, "/date"},
		{"a correction that is not JSON", TypeEntryCorrected, `[`, ""},
	} {
		_, err := DecodePublicEvent(tc.typ, []byte(tc.data))
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownEventType) {
			t.Errorf("%s: %v, want ErrMalformed or ErrUnknownEventType", tc.name, err)
			continue
		}
		for _, value := range []string{"Kari", "31129912345", "2026-02-30"} {
			if strings.Contains(err.Error(), value) {
				t.Errorf("%s: the error %q quotes the stored value %s", tc.name, err, value)
			}
		}
		if !strings.Contains(err.Error(), tc.where) {
			t.Errorf("%s: the error %q does not say where (%s)", tc.name, err, tc.where)
		}
	}
}

// Placement events recorded before planned_end existed decode as they
// did, without a planned end; and a placement without one is written as
// before, so that what older builds wrote and read stays the same.
func TestPlacementEventsWithoutPlannedEnd(t *testing.T) {
	for _, tc := range []struct {
		typ, data string
		want      Event
	}{
		{TypePlacementStarted, `{"placement_id":"b0000000-0000-4000-8000-000000000001","kind":"work_practice","started_on":"2026-03-09","hours_percentage":50}`,
			PlacementStarted{PlacementID: placementA, Kind: PlacementWorkPractice, StartedOn: d("2026-03-09"), HoursPercentage: 50}},
		{TypePlacementChanged, `{"placement_id":"b0000000-0000-4000-8000-000000000001","date":"2026-04-01","hours_percentage":80,"contract":"temporary"}`,
			PlacementChanged{PlacementID: placementA, Date: d("2026-04-01"), HoursPercentage: 80, Contract: ContractTemporary}},
	} {
		got, err := DecodeEvent(tc.typ, []byte(tc.data))
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: decoded %#v, %v; want %#v", tc.typ, got, err, tc.want)
		}
		if _, data, err := EncodeEvent(tc.want); err != nil || string(data) != tc.data {
			t.Errorf("%s: encoded %s, %v; want %s", tc.typ, data, err, tc.data)
		}
	}
}

func TestEncodingIsSnakeCaseWithPersonalApart(t *testing.T) {
	for _, e := range sampleEvents(t) {
		_, data, _ := EncodeEvent(e)
		var members map[string]json.RawMessage
		if err := json.Unmarshal(data, &members); err != nil {
			t.Fatal(err)
		}
		for k, v := range members {
			if k != strings.ToLower(k) || strings.Contains(k, "-") {
				t.Errorf("%s: member %q is not snake_case", e.EventType(), k)
			}
			if k == "personal" {
				continue
			}
			for _, secret := range []string{"Test Person", "Test note", "Test minutes", "Test goal", "Test title", "Test Contact", "@example.org", "Testveien"} {
				if strings.Contains(string(v), secret) {
					t.Errorf("%s: %q appears outside the personal member, in %q", e.EventType(), secret, k)
				}
			}
		}
	}
}

func TestCorrectionKeepsReplacementPersonalInsidePersonal(t *testing.T) {
	e := EntryCorrected{EntryID: entryID(3), Reason: CorrectionWrongValue, Replacement: meeting("2026-03-05")}
	_, data, err := EncodeEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"entry_id":"e0000000-0000-4000-8000-000000000003","entry_type":"MeetingHeld","reason":"wrong_value",` +
		`"replacement":{"date":"2026-03-05","kind":"guidance"},` +
		`"personal":{"replacement":{"attendees":["Test Person"],"minutes":"Test minutes"}}}`
	if string(data) != want {
		t.Fatalf("got  %s\nwant %s", data, want)
	}
	got, err := DecodeEvent(TypeEntryCorrected, data)
	if err != nil || !reflect.DeepEqual(got, e) {
		t.Fatalf("decode: %#v, %v", got, err)
	}
	// Erasure removes the personal member; what is left still decodes.
	public := `{"entry_id":"e0000000-0000-4000-8000-000000000003","entry_type":"MeetingHeld","reason":"wrong_value","replacement":{"date":"2026-03-05","kind":"guidance"}}`
	got, err = DecodeEvent(TypeEntryCorrected, []byte(public))
	if err != nil || got.(EntryCorrected).Replacement.(MeetingHeld).Personal != nil {
		t.Fatalf("decode without personal: %#v, %v", got, err)
	}
}

func TestDecodeIsStrict(t *testing.T) {
	cases := []struct{ name, typ, data string }{
		{"unknown member", TypeConsentGiven, `{"scope":"evaluation","date":"2026-03-02","extra":1}`},
		{"unknown personal member", TypeGoalClosed, `{"goal_id":"a0000000-0000-4000-8000-000000000001","outcome":"achieved","date":"2026-03-02","personal":{"note":"x","secret":"y"}}`},
		{"member in other case", TypeConsentGiven, `{"Scope":"evaluation","date":"2026-03-02"}`},
		{"member twice", TypeConsentGiven, `{"scope":"evaluation","scope":"processing","date":"2026-03-02"}`},
		{"wrong type", TypeIndicatorScored, `{"date":"2026-03-02","timepoint":"baseline","instrument":"indicator_index","instrument_version":1,"scores":{"hope":"5"}}`},
		{"fraction for an integer", TypeIndicatorScored, `{"date":"2026-03-02","scores":{"hope":5.5}}`},
		{"bad date", TypeMeetingHeld, `{"date":"2026-02-30","kind":"phone"}`},
		{"bad uuid", TypeGoalClosed, `{"goal_id":"12345678901","outcome":"achieved","date":"2026-03-02"}`},
		{"not an object", TypeMeetingHeld, `["date"]`},
		{"null", TypeMeetingHeld, `null`},
		{"empty", TypeMeetingHeld, ``},
		{"trailing data", TypeMeetingHeld, `{"date":"2026-03-02","kind":"phone"} {}`},
		{"truncated", TypeMeetingHeld, `{"date":"2026-03-02",`},
		{"personal inside a correction's replacement", TypeEntryCorrected, `{"entry_id":"e0000000-0000-4000-8000-000000000003","entry_type":"MeetingHeld","reason":"other","replacement":{"date":"2026-03-05","kind":"guidance","personal":{"minutes":"x"}}}`},
		{"correction of a correction", TypeEntryCorrected, `{"entry_id":"e0000000-0000-4000-8000-000000000003","entry_type":"EntryVoided","reason":"other","replacement":{}}`},
		{"correction without replacement", TypeEntryCorrected, `{"entry_id":"e0000000-0000-4000-8000-000000000003","entry_type":"MeetingHeld","reason":"other"}`},
		{"unknown member in a replacement", TypeEntryCorrected, `{"entry_id":"e0000000-0000-4000-8000-000000000003","entry_type":"MeetingHeld","reason":"other","replacement":{"date":"2026-03-05","nope":1}}`},
		{"personal for a type without one", TypeEntryCorrected, `{"entry_id":"e0000000-0000-4000-8000-000000000003","entry_type":"IncomeSourceChanged","reason":"other","replacement":{"date":"2026-03-05","income_source":"work"},"personal":{"replacement":{"note":"x"}}}`},
	}
	for _, c := range cases {
		_, err := DecodeEvent(c.typ, []byte(c.data))
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", c.name, err)
		}
	}
	if _, err := DecodeEvent("ParticipantEnroled", []byte(`{}`)); !errors.Is(err, ErrUnknownEventType) {
		t.Errorf("misspelt type: %v", err)
	}
}

func TestDecodeErrorsDoNotQuoteValues(t *testing.T) {
	id := syntheticID(t, "1990-05-17", 100)
	inputs := []struct{ typ, data string }{
		{TypeParticipantEnrolled, `{"episode":"` + id + `"}`},
		{TypeParticipantEnrolled, `{"episode":` + id + `.5}`},
		{TypeGoalClosed, `{"goal_id":"urn:uuid:` + id + `"}`},
		{TypeMeetingHeld, `{"date":"` + id + `"}`},
		{TypeMeetingHeld, `{"personal":{"minutes":` + id + `}}`},
	}
	for _, in := range inputs {
		_, err := DecodeEvent(in.typ, []byte(in.data))
		if err == nil || strings.Contains(err.Error(), id) || strings.Contains(err.Error(), id[:9]) {
			t.Errorf("%s: %v", in.data, err)
		}
	}
}

type conflicting struct{}

func (conflicting) EventType() string { return TypeMeetingHeld }

type pointerEvent struct{}

func (*pointerEvent) EventType() string { return "PointerEvent" }

func TestRegistryRefusesConflicts(t *testing.T) {
	r := NewRegistry()
	if err := r.Register(MeetingHeld{}); err == nil {
		t.Error("registering MeetingHeld twice must fail")
	}
	if err := r.Register(conflicting{}); err == nil {
		t.Error("a second type named MeetingHeld must fail")
	}
	if err := r.Register(&pointerEvent{}); err == nil {
		t.Error("a pointer type must be refused")
	}
	if err := r.Register(nil); err == nil {
		t.Error("nil must be refused")
	}
	if _, _, err := r.Encode(conflicting{}); !errors.Is(err, ErrUnknownEventType) {
		t.Errorf("encoding an unregistered type: %v", err)
	}
	if _, _, err := EncodeEvent(conflicting{}); !errors.Is(err, ErrUnknownEventType) {
		t.Errorf("EncodeEvent of a foreign type: %v", err)
	}
	if _, err := r.Decode("Nope", []byte(`{}`)); !errors.Is(err, ErrUnknownEventType) {
		t.Errorf("decode unknown: %v", err)
	}
}

func TestStreamKindOf(t *testing.T) {
	for _, typ := range EventTypes() {
		if StreamKindOf(typ) == "" {
			t.Errorf("%s has no stream kind", typ)
		}
	}
	if StreamKindOf(TypeEmployerUpdated) != StreamEmployer || StreamKindOf(TypeProgrammeDefined) != StreamProgramme || StreamKindOf(TypeMeetingHeld) != StreamParticipant || StreamKindOf("X") != "" {
		t.Error("wrong stream kinds")
	}
}

func validMeta() Metadata {
	return NewMetadata(meeting("2026-03-06"), Actor{UserID: "u1", Role: "caseworker", Office: "bergen"},
		time.Date(2026, 5, 14, 22, 30, 0, 0, time.FixedZone("CEST", 7200)), time.FixedZone("CEST", 7200), testID(0xf0, 1), testID(0xf0, 2))
}

func TestMetadata(t *testing.T) {
	m := validMeta()
	if m.OccurredOn != d("2026-03-06") || m.RecordedAt.Location() != time.UTC || m.SchemaVersion != SchemaVersion {
		t.Fatalf("NewMetadata = %+v", m)
	}
	data, err := EncodeMetadata(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeMetadata(data)
	if err != nil || !reflect.DeepEqual(got, m) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	// Events without a business date occur on the day they are recorded, in Oslo.
	if m2 := NewMetadata(EntryVoided{}, m.Actor, time.Date(2026, 5, 14, 22, 30, 0, 0, time.UTC), time.FixedZone("CEST", 7200), testID(0xf0, 1), [16]byte{}); m2.OccurredOn != d("2026-05-15") {
		t.Errorf("occurred_on = %s, want the Oslo date 2026-05-15", m2.OccurredOn)
	}
	bad := []string{
		strings.Replace(string(data), `"schema_version":1`, `"schema_version":2`, 1),
		strings.Replace(string(data), `"actor"`, `"Actor"`, 1),
		strings.Replace(string(data), `}`, `,"extra":true}`, 1),
		strings.Replace(string(data), `Z"`, `+02:00"`, 1),
		strings.Replace(string(data), `"user_id":"u1"`, `"user_id":""`, 1),
		`{}`, `null`, `not json`,
	}
	for _, b := range bad {
		if _, err := DecodeMetadata([]byte(b)); !errors.Is(err, ErrMalformed) {
			t.Errorf("DecodeMetadata(%s) = %v, want ErrMalformed", b, err)
		}
	}
	if _, err := EncodeMetadata(Metadata{}); err == nil {
		t.Error("empty metadata must not be encoded")
	}
}

func TestDecodeRecorded(t *testing.T) {
	m := validMeta()
	meta, _ := EncodeMetadata(m)
	typ, data, _ := EncodeEvent(meeting("2026-03-06"))
	r, err := DecodeRecorded(entryID(1), "participant-x", 3, 42, typ, data, meta)
	if err != nil || r.Revision != 3 || r.Position != 42 || r.Meta.Actor.UserID != "u1" || r.Event.EventType() != TypeMeetingHeld {
		t.Fatalf("DecodeRecorded = %+v, %v", r, err)
	}
	if _, err := DecodeRecorded(entryID(1), "s", 0, 1, typ, data, []byte(`{}`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("bad metadata: %v", err)
	}
}

func TestDecodeCommandPointers(t *testing.T) {
	cases := []struct {
		name, body, pointer, code string
		into                      any
	}{
		{"fraction score", `{"scores":{"hope":5.5}}`, "/scores/hope", CodeType, &RecordScoreCommand{}},
		{"string score", `{"scores":{"well_being":"7"}}`, "/scores/well_being", CodeType, &RecordScoreCommand{}},
		{"unknown member", `{"scores":{"joy":7}}`, "/scores/joy", CodeUnknownField, &RecordScoreCommand{}},
		{"misspelt case", `{"Date":"2026-03-02"}`, "/Date", CodeUnknownField, &RecordMeetingCommand{}},
		{"repeated member", `{"date":"2026-03-02","date":"2026-03-03"}`, "/date", CodeDuplicate, &RecordMeetingCommand{}},
		{"bad date", `{"date":"2026-13-01"}`, "/date", CodeType, &RecordMeetingCommand{}},
		{"attendee not a string", `{"personal":{"attendees":["a",3]}}`, "/personal/attendees/1", CodeType, &RecordMeetingCommand{}},
		{"bad uuid", `{"goal_id":"nope"}`, "/goal_id", CodeType, &SetGoalCommand{}},
		{"profile member", `{"profile":{"birth_year":"1990"}}`, "/profile/birth_year", CodeType, &EnrolCommand{}},
		{"not json", `{"date":`, "", CodeMalformed, &RecordMeetingCommand{}},
		{"an array", `[]`, "", CodeMalformed, &RecordMeetingCommand{}},
		{"trailing", `{} x`, "", CodeMalformed, &RecordMeetingCommand{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, DecodeCommand([]byte(c.body), c.into), "invalid", c.pointer, c.code)
		})
	}
	var cmd CorrectEntryCommand
	body := `{"entry_id":"e0000000-0000-4000-8000-000000000003","entry_type":"MeetingHeld","reason":"other","replacement":{"date":"2026-03-05"},"personal":{"note":"n","replacement":{"minutes":"m"}}}`
	if err := DecodeCommand([]byte(body), &cmd); err != nil || string(cmd.Replacement) != `{"date":"2026-03-05"}` {
		t.Fatalf("CorrectEntryCommand: %+v, %v", cmd, err)
	}
	if err := DecodeCommand([]byte(`{}`), cmd); err == nil {
		t.Error("a non-pointer must be refused")
	}
}

func FuzzDecodeEvent(f *testing.F) {
	for _, e := range sampleEvents(f) {
		typ, data, _ := EncodeEvent(e)
		f.Add(typ, data)
	}
	f.Add(TypeEntryCorrected, []byte(`{"entry_type":"EntryCorrected","replacement":{}}`))
	f.Add(TypeMeetingHeld, []byte(`{"date":"2026-02-30"}`))
	f.Add("Nope", []byte(`{}`))
	f.Add(TypeAccessRecorded, []byte(`{"participants":["e0000000-0000-4000-8000-00000000000a","e0000000-0000-4000-8000-00000000000b"],"view":"caseload","personal_data":true,"decision":"permit","via":"GET /v1/caseload"}`))
	f.Add(TypeAccessRecorded, []byte(`{"participants":[null],"view":"caseload","personal_data":true,"decision":"permit","via":"GET /v1/caseload"}`))
	// Where JSON v2 and the strict walk could differ: number syntax,
	// case, duplicates, invalid UTF-8, null.
	f.Add(TypePlacementChanged, []byte(`{"placement_id":"d0000000-0000-4000-8000-000000000001","date":"2026-04-01","hours_percentage":1e2,"contract":"permanent"}`))
	f.Add(TypePlacementChanged, []byte(`{"placement_id":"d0000000-0000-4000-8000-000000000001","date":"2026-04-01","hours_percentage":80.0}`))
	f.Add(TypeMeetingHeld, []byte(`{"Date":"2026-02-03","kind":"guidance"}`))
	f.Add(TypeMeetingHeld, []byte(`{"date":"2026-02-03","date":"2026-02-04"}`))
	f.Add(TypeMeetingHeld, []byte("{\"date\":\"2026-02-03\",\"kind\":\"g\xffx\"}"))
	f.Add(TypeMeetingHeld, []byte(`{"date":null,"kind":null,"personal":null}`))
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		if zero := eventFor(typ); zero != nil {
			// decodeStrict's fast path must accept nothing the walk
			// refuses, and decode the same as it.
			fast, walked := reflect.New(reflect.TypeOf(zero)), reflect.New(reflect.TypeOf(zero))
			fastErr := jsonv2.Unmarshal(data, fast.Interface(), jsonv2.RejectUnknownMembers(true))
			walkErr := decodeStrictWalk(data, walked.Interface())
			if fastErr == nil && isObject(data) {
				if walkErr != nil {
					t.Fatalf("JSON v2 accepts what the strict walk refuses (%v): %q", walkErr, data)
				}
				nilEmptySlices(fast)
				if !reflect.DeepEqual(fast.Interface(), walked.Interface()) {
					t.Fatalf("JSON v2 and the strict walk decode %q differently:\n%#v\n%#v", data, fast.Interface(), walked.Interface())
				}
			}
		}
		e, err := DecodeEvent(typ, data)
		if err != nil {
			if e != nil {
				t.Fatal("an error with an event")
			}
			return
		}
		// Whatever decodes encodes again, and decodes to the same event.
		typ2, data2, err := EncodeEvent(e)
		if err != nil {
			t.Fatalf("decoded %s does not encode: %v", typ, err)
		}
		e2, err := DecodeEvent(typ2, data2)
		if err != nil || !reflect.DeepEqual(e, e2) {
			t.Fatalf("re-decode of %s: %v", data2, err)
		}
		// The fold takes anything that decodes.
		FoldParticipant([]Recorded{{ID: entryID(0), Event: e}})
		FoldEmployer([]Recorded{{ID: entryID(0), Event: e}})
		FoldProgramme([]Recorded{{ID: entryID(0), Event: e}})
	})
}

// isObject reports whether data begins as a JSON object, as decodeStrict
// requires before either of its paths.
func isObject(data []byte) bool {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	return len(trimmed) > 0 && trimmed[0] == '{'
}

func FuzzDecodeMetadata(f *testing.F) {
	data, _ := EncodeMetadata(validMeta())
	f.Add(data)
	f.Add([]byte(`{"schema_version":1}`))
	f.Add(bytes.Replace(data, []byte("Z"), []byte("z"), 1))
	f.Add(bytes.Replace(data, []byte("Z"), []byte("+00:00"), 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		// decodeStrict's fast path accepts nothing the walk refuses.
		var fast, walked Metadata
		if isObject(data) && jsonv2.Unmarshal(data, &fast, jsonv2.RejectUnknownMembers(true)) == nil {
			if err := decodeStrictWalk(data, &walked); err != nil {
				t.Fatalf("JSON v2 accepts metadata the strict walk refuses (%v): %q", err, data)
			}
			nilEmptySlices(reflect.ValueOf(&fast))
			if !reflect.DeepEqual(fast, walked) {
				t.Fatalf("JSON v2 and the strict walk decode %q differently:\n%#v\n%#v", data, fast, walked)
			}
		}
		m, err := DecodeMetadata(data)
		if err == nil && m.Validate() != nil {
			t.Fatal("decoded metadata that does not validate")
		}
	})
}
