package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api/identity"
	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
)

// Headers of the write protocol.
const (
	headerIdempotencyKey = "Idempotency-Key"
	headerIfMatch        = "If-Match"
	headerPosition       = "Log-Position"
	headerPurpose        = "Purpose"
	maxIdempotencyKeyLen = 255
)

// RegisterCasework adds the casework routes: a POST for every command and
// a GET for employers and programmes (RegisterOverview adds the one for
// participants); and the auditors' reads, a participant's history (history.go) and the access log
// (audit.go), which every read of personal data and every denial writes
// to. Each route names its action of the access policy (policy.go).
func RegisterCasework(a *API, svc *casework.Service) {
	c := a.casework(svc)
	a.HandleAction(http.MethodPost, "/participants", ActEnrol, c.enrolNew)
	registerHistory(a, c)
	registerAccessLog(a, c)
	a.HandleAction(http.MethodPost, "/participants/{id}/enrolments", ActWriteCasework, c.reEnrol)

	participant := func(path string, act Action, h HandlerFunc) {
		a.HandleAction(http.MethodPost, "/participants/{id}"+path, act, h)
	}
	participant("/caseworkers/assign", ActAssign, participantCommand(c, domain.AssignCaseworker, nil))
	participant("/caseworkers/unassign", ActAssign, participantCommand(c, domain.UnassignCaseworker, nil))
	participant("/consents/give", ActWriteCasework, participantCommand(c, domain.GiveConsent, nil))
	participant("/consents/withdraw", ActWriteCasework, participantCommand(c, domain.WithdrawConsent, nil))
	participant("/goals/set", ActWriteCasework, participantCommand(c, domain.SetGoal, nil))
	participant("/goals/close", ActWriteCasework, participantCommand(c, domain.CloseGoal, nil))
	participant("/meetings", ActRecordMeeting, participantCommand(c, domain.RecordMeeting, nil))
	participant("/scores", ActWriteCasework, participantCommand(c, domain.RecordScore, nil))
	participant("/employer-contacts", ActWriteCasework, participantCommand(c, domain.RecordEmployerContact,
		func(r *http.Request, cmd domain.RecordEmployerContactCommand) error {
			return c.employerExists(r.Context(), "/employer_id", cmd.EmployerID)
		}))
	participant("/placements/start", ActWriteCasework, participantCommand(c, domain.StartPlacement,
		func(r *http.Request, cmd domain.StartPlacementCommand) error {
			return c.employerExists(r.Context(), "/employer_id", cmd.EmployerID)
		}))
	participant("/placements/change", ActWriteCasework, participantCommand(c, domain.ChangePlacement, nil))
	participant("/placements/end", ActWriteCasework, participantCommand(c, domain.EndPlacement, nil))
	participant("/income-source", ActWriteCasework, participantCommand(c, domain.ChangeIncomeSource, nil))
	participant("/pause", ActWriteCasework, participantCommand(c, domain.PauseParticipation, nil))
	participant("/resume", ActWriteCasework, participantCommand(c, domain.ResumeParticipation, nil))
	participant("/exit", ActWriteCasework, participantCommand(c, domain.Exit, nil))
	participant("/corrections", ActWriteCasework, historyCommand(c, domain.CorrectEntry, c.correctionRefs))
	participant("/voids", ActWriteCasework, historyCommand(c, domain.VoidEntry, nil))

	a.HandleAction(http.MethodPost, "/employers", ActManageConfiguration, c.registerEmployer)
	a.HandleAction(http.MethodGet, "/employers/{id}", ActReadEmployer, c.getEmployer)
	a.HandleAction(http.MethodPost, "/employers/{id}/update", ActManageConfiguration, c.updateEmployer)
	a.HandleAction(http.MethodPost, "/programmes", ActManageConfiguration, c.defineProgramme)
	// Every role may read a programme's definition and targets: it holds
	// nothing about a person.
	a.HandleAction(http.MethodGet, "/programmes/{slug}", ActReadProgramme, c.getProgramme)
}

