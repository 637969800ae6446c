package domain

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Fixtures: synthetic people only ("Test Person", synthetic national ids
// from SyntheticNationalID, organisation numbers starting with 3).

var today = d("2026-05-15")

func d(s string) Date {
	date, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return date
}

// testID is a deterministic, readable uuid for fixtures.
func testID(kind byte, n int) uuid.UUID {
	return uuid.MustParse(fmt.Sprintf("%02x000000-0000-4000-8000-%012d", kind, n))
}

var (
	goalA      = testID(0xa0, 1)
	goalB      = testID(0xa0, 2)
	placementA = testID(0xb0, 1)
	placementB = testID(0xb0, 2)
	employerA  = testID(0xc0, 1)
)

// syntheticID returns the first synthetic national id for birth at or
// after individual number from.
func syntheticID(t testing.TB, birth string, from int) string {
	t.Helper()
	for i := from; i < 1000; i++ {
		if s, err := SyntheticNationalID(d(birth), i); err == nil {
			return s
		}
	}
	t.Fatalf("no synthetic id for %s from %d", birth, from)
	return ""
}

// entryID is the id given() assigns to the n-th given event (from 0).
func entryID(n int) uuid.UUID { return testID(0xe0, n) }

// given records events as a stream history, in order.
func given(events ...Event) []Recorded {
	recs := make([]Recorded, len(events))
	for i, e := range events {
		occurred, ok := BusinessDate(e)
		if !ok {
			occurred = today
		}
		recs[i] = Recorded{
			ID: entryID(i), Stream: ParticipantStream(testID(0xd0, 1)), Revision: uint64(i), Position: uint64(100 + i),
			Meta: Metadata{
				SchemaVersion: SchemaVersion, OccurredOn: occurred,
				RecordedAt:    time.Date(2026, 5, 15, 10, 0, i, 0, time.UTC),
				Actor:         Actor{UserID: "u-caseworker", Role: "caseworker", Office: "bergen"},
				CorrelationID: testID(0xf0, i),
			},
			Event: e,
		}
	}
	return recs
}

func enrolled(t testing.TB) ParticipantEnrolled {
	years := 7
	return ParticipantEnrolled{
		Episode: 1, Programme: "hope-bergen", Office: "bergen", EnrolledOn: d("2026-03-02"),
		ReferralSource: ReferralWelfareOffice,
		Profile: Profile{
			BirthYear: 1990, Gender: GenderFemale, RegionOfBirth: RegionAfrica, YearsInNorway: &years,
			IncomeSource: IncomeSocialAssistance, ChildrenToProvideFor: 2,
			NorwegianLevel: NorwegianA2, EducationLevel: EducationPrimary,
		},
		Personal: &EnrolmentPersonal{
			Name: "Test Person", NationalID: syntheticID(t, "1990-05-17", 100), Phone: "+47 400 00 000",
			Email: "test.person@example.org", Address: "Testveien 1, 5003 Bergen", PreferredLanguage: "ti",
			InterpreterNeeded: true,
		},
	}
}

func enrolCmd(t testing.TB) EnrolCommand {
	e := enrolled(t)
	return EnrolCommand{
		Programme: e.Programme, Office: e.Office, EnrolledOn: e.EnrolledOn, ReferralSource: e.ReferralSource,
		AddressProtection: e.AddressProtection, Profile: e.Profile, Personal: e.Personal,
	}
}

func consent(scope ConsentScope, on string) ConsentGiven {
	return ConsentGiven{Scope: scope, Date: d(on)}
}

func goalSet(id, parent uuid.UUID, area GoalArea, on string) GoalSet {
	return GoalSet{GoalID: id, ParentGoalID: parent, Area: area, Date: d(on), Personal: &GoalPersonal{Title: "Test goal"}}
}

func meeting(on string) MeetingHeld {
	return MeetingHeld{Date: d(on), Kind: MeetingGuidance, Personal: &MeetingPersonal{Attendees: []string{"Test Person"}, Minutes: "Test minutes"}}
}

func scored(tp Timepoint, on string, n int) IndicatorScored {
	return IndicatorScored{Date: d(on), Timepoint: tp, Instrument: InstrumentIndicatorIndex, InstrumentVersion: 1,
		Scores: Scores{Hope: n, WellBeing: n, Network: n, WorkAttachment: n}}
}

func started(id uuid.UUID, kind PlacementKind, employer uuid.UUID, on string) PlacementStarted {
	return PlacementStarted{PlacementID: id, Kind: kind, EmployerID: employer, StartedOn: d(on), HoursPercentage: 60, Contract: ContractTemporary}
}

func exited(on string) ParticipantExited {
	return ParticipantExited{Date: d(on), Reason: ExitCompleted, Destination: DestinationOrdinaryJob}
}

// wantErr asserts err is an *InvalidError ("invalid") or *RejectedError
// ("rejected") with this pointer and code.
func wantErr(t *testing.T, err error, kind, pointer, code string) {
	t.Helper()
	var ie *InvalidError
	var re *RejectedError
	switch {
	case err == nil:
		t.Fatalf("want %s %s %s, got no error", kind, pointer, code)
	case kind == "invalid" && errors.As(err, &ie):
		if ie.Pointer != pointer || ie.Code != code {
			t.Fatalf("want invalid %s (%s), got %v", pointer, code, err)
		}
	case kind == "rejected" && errors.As(err, &re):
		if re.Pointer != pointer || re.Code != code {
			t.Fatalf("want rejected %s (%s), got %v", pointer, code, err)
		}
	default:
		t.Fatalf("want %s %s (%s), got %T %v", kind, pointer, code, err, err)
	}
}

func wantEvents(t *testing.T, got []Event, err error, want ...Event) {
	t.Helper()
	if err != nil {
		t.Fatalf("want events, got %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events differ\n got: %#v\nwant: %#v", got, want)
	}
}
