package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api/identity"
	"github.com/caseledger/caseledger/domain"
)

// Grant is what the access policy let a request do before its handler ran:
// who the caller is, the route's action, and the purpose stated (or the
// default of those who need not state one).
type Grant struct {
	Caller  identity.Identity
	Action  Action
	Purpose string
}

type grantKey struct{}

// GrantFrom returns the grant of a request routed with HandleAction.
func GrantFrom(ctx context.Context) (Grant, bool) {
	g, ok := ctx.Value(grantKey{}).(Grant)
	return g, ok
}

// authorise is step 1 of the policy (policy.go) for routes registered with
// HandleAction: it refuses a role that may never do act (403, recorded),
// and an auditor's request without a purpose (400), and puts the grant in
// the request's context for the handler.
func (a *API) authorise(act Action, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, err := recordableCaller(r)
		if err != nil {
			a.Error(w, r, err)
			return
		}
		d := Decide(caller, act, nil)
		if !d.Permit {
			rec := domain.AccessRecorded{ParticipantID: routeParticipant(r, act), View: rules[act].view,
				Purpose: refusedPurpose(r), Reason: d.Reason}
			a.Error(w, r, a.deny(r, caller, rec, fmt.Errorf("role %s may not %s: %w", caller.Role, act, d.err())))
			return
		}
		purpose, err := statedPurpose(r, d.PurposeRequired)
		if err != nil {
			a.Error(w, r, err)
			return
		}
		ctx := context.WithValue(r.Context(), grantKey{}, Grant{Caller: caller, Action: act, Purpose: purpose})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// routeParticipant is the participant the route's {id} names, for the
// record of a denial; uuid.Nil when the action is on no participant or
// the id is malformed.
func routeParticipant(r *http.Request, act Action) uuid.UUID {
	if !act.ConcernsParticipant() {
		return uuid.Nil
	}
	id, err := pathID(r)
	if err != nil {
		return uuid.Nil
	}
	return id
}

// authorize is step 2 of the policy: it decides the request's action on
// participant id, whose state is subj, and records a denial before it is
// answered. What the decision permits is for the handler to record, once
// it knows what it shows (permit).
func (c *caseworkRoutes) authorize(r *http.Request, id uuid.UUID, subj Subject) (Decision, error) {
	g, ok := GrantFrom(r.Context())
	if !ok {
		// A route registered without an action: a programming error,
		// refused rather than let through.
		return Decision{}, fmt.Errorf("%s: no access grant", routeOf(r))
	}
	d := Decide(g.Caller, g.Action, &subj)
	if !d.Permit {
		rec := domain.AccessRecorded{ParticipantID: id, View: rules[g.Action].view, Purpose: g.Purpose, Reason: d.Reason}
		return d, c.api.deny(r, g.Caller, rec, fmt.Errorf("%s on a participant: %s: %w", g.Action, d.Reason, d.err()))
	}
	return d, nil
}
