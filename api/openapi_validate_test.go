package api_test

// Every request an API test sends through the harness, and every response
// it gets, is checked against the OpenAPI document (openapi.yaml) with
// kin-openapi, so that the document cannot drift from the code:
//
//   - a request to a route the document does not name must be answered
//     404 or 405;
//   - a request the document refuses must be refused by the server (4xx):
//     the tests send bad input on purpose, and the two must agree that it
//     is bad;
//   - every response must be one the document describes for its operation
//     and status: headers, media type and body.
//
// kin-openapi (v0.133) reads OpenAPI 3.1 documents as 3.0 ones with 3.1's
// type arrays; the document keeps to what both versions mean the same.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/caseledger/caseledger/api"
)

// openAPIDoc is the document, loaded and validated once per test binary.
var openAPIDoc = sync.OnceValues(func() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI())
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.yaml is not valid: %w", err)
	}
	return doc, nil
})

var openAPIRouter = sync.OnceValues(func() (routers.Router, error) {
	doc, err := openAPIDoc()
	if err != nil {
		return nil, err
	}
	return gorillamux.NewRouter(doc)
})

// openAPIClient is srv's client, checking every exchange against the
// document; a mismatch is the error of Do.
func openAPIClient(srv *httptest.Server) *http.Client {
	c := *srv.Client()
	c.Transport = openAPIChecker{next: c.Transport}
	return &c
}

// openAPIChecker is a RoundTripper that checks each request and its
// response against the document.
type openAPIChecker struct {
	next http.RoundTripper
}

// bearerPresent is the document's bearer scheme as a client sees it: an
// Authorization header of scheme Bearer. Whether the token is good is the
// server's to say.
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecurityScheme.Type != "http" || !strings.EqualFold(in.SecurityScheme.Scheme, "bearer") {
		return fmt.Errorf("unexpected security scheme %q", in.SecuritySchemeName)
	}
	scheme, _, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return errors.New("no bearer token")
	}
	return nil
}

func (c openAPIChecker) RoundTrip(req *http.Request) (*http.Response, error) {
	router, err := openAPIRouter()
	if err != nil {
		return nil, err
	}
	var reqBody []byte
	if req.Body != nil {
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	// The router and the validator read the request; the server gets the
	// original.
	probe := req.Clone(req.Context())
	probe.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, routeErr := router.FindRoute(probe)

	var reqErr error
	opts := &openapi3filter.Options{AuthenticationFunc: bearerPresent, IncludeResponseStatus: true}
	in := &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route, Options: opts}
	if routeErr == nil {
		reqErr = openapi3filter.ValidateRequest(req.Context(), in)
	}

	res, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resBody, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(resBody))
	what := req.Method + " " + req.URL.Path

	switch {
	case routeErr != nil:
		if res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusMethodNotAllowed {
			return res, nil
		}
		return nil, fmt.Errorf("openapi: %s answered %d, but the document has no such operation: %v", what, res.StatusCode, routeErr)
	case reqErr != nil && res.StatusCode < 400:
		return nil, fmt.Errorf("openapi: the server accepted %s (%d) but the document refuses the request: %v", what, res.StatusCode, reqErr)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Options:                opts,
	}
	out.SetBodyBytes(resBody)
	if err := openapi3filter.ValidateResponse(req.Context(), out); err != nil {
		return nil, fmt.Errorf("openapi: the response to %s (%d) is not the document's: %v\nbody: %.2000s", what, res.StatusCode, err, resBody)
	}
	return res, nil
}

// CloseIdleConnections lets httptest.Server.Close close the connections
// of the client underneath.
func (c openAPIChecker) CloseIdleConnections() {
	if ci, ok := c.next.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}
