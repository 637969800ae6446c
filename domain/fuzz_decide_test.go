package domain

import (
	"reflect"
	"testing"

	"github.com/google/uuid"
)

// FuzzDecide feeds arbitrary request bodies through DecodeCommand into the
// decisions: whatever decodes must yield events or a typed error, never a
// panic, and accepted events must encode.
func FuzzDecide(f *testing.F) {
	f.Add(uint8(0), []byte(`{"programme":"p","office":"o","enrolled_on":"2026-03-02","referral_source":"self","profile":{"birth_year":1990,"gender":"female","region_of_birth":"asia","income_source":"none","norwegian_level":"a1","education_level":"none"},"personal":{"name":"Test Person"}}`))
	f.Add(uint8(1), []byte(`{"date":"2026-03-10","kind":"guidance","personal":{"attendees":["Test Person"]}}`))
	f.Add(uint8(2), []byte(`{"entry_id":"e0000000-0000-4000-8000-000000000001","entry_type":"MeetingHeld","reason":"other","replacement":{"date":"2026-03-11","kind":"phone"}}`))
	f.Add(uint8(3), []byte(`{"placement_id":"b0000000-0000-4000-8000-000000000001","ended_on":"2026-03-01","reason":"other"}`))
	f.Add(uint8(4), []byte(`{"entry_id":"e0000000-0000-4000-8000-000000000000","reason":"duplicate"}`))
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		h := given(enrolled(t), meeting("2026-03-10"), started(placementA, PlacementOrdinaryJob, uuid.Nil, "2026-03-10"))
		p := FoldParticipant(h)
		var events []Event
		var err error
		switch which % 6 {
		case 0:
			var c EnrolCommand
			if DecodeCommand(body, &c) == nil {
				events, err = Enrol(Participant{}, c, today)
			}
		case 1:
			var c RecordMeetingCommand
			if DecodeCommand(body, &c) == nil {
				events, err = RecordMeeting(p, c, today)
			}
		case 2:
			var c CorrectEntryCommand
			if DecodeCommand(body, &c) == nil {
				events, err = CorrectEntry(h, c, today)
			}
		case 3:
			var c EndPlacementCommand
			if DecodeCommand(body, &c) == nil {
				events, err = EndPlacement(p, c, today)
			}
		case 4:
			var c VoidEntryCommand
			if DecodeCommand(body, &c) == nil {
				events, err = VoidEntry(h, c, today)
			}
		case 5:
			var c DefineProgrammeCommand
			if DecodeCommand(body, &c) == nil {
				events, err = DefineProgramme(Programme{}, c)
			}
		}
		// The command handler gives decisions a participant shared with
		// other requests: a decision must leave it, and the history, as
		// they were.
		if !reflect.DeepEqual(p, FoldParticipant(h)) || !reflect.DeepEqual(h, given(enrolled(t), meeting("2026-03-10"), started(placementA, PlacementOrdinaryJob, uuid.Nil, "2026-03-10"))) {
			t.Fatal("the decision changed the participant or the history it was given")
		}
		if err != nil {
			if _, ok := err.(*InvalidError); !ok {
				if _, ok := err.(*RejectedError); !ok {
					t.Fatalf("untyped error %T: %v", err, err)
				}
			}
			return
		}
		for _, e := range events {
			typ, data, err := EncodeEvent(e)
			if err != nil {
				t.Fatalf("accepted %T does not encode: %v", e, err)
			}
			if _, err := DecodeEvent(typ, data); err != nil {
				t.Fatalf("accepted %s does not decode: %v (%s)", typ, err, data)
			}
			FoldParticipant(append(h, Recorded{ID: testID(0xe1, 1), Event: e}))
		}
	})
}
