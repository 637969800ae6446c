package api

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/google/uuid"
)

// HeaderCorrelationID carries a request's correlation id, in and out.
const HeaderCorrelationID = "X-Correlation-ID"

// LogKeyCorrelationID is the attribute under which log lines carry it.
const LogKeyCorrelationID = "correlation_id"

type correlationKey struct{}

// CorrelationID returns the correlation id of the request ctx belongs to,
// or "" outside a request.
func CorrelationID(ctx context.Context) string {
	id, _ := ctx.Value(correlationKey{}).(string)
	return id
}

// WithCorrelationID returns a copy of ctx carrying id; work that a request
// starts elsewhere (a command handler, a store append) carries it on.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey{}, id)
}

// correlate accepts the caller's correlation id when it is a UUID (in its
// canonical form, whatever form it came in) and makes one otherwise, so that
// what ends up in logs and events is never free text from outside.
func correlate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := ""
		if u, err := uuid.Parse(r.Header.Get(HeaderCorrelationID)); err == nil && u != uuid.Nil {
			id = u.String()
		} else {
			id = uuid.NewString()
		}
		w.Header().Set(HeaderCorrelationID, id)
		next.ServeHTTP(w, r.WithContext(WithCorrelationID(r.Context(), id)))
	})
}

// CorrelationHandler wraps a slog.Handler so that every record logged with
// a request's context (InfoContext and friends) carries its correlation id.
// New wraps its logger's handler in one unless it already is one.
func CorrelationHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(correlationHandler); ok {
		return h
	}
	return correlationHandler{h}
}

type correlationHandler struct{ slog.Handler }

func (h correlationHandler) Handle(ctx context.Context, rec slog.Record) error {
	if id := CorrelationID(ctx); id != "" {
		rec = rec.Clone()
		rec.AddAttrs(slog.String(LogKeyCorrelationID, id))
	}
	return h.Handler.Handle(ctx, rec)
}

func (h correlationHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return correlationHandler{h.Handler.WithAttrs(attrs)}
}

func (h correlationHandler) WithGroup(name string) slog.Handler {
	return correlationHandler{h.Handler.WithGroup(name)}
}
