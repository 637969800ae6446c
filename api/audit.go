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
// shown, and denials are recorded too. A read whose record cannot be
// appended fails with 503 and shows nothing.
//
// The routes that read personal data are registered without a role list:
// their handlers check the role themselves, so that a role's refusal is
// recorded like any other denial.

// Problem code of a read refused because its access record failed.
const ProblemAccessNotRecorded = "access_not_recorded"

// logReaders may query the access log.
var logReaders = []identity.Role{identity.Auditor}

// registerAccessLog adds the auditors' access-log routes.
func registerAccessLog(a *API, c *caseworkRoutes) {
	a.Handle(http.MethodGet, "/audit/access", c.getAccessLog)
	a.Handle(http.MethodGet, "/audit/access.cef", c.getAccessLogCEF)
}

// look is a read of one participant's data that the access policy let
// through: who asks and why, and the participant's stream as it is now.
type look struct {
	caller  identity.Identity
	purpose string
	id      uuid.UUID
	history []domain.Recorded
	current domain.Participant // folded from the whole history
	knownAt audit.KnownAt
}

// lookAtParticipant decides a read of the view of participant {id}: the
// caller's role, the purpose, the known_at parameter, and the
// participant's office. A denial is recorded before it is answered (403
// for the role; 404 for another office, exactly as for a participant that
// does not exist). What is let through is not recorded yet: the handler
// records it with permit once it knows what it will show.
func (c *caseworkRoutes) lookAtParticipant(r *http.Request, view domain.AccessView) (look, error) {
	caller, err := recordableCaller(r)
	if err != nil {
		return look{}, err
	}
	id, idErr := pathID(r)
	if !slices.Contains(caseReaders, caller.Role) {
		return look{}, c.deny(r, caller, domain.AccessRecorded{ParticipantID: id, View: view, Purpose: refusedPurpose(r), Reason: domain.DenyRole},
			fmt.Errorf("role %s reading a participant's %s: %w", caller.Role, view, ErrForbidden))
	}
	if idErr != nil {
		return look{}, idErr
	}
	purpose, err := statedPurpose(r, caller)
	if err != nil {
		return look{}, err
	}
	known, err := knownAtParam(r)
	if err != nil {
		return look{}, err
	}
	h, _, err := c.svc.Load(r.Context(), domain.ParticipantStream(id))
	if errors.Is(err, casework.ErrNotFound) {
		return look{}, c.deny(r, caller, domain.AccessRecorded{ParticipantID: id, View: view, Purpose: purpose, Reason: domain.DenyUnknownParticipant}, ErrNotFound)
	}
	if err != nil {
		return look{}, err
	}
	p := domain.FoldParticipant(h)
	if caller.Role != identity.Auditor {
		if err := mayWrite(caller, p); err != nil {
			return look{}, c.deny(r, caller, domain.AccessRecorded{ParticipantID: id, View: view, Purpose: purpose, Reason: domain.DenyOtherOffice}, err)
		}
	}
	return look{caller: caller, purpose: purpose, id: id, history: h, current: p, knownAt: known}, nil
}

// permit records that lk's caller is shown view, with or without personal
// data. The caller must show nothing if it fails.
func (c *caseworkRoutes) permit(r *http.Request, lk look, view domain.AccessView, personal bool) error {
	return c.record(r, lk.caller, domain.AccessRecorded{
		ParticipantID: lk.id, View: view, PersonalData: personal, Purpose: lk.purpose,
		Decision: domain.AccessPermitted, KnownAt: lk.knownAt.String(),
	})
}

// deny records rec, with its reason, as a denial and returns answer, the
// error the caller gets; when the denial cannot be recorded, the caller
// gets 503 instead.
func (c *caseworkRoutes) deny(r *http.Request, caller identity.Identity, rec domain.AccessRecorded, answer error) error {
	rec.Decision, rec.PersonalData = domain.AccessDenied, false
	if err := c.record(r, caller, rec); err != nil {
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
func (c *caseworkRoutes) record(r *http.Request, caller identity.Identity, rec domain.AccessRecorded) error {
	rec.Via = r.Method + " " + routeOf(r)
	corr, _ := uuid.Parse(CorrelationID(r.Context()))
	err := c.access.Record(r.Context(), audit.Access{
		Reader:        domain.Actor{UserID: caller.UserID, Role: string(caller.Role), Office: caller.Office},
		CorrelationID: corr,
		Record:        rec,
	})
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
// the actor of an access record.
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

// statedPurpose is why the caller looks: the Purpose header, which
// auditors must send; caseworkers and team leads who send none look for
// their casework.
func statedPurpose(r *http.Request, caller identity.Identity) (string, error) {
	values := r.Header.Values(headerPurpose)
	bad := func(code string) error {
		return NewProblem(http.StatusBadRequest, "purpose_required", "auditors state the purpose of every request",
			HeaderError(headerPurpose, code, fmt.Sprintf("one purpose of 1 to %d characters", domain.MaxPurposeLen)))
	}
	switch {
	case len(values) == 0 && caller.Role == identity.Auditor:
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
	caller, err := recordableCaller(r)
	if err != nil {
		return audit.Page{}, err
	}
	if !slices.Contains(logReaders, caller.Role) {
		return audit.Page{}, c.deny(r, caller, domain.AccessRecorded{View: domain.ViewAccessLog, Purpose: refusedPurpose(r), Reason: domain.DenyRole},
			fmt.Errorf("role %s reading the access log: %w", caller.Role, ErrForbidden))
	}
	purpose, err := statedPurpose(r, caller)
	if err != nil {
		return audit.Page{}, err
	}
	values, err := queryValues(r, audit.QueryParams()...)
	if err != nil {
		return audit.Page{}, err
	}
	q, err := audit.ParseQuery(values.Get, c.svc.Today())
	if err != nil {
		return audit.Page{}, paramProblem(err)
	}
	if err := c.record(r, caller, domain.AccessRecorded{
		ParticipantID: q.Participant, SubjectUser: q.User, View: domain.ViewAccessLog,
		Purpose: purpose, Decision: domain.AccessPermitted,
	}); err != nil {
		return audit.Page{}, err
	}
	return c.access.Query(r.Context(), q)
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
