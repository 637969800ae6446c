package api

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
)

// DefaultMaxBodyBytes bounds a request body unless Config says otherwise.
const DefaultMaxBodyBytes = 64 << 10

// MaxNesting bounds how deep a body may nest; no command needs more than a
// handful of levels, and the bound keeps the walk below cheap.
const MaxNesting = 32

// Codes of the field errors the decoder reports.
const (
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeBodyTooLarge         = "body_too_large"
	CodeEmptyBody            = "empty_body"
	CodeUnreadableBody       = "unreadable_body"
	CodeInvalidUTF8          = "invalid_utf8"
	CodeMalformedJSON        = "malformed_json"
	CodeNotAnObject          = "not_an_object"
	CodeTrailingData         = "trailing_data"
	CodeTooDeep              = "too_deep"
	CodeUnknownField         = "unknown_field"
	CodeDuplicateField       = "duplicate_field"
	CodeWrongType            = "wrong_type"
	CodeOutOfRange           = "out_of_range"
	CodeInvalidValue         = "invalid_value"
)

// Codes of the problems (their type URIs) the decoder returns.
const (
	ProblemInvalidBody          = "invalid_body"
	ProblemBodyTooLarge         = "body_too_large"
	ProblemUnsupportedMediaType = "unsupported_media_type"
	ProblemBodyTimeout          = "body_timeout"
)

// DecodeJSON reads the body of r into v, a pointer, strictly: the body must
// be declared application/json (UTF-8), be at most limit bytes (0 means
// DefaultMaxBodyBytes), hold exactly one JSON object and nothing after it,
// use only members that v has — spelt exactly, each once — and give each a
// value of the right type. Any failure is a *Problem (400, 413 or 415)
// whose errors point at the member concerned; no problem quotes a value
// from the body. A v that is not a non-nil pointer is a programming error,
// returned as a plain error.
//
// Handlers call API.Decode, which supplies the configured limit.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("decode request body: target is %T, not a non-nil pointer", v)
	}
	body, err := ReadBody(w, r, limit)
	if err != nil {
		return err
	}
	return Unmarshal(body, v)
}

// Unmarshal decodes a body that ReadBody returned into v as strictly as
// DecodeJSON does, for handlers that need the bytes as well (to digest
// them for an idempotency key).
func Unmarshal(body []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("decode request body: target is %T, not a non-nil pointer", v)
	}
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); trimmed[0] != '{' {
		return invalidBody(BodyError("", CodeNotAnObject, "the body must be a JSON object"))
	}
	// Nearly every body is well formed. JSON v2 refusing unknown members
	// accepts what the walk below accepts (exact names, no duplicates, one
	// value and nothing after it) in one pass, once the nesting is known
	// to be within bounds; only what it refuses takes the two passes that
	// say precisely what is wrong. FuzzUnmarshalFastPath holds the two to
	// each other on every command type.
	if withinNesting(body, MaxNesting) && jsonv2.Unmarshal(body, v, jsonv2.RejectUnknownMembers(true)) == nil {
		return nil
	}
	rv.Elem().SetZero() // what the failed pass filled in
	return unmarshalWalk(body, v)
}

// unmarshalWalk is Unmarshal without its fast path.
func unmarshalWalk(body []byte, v any) error {
	rv := reflect.ValueOf(v)
	// The walk finds what encoding/json would let pass (duplicate members,
	// members in the wrong case) or would report without saying where.
	if fe := walk(body, rv.Type().Elem()); fe != nil {
		return invalidBody(*fe)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeFailure(err)
	}
	return nil
}

// withinNesting reports whether no object or array in body is nested
// deeper than limit, counting brackets outside strings.
func withinNesting(body []byte, limit int) bool {
	depth, inString, escaped := 0, false, false
	for _, c := range body {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if depth++; depth > limit {
				return false
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return true
}

// ReadBody returns the body of r after the checks of DecodeJSON that come
// before parsing: declared application/json (UTF-8), at most limit bytes
// (0 means DefaultMaxBodyBytes), not empty, valid UTF-8. It is for a
// handler that hands the bytes on to a decoder of its own (such as the
// domain's DecodeCommand); failures are *Problem (400, 413, 415).
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if p := checkContentType(r.Header.Get("Content-Type")); p != nil {
		return nil, p
	}
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	if r.Body == nil {
		return nil, invalidBody(BodyError("", CodeEmptyBody, "the request has no body; send a JSON object"))
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, NewProblem(http.StatusRequestEntityTooLarge, ProblemBodyTooLarge,
				fmt.Sprintf("the body exceeds %d bytes", limit),
				BodyError("", CodeBodyTooLarge, fmt.Sprintf("at most %d bytes", limit)))
		}
		// The server's read timeout passed: a slow or stalled client.
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, NewProblem(http.StatusRequestTimeout, ProblemBodyTimeout,
				"the body did not arrive in time; nothing was done")
		}
		return nil, invalidBody(BodyError("", CodeUnreadableBody, "the body could not be read to its end"))
	}
	switch {
	case len(bytes.TrimLeft(body, " \t\r\n")) == 0:
		return nil, invalidBody(BodyError("", CodeEmptyBody, "the body is empty; send a JSON object"))
	case !utf8.Valid(body):
		return nil, invalidBody(BodyError("", CodeInvalidUTF8, "the body is not valid UTF-8"))
	}
	return body, nil
}