// casework returns the handlers of the casework routes on svc, the same
// for every Register function, with the access log on svc's store.
func (a *API) casework(svc *casework.Service) *caseworkRoutes {
	if a.cw == nil || a.cw.svc != svc {
		a.cw = &caseworkRoutes{api: a, svc: svc}
		a.access = audit.New(svc, audit.Options{Spill: a.accessSpill, Logger: a.log})
	}
	return a.cw
}

// AccessLog is the access log the registered routes record looks in; nil
// before RegisterCasework or RegisterErasure.
func (a *API) AccessLog() *audit.Log { return a.access }

type caseworkRoutes struct {
	api *API
	svc *casework.Service
}

// written answers a successful write: the stream's new revision as ETag,
// the global position for read-your-writes, and both in the body.
func (c *caseworkRoutes) written(w http.ResponseWriter, r *http.Request, status int, res casework.Result) {
	w.Header().Set("ETag", strconv.Quote(strconv.FormatUint(res.Revision, 10)))
	w.Header().Set(headerPosition, strconv.FormatUint(res.Position, 10))
	c.api.JSON(w, r, status, res)
}

// command reads and strictly decodes the body into cmd, and builds the
// request the command handler needs from the headers.
func (c *caseworkRoutes) command(w http.ResponseWriter, r *http.Request, cmd any) (casework.Request, error) {
	body, err := c.api.ReadBody(w, r)
	if err != nil {
		return casework.Request{}, err
	}
	if err := Unmarshal(body, cmd); err != nil {
		return casework.Request{}, err
	}
	return c.request(r, body)
}

func (c *caseworkRoutes) request(r *http.Request, body []byte) (casework.Request, error) {
	caller, ok := identity.FromContext(r.Context())
	if !ok {
		return casework.Request{}, identity.ErrMissingToken
	}
	// Every event records its actor, and the log refuses ids longer than
	// this; without the check such a caller's writes failed with a 500.
	if len(caller.UserID) > domain.MaxIDLen || len(caller.Office) > domain.MaxIDLen {
		return casework.Request{}, NewProblem(http.StatusForbidden, ProblemForbidden,
			fmt.Sprintf("your token's user id or office is longer than the %d bytes the log records", domain.MaxIDLen))
	}
	corr, err := uuid.Parse(CorrelationID(r.Context()))
	if err != nil {
		corr = uuid.New()
	}
	req := casework.Request{
		Actor:         domain.Actor{UserID: caller.UserID, Role: string(caller.Role), Office: caller.Office},
		CorrelationID: corr,
	}
	if key := r.Header.Get(headerIdempotencyKey); key != "" {
		if err := checkIdempotencyKey(key); err != nil {
			return casework.Request{}, err
		}
		req.IdempotencyKey = key
		req.Digest = casework.RequestDigest(r.Method, r.URL.Path, body)
	}
	if v := r.Header.Get(headerIfMatch); v != "" {
		rev, err := parseIfMatch(v)
		if err != nil {
			return casework.Request{}, err
		}
		req.IfMatch = &rev
	}
	return req, nil
}

func checkIdempotencyKey(key string) error {
	if len(key) > maxIdempotencyKeyLen || strings.IndexFunc(key, func(r rune) bool { return r > unicode.MaxASCII || !unicode.IsPrint(r) }) >= 0 {
		return NewProblem(http.StatusBadRequest, "invalid_header", "the Idempotency-Key header is not acceptable",
			HeaderError(headerIdempotencyKey, "format", fmt.Sprintf("printable ASCII, at most %d characters", maxIdempotencyKeyLen)))
	}
	return nil
}

