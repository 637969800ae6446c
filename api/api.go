// Package api is caseledger's HTTP layer: routes under /v1 on gorilla/mux,
// bearer-token identity, strict JSON bodies, and errors as problem+json
// (RFC 9457), mapped from Go errors in one place (problemFor).
//
// Handlers are short: decode, authorise, call, encode. They return an
// error instead of writing one; cross-cutting work (correlation ids,
// request logs, panic recovery, authentication) wraps them.
//
//	a, err := api.New(api.Config{Logger: log, Verifier: verifier, Ready: ready})
//	a.HandleAction(http.MethodPost, "/participants/{id}/meetings", api.ActRecordMeeting, h.recordMeeting)
//	srv := &http.Server{Handler: a, ...}
//
//	func (h *handlers) recordMeeting(w http.ResponseWriter, r *http.Request) error {
//		var body recordMeetingBody
//		if err := h.api.Decode(w, r, &body); err != nil {
//			return err
//		}
//		caller, _ := identity.FromContext(r.Context())
//		...
//		h.api.JSON(w, r, http.StatusCreated, result)
//		return nil
//	}
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/gorilla/mux"

	"github.com/caseledger/caseledger/api/identity"
	"github.com/caseledger/caseledger/audit"
)

// Prefix is the path under which every versioned route lives.
const Prefix = "/v1"

// TokenVerifier checks a bearer token and says whom it identifies.
// *identity.Verifier is one; its errors wrap identity.ErrInvalidToken or
// identity.ErrMissingToken.
type TokenVerifier interface {
	Verify(ctx context.Context, rawToken string) (identity.Identity, error)
}

// Config is what New needs.
type Config struct {
	// Logger receives request logs and failures; New makes every record
	// logged with a request's context carry its correlation id. Nil
	// discards them.
	Logger *slog.Logger
	// Verifier authenticates the routes registered with Handle. Required.
	// A token it accepted is not asked about again for a minute, or until
	// it expires if sooner (tokencache.go).
	Verifier TokenVerifier
	// Ready reports whether the process can serve (store open, read models
	// caught up); its error is the reason /readyz gives. Nil is always
	// ready.
	Ready func(context.Context) error
	// MaxBodyBytes bounds request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Metrics, when set, count requests, authentication failures, denials
	// and access-log writes, and are served at GET /metrics (metrics.go).
	Metrics *Metrics
	// AccessSpill, when set, holds the access records the event store
	// refuses (disk full or read-only, cluster unreachable), so that reads
	// go on; without it such a read answers 503 access_not_recorded.
	AccessSpill *audit.Spill
}

// API is the HTTP handler of caseledger: register routes with Handle, then
// serve it. Register every route before serving.
type API struct {
	log      *slog.Logger
	verifier TokenVerifier
	ready    func(context.Context) error
	maxBody  int64
	metrics  *Metrics // nil counts nothing
	root     *mux.Router
	handler  http.Handler
	// actions is the access policy's action of each route registered
	// with HandleAction, by "METHOD /v1/path/{template}".
	actions map[string]Action
	// access records denials and permitted looks (audit.go); nil until
	// RegisterCasework or RegisterErasure gives it a store.
	access      *audit.Log
	accessSpill *audit.Spill
	// cw are the casework routes' handlers, shared by the Register
	// functions of one service.
	cw *caseworkRoutes
}

// HandlerFunc handles a request. It writes the response when it succeeds
// and returns an error otherwise, which the API answers as a problem (see
// API.Error). It must not write anything before returning an error.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// New returns an API with the health endpoints (/livez, /readyz), its
// OpenAPI document (/openapi.yaml), its metrics (/metrics, when
// configured) and GET /v1/me in place.
func New(cfg Config) (*API, error) {
	if cfg.Verifier == nil {
		return nil, errors.New("api: Config.Verifier is required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = slog.New(CorrelationHandler(log.Handler()))
	maxBody := cfg.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = DefaultMaxBodyBytes
	}
	a := &API{
		log:         log,
		verifier:    newTokenCache(cfg.Verifier, time.Now),
		ready:       cfg.Ready,
		maxBody:     maxBody,
		metrics:     cfg.Metrics,
		accessSpill: cfg.AccessSpill,
		root:        mux.NewRouter(),
		actions:     map[string]Action{},
	}
	a.root.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.Error(w, r, ErrNotFound)
	})
	a.root.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.Error(w, r, errMethodNotAllowed)
	})
	a.root.Use(recordRoute)
	a.root.Handle("/livez", a.adapt(a.livez)).Methods(http.MethodGet, http.MethodHead)
	a.root.Handle("/readyz", a.adapt(a.readyz)).Methods(http.MethodGet, http.MethodHead)
	a.root.Handle(OpenAPIPath, a.adapt(a.openAPI)).Methods(http.MethodGet)
	if cfg.Metrics != nil {
		a.root.Handle(MetricsPath, cfg.Metrics.Handler()).Methods(http.MethodGet)
	}
	a.handler = correlate(a.logRequests(a.recoverPanics(a.root)))

	a.HandleAction(http.MethodGet, "/me", ActReadIdentity, a.me)
	return a, nil
}

