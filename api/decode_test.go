package api_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api"
)

// The body of an imaginary command, with the shapes real ones will have.
type scores struct {
	Hope   int      `json:"hope"`
	Energy *float64 `json:"energy,omitempty"`
}

type goal struct {
	Title string `json:"title"`
	Done  bool   `json:"done"`
}

type common struct {
	Note string `json:"note"`
}

type meetingBody struct {
	common
	ID       uuid.UUID       `json:"id"`
	Date     time.Time       `json:"date"`
	Kind     string          `json:"kind"`
	Scores   scores          `json:"scores"`
	Goals    []goal          `json:"goals"`
	Tags     map[string]int  `json:"tags"`
	Extra    json.RawMessage `json:"extra"`
	Ignored  string          `json:"-"`
	Attempts int64           `json:"attempts,string"`
}

const validBody = `{
	"id": "0b6f0c52-8c1b-4f7e-9a7a-3f2f1f0e9d11",
	"date": "2026-03-02T09:00:00Z",
	"kind": "follow_up",
	"note": "PII-note",
	"scores": {"hope": 4, "energy": 2.5},
	"goals": [{"title": "PII-cv", "done": true}],
	"tags": {"cv": 1},
	"extra": {"anything": [1, "two", null]},
	"attempts": "3"
}`