// parseIfMatch reads the ETag a write answered ("3"), or "-1" for a
// stream the client saw empty. Lists and weak tags are refused: a write
// must name exactly one revision.
func parseIfMatch(v string) (int64, error) {
	bad := NewProblem(http.StatusBadRequest, "invalid_header", "the If-Match header is not acceptable",
		HeaderError(headerIfMatch, "format", `one strong ETag as returned by a write, such as "3"`))
	s, err := strconv.Unquote(strings.TrimSpace(v))
	if err != nil {
		return 0, bad
	}
	rev, err := strconv.ParseInt(s, 10, 64)
	if err != nil || rev < -1 {
		return 0, bad
	}
	return rev, nil
}

// pathID parses the {id} of the route. A malformed id cannot name anything,
// so it is answered like a missing one.
func pathID(r *http.Request) (uuid.UUID, error) {
	s := Var(r, "id")
	id, err := uuid.Parse(s)
	if err != nil || id == uuid.Nil || id.String() != s {
		return uuid.Nil, ErrNotFound
	}
	return id, nil
}

// participantDecision decides a command on a participant's history and the
// state folded from it.
type participantDecision[C any] func(h []domain.Recorded, p domain.Participant, cmd C, today domain.Date) ([]domain.Event, error)

// participantCommand is the handler of a command the domain decides on a
// participant's state.
func participantCommand[C any](c *caseworkRoutes, decide func(domain.Participant, C, domain.Date) ([]domain.Event, error), refs func(*http.Request, C) error) HandlerFunc {
	return participantHandler(c, refs, func(_ []domain.Recorded, p domain.Participant, cmd C, today domain.Date) ([]domain.Event, error) {
		return decide(p, cmd, today)
	})
}

// historyCommand is the handler of corrections and voids, which the domain
// decides on the stream's history.
func historyCommand[C any](c *caseworkRoutes, decide func([]domain.Recorded, C, domain.Date) ([]domain.Event, error), refs func(*http.Request, C) error) HandlerFunc {
	return participantHandler(c, refs, func(h []domain.Recorded, _ domain.Participant, cmd C, today domain.Date) ([]domain.Event, error) {
		return decide(h, cmd, today)
	})
}

// participantHandler decodes the command, checks its references to other
// streams, decides the access policy on the participant as they are, then
// lets the command handler fold, decide the policy again and decide the
// command.
func participantHandler[C any](c *caseworkRoutes, refs func(*http.Request, C) error, decide participantDecision[C]) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		var cmd C
		req, err := c.command(w, r, &cmd)
		if err != nil {
			return err
		}
		if refs != nil {
			if err := refs(r, cmd); err != nil {
				return err
			}
		}
		// Access first, on the very version decided on: the command handler
		// asks before it answers a retry or compares If-Match, either of
		// which would tell a caller of another office that the
		// participant exists, and at which revision.
		res, err := c.svc.ExecuteParticipant(r.Context(), domain.ParticipantStream(id), req,
			func(p *domain.Participant, exists bool) error { return c.admit(r, id, p, exists) },
			func(h []domain.Recorded, p *domain.Participant, today domain.Date) ([]domain.Event, error) {
				return decide(h, *p, cmd, today)
			})
		if err != nil {
			return writeError(err)
		}
		c.written(w, r, http.StatusOK, res)
		return nil
	}
}

// enrolNew enrols a participant the log does not know yet, under a new id:
// derived from the Idempotency-Key when one is sent, so that a retry finds
// the participant the first attempt created.
func (c *caseworkRoutes) enrolNew(w http.ResponseWriter, r *http.Request) error {
	var cmd domain.EnrolCommand
	req, err := c.command(w, r, &cmd)
	if err != nil {
		return err
	}
	if err := c.mayEnrol(r, cmd); err != nil {
		return err
	}
	id := uuid.New()
	if req.IdempotencyKey != "" {
		id = casework.KeyedID(req, "participant")
	}
	res, err := c.svc.ExecuteParticipant(r.Context(), domain.ParticipantStream(id), req, nil,
		func(_ []domain.Recorded, p *domain.Participant, today domain.Date) ([]domain.Event, error) {
			return domain.Enrol(*p, cmd, today)
		})
	if err != nil {
		return writeError(err)
	}
	w.Header().Set("Location", Prefix+"/participants/"+id.String())
	c.written(w, r, http.StatusCreated, res)
	return nil
}

