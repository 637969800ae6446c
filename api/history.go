package api

import (
	"net/http"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/domain"
)

// registerHistory adds the route that replays a participant's history.
//
// Who may read it: auditors, for any participant, with a Purpose; and the
// caseworkers and team leads of the participant's office, who correct
// entries and need to see what was corrected, by whom and when. They see
// the personal parts as they would in the participant's state: not for a
// participant under address protection unless assigned to them.
// Evaluators, volunteers and admins never read a history.
func registerHistory(a *API, c *caseworkRoutes) {
	a.HandleAction(http.MethodGet, "/participants/{id}/history", ActReadHistory, c.getHistory)
}

// getHistory answers every event of the participant's stream in order, as
// known at ?known_at= when given, with its metadata, and corrections and
// voids linked both ways (audit.History). The look is recorded before
// anything is shown.
func (c *caseworkRoutes) getHistory(w http.ResponseWriter, r *http.Request) error {
	lk, err := c.lookAtParticipant(r)
	if err != nil {
		return err
	}
	h, err := audit.Replay(lk.id, lk.history, lk.knownAt, lk.decision.Identify)
	if err != nil {
		return err
	}
	if err := c.permit(r, lk, domain.ViewHistory, h.ShowsPersonal()); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	c.api.JSON(w, r, http.StatusOK, h)
	return nil
}