func checkContentType(ct string) *Problem {
	unsupported := func() *Problem {
		return NewProblem(http.StatusUnsupportedMediaType, ProblemUnsupportedMediaType,
			"send the body as application/json",
			HeaderError("Content-Type", CodeUnsupportedMediaType, "must be application/json"))
	}
	if ct == "" {
		return unsupported()
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return unsupported()
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return unsupported()
	}
	return nil
}

func invalidBody(fe FieldError) *Problem {
	return NewProblem(http.StatusBadRequest, ProblemInvalidBody, "the request body is not acceptable", fe)
}

// decodeFailure turns what encoding/json reports after the walk passed
// into a problem. Its messages are never passed on: they quote values.
func decodeFailure(err error) error {
	var (
		typeErr   *json.UnmarshalTypeError
		syntaxErr *json.SyntaxError
		invalid   *json.InvalidUnmarshalError
	)
	switch {
	case errors.As(err, &typeErr):
		return invalidBody(BodyError(dottedToPointer(typeErr.Field), CodeWrongType, "expected "+describe(typeErr.Type)))
	case errors.As(err, &syntaxErr):
		return invalidBody(malformed(syntaxErr.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalidBody(BodyError("", CodeMalformedJSON, "the JSON ends too early"))
	case errors.As(err, &invalid):
		return fmt.Errorf("decode request body: %w", err)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for this; the walk normally
		// reports it first, with the full path.
		name, uerr := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		if uerr != nil {
			return invalidBody(BodyError("", CodeUnknownField, "unknown member"))
		}
		return invalidBody(BodyError("/"+escapePointer(name), CodeUnknownField, "unknown member"))
	}
	return invalidBody(BodyError("", CodeInvalidValue, "a value in the body is not valid"))
}

func malformed(offset int64) FieldError {
	return BodyError("", CodeMalformedJSON, fmt.Sprintf("malformed JSON at byte offset %d", offset))
}

// dottedToPointer turns encoding/json's field path ("scores.hope") into a
// JSON pointer ("/scores/hope").
func dottedToPointer(field string) string {
	if field == "" {
		return ""
	}
	parts := strings.Split(field, ".")
	for i, p := range parts {
		parts[i] = escapePointer(p)
	}
	return "/" + strings.Join(parts, "/")
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

func escapePointer(token string) string { return pointerEscaper.Replace(token) }

// walker follows a body token by token alongside the Go type it is to be
// decoded into, and reports the first thing wrong, with its JSON pointer.
// A nil type stands for "anything" (interfaces, raw messages): there it
// still looks for duplicate members.
type walker struct {
	dec   *json.Decoder
	depth int
}

func walk(body []byte, t reflect.Type) *FieldError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	w := &walker{dec: dec}
	if fe := w.value(t, ""); fe != nil {
		return fe
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		end += int64(len(body[end:]) - len(bytes.TrimLeft(body[end:], " \t\r\n")))
		fe := BodyError("", CodeTrailingData, fmt.Sprintf("data after the JSON object, at byte offset %d", end))
		return &fe
	}
	return nil
}

var (
	typeJSONUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	typeTextUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	typeNumber          = reflect.TypeFor[json.Number]()
	typeRawMessage      = reflect.TypeFor[json.RawMessage]()
	typeTime            = reflect.TypeFor[time.Time]()
)

func (w *walker) tokenError(err error) *FieldError {
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		fe := malformed(syntaxErr.Offset)
		return &fe
	}
	fe := BodyError("", CodeMalformedJSON, "the JSON ends too early")
	return &fe
}

func fieldError(ptr, code, detail string) *FieldError {
	fe := BodyError(ptr, code, detail)
	return &fe
}

func (w *walker) value(t reflect.Type, ptr string) *FieldError {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && (t == typeRawMessage || t.Kind() == reflect.Interface) {
		t = nil
	}
	if t != nil && reflect.PointerTo(t).Implements(typeJSONUnmarshaler) {
		return w.custom(t, ptr)
	}
	tok, err := w.dec.Token()
	if err != nil {
		return w.tokenError(err)
	}
	switch tok := tok.(type) {
	case json.Delim: // '{' or '['; Token never returns a closing one here
		w.depth++
		defer func() { w.depth-- }()
		if w.depth > MaxNesting {
			return fieldError(ptr, CodeTooDeep, fmt.Sprintf("nested deeper than %d levels", MaxNesting))
		}
		if tok == '{' {
			return w.object(t, ptr)
		}
		return w.array(t, ptr)
	case nil:
		return nil // null leaves the target as it is, as encoding/json does
	default:
		return scalar(t, ptr, tok)
	}
}

// custom checks a value whose type decodes itself (time.Time, say) by
// letting it try, so that a bad date is reported where it is.
func (w *walker) custom(t reflect.Type, ptr string) *FieldError {
	var raw json.RawMessage
	if err := w.dec.Decode(&raw); err != nil {
		return w.tokenError(err)
	}
	if string(raw) == "null" {
		return nil
	}
	u := reflect.New(t).Interface().(json.Unmarshaler)
	if err := u.UnmarshalJSON(raw); err != nil {
		return fieldError(ptr, CodeInvalidValue, "expected "+describe(t))
	}
	return nil
}

func (w *walker) object(t reflect.Type, ptr string) *FieldError {
	var (
		fields map[string]reflect.Type
		elem   reflect.Type
		key    reflect.Type
	)
	if t != nil {
		switch {
		case t.Kind() == reflect.Struct && !isTextUnmarshaler(t):
			fields = structFields(t)
		case t.Kind() == reflect.Map:
			key, elem = t.Key(), t.Elem()
		default:
			return fieldError(ptr, CodeWrongType, "expected "+describe(t))
		}
	}
	seen := make(map[string]bool)
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return w.tokenError(err)
		}
		name, _ := tok.(string) // Token reports a non-string key as a syntax error
		at := ptr + "/" + escapePointer(name)
		if seen[name] {
			return fieldError(at, CodeDuplicateField, "member appears more than once")
		}
		seen[name] = true
		child := elem
		switch {
		case fields != nil:
			ft, ok := fields[name]
			if !ok {
				return fieldError(at, CodeUnknownField, "unknown member")
			}
			child = ft
		case key != nil:
			if fe := mapKey(key, name, at); fe != nil {
				return fe
			}
		}
		if fe := w.value(child, at); fe != nil {
			return fe
		}
	}
	if _, err := w.dec.Token(); err != nil { // the closing brace
		return w.tokenError(err)
	}
	return nil
}

