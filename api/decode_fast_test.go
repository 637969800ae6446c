package api

import (
	"bytes"
	"reflect"
	"testing"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/caseledger/caseledger/domain"
)

// FuzzUnmarshalFastPath holds Unmarshal's fast path (JSON v2 refusing
// unknown members, within the nesting bound) to the strict walk on the
// body of every command the API takes: it must accept nothing the walk refuses, and
// decode what both accept to the same value.
func FuzzUnmarshalFastPath(f *testing.F) {
	targets := []func() any{
		func() any { return new(domain.EnrolCommand) },
		func() any { return new(domain.AssignCaseworkerCommand) },
		func() any { return new(domain.GiveConsentCommand) },
		func() any { return new(domain.SetGoalCommand) },
		func() any { return new(domain.RecordMeetingCommand) },
		func() any { return new(domain.RecordScoreCommand) },
		func() any { return new(domain.RecordEmployerContactCommand) },
		func() any { return new(domain.StartPlacementCommand) },
		func() any { return new(domain.ChangePlacementCommand) },
		func() any { return new(domain.EndPlacementCommand) },
		func() any { return new(domain.ExitCommand) },
		func() any { return new(domain.CorrectEntryCommand) },
		func() any { return new(domain.VoidEntryCommand) },
		func() any { return new(domain.RegisterEmployerCommand) },
		func() any { return new(domain.DefineProgrammeCommand) },
		func() any { return new(domain.UnassignCaseworkerCommand) },
		func() any { return new(domain.WithdrawConsentCommand) },
		func() any { return new(domain.CloseGoalCommand) },
		func() any { return new(domain.ChangeIncomeSourceCommand) },
		func() any { return new(domain.PauseParticipationCommand) },
		func() any { return new(domain.ResumeParticipationCommand) },
		func() any { return new(domain.ErasePersonalDataCommand) },
		func() any { return new(domain.UpdateEmployerCommand) },
	}
	for i, body := range []string{
		`{"programme":"p","office":"o","enrolled_on":"2026-03-02","referral_source":"self","profile":{"birth_year":1990,"gender":"female"},"personal":{"name":"Test Person"}}`,
		`{"user_id":"u-1","role":"job_specialist","date":"2026-03-02"}`,
		`{"scope":"evaluation","date":"2026-03-02"}`,
		`{"goal_id":"b0000000-0000-4000-8000-000000000001","area":"work","date":"2026-03-02","personal":{"title":"T"}}`,
		`{"date":"2026-03-10","kind":"guidance","next_meeting_on":null,"personal":{"attendees":["A","B"]}}`,
		`{"date":"2026-03-10","timepoint":"baseline","instrument":"i","instrument_version":1,"scores":{"hope":3,"wellbeing":4}}`,
		`{"employer_id":"b0000000-0000-4000-8000-000000000001","date":"2026-03-10","purpose":"follow_up"}`,
		`{"placement_id":"b0000000-0000-4000-8000-000000000001","kind":"ordinary_job","started_on":"2026-03-10","hours_percentage":1e2}`,
		`{"placement_id":"b0000000-0000-4000-8000-000000000001","date":"2026-03-10","hours_percentage":80.0,"contract":"permanent"}`,
		`{"placement_id":"b0000000-0000-4000-8000-000000000001","ended_on":"2026-03-01","reason":"other","Reason":"x"}`,
		`{"date":"2026-03-10","reason":"job","reason":"job"}`,
		`{"entry_id":"e0000000-0000-4000-8000-000000000001","entry_type":"MeetingHeld","reason":"other","replacement":{"date":"2026-03-11","kind":"phone","x":[[[[[[{}]]]]]]},"personal":{"replacement":{"minutes":"m"}}}`,
		`{"entry_id":"E0000000-0000-4000-8000-000000000001","reason":"duplicate"}`,
		`{"organisation_number":"123456785","name":"N","personal":null}`,
		`{"slug":"p","name":"N","targets":[{"measure":"m","value":0.6}]}`,
	} {
		f.Add(uint8(i), []byte(body))
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		trimmed := bytes.TrimLeft(body, " \t\r\n")
		if len(trimmed) == 0 || trimmed[0] != '{' || !utf8.Valid(body) {
			return // refused before either path (ReadBody, Unmarshal)
		}
		target := targets[int(which)%len(targets)]
		fast, walked := target(), target()
		if !withinNesting(body, MaxNesting) || jsonv2.Unmarshal(body, fast, jsonv2.RejectUnknownMembers(true)) != nil {
			return
		}
		if err := unmarshalWalk(body, walked); err != nil {
			t.Fatalf("%T: the fast path accepts what the walk refuses (%v): %q", fast, err, body)
		}
		if !reflect.DeepEqual(fast, walked) {
			t.Fatalf("%T: the fast path and the walk decode %q differently:\n%#v\n%#v", fast, body, fast, walked)
		}
	})
}
