package api

import (
	_ "embed"
	"net/http"
)

// openAPIDocument is the OpenAPI 3.1 document of the whole API, served at
// GET /openapi.yaml. The test suite checks every request and response of
// its API tests against it, and that it names every registered route.
//
//go:embed openapi.yaml
var openAPIDocument string

// ContentTypeYAML is the media type of the OpenAPI document.
const ContentTypeYAML = "application/yaml"

// OpenAPIPath is where the document is served, without a token.
const OpenAPIPath = "/openapi.yaml"

// OpenAPI returns the OpenAPI document of the API, in YAML.
func OpenAPI() []byte { return []byte(openAPIDocument) }

// openAPI serves the document. It describes the API, not anything in it,
// so it needs no token.
func (a *API) openAPI(w http.ResponseWriter, _ *http.Request) error {
	h := w.Header()
	h.Set("Content-Type", ContentTypeYAML)
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(openAPIDocument)) // a failed write means the client left
	return nil
}
