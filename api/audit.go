package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api/identity"
	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
)

// The access log (access.md): every read of a participant's data or
// history, and of the access log itself, is recorded before anything is
// shown, and every denial of a route under the access policy is recorded
// too, with its reason. A read whose record cannot be appended fails with
// 503 and shows nothing.

// Problem code of a read refused because its access record failed.
const ProblemAccessNotRecorded = "access_not_recorded"

// registerAccessLog adds the auditors' access-log routes.
func registerAccessLog(a *API, c *caseworkRoutes) {
	a.HandleAction(http.MethodGet, "/audit/access", ActReadAccessLog, c.getAccessLog)
	a.HandleAction(http.MethodGet, "/audit/access.cef", ActReadAccessLog, c.getAccessLogCEF)
}

// look is a read of one participant's data that the access policy let
// through: who asks and why, the participant's stream and state as they
// are now, and what the policy lets them see.
type look struct {
	caller   identity.Identity
	purpose  string
	id       uuid.UUID
	history  []domain.Recorded
	now      domain.Participant // what the decision was made on
	knownAt  audit.KnownAt
	decision Decision
}

// lookAtParticipant decides a read of the view of participant {id} on the
// participant as they are now, whatever point of the log is asked for
// (authorize records a denial: 404 for a participant outside the caller's
// scope, exactly as for one that does not exist). What is let through is
// not recorded yet: the handler records it with permit once it knows what
// it will show.
func (c *caseworkRoutes) lookAtParticipant(r *http.Request) (look, error) {
	if _, err := pathID(r); err != nil {
		return look{}, err
	}
	known, err := knownAtParam(r)
	if err != nil {
		return look{}, err
	}
	return c.lookAt(r, known, func(h []domain.Recorded) (domain.Participant, error) { return domain.FoldParticipant(h), nil })
}

// lookAt is lookAtParticipant with the query read by the caller, deciding
// on now(h): the participant's state as they are now, from their stream h
// as the log holds it now (a read model's state when it has folded exactly
// h, which saves the fold).
func (c *caseworkRoutes) lookAt(r *http.Request, known audit.KnownAt, now func(h []domain.Recorded) (domain.Participant, error)) (look, error) {
	g, _ := GrantFrom(r.Context())
	id, err := pathID(r)
	if err != nil {
		return look{}, err
	}
	h, _, err := c.svc.Load(r.Context(), domain.ParticipantStream(id))
	if err != nil && !errors.Is(err, casework.ErrNotFound) {
		return look{}, err
	}
	p, err := now(h)
	if err != nil {
		return look{}, err
	}
	d, err := c.authorize(r, id, SubjectOf(p))
	if err != nil {
		return look{}, err
	}
	return look{caller: g.Caller, purpose: g.Purpose, id: id, history: h, now: p, knownAt: known, decision: d}, nil
}

// permit records that lk's caller is shown view, with or without personal
// data. The caller must show nothing if it fails.
func (c *caseworkRoutes) permit(r *http.Request, lk look, view domain.AccessView, personal bool) error {
	return c.api.record(r, lk.caller, domain.AccessRecorded{
		ParticipantID: lk.id, View: view, PersonalData: personal, Purpose: lk.purpose,
		Decision: domain.AccessPermitted, KnownAt: lk.knownAt.String(),
	})
}

// deny records rec, with its reason, as a denial and returns answer, the
// error the caller gets; when the denial cannot be recorded, the caller
// gets 503 instead. Without an access log (an API serving no casework)
// there is nothing to record in.
func (a *API) deny(r *http.Request, caller identity.Identity, rec domain.AccessRecorded, answer error) error {
	a.metrics.denial(string(rec.Reason))
	if a.access == nil {
		return answer
	}
	rec.Decision, rec.PersonalData = domain.AccessDenied, false
	if err := a.record(r, caller, rec); err != nil {
		return err
	}
	return answer
}

// refusedPurpose is the purpose a request refused for its role stated, if
// it is fit to record: it was not required.
func refusedPurpose(r *http.Request) string {
	purpose, _ := audit.CleanPurpose(r.Header.Get(headerPurpose))
	return purpose
}

// record appends one access record for the request.
func (a *API) record(r *http.Request, caller identity.Identity, rec domain.AccessRecorded) error {
	return a.recordAll(r, caller, []domain.AccessRecorded{rec})
}

// recordAll appends the request's access records in one append.
func (a *API) recordAll(r *http.Request, caller identity.Identity, recs []domain.AccessRecorded) error {
	if len(recs) == 0 {
		return nil
	}
	if a.access == nil {
		return fmt.Errorf("record access: %w: no access log configured", audit.ErrNotRecorded)
	}
	via := r.Method + " " + routeOf(r)
	for i := range recs {
		recs[i].Via = via
	}
	corr, _ := uuid.Parse(CorrelationID(r.Context()))
	err := a.access.RecordAll(r.Context(),
		domain.Actor{UserID: caller.UserID, Role: string(caller.Role), Office: caller.Office}, corr, recs)
	for _, rec := range recs {
		a.metrics.accessWritten(string(rec.Decision), 1, err)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, audit.ErrNotRecorded):
		return fmt.Errorf("%w: %w", NewProblem(http.StatusServiceUnavailable, ProblemAccessNotRecorded,
			"the access could not be recorded, so nothing is shown; try again later"), err)
	}
	// A record the domain refuses is this program's mistake, not the
	// caller's: answered as an internal error, not as the 422 the
	// domain's own error would give.
	return fmt.Errorf("record access: %v", err)
}