func (w *walker) array(t reflect.Type, ptr string) *FieldError {
	var elem reflect.Type
	if t != nil {
		switch t.Kind() {
		case reflect.Slice, reflect.Array:
			if isTextUnmarshaler(t) {
				return fieldError(ptr, CodeWrongType, "expected "+describe(t))
			}
			elem = t.Elem()
		default:
			return fieldError(ptr, CodeWrongType, "expected "+describe(t))
		}
	}
	for i := 0; w.dec.More(); i++ {
		if fe := w.value(elem, ptr+"/"+strconv.Itoa(i)); fe != nil {
			return fe
		}
	}
	if _, err := w.dec.Token(); err != nil { // the closing bracket
		return w.tokenError(err)
	}
	return nil
}

func scalar(t reflect.Type, ptr string, tok json.Token) *FieldError {
	if t == nil {
		return nil
	}
	wrong := func() *FieldError { return fieldError(ptr, CodeWrongType, "expected "+describe(t)) }
	if isTextUnmarshaler(t) {
		s, ok := tok.(string)
		if !ok {
			return wrong()
		}
		u := reflect.New(t).Interface().(encoding.TextUnmarshaler)
		if err := u.UnmarshalText([]byte(s)); err != nil {
			return fieldError(ptr, CodeInvalidValue, "expected "+describe(t))
		}
		return nil
	}
	if t == typeNumber {
		switch tok := tok.(type) {
		case json.Number:
			return nil
		case string:
			if _, err := strconv.ParseFloat(tok, 64); err == nil {
				return nil
			}
		}
		return wrong()
	}
	switch tok := tok.(type) {
	case bool:
		if t.Kind() != reflect.Bool {
			return wrong()
		}
	case string:
		switch {
		case t.Kind() == reflect.String:
		case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
			if _, err := base64.StdEncoding.DecodeString(tok); err != nil {
				return fieldError(ptr, CodeInvalidValue, "expected "+describe(t))
			}
		default:
			return wrong()
		}
	case json.Number:
		return number(t, ptr, string(tok))
	}
	return nil
}

