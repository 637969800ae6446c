package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Registry maps event type names to Go types and back, and refuses
// conflicts: a name registered twice, or one Go type under two names.
// NewRegistry holds every v1 event; the package-level EncodeEvent and
// DecodeEvent behave exactly like a NewRegistry's.
type Registry struct {
	types map[string]reflect.Type
	names map[reflect.Type]string
}

// NewRegistry returns a registry of every v1 event type.
func NewRegistry() *Registry {
	r := &Registry{types: map[string]reflect.Type{}, names: map[reflect.Type]string{}}
	for _, name := range EventTypes() {
		if err := r.Register(eventFor(name)); err != nil {
			panic(err) // the v1 catalogue itself conflicts: a programming error caught by any test
		}
	}
	return r
}

// Register adds the type of zero (a struct value, not a pointer) under its
// EventType name.
func (r *Registry) Register(zero Event) error {
	if zero == nil {
		return fmt.Errorf("register event: nil")
	}
	t := reflect.TypeOf(zero)
	name := zero.EventType()
	switch {
	case t.Kind() != reflect.Struct:
		return fmt.Errorf("register event %q: %s is not a struct type", name, t)
	case name == "":
		return fmt.Errorf("register event %s: empty type name", t)
	}
	if other, ok := r.types[name]; ok {
		return fmt.Errorf("register event %q: name already taken by %s", name, other)
	}
	if other, ok := r.names[t]; ok {
		return fmt.Errorf("register event %q: %s already registered as %q", name, t, other)
	}
	r.types[name] = t
	r.names[t] = name
	return nil
}

// Types lists the registered type names, sorted.
func (r *Registry) Types() []string {
	names := make([]string, 0, len(r.types))
	for n := range r.types {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Encode returns the type name and JSON payload of e, which must be
// registered.
func (r *Registry) Encode(e Event) (string, []byte, error) {
	e = deref(e)
	if e == nil {
		return "", nil, fmt.Errorf("encode event: nil")
	}
	name, ok := r.names[reflect.TypeOf(e)]
	if !ok {
		return "", nil, fmt.Errorf("encode event %q: %w", e.EventType(), ErrUnknownEventType)
	}
	data, err := json.Marshal(e)
	if err != nil {
		return "", nil, fmt.Errorf("encode event %q: %w", name, err)
	}
	return name, data, nil
}

// Decode returns the event of type typ held in data. It is strict: exact
// member names, no unknown or repeated members, the right JSON types.
// Errors match ErrUnknownEventType or ErrMalformed and never quote values.
func (r *Registry) Decode(typ string, data []byte) (Event, error) {
	t, ok := r.types[typ]
	if !ok {
		return nil, fmt.Errorf("decode event %q: %w", clip(typ), ErrUnknownEventType)
	}
	return decodeAs(typ, t, data)
}

// EncodeEvent returns the type name and JSON payload of a v1 event.
func EncodeEvent(e Event) (string, []byte, error) {
	e = deref(e)
	if e == nil {
		return "", nil, fmt.Errorf("encode event: nil")
	}
	zero := eventFor(e.EventType())
	if zero == nil || reflect.TypeOf(zero) != reflect.TypeOf(e) {
		return "", nil, fmt.Errorf("encode event %q: %w", e.EventType(), ErrUnknownEventType)
	}
	data, err := json.Marshal(e)
	if err != nil {
		return "", nil, fmt.Errorf("encode event %q: %w", e.EventType(), err)
	}
	return e.EventType(), data, nil
}

// DecodeEvent returns the v1 event of type typ held in data; see
// Registry.Decode.
func DecodeEvent(typ string, data []byte) (Event, error) {
	zero := eventFor(typ)
	if zero == nil {
		return nil, fmt.Errorf("decode event %q: %w", clip(typ), ErrUnknownEventType)
	}
	return decodeAs(typ, reflect.TypeOf(zero), data)
}

// DecodePublicEvent returns the v1 event of type typ held in data without
// its personal member, whatever that member holds (sealed, in clear, or
// nothing after erasure): what a read model, which never holds personal
// data, needs of an event the log holds. It decodes in one pass with JSON
// v2 (github.com/go-json-experiment/json), and so is not strict: an
// unknown member is skipped. Events are checked strictly when they are
// written and when the command handler reads them; a read model must only
// not misread them, and this is several times faster than DecodeEvent.
// Errors match ErrUnknownEventType or ErrMalformed and never quote values.
func DecodePublicEvent(typ string, data []byte) (Event, error) {
	zero := eventFor(typ)
	if zero == nil {
		return nil, fmt.Errorf("decode event %q: %w", clip(typ), ErrUnknownEventType)
	}
	if typ == TypeEntryCorrected {
		// Its decoder merges the personal member into the replacement
		// and refuses one it cannot read, such as a sealed one: it must
		// not see it at all.
		var members map[string]jsontext.Value
		if err := jsonv2.Unmarshal(data, &members); err != nil {
			return nil, fmt.Errorf("decode %s: %w: %v", typ, ErrMalformed, publicDecodeError(err))
		}
		delete(members, "personal")
		public, err := jsonv2.Marshal(members)
		if err != nil {
			return nil, fmt.Errorf("decode %s: %w", typ, err)
		}
		data = public
	}
	ptr := reflect.New(reflect.TypeOf(zero))
	if typ == TypeEntryCorrected {
		if err := jsonv2.Unmarshal(data, ptr.Interface()); err != nil {
			return nil, fmt.Errorf("decode %s: %w: %v", typ, ErrMalformed, publicDecodeError(err))
		}
		return withoutPersonal(ptr.Elem().Interface().(Event)), nil
	}
	if err := jsonv2.Unmarshal(data, ptr.Interface(), skipPersonal); err != nil {
		return nil, fmt.Errorf("decode %s: %w: %v", typ, ErrMalformed, publicDecodeError(err))
	}
	return ptr.Elem().Interface().(Event), nil
}

// skipPersonal makes JSON v2 skip every personal member unread, sealed or
// not, leaving the event's Personal nil: a read model has no use for it,
// and a sealed one is most of an event's bytes. Every personal type of
// an event is here (TestDecodePublicEvent fails otherwise). Built once:
// options are immutable, and building them costs more than a decode.
var skipPersonal = jsonv2.WithUnmarshalers(jsonv2.JoinUnmarshalers(
	skipMember[EnrolmentPersonal](), skipMember[GoalPersonal](), skipMember[NotePersonal](),
	skipMember[MeetingPersonal](), skipMember[PlacementPersonal](), skipMember[EmployerPersonal](),
))

// skipMember skips a member of type *T, leaving the pointer nil.
func skipMember[T any]() *jsonv2.Unmarshalers {
	return jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, _ **T) error { return dec.SkipValue() })
}

