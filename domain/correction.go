package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/google/uuid"
)

// correctable reports whether entries of type typ may be corrected or
// voided: participant events other than corrections, voids and erasure,
// which is irreversible.
func correctable(typ string) bool {
	switch typ {
	case TypeEntryCorrected, TypeEntryVoided, TypePersonalDataErased:
		return false
	}
	return StreamKindOf(typ) == StreamParticipant
}

type entryCorrectedJSON struct {
	EntryID     uuid.UUID                   `json:"entry_id"`
	EntryType   string                      `json:"entry_type"`
	Reason      CorrectionReason            `json:"reason"`
	Replacement json.RawMessage             `json:"replacement"`
	Personal    *entryCorrectedPersonalJSON `json:"personal,omitempty"`
}

type entryCorrectedPersonalJSON struct {
	Note        string          `json:"note,omitempty"`
	Replacement json.RawMessage `json:"replacement,omitempty"`
}

// EntryType is the type of the corrected entry, which is the type of its
// replacement.
func (e EntryCorrected) EntryType() string {
	if r := deref(e.Replacement); r != nil {
		return r.EventType()
	}
	return ""
}

// MarshalJSON moves the replacement's personal section into the
// correction's own "personal" member.
func (e EntryCorrected) MarshalJSON() ([]byte, error) {
	repl := deref(e.Replacement)
	if repl == nil {
		return nil, fmt.Errorf("EntryCorrected without a replacement")
	}
	if !correctable(repl.EventType()) || eventFor(repl.EventType()) == nil ||
		reflect.TypeOf(eventFor(repl.EventType())) != reflect.TypeOf(repl) {
		return nil, fmt.Errorf("EntryCorrected: %s cannot be a replacement", repl.EventType())
	}
	public, personal := splitPersonal(repl)
	pub, err := json.Marshal(public)
	if err != nil {
		return nil, err
	}
	out := entryCorrectedJSON{EntryID: e.EntryID, EntryType: repl.EventType(), Reason: e.Reason, Replacement: pub}
	if (e.Personal != nil && e.Personal.Note != "") || personal != nil {
		out.Personal = &entryCorrectedPersonalJSON{}
		if e.Personal != nil {
			out.Personal.Note = e.Personal.Note
		}
		if personal != nil {
			if out.Personal.Replacement, err = json.Marshal(personal); err != nil {
				return nil, err
			}
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON is as strict as DecodeEvent and merges the replacement's
// personal section back into the replacement.
func (e *EntryCorrected) UnmarshalJSON(data []byte) error {
	var raw entryCorrectedJSON
	if err := decodeStrict(data, &raw); err != nil {
		return err
	}
	var personal json.RawMessage
	if raw.Personal != nil {
		personal = raw.Personal.Replacement
	}
	repl, err := mergeReplacement(raw.EntryType, raw.Replacement, personal)
	if err != nil {
		return err
	}
	*e = EntryCorrected{EntryID: raw.EntryID, Reason: raw.Reason, Replacement: repl}
	if raw.Personal != nil && raw.Personal.Note != "" {
		e.Personal = &NotePersonal{Note: raw.Personal.Note}
	}
	return nil
}

// mergeReplacement decodes a replacement of type typ from its public JSON
// and its personal JSON (which may be absent), strictly. Errors point into
// the correction: "/replacement/…" or "/personal/replacement/…".
func mergeReplacement(typ string, public, personal json.RawMessage) (Event, *InvalidError) {
	zero := eventFor(typ)
	switch {
	case typ == "":
		return nil, invalid("/entry_type", CodeRequired, "is required")
	case zero == nil || !correctable(typ):
		return nil, invalid("/entry_type", CodeNotAllowed, "names no event type that can be corrected")
	case len(bytes.TrimSpace(public)) == 0 || string(bytes.TrimSpace(public)) == "null":
		return nil, invalid("/replacement", CodeRequired, "is required")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(public, &members); err != nil {
		return nil, invalid("/replacement", CodeType, "must be an object")
	}
	if _, ok := members["personal"]; ok {
		return nil, invalid("/replacement/personal", CodeUnknownField, "belongs in /personal/replacement, the correction's personal section")
	}
	t := reflect.TypeOf(zero)
	ptr := reflect.New(t)
	if err := decodeStrict(public, ptr.Interface()); err != nil {
		return nil, &InvalidError{Pointer: "/replacement" + err.Pointer, Code: err.Code, Message: err.Message}
	}
	if len(bytes.TrimSpace(personal)) > 0 && string(bytes.TrimSpace(personal)) != "null" {
		pt := personalType(zero)
		if pt == nil {
			return nil, invalid("/personal/replacement", CodeUnknownField, "this entry type has no personal section")
		}
		pv := reflect.New(pt)
		if err := decodeStrict(personal, pv.Interface()); err != nil {
			return nil, &InvalidError{Pointer: "/personal/replacement" + err.Pointer, Code: err.Code, Message: err.Message}
		}
		ptr.Elem().FieldByName("Personal").Set(pv)
	}
	return ptr.Elem().Interface().(Event), nil
}
