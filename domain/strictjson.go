package domain

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/google/uuid"
)

// decodeStrict decodes one JSON object into v (a pointer to a struct) and
// refuses what encoding/json lets through: keys that differ only in case,
// unknown or duplicate keys, a non-object, trailing data. Failures are
// *InvalidError with a JSON pointer and without the offending value, so
// that neither a client's nor a stored event's data leaks into messages.
func decodeStrict(data []byte, v any) *InvalidError {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return invalid("", CodeMalformed, "must be a JSON object")
	}
	// Nearly all that comes here is valid: events and metadata the
	// product wrote, read back by every command. JSON v2 refusing unknown
	// members accepts what the checks below accept (exact names, no
	// duplicates, one value and nothing after it) in a single pass, at
	// several times the speed; what it refuses goes the slow way, which
	// says precisely what is wrong.
	if jsonv2.Unmarshal(data, v, jsonv2.RejectUnknownMembers(true)) == nil {
		nilEmptySlices(reflect.ValueOf(v))
		return nil
	}
	reflect.ValueOf(v).Elem().SetZero() // what the failed pass filled in
	return decodeStrictWalk(data, v)
}

// decodeStrictWalk is decodeStrict without its fast path: the walk of the
// tokens that finds what is wrong, then encoding/json.
func decodeStrictWalk(data []byte, v any) *InvalidError {
	t := reflect.TypeOf(v).Elem()
	if !implementsUnmarshaler(t) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := walk(dec, t, ""); err != nil {
			return err
		}
		if _, err := dec.Token(); err != io.EOF {
			return invalid("", CodeMalformed, "must hold one JSON object and nothing after it")
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("", CodeMalformed, "must hold one JSON object and nothing after it")
	}
	nilEmptySlices(reflect.ValueOf(v))
	return nil
}

// nilEmptySlices gives every decoded value one form: "[]" and an omitted
// list both become nil, as omitempty writes them.
func nilEmptySlices(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			nilEmptySlices(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				nilEmptySlices(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Type() == rawMessageType() {
			return
		}
		if v.Len() == 0 && !v.IsNil() && v.CanSet() {
			v.SetZero()
			return
		}
		for i := range v.Len() {
			nilEmptySlices(v.Index(i))
		}
	}
}

func unmarshalerType() reflect.Type     { return reflect.TypeFor[json.Unmarshaler]() }
func textUnmarshalerType() reflect.Type { return reflect.TypeFor[encoding.TextUnmarshaler]() }
func uuidType() reflect.Type            { return reflect.TypeFor[uuid.UUID]() }
func rawMessageType() reflect.Type      { return reflect.TypeFor[json.RawMessage]() }

func implementsUnmarshaler(t reflect.Type) bool {
	return t != dateType() && reflect.PointerTo(t).Implements(unmarshalerType())
}

// jsonError turns an encoding/json error into an *InvalidError that names
// the field, not the value.
func jsonError(err error) *InvalidError {
	var ie *InvalidError
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &ie):
		return ie
	case errors.As(err, &te):
		ptr := "/" + strings.ReplaceAll(te.Field, ".", "/")
		if te.Field == "" {
			ptr = ""
		}
		if te.Type == dateType() {
			return invalid(ptr, CodeType, strings.TrimPrefix(te.Value, "string "))
		}
		return invalid(ptr, CodeType, "must be "+jsonKind(te.Type))
	case errors.As(err, &se):
		return invalid("", CodeMalformed, "is not valid JSON (at byte "+strconv.FormatInt(se.Offset, 10)+")")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("", CodeMalformed, "is not complete JSON")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return invalid("", CodeUnknownField, "has an unknown member")
	}
	return invalid("", CodeMalformed, "has a malformed value")
}

func jsonKind(t reflect.Type) string {
	switch {
	case t == dateType():
		return "a date written YYYY-MM-DD"
	case t == uuidType():
		return "a UUID string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "a whole number"
	case reflect.Float64, reflect.Float32:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "of another type"
}

// walk checks the next JSON value against t, token by token.
func walk(dec *json.Decoder, t reflect.Type, ptr string) *InvalidError {
	tok, err := dec.Token()
	if err != nil {
		return jsonError(err)
	}
	return walkValue(dec, tok, t, ptr)
}

func walkValue(dec *json.Decoder, tok json.Token, t reflect.Type, ptr string) *InvalidError {
	wrong := func() *InvalidError { return invalid(ptr, CodeType, "must be "+jsonKind(t)) }
	if tok == nil { // null leaves the Go zero value, which validation then judges
		return nil
	}
	switch {
	case t == rawMessageType() || t.Kind() == reflect.Interface:
		return skip(dec, tok)
	case t == dateType():
		s, ok := tok.(string)
		if !ok {
			return wrong()
		}
		if _, err := ParseDate(s); err != nil {
			return invalid(ptr, CodeType, err.Error())
		}
		return nil
	case t == uuidType():
		s, ok := tok.(string)
		if !ok {
			return wrong()
		}
		if _, err := uuid.Parse(s); err != nil {
			return invalid(ptr, CodeType, "must be a UUID string")
		}
		return nil
	case reflect.PointerTo(t).Implements(unmarshalerType()) || reflect.PointerTo(t).Implements(textUnmarshalerType()):
		return skip(dec, tok)
	}
	switch t.Kind() {
	case reflect.Pointer:
		return walkValue(dec, tok, t.Elem(), ptr)
	case reflect.String:
		if _, ok := tok.(string); !ok {
			return wrong()
		}
	case reflect.Bool:
		if _, ok := tok.(bool); !ok {
			return wrong()
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, ok := tok.(json.Number)
		if !ok {
			return wrong()
		}
		if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
			return wrong()
		}
	case reflect.Float64, reflect.Float32:
		if _, ok := tok.(json.Number); !ok {
			return wrong()
		}
	case reflect.Slice:
		if tok != json.Delim('[') {
			return wrong()
		}
		for i := 0; dec.More(); i++ {
			if err := walk(dec, t.Elem(), ptr+"/"+strconv.Itoa(i)); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return jsonError(err)
		}
	case reflect.Struct:
		if tok != json.Delim('{') {
			return wrong()
		}
		fields := jsonFields(t)
		seen := make(map[string]bool, len(fields))
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return jsonError(err)
			}
			key, _ := kt.(string)
			f, ok := fields[key]
			if !ok {
				return invalid(ptr+"/"+escapePointer(key), CodeUnknownField, "is not a member of this object")
			}
			if seen[key] {
				return invalid(ptr+"/"+escapePointer(key), CodeDuplicate, "appears twice")
			}
			seen[key] = true
			if err := walk(dec, f, ptr+"/"+key); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return jsonError(err)
		}
	default:
		return skip(dec, tok)
	}
	return nil
}

// skip consumes the rest of a value whose first token was tok.
func skip(dec *json.Decoder, tok json.Token) *InvalidError {
	if tok != json.Delim('{') && tok != json.Delim('[') {
		return nil
	}
	for depth := 1; depth > 0; {
		t, err := dec.Token()
		if err != nil {
			return jsonError(err)
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

// jsonFields maps the exact JSON names of a struct's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	return fields
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// DecodeCommand decodes a request body strictly into cmd, a pointer to a
// command struct: exact member names, no unknown or repeated members, one
// object and nothing after it. Its error is an *InvalidError pointing at
// the offending member.
func DecodeCommand(data []byte, cmd any) error {
	rv := reflect.ValueOf(cmd)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return errors.New("domain: DecodeCommand needs a non-nil pointer to a struct")
	}
	if err := decodeStrict(data, cmd); err != nil {
		return err
	}
	return nil
}