func newRequest(body, contentType string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/v1/things", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func TestDecodeJSONAccepts(t *testing.T) {
	tests := []struct {
		name, contentType, body string
	}{
		{"full body", "application/json", validBody},
		{"charset utf-8", "application/json; charset=UTF-8", `{"kind":"a"}`},
		{"empty object", "application/json", `{}`},
		{"surrounding whitespace", "application/json", " \n{\"kind\":\"a\"}\n\t "},
		{"nulls", "application/json", `{"date": null, "goals": null, "scores": {"energy": null}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got meetingBody
			if err := api.DecodeJSON(httptest.NewRecorder(), newRequest(tt.body, tt.contentType), &got, 0); err != nil {
				t.Fatalf("DecodeJSON: %v", err)
			}
		})
	}

	var got meetingBody
	if err := api.DecodeJSON(httptest.NewRecorder(), newRequest(validBody, "application/json"), &got, 0); err != nil {
		t.Fatal(err)
	}
	if got.Note != "PII-note" || got.Scores.Hope != 4 || *got.Scores.Energy != 2.5 || len(got.Goals) != 1 ||
		!got.Goals[0].Done || got.Tags["cv"] != 1 || got.Attempts != 3 || got.Date.Day() != 2 {
		t.Fatalf("decoded %+v", got)
	}
}

func TestDecodeJSONRefuses(t *testing.T) {
	deep := `{"extra": ` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`
	tests := []struct {
		name, contentType, body string
		limit                   int64
		status                  int
		pointer, code           string
		header                  string // for 415, the header named instead of a pointer
	}{
		{name: "no content type", body: `{}`, status: 415, code: api.CodeUnsupportedMediaType, header: "Content-Type"},
		{name: "text/plain", contentType: "text/plain", body: `{}`, status: 415, code: api.CodeUnsupportedMediaType, header: "Content-Type"},
		{name: "json with latin1", contentType: "application/json; charset=latin1", body: `{}`, status: 415, code: api.CodeUnsupportedMediaType, header: "Content-Type"},
		{name: "json-ish type", contentType: "application/json-patch+json", body: `{}`, status: 415, code: api.CodeUnsupportedMediaType, header: "Content-Type"},
		{name: "unparsable type", contentType: "application/json; =", body: `{}`, status: 415, code: api.CodeUnsupportedMediaType, header: "Content-Type"},

		{name: "too large", body: `{"note": "` + strings.Repeat("x", 100) + `"}`, limit: 64, status: 413, code: api.CodeBodyTooLarge},
		{name: "empty", body: ``, status: 400, code: api.CodeEmptyBody},
		{name: "only whitespace", body: " \n\t", status: 400, code: api.CodeEmptyBody},
		{name: "array", body: `[{"kind":"a"}]`, status: 400, code: api.CodeNotAnObject},
		{name: "null", body: `null`, status: 400, code: api.CodeNotAnObject},
		{name: "string", body: `"PII-x"`, status: 400, code: api.CodeNotAnObject},
		{name: "invalid UTF-8", body: "{\"note\": \"\xff\xfe\"}", status: 400, code: api.CodeInvalidUTF8},

		{name: "unknown member", body: `{"kind": "a", "bogus": 1}`, status: 400, pointer: "/bogus", code: api.CodeUnknownField},
		{name: "unknown nested member", body: `{"scores": {"hope": 1, "despair": 2}}`, status: 400, pointer: "/scores/despair", code: api.CodeUnknownField},
		{name: "unknown member in array element", body: `{"goals": [{"title": "a"}, {"titel": "b"}]}`, status: 400, pointer: "/goals/1/titel", code: api.CodeUnknownField},
		{name: "member in the wrong case", body: `{"Kind": "a"}`, status: 400, pointer: "/Kind", code: api.CodeUnknownField},
		{name: "member excluded by tag", body: `{"Ignored": "a"}`, status: 400, pointer: "/Ignored", code: api.CodeUnknownField},
		{name: "escaped pointer", body: `{"a/b~c": 1}`, status: 400, pointer: "/a~1b~0c", code: api.CodeUnknownField},
		{name: "duplicate member", body: `{"kind": "PII-a", "kind": "PII-b"}`, status: 400, pointer: "/kind", code: api.CodeDuplicateField},
		{name: "duplicate in raw member", body: `{"extra": {"x": 1, "x": 2}}`, status: 400, pointer: "/extra/x", code: api.CodeDuplicateField},

		{name: "string for integer", body: `{"scores": {"hope": "PII-high"}}`, status: 400, pointer: "/scores/hope", code: api.CodeWrongType},
		{name: "fraction for integer", body: `{"scores": {"hope": 1.5}}`, status: 400, pointer: "/scores/hope", code: api.CodeWrongType},
		{name: "integer out of range", body: `{"scores": {"hope": 99999999999999999999}}`, status: 400, pointer: "/scores/hope", code: api.CodeOutOfRange},
		{name: "object for array", body: `{"goals": {"title": "a"}}`, status: 400, pointer: "/goals", code: api.CodeWrongType},
		{name: "array for object", body: `{"scores": [1]}`, status: 400, pointer: "/scores", code: api.CodeWrongType},
		{name: "number for string", body: `{"kind": 7}`, status: 400, pointer: "/kind", code: api.CodeWrongType},
		{name: "string for boolean in array", body: `{"goals": [{"done": "PII-yes"}]}`, status: 400, pointer: "/goals/0/done", code: api.CodeWrongType},
		{name: "string for map value", body: `{"tags": {"cv": "PII-x"}}`, status: 400, pointer: "/tags/cv", code: api.CodeWrongType},
		{name: "bad date", body: `{"date": "PII-yesterday"}`, status: 400, pointer: "/date", code: api.CodeInvalidValue},
		{name: "bad uuid", body: `{"id": "PII-not-a-uuid"}`, status: 400, pointer: "/id", code: api.CodeInvalidValue},
		{name: "number for uuid", body: `{"id": 12}`, status: 400, pointer: "/id", code: api.CodeWrongType},
		{name: "bad quoted integer", body: `{"attempts": "PII-three"}`, status: 400, code: api.CodeInvalidValue},

		{name: "syntax error", body: `{"kind": "PII-a",}`, status: 400, code: api.CodeMalformedJSON},
		{name: "truncated", body: `{"kind": "PII-a"`, status: 400, code: api.CodeMalformedJSON},
		{name: "bare word", body: `{"kind": PII}`, status: 400, code: api.CodeMalformedJSON},
		{name: "second object", body: `{"kind": "a"} {"kind": "PII-b"}`, status: 400, code: api.CodeTrailingData},
		{name: "trailing garbage", body: `{"kind": "a"}PII`, status: 400, code: api.CodeTrailingData},
		{name: "too deep", body: deep, status: 400, pointer: "/extra" + strings.Repeat("/0", api.MaxNesting-1), code: api.CodeTooDeep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			contentType := tt.contentType
			if contentType == "" && tt.status != 415 {
				contentType = "application/json"
			}
			var target meetingBody
			err := api.DecodeJSON(httptest.NewRecorder(), newRequest(tt.body, contentType), &target, tt.limit)
			var p *api.Problem
			if !errors.As(err, &p) {
				t.Fatalf("DecodeJSON error %v (%T), want a *api.Problem", err, err)
			}
			if p.Status != tt.status {
				t.Errorf("status %d, want %d", p.Status, tt.status)
			}
			if len(p.Errors) != 1 {
				t.Fatalf("errors %+v, want one", p.Errors)
			}
			fe := p.Errors[0]
			if fe.Code != tt.code || fe.Pointer != tt.pointer || fe.Header != tt.header {
				t.Errorf("error %+v, want code %q pointer %q header %q", fe, tt.code, tt.pointer, tt.header)
			}
			out, _ := json.Marshal(p)
			if strings.Contains(string(out), "PII") {
				t.Errorf("problem quotes the body: %s", out)
			}
		})
	}
}

func TestDecodeJSONOffsets(t *testing.T) {
	var target meetingBody
	err := api.DecodeJSON(httptest.NewRecorder(), newRequest(`{"kind": "a",}`, "application/json"), &target, 0)
	var p *api.Problem
	if !errors.As(err, &p) || !strings.Contains(p.Errors[0].Detail, "offset 13") {
		t.Fatalf("syntax error %v, want it at byte offset 13", err)
	}
	err = api.DecodeJSON(httptest.NewRecorder(), newRequest(`{"kind": "a"} x`, "application/json"), &target, 0)
	if !errors.As(err, &p) || !strings.Contains(p.Errors[0].Detail, "offset 14") {
		t.Fatalf("trailing data %v, want it at byte offset 14", err)
	}
}

func TestDecodeJSONNeedsAPointer(t *testing.T) {
	err := api.DecodeJSON(httptest.NewRecorder(), newRequest(`{}`, "application/json"), meetingBody{}, 0)
	var p *api.Problem
	if err == nil || errors.As(err, &p) {
		t.Fatalf("error %v, want a programming error, not a problem", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		validBody, `{}`, `[]`, `null`, ``, `{"kind": "a",}`, `{"kind":"a"} {}`, `{"a/b~c": 1}`,
		`{"scores": {"hope": 1.5}}`, `{"goals": [{"titel": "b"}]}`, `{"kind":"a","kind":"b"}`,
		`{"date": "2026-13-01"}`, `{"tags": {"": -0}}`, `{"extra": [[[[{}]]]]}`, "{\"note\":\"\xff\"}",
		`{"attempts": "1e3"}`, `{"id": "urn:uuid:0b6f0c52-8c1b-4f7e-9a7a-3f2f1f0e9d11"}`,
	} {
		f.Add([]byte(seed), "application/json")
	}
	f.Add([]byte(`{}`), "text/plain")
	f.Add([]byte(`{}`), "application/json; charset=utf-16")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		r := httptest.NewRequest(http.MethodPost, "/v1/things", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", contentType)
		var target meetingBody
		err := api.DecodeJSON(httptest.NewRecorder(), r, &target, 1024)
		if err == nil {
			if !json.Valid(body) {
				t.Fatalf("accepted invalid JSON %q", body)
			}
			return
		}
		var p *api.Problem
		if !errors.As(err, &p) {
			t.Fatalf("error %v (%T) is not a problem", err, err)
		}
		switch p.Status {
		case 400, 413, 415:
		default:
			t.Fatalf("status %d", p.Status)
		}
		if len(p.Errors) == 0 {
			t.Fatal("problem without errors")
		}
		for _, fe := range p.Errors {
			if fe.Pointer != "" && !strings.HasPrefix(fe.Pointer, "/") {
				t.Fatalf("pointer %q is not a JSON pointer", fe.Pointer)
			}
			if fe.Code == "" || fe.Detail == "" {
				t.Fatalf("field error %+v lacks a code or detail", fe)
			}
		}
	})
}
