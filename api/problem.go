package api

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// ProblemTypeBase prefixes the type URI of every problem caseledger
// defines; the code follows it.
const ProblemTypeBase = "https://caseledger.invalid/problems/"

// ContentTypeProblem is the media type of error responses (RFC 9457).
const ContentTypeProblem = "application/problem+json"

// Problem is an error response (RFC 9457). It is also an error, so a
// handler can return one and have it written as it is.
type Problem struct {
	// Type is ProblemTypeBase plus a code, or "about:blank" when the status
	// says all there is to say.
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"` // the request path
	// CorrelationID lets a caller quote the request to an operator.
	CorrelationID string       `json:"correlationId,omitempty"`
	Errors        []FieldError `json:"errors,omitempty"`
}

// NewProblem returns a problem of the given status whose type is named by
// code (see ProblemTypeBase). An empty code gives "about:blank".
func NewProblem(status int, code, detail string, errs ...FieldError) *Problem {
	typ := "about:blank"
	if code != "" {
		typ = ProblemTypeBase + code
	}
	return &Problem{Type: typ, Title: http.StatusText(status), Status: status, Detail: detail, Errors: errs}
}

func (p *Problem) Error() string {
	if p.Detail == "" {
		return fmt.Sprintf("%d %s", p.Status, p.Title)
	}
	return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail)
}

// FieldError says what is wrong with one part of a request: a member of the
// body (Pointer, a JSON pointer, RFC 6901; "" is the whole body), a query
// parameter (Parameter) or a header (Header). Exactly one of them is
// written.
type FieldError struct {
	Pointer   string
	Parameter string
	Header    string
	Detail    string
	Code      string // machine-readable, snake_case
}

// BodyError is a FieldError about the member of the body at pointer.
func BodyError(pointer, code, detail string) FieldError {
	return FieldError{Pointer: pointer, Code: code, Detail: detail}
}

// QueryError is a FieldError about the query parameter name.
func QueryError(name, code, detail string) FieldError {
	return FieldError{Parameter: name, Code: code, Detail: detail}
}

// HeaderError is a FieldError about the request header name.
func HeaderError(name, code, detail string) FieldError {
	return FieldError{Header: name, Code: code, Detail: detail}
}

// MarshalJSON writes the one location the error is about, so that a
// pointer to the whole body ("") is still written.
func (e FieldError) MarshalJSON() ([]byte, error) {
	out := struct {
		Pointer   *string `json:"pointer,omitempty"`
		Parameter string  `json:"parameter,omitempty"`
		Header    string  `json:"header,omitempty"`
		Detail    string  `json:"detail"`
		Code      string  `json:"code"`
	}{Parameter: e.Parameter, Header: e.Header, Detail: e.Detail, Code: e.Code}
	if e.Parameter == "" && e.Header == "" {
		out.Pointer = &e.Pointer
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes; clients and tests use it.
func (e *FieldError) UnmarshalJSON(b []byte) error {
	var in struct {
		Pointer   string `json:"pointer"`
		Parameter string `json:"parameter"`
		Header    string `json:"header"`
		Detail    string `json:"detail"`
		Code      string `json:"code"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*e = FieldError(in)
	return nil
}

// WriteProblem writes p as the response, filling in the request's path and
// correlation id. It is the only place that writes problems; everything
// else goes through an API's Error, which maps errors to problems.
func WriteProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	out := *p // the caller's problem may be a shared value; never mutate it
	if out.Title == "" {
		out.Title = http.StatusText(out.Status)
	}
	if out.Type == "" {
		out.Type = "about:blank"
	}
	out.Instance = r.URL.Path
	out.CorrelationID = CorrelationID(r.Context())
	h := w.Header()
	h.Set("Content-Type", ContentTypeProblem)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(out.Status)
	// The header is out; a failed write means the client went away, and
	// there is no one left to tell.
	_ = json.NewEncoder(w).Encode(&out)
}