// publicDecodeError is jsonError for JSON v2's errors: where it failed,
// never the value it found, which may be personal data.
func publicDecodeError(err error) *InvalidError {
	var ie *InvalidError
	var serr *jsonv2.SemanticError
	var synerr *jsontext.SyntacticError
	switch {
	case errors.As(err, &ie):
		return ie
	case errors.As(err, &serr) && serr.GoType != nil:
		return invalid(string(serr.JSONPointer), CodeType, "must be "+jsonKind(serr.GoType))
	case errors.As(err, &synerr):
		return invalid(string(synerr.JSONPointer), CodeMalformed, "is not valid JSON (at byte "+strconv.FormatInt(synerr.ByteOffset, 10)+")")
	}
	return invalid("", CodeMalformed, "has a malformed value")
}

func decodeAs(typ string, t reflect.Type, data []byte) (Event, error) {
	ptr := reflect.New(t)
	if err := decodeStrict(data, ptr.Interface()); err != nil {
		return nil, fmt.Errorf("decode %s: %w: %v", typ, ErrMalformed, err)
	}
	return ptr.Elem().Interface().(Event), nil
}

// deref turns a pointer to an event into the event value, so that callers
// may pass either.
func deref(e Event) Event {
	if e == nil {
		return nil
	}
	v := reflect.ValueOf(e)
	if v.Kind() != reflect.Pointer {
		return e
	}
	if v.IsNil() {
		return nil
	}
	ev, ok := v.Elem().Interface().(Event)
	if !ok {
		return nil
	}
	return ev
}

// splitPersonal returns e without its personal section, and that section
// (nil when the event has none or it is nil).
func splitPersonal(e Event) (Event, any) {
	v := reflect.New(reflect.TypeOf(e)).Elem()
	v.Set(reflect.ValueOf(e))
	f := v.FieldByName("Personal")
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() {
		return e, nil
	}
	personal := f.Interface()
	f.SetZero()
	return v.Interface().(Event), personal
}

// personalType is the type the personal section of events like e points
// to, or nil when they have none.
func personalType(e Event) reflect.Type {
	f, ok := reflect.TypeOf(e).FieldByName("Personal")
	if !ok || f.Type.Kind() != reflect.Pointer {
		return nil
	}
	return f.Type.Elem()
}

// HasPersonal reports whether e carries any personal data: when it does
// not, its encoding has no personal member to seal.
func HasPersonal(e Event) bool { return hasPersonal(e) }

// hasPersonal reports whether e carries any personal data.
func hasPersonal(e Event) bool {
	e = deref(e)
	if c, ok := e.(EntryCorrected); ok {
		return c.Personal != nil || (c.Replacement != nil && hasPersonal(c.Replacement))
	}
	_, p := splitPersonal(e)
	return p != nil
}

// withoutPersonal is e with its personal section removed, as after erasure.
func withoutPersonal(e Event) Event {
	if c, ok := e.(EntryCorrected); ok {
		c.Personal = nil
		if c.Replacement != nil {
			c.Replacement = withoutPersonal(c.Replacement)
		}
		return c
	}
	pub, _ := splitPersonal(e)
	return pub
}

// clip bounds a stored type name quoted in an error.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
