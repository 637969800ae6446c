package audit

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
)

// History is a participant's stream as an auditor replays it: every event
// in order, corrections and voids beside what they amend, each with who
// recorded it, when, and under which request.
type History struct {
	ParticipantID uuid.UUID `json:"participant_id"`
	Stream        string    `json:"stream"`
	// KnownAt is the point of the log the history was cut at; "" for all
	// of it.
	KnownAt string `json:"known_at,omitempty"`
	// PersonalData says whether the reader may see the events' personal
	// parts: false for a redacted history (address protection).
	PersonalData bool `json:"personal_data"`
	// Erased says that the participant's personal data were erased: no
	// event shows a personal part any more, whoever asks.
	Erased bool           `json:"erased"`
	Events []HistoryEvent `json:"events"`
}

// HistoryEvent is one event of a history with its metadata.
type HistoryEvent struct {
	EventID       uuid.UUID    `json:"event_id"`
	Type          string       `json:"type"`
	Revision      uint64       `json:"revision"`
	Position      uint64       `json:"position"`
	OccurredOn    domain.Date  `json:"occurred_on"`
	RecordedAt    time.Time    `json:"recorded_at"`
	Actor         domain.Actor `json:"actor"`
	CorrelationID uuid.UUID    `json:"correlation_id"`
	CausationID   uuid.UUID    `json:"causation_id,omitzero"`
	SchemaVersion int          `json:"schema_version"`
	// PrevDigest is the event's link in its stream's hash chain: the
	// digest of the event before it as stored (package chain), which
	// `caseledger verify` checks.
	PrevDigest string `json:"prev_digest,omitempty"`
	// Data is the payload without its personal part.
	Data json.RawMessage `json:"data"`
	// Personal is the payload's personal part, when there is one and the
	// reader may see it.
	Personal json.RawMessage `json:"personal,omitempty"`
	// Corrects and Voids name the entry a correction or void amends.
	Corrects uuid.UUID `json:"corrects,omitzero"`
	Voids    uuid.UUID `json:"voids,omitzero"`
	// CorrectedBy and VoidedBy name the later corrections and voids of this
	// entry, in order.
	CorrectedBy []uuid.UUID `json:"corrected_by,omitempty"`
	VoidedBy    []uuid.UUID `json:"voided_by,omitempty"`
}

// Replay builds the history of participant id from its stream h as known
// at k; personal says whether the reader may see personal parts.
func Replay(id uuid.UUID, h []domain.Recorded, k KnownAt, personal bool) (History, error) {
	h = k.Of(h)
	out := History{
		ParticipantID: id, Stream: domain.ParticipantStream(id), KnownAt: k.String(),
		PersonalData: personal, Erased: domain.FoldParticipant(h).Erased,
		Events: make([]HistoryEvent, 0, len(h)),
	}
	index := make(map[uuid.UUID]int, len(h))
	for _, r := range h {
		ev, err := historyEventOf(r, personal)
		if err != nil {
			return History{}, fmt.Errorf("replay %s: %w", out.Stream, err)
		}
		index[r.ID] = len(out.Events)
		out.Events = append(out.Events, ev)
	}
	// Links run backwards too: an amendment always follows the entry it
	// names, so the entry is in the index by the time it is met.
	for _, ev := range out.Events {
		if i, ok := index[ev.Corrects]; ok && ev.Corrects != uuid.Nil {
			out.Events[i].CorrectedBy = append(out.Events[i].CorrectedBy, ev.EventID)
		}
		if i, ok := index[ev.Voids]; ok && ev.Voids != uuid.Nil {
			out.Events[i].VoidedBy = append(out.Events[i].VoidedBy, ev.EventID)
		}
	}
	return out, nil
}

// ShowsPersonal reports whether any event shows a personal part.
func (h History) ShowsPersonal() bool {
	for _, ev := range h.Events {
		if ev.Personal != nil {
			return true
		}
	}
	return false
}

func historyEventOf(r domain.Recorded, personal bool) (HistoryEvent, error) {
	typ, data, err := domain.EncodeEvent(r.Event)
	if err != nil {
		return HistoryEvent{}, fmt.Errorf("event %s: %w", r.ID, err)
	}
	public, private, err := splitPersonal(data)
	if err != nil {
		return HistoryEvent{}, fmt.Errorf("event %s: %w", r.ID, err)
	}
	ev := HistoryEvent{
		EventID: r.ID, Type: typ, Revision: r.Revision, Position: r.Position,
		OccurredOn: r.Meta.OccurredOn, RecordedAt: r.Meta.RecordedAt, Actor: r.Meta.Actor,
		CorrelationID: r.Meta.CorrelationID, CausationID: r.Meta.CausationID, SchemaVersion: r.Meta.SchemaVersion,
		PrevDigest: r.Meta.PrevDigest, Data: public,
	}
	if personal {
		ev.Personal = private
	}
	switch e := r.Event.(type) {
	case domain.EntryCorrected:
		ev.Corrects = e.EntryID
	case domain.EntryVoided:
		ev.Voids = e.EntryID
	}
	return ev, nil
}

// splitPersonal takes the "personal" member out of an encoded event: the
// domain keeps every piece of personal data and free text there (for a
// correction, the replacement's too), apart from the public payload.
func splitPersonal(data []byte) (public, personal json.RawMessage, err error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return nil, nil, fmt.Errorf("split the personal part: %w", err)
	}
	personal = members["personal"]
	delete(members, "personal")
	public, err = json.Marshal(members)
	if err != nil {
		return nil, nil, fmt.Errorf("split the personal part: %w", err)
	}
	return public, personal, nil
}