// reEnrol starts a new episode for a participant whose last one ended.
func (c *caseworkRoutes) reEnrol(w http.ResponseWriter, r *http.Request) error {
	return participantHandler(c, c.mayEnrol, func(_ []domain.Recorded, p domain.Participant, cmd domain.EnrolCommand, today domain.Date) ([]domain.Event, error) {
		return domain.Enrol(p, cmd, today)
	})(w, r)
}

// mayEnrol checks what an enrolment names outside the participant's
// stream: an office the policy lets the caller enrol in (their own), and
// a programme that exists.
func (c *caseworkRoutes) mayEnrol(r *http.Request, cmd domain.EnrolCommand) error {
	return c.mayEnrolAt(r, "", cmd)
}

// mayEnrolAt is mayEnrol for an enrolment at pointer in the body. The
// office is the caller's own words, so its refusal is a 403 that says
// which field: it tells nothing about any participant.
func (c *caseworkRoutes) mayEnrolAt(r *http.Request, pointer string, cmd domain.EnrolCommand) error {
	ctx := r.Context()
	g, _ := GrantFrom(ctx)
	if d := Decide(g.Caller, ActEnrol, &Subject{Known: true, Office: cmd.Office}); !d.Permit {
		rec := domain.AccessRecorded{ParticipantID: routeParticipant(r, g.Action), View: domain.ViewCasework,
			Purpose: g.Purpose, Reason: d.Reason}
		return c.api.deny(r, g.Caller, rec, NewProblem(http.StatusForbidden, ProblemForbidden, "you may enrol participants in your own office only",
			BodyError(pointer+"/office", "other_office", "must be your own office")))
	}
	if !domain.ValidSlug(cmd.Programme) {
		return nil // the domain names the malformed slug
	}
	h, _, err := c.svc.Load(ctx, domain.ProgrammeStream(cmd.Programme))
	if errors.Is(err, casework.ErrNotFound) || (err == nil && !domain.FoldProgramme(h).Defined) {
		return &domain.InvalidError{Pointer: pointer + "/programme", Code: "unknown_programme", Message: "no programme is defined under this slug"}
	}
	return err
}

// correctionRefs checks what a correction's replacement names outside the
// stream as the entry it replaces was checked: an enrolment's office and
// programme, a contact's or placement's employer. Without it a correction
// could move a participant to another office. A replacement that does not
// decode is left to the domain, which says what is wrong with it.
func (c *caseworkRoutes) correctionRefs(r *http.Request, cmd domain.CorrectEntryCommand) error {
	switch cmd.EntryType {
	case domain.TypeParticipantEnrolled:
		var en domain.EnrolCommand
		if json.Unmarshal(cmd.Replacement, &en) != nil {
			return nil
		}
		return c.mayEnrolAt(r, "/replacement", en)
	case domain.TypeEmployerContacted, domain.TypePlacementStarted:
		var ref struct {
			EmployerID uuid.UUID `json:"employer_id"`
		}
		if json.Unmarshal(cmd.Replacement, &ref) != nil {
			return nil
		}
		return c.employerExists(r.Context(), "/replacement/employer_id", ref.EmployerID)
	}
	return nil
}

// employerExists refuses a command that names an employer the log does not
// hold. A command without one is left to the domain, which knows whether it
// needs one.
func (c *caseworkRoutes) employerExists(ctx context.Context, pointer string, id uuid.UUID) error {
	if id == uuid.Nil {
		return nil
	}
	h, _, err := c.svc.Load(ctx, domain.EmployerStream(id))
	if errors.Is(err, casework.ErrNotFound) || (err == nil && !domain.FoldEmployer(h).Registered) {
		return &domain.InvalidError{Pointer: pointer, Code: "unknown_employer", Message: "no employer is registered under this id"}
	}
	return err
}