// ServeHTTP serves a request through the whole chain: correlation id,
// request log, panic recovery, routing, authentication, the handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.handler.ServeHTTP(w, r)
}

// Handle registers h for method and path under /v1 (path "/participants/{id}"
// serves "/v1/participants/{id}"). Every such route needs a valid bearer
// token; the caller's identity.Identity is in the request's context. When
// roles are given, any other role is refused with 403 before h runs; a
// finer check (office, assignment) is h's, through the access policy.
//
// The returned route can be narrowed further (Queries, Headers, Name).
//
// Routes of the product use HandleAction, which puts them under the access
// policy; Handle is for routes outside it.
func (a *API) Handle(method, path string, h HandlerFunc, roles ...identity.Role) *mux.Route {
	// On the root router, not a PathPrefix subrouter: mux (v1.8.1) copies a
	// subrouter's prefix matcher into each of its routes, and every route
	// after one that matched the path but not the method then clears the
	// mismatch, so a wrong method got 404 instead of 405.
	return a.root.Handle(Prefix+path, a.authenticate(roles, a.adapt(h))).Methods(method)
}

// HandleAction registers h for method and path under /v1, as Handle does,
// under the access policy (policy.go): a caller whose role may never do
// act is refused with 403, and the refusal is recorded, before h runs; an
// auditor without a stated purpose gets 400. h finds the caller's grant
// with GrantFrom; for an action on a participant it must still decide on
// the participant (caseworkRoutes.authorize) before it shows or writes
// anything.
func (a *API) HandleAction(method, path string, act Action, h HandlerFunc) *mux.Route {
	if _, ok := rules[act]; !ok {
		panic("api: route " + method + " " + path + " names unknown action " + string(act))
	}
	a.actions[method+" "+Prefix+path] = act
	return a.root.Handle(Prefix+path, a.authenticate(nil, a.authorise(act, a.adapt(h)))).Methods(method)
}

// RouteInfo is one registered route.
type RouteInfo struct {
	Method string
	// Path is the route's template, such as "/v1/participants/{id}".
	Path string
	// Action is the access policy's action; "" for a route outside the
	// policy (the health endpoints, routes registered with Handle).
	Action Action
}

// Routes lists every registered route, one per method, in the order they
// were registered: what the access matrix must cover.
func (a *API) Routes() []RouteInfo {
	var out []RouteInfo
	_ = a.root.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tmpl, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		methods, err := route.GetMethods()
		if err != nil {
			methods = []string{""}
		}
		for _, m := range methods {
			out = append(out, RouteInfo{Method: m, Path: tmpl, Action: a.actions[m+" "+tmpl]})
		}
		return nil
	})
	return out
}

// Decode reads the request body strictly into v; see DecodeJSON. A
// handler returns its error as it is.
func (a *API) Decode(w http.ResponseWriter, r *http.Request, v any) error {
	return DecodeJSON(w, r, v, a.maxBody)
}

// ReadBody returns the request body, checked as ReadBody says, within the
// configured limit.
func (a *API) ReadBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return ReadBody(w, r, a.maxBody)
}

// JSON writes v as the JSON response with the given status. v is encoded
// before anything is written, so a value that cannot be encoded becomes a
// 500 problem rather than half a response.
func (a *API) JSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n')) // a failed write means the client left
}

// Logger returns the API's logger, whose records carry the correlation id
// of the context they are logged with.
func (a *API) Logger() *slog.Logger { return a.log }

// Var returns the path variable name of the matched route ("" if none).
func Var(r *http.Request, name string) string { return mux.Vars(r)[name] }

func (a *API) adapt(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.Error(w, r, err)
		}
	})
}

// me answers who the caller is, as the token says; it is how a client (or
// the demo's curl line) checks a token.
func (a *API) me(w http.ResponseWriter, r *http.Request) error {
	id, ok := identity.FromContext(r.Context())
	if !ok {
		return identity.ErrMissingToken
	}
	a.JSON(w, r, http.StatusOK, struct {
		UserID string        `json:"userId"`
		Role   identity.Role `json:"role"`
		Office string        `json:"office,omitempty"`
	}{id.UserID, id.Role, id.Office})
	return nil
}

func allowed(roles []identity.Role, r identity.Role) bool {
	return len(roles) == 0 || slices.Contains(roles, r)
}
