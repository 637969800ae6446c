package api

import (
	"context"
	"net/http"
	"time"
)

// readyTimeout bounds a readiness check, so that a store that hangs makes
// /readyz say so instead of hanging with it.
const readyTimeout = 2 * time.Second

// livez answers 200 whenever the process can answer at all.
func (a *API) livez(w http.ResponseWriter, r *http.Request) error {
	a.JSON(w, r, http.StatusOK, map[string]string{"status": "live"})
	return nil
}

// readyz answers 200 when the readiness check passes and 503 with its
// reason otherwise. The reason is an error of this process (a closed store,
// a projection behind), never data.
func (a *API) readyz(w http.ResponseWriter, r *http.Request) error {
	if a.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := a.ready(ctx); err != nil {
			return NewProblem(http.StatusServiceUnavailable, ProblemNotReady, err.Error())
		}
	}
	a.JSON(w, r, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}