// admit decides the access policy on the participant as the command
// handler loaded them (authorize); a stream without events is answered
// like a participant of another office, and the denial recorded.
func (c *caseworkRoutes) admit(r *http.Request, id uuid.UUID, p *domain.Participant, exists bool) error {
	var subject Subject
	if exists {
		subject = SubjectOf(*p)
	}
	_, err := c.authorize(r, id, subject)
	return err
}

// writeError turns the command handler's own errors into problems; the
// domain's and the store's are mapped in problemFor.
func writeError(err error) error {
	switch {
	case errors.Is(err, casework.ErrPreconditionFailed):
		return NewProblem(http.StatusPreconditionFailed, "precondition_failed",
			"the participant changed since the revision named in If-Match; reload and decide again",
			HeaderError(headerIfMatch, "stale", "not the current revision"))
	case errors.Is(err, casework.ErrIdempotencyKeyReused):
		return NewProblem(http.StatusUnprocessableEntity, "idempotency_key_reused",
			"this Idempotency-Key was used for a different request",
			HeaderError(headerIdempotencyKey, "reused", "use a new key for a new request"))
	}
	return err
}

func (c *caseworkRoutes) registerEmployer(w http.ResponseWriter, r *http.Request) error {
	var cmd domain.RegisterEmployerCommand
	req, err := c.command(w, r, &cmd)
	if err != nil {
		return err
	}
	// One organisation, one employer stream: the id derives from the
	// organisation number, so a second registration meets the first.
	id := casework.EmployerID(cmd.OrganisationNumber)
	res, err := c.svc.Execute(r.Context(), domain.EmployerStream(id), req,
		func(h []domain.Recorded, _ domain.Date) ([]domain.Event, error) {
			return domain.RegisterEmployer(domain.FoldEmployer(h), cmd)
		})
	if err != nil {
		return writeError(err)
	}
	w.Header().Set("Location", Prefix+"/employers/"+id.String())
	c.written(w, r, http.StatusCreated, res)
	return nil
}

func (c *caseworkRoutes) updateEmployer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var cmd domain.UpdateEmployerCommand
	req, err := c.command(w, r, &cmd)
	if err != nil {
		return err
	}
	res, err := c.svc.Execute(r.Context(), domain.EmployerStream(id), req,
		func(h []domain.Recorded, _ domain.Date) ([]domain.Event, error) {
			e := domain.FoldEmployer(h)
			if !e.Registered {
				return nil, ErrNotFound
			}
			return domain.UpdateEmployer(e, cmd)
		})
	if err != nil {
		return writeError(err)
	}
	c.written(w, r, http.StatusOK, res)
	return nil
}

func (c *caseworkRoutes) defineProgramme(w http.ResponseWriter, r *http.Request) error {
	var cmd domain.DefineProgrammeCommand
	req, err := c.command(w, r, &cmd)
	if err != nil {
		return err
	}
	if !domain.ValidSlug(cmd.Slug) {
		return &domain.InvalidError{Pointer: "/slug", Code: domain.CodeFormat, Message: "lower-case letters, digits and hyphens"}
	}
	res, err := c.svc.Execute(r.Context(), domain.ProgrammeStream(cmd.Slug), req,
		func(h []domain.Recorded, _ domain.Date) ([]domain.Event, error) {
			return domain.DefineProgramme(domain.FoldProgramme(h), cmd)
		})
	if err != nil {
		return writeError(err)
	}
	w.Header().Set("Location", Prefix+"/programmes/"+cmd.Slug)
	status := http.StatusCreated
	if res.Revision > 0 { // a redefinition: the programme existed
		status = http.StatusOK
	}
	c.written(w, r, status, res)
	return nil
}
