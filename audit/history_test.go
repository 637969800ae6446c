package audit_test

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/domain"
)

func date(t *testing.T, s string) domain.Date {
	t.Helper()
	d, err := domain.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// stream numbers the events of one participant stream as a store would,
// a minute apart.
func stream(t *testing.T, id uuid.UUID, events ...domain.Event) []domain.Recorded {
	t.Helper()
	t0 := time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC)
	out := make([]domain.Recorded, len(events))
	for i, e := range events {
		out[i] = domain.Recorded{
			ID: uuid.New(), Stream: domain.ParticipantStream(id), Revision: uint64(i), Position: uint64(10 + 2*i),
			Meta: domain.NewMetadata(e, domain.Actor{UserID: "u-kari", Role: "caseworker", Office: "oslo"},
				t0.Add(time.Duration(i)*time.Minute), time.UTC, uuid.New(), uuid.Nil),
			Event: e,
		}
	}
	return out
}

func TestReplayLinksCorrectionsAndVoidsBothWays(t *testing.T) {
	id := uuid.New()
	meeting := domain.MeetingHeld{Date: date(t, "2026-03-05"), Kind: domain.MeetingGuidance,
		Personal: &domain.MeetingPersonal{Minutes: "Test minutes"}}
	h := stream(t, id,
		meeting,
		domain.IndicatorScored{Date: date(t, "2026-03-05"), Timepoint: domain.TimepointBaseline, Instrument: "indicator_index",
			InstrumentVersion: 1, Scores: domain.Scores{Hope: 4, WellBeing: 5, Network: 3, WorkAttachment: 2}},
	)
	h = append(h, stream(t, id,
		domain.EntryCorrected{EntryID: h[0].ID, Reason: domain.CorrectionWrongDate,
			Replacement: domain.MeetingHeld{Date: date(t, "2026-03-04"), Kind: domain.MeetingGuidance}},
		domain.EntryVoided{EntryID: h[1].ID, EntryType: domain.TypeIndicatorScored, Reason: domain.VoidDuplicate},
		domain.EntryCorrected{EntryID: h[0].ID, Reason: domain.CorrectionWrongValue,
			Replacement: domain.MeetingHeld{Date: date(t, "2026-03-04"), Kind: domain.MeetingPhone},
			Personal:    &domain.NotePersonal{Note: "Test note"}},
		domain.EntryVoided{EntryID: uuid.New(), EntryType: domain.TypeMeetingHeld, Reason: domain.VoidOther}, // names nothing here
	)...)
	for i := range h {
		h[i].Revision, h[i].Position = uint64(i), uint64(10+2*i)
	}

	got, err := audit.Replay(id, h, audit.KnownAt{}, true)
	if err != nil {
		t.Fatal(err)
	}
	ev := got.Events
	if len(ev) != 6 || got.Stream != domain.ParticipantStream(id) || !got.PersonalData || got.Erased {
		t.Fatalf("history %+v", got)
	}
	if !slices.Equal(ev[0].CorrectedBy, []uuid.UUID{h[2].ID, h[4].ID}) || ev[2].Corrects != h[0].ID || ev[4].Corrects != h[0].ID {
		t.Errorf("corrections: meeting corrected by %v; corrections correct %s, %s", ev[0].CorrectedBy, ev[2].Corrects, ev[4].Corrects)
	}
	if !slices.Equal(ev[1].VoidedBy, []uuid.UUID{h[3].ID}) || ev[3].Voids != h[1].ID {
		t.Errorf("void: score voided by %v; void voids %s", ev[1].VoidedBy, ev[3].Voids)
	}
	if ev[5].Voids != h[5].Event.(domain.EntryVoided).EntryID || len(ev[5].VoidedBy)+len(ev[5].CorrectedBy) != 0 {
		t.Errorf("a void of nothing in the stream: %+v", ev[5])
	}
	for i, e := range ev {
		if e.EventID != h[i].ID || e.Revision != uint64(i) || e.Position != h[i].Position || e.Type != h[i].Event.EventType() ||
			e.Actor != h[i].Meta.Actor || !e.RecordedAt.Equal(h[i].Meta.RecordedAt) || e.OccurredOn != h[i].Meta.OccurredOn ||
			e.CorrelationID != h[i].Meta.CorrelationID || e.SchemaVersion != domain.SchemaVersion {
			t.Errorf("event %d: %+v", i, e)
		}
	}
	if !bytes.Contains(ev[0].Personal, []byte("Test minutes")) || bytes.Contains(ev[0].Data, []byte("Test minutes")) ||
		!bytes.Contains(ev[4].Personal, []byte("Test note")) || bytes.Contains(ev[4].Data, []byte("Test note")) ||
		ev[1].Personal != nil {
		t.Errorf("personal parts: %s | %s | %s | %s", ev[0].Data, ev[0].Personal, ev[4].Data, ev[4].Personal)
	}
	if !got.ShowsPersonal() {
		t.Error("ShowsPersonal is false with personal parts shown")
	}

	// Without the right to see them, the personal parts are gone, the rest
	// is the same.
	redacted, err := audit.Replay(id, h, audit.KnownAt{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if redacted.PersonalData || redacted.ShowsPersonal() || len(redacted.Events) != 6 || !bytes.Equal(redacted.Events[0].Data, ev[0].Data) {
		t.Errorf("redacted history %+v", redacted)
	}

	// As known before the second correction, the meeting was corrected
	// once.
	earlier, err := audit.Replay(id, h, audit.KnownAt{Position: h[3].Position}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(earlier.Events) != 4 || !slices.Equal(earlier.Events[0].CorrectedBy, []uuid.UUID{h[2].ID}) ||
		earlier.KnownAt != "16" {
		t.Errorf("history as known at %d: %+v", h[3].Position, earlier)
	}
}

func TestReplayOfAnErasedParticipant(t *testing.T) {
	id := uuid.New()
	h := stream(t, id,
		domain.MeetingHeld{Date: date(t, "2026-03-05"), Kind: domain.MeetingGuidance},
		domain.PersonalDataErased{Date: date(t, "2026-05-10"), LegalBasis: domain.ErasureConsentWithdrawn, RequestedBy: domain.RequesterParticipant},
	)
	got, err := audit.Replay(id, h, audit.KnownAt{}, true)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Erased || got.ShowsPersonal() || len(got.Events) != 2 || got.Events[1].Type != domain.TypePersonalDataErased {
		t.Errorf("erased history %+v", got)
	}
	before, err := audit.Replay(id, h, audit.KnownAt{Position: h[0].Position}, true)
	if err != nil || before.Erased {
		t.Errorf("history before the erasure says erased: %+v, %v", before, err)
	}
}
