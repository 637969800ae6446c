package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/caseledger/caseledger/api/identity"
)

// requestInfo is what the layers of one request tell each other and the
// request log: filled in as the request goes down, read as it comes back.
type requestInfo struct {
	route string        // the matched route's pattern, never the raw path
	role  identity.Role // the caller's role, once authenticated
	rec   *statusRecorder
}

type requestInfoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return info
}

// statusRecorder remembers the status a handler wrote, so the request log
// can report it and a late error is not written over a sent response.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (flush,
// deadlines) through the recorder.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// written reports whether the response has started, in which case no
// problem can be written any more.
func written(r *http.Request) bool {
	info := infoFrom(r.Context())
	return info != nil && info.rec != nil && info.rec.status != 0
}

// logRequests logs one line per request: method, route pattern, status,
// duration, the caller's role, and (through the context) the correlation
// id. Never the path, the query or a body: they carry participant ids and
// personal data.
func (a *API) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		info := &requestInfo{rec: rec}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info)))

		status := rec.status
		if status == 0 {
			status = http.StatusOK // a handler that wrote nothing sent 200
		}
		route := info.route
		if route == "" {
			route = "unmatched"
		}
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelWarn
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.Int64("bytes", rec.bytes),
		}
		if info.role != "" {
			attrs = append(attrs, slog.String("role", string(info.role)))
		}
		a.log.LogAttrs(r.Context(), level, "request", attrs...)
		a.metrics.observeRequest(metricMethod(r.Method), route, status, time.Since(start))
	})
}

// recordRoute runs once mux has matched a route and tells the request log
// its pattern.
func recordRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if info := infoFrom(r.Context()); info != nil {
			if route := mux.CurrentRoute(r); route != nil {
				if tmpl, err := route.GetPathTemplate(); err == nil {
					info.route = tmpl
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panic into a 500 problem and a log line with the
// stack. The panic's value is not logged, only its type: it may have been
// built from anything, personal data included.
func (a *API) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { //nolint:errorlint // the sentinel is compared as net/http does
				panic(v) // net/http's way to abort a response; it knows what to do
			}
			a.log.ErrorContext(r.Context(), "panic serving request",
				"route", routeOf(r), "panic_type", fmt.Sprintf("%T", v), "stack", string(debug.Stack()))
			if !written(r) {
				WriteProblem(w, r, internalProblem(r.Context()))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func routeOf(r *http.Request) string {
	if info := infoFrom(r.Context()); info != nil && info.route != "" {
		return info.route
	}
	return "unmatched"
}

// authenticate lets a request through only with a valid bearer token, and,
// when roles are given, only for one of them. It puts the caller's
// identity in the context.
func (a *API) authenticate(roles []identity.Role, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		raw, err := bearerToken(r)
		if err == nil {
			var id identity.Identity
			id, err = a.verifier.Verify(ctx, raw)
			if err == nil {
				if info := infoFrom(ctx); info != nil {
					info.role = id.Role
				}
				if !allowed(roles, id.Role) {
					a.metrics.denial("role")
					a.Error(w, r, fmt.Errorf("role %s on %s: %w", id.Role, routeOf(r), ErrForbidden))
					return
				}
				next.ServeHTTP(w, r.WithContext(identity.NewContext(ctx, id)))
				return
			}
		}
		// Error logs the reason, which the caller never sees; identity's
		// errors are written to be safe to log and never hold the token.
		a.metrics.authFailure(err)
		a.Error(w, r, err)
	})
}

// bearerToken returns the token of the request's one Authorization header
// of scheme Bearer (RFC 6750). Tokens in the query string are never read:
// they would end up in logs and browser histories.
func bearerToken(r *http.Request) (string, error) {
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return "", identity.ErrMissingToken
	case 1:
	default:
		return "", fmt.Errorf("%w: several Authorization headers", identity.ErrInvalidToken)
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", identity.ErrMissingToken
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", identity.ErrMissingToken
	}
	if strings.ContainsAny(token, " \t") {
		return "", fmt.Errorf("%w: malformed Authorization header", identity.ErrInvalidToken)
	}
	return token, nil
}

// metricMethod is the method as a metric's label: one of the methods HTTP
// defines, or "other", so that a client cannot mint label values.
func metricMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}