func number(t reflect.Type, ptr, lit string) *FieldError {
	var err error
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		_, err = strconv.ParseInt(lit, 10, t.Bits())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		_, err = strconv.ParseUint(lit, 10, t.Bits())
	case reflect.Float32, reflect.Float64:
		_, err = strconv.ParseFloat(lit, t.Bits())
	default:
		return fieldError(ptr, CodeWrongType, "expected "+describe(t))
	}
	var numErr *strconv.NumError
	if errors.As(err, &numErr) && numErr.Err == strconv.ErrRange {
		return fieldError(ptr, CodeOutOfRange, describe(t)+" out of range")
	}
	if err != nil {
		return fieldError(ptr, CodeWrongType, "expected "+describe(t))
	}
	return nil
}

// mapKey checks a member name against a map's key type, as encoding/json
// would convert it.
func mapKey(key reflect.Type, name, at string) *FieldError {
	if isTextUnmarshaler(key) {
		u := reflect.New(key).Interface().(encoding.TextUnmarshaler)
		if u.UnmarshalText([]byte(name)) != nil {
			return fieldError(at, CodeInvalidValue, "member name is not "+describe(key))
		}
		return nil
	}
	switch key.Kind() {
	case reflect.String:
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if fe := number(key, at, name); fe != nil {
			fe.Detail = "member name is not " + describe(key)
			return fe
		}
	}
	return nil
}

func isTextUnmarshaler(t reflect.Type) bool {
	return reflect.PointerTo(t).Implements(typeTextUnmarshaler) &&
		!reflect.PointerTo(t).Implements(typeJSONUnmarshaler)
}

// describe names what a Go type expects, in JSON's words.
func describe(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == nil:
		return "a JSON value"
	case t == typeTime:
		return "a date-time (RFC 3339)"
	case t == typeNumber:
		return "a number"
	case isTextUnmarshaler(t):
		return "a string in the expected format"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "an array"
	case reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a valid value"
}

// structFields maps the member names a struct accepts to their types, by
// the rules of encoding/json (tags, "-", embedded structs promoting their
// fields, the shallowest or only tagged name winning a conflict), except
// that names match exactly: encoding/json's case-insensitive match would
// let "Note" and "note" both fill one field.
func structFields(t reflect.Type) map[string]reflect.Type {
	type candidate struct {
		typ    reflect.Type
		depth  int
		tagged bool
	}
	cands := make(map[string][]candidate)
	var visit func(t reflect.Type, depth int, path map[reflect.Type]bool)
	visit = func(t reflect.Type, depth int, path map[reflect.Type]bool) {
		if path[t] {
			return
		}
		path[t] = true
		defer delete(path, t)
		for i := range t.NumField() {
			sf := t.Field(i)
			ft := sf.Type
			if sf.Anonymous {
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if !sf.IsExported() && ft.Kind() != reflect.Struct {
					continue
				}
			} else if !sf.IsExported() {
				continue
			}
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if name == "" && sf.Anonymous && ft.Kind() == reflect.Struct {
				visit(ft, depth+1, path)
				continue
			}
			tagged := name != ""
			if !tagged {
				name = sf.Name
			}
			typ := sf.Type
			if hasOption(opts, "string") && quotable(sf.Type) {
				typ = reflect.TypeFor[string]() // ",string": the value comes quoted
			}
			cands[name] = append(cands[name], candidate{typ: typ, depth: depth, tagged: tagged})
		}
	}
	visit(t, 0, make(map[reflect.Type]bool))

	fields := make(map[string]reflect.Type, len(cands))
	for name, cs := range cands {
		minDepth := cs[0].depth
		for _, c := range cs {
			minDepth = min(minDepth, c.depth)
		}
		var shallow, tagged []candidate
		for _, c := range cs {
			if c.depth == minDepth {
				shallow = append(shallow, c)
				if c.tagged {
					tagged = append(tagged, c)
				}
			}
		}
		switch {
		case len(shallow) == 1:
			fields[name] = shallow[0].typ
		case len(tagged) == 1:
			fields[name] = tagged[0].typ
		}
	}
	return fields
}

func hasOption(opts, want string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == want {
			return true
		}
	}
	return false
}

func quotable(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}
