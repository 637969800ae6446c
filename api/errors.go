package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/caseledger/caseledger/api/identity"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/personaldata"
)

// Errors a handler may return for the API to answer. Wrap them with what
// was being done; the wrapping text is logged, never sent.
var (
	// ErrNotFound answers 404. Return it only once the access policy has
	// let the caller through: a caller without access gets ErrForbidden
	// whether or not the thing exists.
	ErrNotFound = errors.New("not found")
	// ErrForbidden answers 403: the caller is authenticated but outside
	// the role or office the request needs.
	ErrForbidden = errors.New("forbidden")

	errMethodNotAllowed = errors.New("method not allowed")
)

// Problem codes (type URIs under ProblemTypeBase) of the mapping below.
const (
	ProblemInvalidCommand = "invalid_command"
	ProblemMissingToken   = "missing_bearer_token"
	ProblemInvalidToken   = "invalid_token"
	ProblemForbidden      = "forbidden"
	ProblemNotFound       = "not_found"
	ProblemConflict       = "conflict"
	ProblemUnavailable    = "unavailable"
	ProblemNotReady       = "not_ready"
	ProblemCannotWrite    = "cannot_write"
)

// retryAfter is the Retry-After (seconds) of a 503 that does not set its
// own: long enough not to hammer a server whose disk or store is out,
// short enough that a client notices the fix soon.
const retryAfter = "5"

// Error answers err as a problem+json response (see problemFor) and logs
// what the caller is not told. When the response has already started it
// only logs.
func (a *API) Error(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	p, level := problemFor(ctx, err)
	// The error's text is safe to log by the project's rule: errors say
	// what was being done to what, never with personal data.
	a.log.Log(ctx, level, "request failed", "route", routeOf(r), "status", p.Status, "error", err.Error())
	if written(r) {
		a.log.ErrorContext(ctx, "error after the response started", "route", routeOf(r), "error", err.Error())
		return
	}
	if p.Status == http.StatusUnauthorized {
		challenge := `Bearer realm="caseledger"`
		if p.Type == ProblemTypeBase+ProblemInvalidToken {
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	if p.Status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	WriteProblem(w, r, p)
}

// problemFor is the one place that decides how an error is answered, and
// at which level its log line is written.
func problemFor(ctx context.Context, err error) (*Problem, slog.Level) {
	var (
		problem  *Problem
		invalid  *domain.InvalidError
		rejected *domain.RejectedError
	)
	switch {
	case errors.As(err, &problem):
		return problem, levelFor(problem.Status)

	case errors.Is(err, identity.ErrMissingToken):
		return NewProblem(http.StatusUnauthorized, ProblemMissingToken, "missing bearer token"), slog.LevelDebug
	case errors.Is(err, identity.ErrInvalidToken):
		return NewProblem(http.StatusUnauthorized, ProblemInvalidToken, "invalid token"), slog.LevelInfo
	case errors.Is(err, ErrForbidden):
		return NewProblem(http.StatusForbidden, ProblemForbidden, "not permitted for your role or office"), slog.LevelInfo
	case errors.Is(err, ErrNotFound):
		return NewProblem(http.StatusNotFound, ProblemNotFound, "no such resource"), slog.LevelDebug
	case errors.Is(err, errMethodNotAllowed):
		return NewProblem(http.StatusMethodNotAllowed, "", "the resource does not allow this method"), slog.LevelDebug

	// The domain's verdicts. Their messages name the field and the rule,
	// never the value, so they are passed on.
	case errors.As(err, &invalid):
		return NewProblem(http.StatusUnprocessableEntity, ProblemInvalidCommand, invalid.Message,
			BodyError(invalid.Pointer, invalid.Code, invalid.Message)), slog.LevelDebug
	case errors.As(err, &rejected):
		return NewProblem(http.StatusConflict, rejected.Code, rejected.Message,
			BodyError(rejected.Pointer, rejected.Code, rejected.Message)), slog.LevelDebug

	// The disk under the event store or the key store refused a write:
	// full, read-only or failing. An operator must act; the client may
	// retry (with the same Idempotency-Key) once they have. The message
	// names neither the file nor what was written.
	case eventstore.IsStorageFault(err):
		return NewProblem(http.StatusServiceUnavailable, ProblemCannotWrite,
			"the server cannot write to its storage (disk full, read-only or failing); try again later"), slog.LevelError

	// The store. A conflict that the command handler could not resolve by
	// retrying is the client's; the handler maps If-Match conflicts to 412
	// itself. Neither message names the stream: stream names hold ids.
	case errors.Is(err, eventstore.ErrConflict):
		return NewProblem(http.StatusConflict, ProblemConflict, "the record changed while the request was handled; reload and try again"), slog.LevelInfo
	case errors.Is(err, eventstore.ErrUnavailable), errors.Is(err, eventstore.ErrClosed):
		return NewProblem(http.StatusServiceUnavailable, ProblemUnavailable, "the event store is unavailable; try again later"), slog.LevelError
	case errors.Is(err, personaldata.ErrKeyStoreUnavailable):
		return NewProblem(http.StatusServiceUnavailable, ProblemUnavailable, "the key store is unavailable; try again later"), slog.LevelError

	case errors.Is(err, context.DeadlineExceeded):
		return NewProblem(http.StatusServiceUnavailable, ProblemUnavailable, "the request took too long"), slog.LevelWarn
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads the answer.
		return NewProblem(http.StatusServiceUnavailable, ProblemUnavailable, "the request was cancelled"), slog.LevelInfo
	}
	return internalProblem(ctx), slog.LevelError
}

func levelFor(status int) slog.Level {
	if status == http.StatusServiceUnavailable {
		return slog.LevelWarn // not ready, shutting down: expected, and passing
	}
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelDebug
}

func internalProblem(ctx context.Context) *Problem {
	detail := "an unexpected error occurred"
	if id := CorrelationID(ctx); id != "" {
		detail += "; quote correlation id " + id + " when reporting it"
	}
	return NewProblem(http.StatusInternalServerError, "", detail)
}