// recordableCaller is the request's caller, if the log can record them as
// the actor of an access record or an event.
func recordableCaller(r *http.Request) (identity.Identity, error) {
	caller, ok := identity.FromContext(r.Context())
	if !ok {
		return identity.Identity{}, identity.ErrMissingToken
	}
	if len(caller.UserID) > domain.MaxIDLen || len(caller.Office) > domain.MaxIDLen {
		return identity.Identity{}, NewProblem(http.StatusForbidden, ProblemForbidden,
			fmt.Sprintf("your token's user id or office is longer than the %d bytes the log records", domain.MaxIDLen))
	}
	return caller, nil
}

// statedPurpose is why the caller says they ask: the Purpose header, which
// the policy requires of auditors on every request; others who send none
// act for their casework.
func statedPurpose(r *http.Request, required bool) (string, error) {
	values := r.Header.Values(headerPurpose)
	bad := func(code string) error {
		return NewProblem(http.StatusBadRequest, "purpose_required", "auditors state the purpose of every request",
			HeaderError(headerPurpose, code, fmt.Sprintf("one purpose of 1 to %d characters", domain.MaxPurposeLen)))
	}
	switch {
	case len(values) == 0 && required:
		return "", bad("required")
	case len(values) == 0:
		return audit.DefaultCaseworkPurpose, nil
	case len(values) > 1:
		return "", bad("repeated")
	}
	purpose, err := audit.CleanPurpose(values[0])
	switch {
	case errors.Is(err, audit.ErrPurposeTooLong):
		return "", bad("too_long")
	case err != nil:
		return "", bad("required")
	}
	return purpose, nil
}

// queryValues is the request's query string, refusing one that is
// malformed, or names a parameter that is not in allowed, twice, or
// without a value.
func queryValues(r *http.Request, allowed ...string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, NewProblem(http.StatusBadRequest, "invalid_query", "the query string is malformed")
	}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		switch {
		case name == "":
			// No field error: one without a name would point at the body.
			return nil, NewProblem(http.StatusBadRequest, "invalid_query", "the query has a parameter without a name")
		case !slices.Contains(allowed, name):
			return nil, NewProblem(http.StatusBadRequest, "invalid_query", "the query names a parameter this resource does not take",
				QueryError(name, "unknown_parameter", "not a parameter of this resource"))
		case len(q[name]) > 1:
			return nil, NewProblem(http.StatusBadRequest, "invalid_query", "the query names a parameter twice",
				QueryError(name, "repeated", "give this parameter once"))
		case q.Get(name) == "":
			return nil, NewProblem(http.StatusBadRequest, "invalid_query", "the query names a parameter without a value",
				QueryError(name, "required", "give a value, or leave the parameter out"))
		}
	}
	return q, nil
}

// paramProblem answers an *audit.ParamError as 400 naming the parameter.
func paramProblem(err error) error {
	var pe *audit.ParamError
	if errors.As(err, &pe) {
		return NewProblem(http.StatusBadRequest, "invalid_query", "a query parameter is not acceptable",
			QueryError(pe.Name, pe.Code, pe.Detail))
	}
	return err
}

// knownAtParam reads the optional known_at parameter of a participant's
// views.
func knownAtParam(r *http.Request) (audit.KnownAt, error) {
	q, err := queryValues(r, audit.ParamKnownAt)
	if err != nil {
		return audit.KnownAt{}, err
	}
	k, err := audit.ParseKnownAt(q.Get(audit.ParamKnownAt))
	if err != nil {
		return audit.KnownAt{}, paramProblem(err)
	}
	return k, nil
}

// queryAccessLog answers an auditor's query of the access log, which is
// itself recorded (as a look at the access log, naming the participant
// and user asked about) before it is read.
func (c *caseworkRoutes) queryAccessLog(r *http.Request) (audit.Page, error) {
	g, _ := GrantFrom(r.Context())
	values, err := queryValues(r, audit.QueryParams()...)
	if err != nil {
		return audit.Page{}, err
	}
	q, err := audit.ParseQuery(values.Get, c.svc.Today())
	if err != nil {
		return audit.Page{}, paramProblem(err)
	}
	if err := c.api.record(r, g.Caller, domain.AccessRecorded{
		ParticipantID: q.Participant, SubjectUser: q.User, View: domain.ViewAccessLog,
		Purpose: g.Purpose, Decision: domain.AccessPermitted,
	}); err != nil {
		return audit.Page{}, err
	}
	return c.api.access.Query(r.Context(), q)
}

// getAccessLog answers GET /v1/audit/access: the matching records as JSON.
func (c *caseworkRoutes) getAccessLog(w http.ResponseWriter, r *http.Request) error {
	page, err := c.queryAccessLog(r)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	c.api.JSON(w, r, http.StatusOK, page)
	return nil
}

// getAccessLogCEF answers GET /v1/audit/access.cef: the matching records as
// CEF lines. A truncated answer says so in a header, since CEF lines have
// no room for it.
func (c *caseworkRoutes) getAccessLogCEF(w http.ResponseWriter, r *http.Request) error {
	page, err := c.queryAccessLog(r)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if page.Truncated {
		h.Set(headerTruncated, "true")
	}
	w.WriteHeader(http.StatusOK)
	if err := audit.WriteCEF(w, audit.Version(), page.Records); err != nil {
		// The status is out; Error only logs what became of the rest.
		return err
	}
	return nil
}

// headerTruncated marks a CEF export cut at the limit.
const headerTruncated = "Access-Log-Truncated"
