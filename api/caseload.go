package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api/identity"
	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/projections/caseload"
)

// The caseload list, GET /v1/caseload: a caseworker's own participants, or
// a team lead's office, from the caseload read model.
//
// Names are not in the read model (nor in its snapshots). They are opened
// for the rows of the page only, through casework's loader (CaseloadNames);
// a search by name opens the names of the caller's scope, outside the
// model's lock.
//
// Access is decided here by a small local check (caseloadScope), to be
// folded into the access policy: caseworkers see the participants whose
// team they are in, team leads their office, everyone else gets 403.
// Participants under address protection show ProtectedLabel to everyone
// not in their team, and are never found by a name search of such a
// caller.
//
// Opening names for the list is not yet written to the access log.

// DefaultReadYourWritesWait bounds how long a query naming min_position
// waits for the read models.
const DefaultReadYourWritesWait = 2 * time.Second

// Query parameters of the caseload list.
const (
	paramMinPosition = "min_position"
	paramCursor      = "cursor"
	paramLimit       = "limit"
	paramSort        = "sort"
	paramSearch      = "q"
)

// PositionWaiter waits until the read models reflect a log position;
// *projections.Runner is one.
type PositionWaiter interface {
	WaitFor(ctx context.Context, position uint64) error
}

// NameSource opens a participant's name for a caller. It decides on the
// participant as the log holds them now, not on the read model's row,
// which may lag behind (a correction that adds address protection, a move
// to another office): shown is false, and the name "", whenever the policy
// does not let the caller see who the participant is, or the name is
// erased.
type NameSource interface {
	Name(ctx context.Context, caller identity.Identity, id uuid.UUID) (name string, shown bool, err error)
}

// CaseloadOptions configure RegisterCaseload.
type CaseloadOptions struct {
	// Waiter serves min_position; nil answers such queries at once.
	Waiter PositionWaiter
	// Names opens names; nil shows none.
	Names NameSource
	// Today is the business date flags are computed for (Europe/Oslo).
	Today func() domain.Date
	// Wait bounds a min_position wait; DefaultReadYourWritesWait when 0.
	Wait time.Duration
}

// RegisterCaseload adds GET /v1/caseload.
func RegisterCaseload(a *API, model *caseload.Model, opts CaseloadOptions) {
	if opts.Wait <= 0 {
		opts.Wait = DefaultReadYourWritesWait
	}
	c := &caseloadRoutes{api: a, model: model, opts: opts}
	a.HandleAction(http.MethodGet, "/caseload", ActReadCaseload, c.list)
}

// CaseloadNames opens names through casework's loader, which caches
// folded streams.
func CaseloadNames(svc *casework.Service) NameSource { return serviceNames{svc} }

type serviceNames struct{ svc *casework.Service }

func (s serviceNames) Name(ctx context.Context, caller identity.Identity, id uuid.UUID) (string, bool, error) {
	p, _, err := s.svc.Participant(ctx, domain.ParticipantStream(id))
	if err != nil {
		return "", false, err
	}
	subj := SubjectOf(*p)
	if d := Decide(caller, ActReadParticipant, &subj); !d.Permit || !d.Identify || p.Personal == nil {
		return "", false, nil
	}
	return p.Personal.Name, true, nil
}

type caseloadRoutes struct {
	api   *API
	model *caseload.Model
	opts  CaseloadOptions
}

type caseloadRow struct {
	caseload.Row
	Name string `json:"name,omitempty"`
}

type caseloadPage struct {
	Rows       []caseloadRow   `json:"rows"`
	NextCursor string          `json:"next_cursor,omitempty"`
	Total      int             `json:"total"`
	Counts     caseload.Counts `json:"counts"`
	Position   uint64          `json:"position"`
	Today      domain.Date     `json:"today"`
}

// caseloadScope is the local access check: whose participants the caller
// sees.
func caseloadScope(caller identity.Identity) (caseload.Scope, error) {
	switch caller.Role {
	case identity.Caseworker:
		return caseload.Scope{Office: caller.Office, Caseworker: caller.UserID}, nil
	case identity.TeamLead:
		return caseload.Scope{Office: caller.Office}, nil
	}
	return caseload.Scope{}, fmt.Errorf("role %s listing a caseload: %w", caller.Role, ErrForbidden)
}

// mayName reports whether caller may see the name of a row's participant:
// the policy's rule for identifying a participant, on what the row knows.
func mayName(caller identity.Identity, r caseload.Row) bool {
	team := make(map[string]domain.CaseworkerRole, len(r.Caseworkers))
	for _, cw := range r.Caseworkers {
		team[cw.UserID] = cw.Role
	}
	return mayIdentify(caller, Subject{Known: true, Office: r.Office, Team: team, AddressProtection: r.AddressProtection})
}

func badParam(name, code, detail string) error {
	return NewProblem(http.StatusBadRequest, "invalid_query", "a query parameter is not acceptable", QueryError(name, code, detail))
}

func (c *caseloadRoutes) list(w http.ResponseWriter, r *http.Request) error {
	caller, ok := identity.FromContext(r.Context())
	if !ok {
		return identity.ErrMissingToken
	}
	scope, err := caseloadScope(caller)
	if err != nil {
		return err
	}
	q, err := queryValues(r, "programme", "caseworker", "phase", "status", "placement_kind", "consent_missing",
		"address_protection", "flag", paramSearch, paramSort, paramLimit, paramCursor, paramMinPosition)
	if err != nil {
		return err
	}
	query, err := caseloadQuery(q.Get, scope)
	if err != nil {
		return err
	}
	if err := readYourWrites(r.Context(), w, q, c.opts.Waiter, c.opts.Wait, "the caseload"); err != nil {
		return err
	}
	query.Today = c.opts.Today()
	if s := strings.TrimSpace(q.Get(paramSearch)); s != "" {
		keep, err := c.search(r.Context(), caller, scope, query.Today, s)
		if err != nil {
			return err
		}
		query.Keep = keep
	}
	page, err := c.model.List(query)
	if errors.Is(err, caseload.ErrBadCursor) {
		return badParam(paramCursor, "invalid", "not a cursor of this list and sort; start again without it")
	}
	if err != nil {
		return err
	}
	out := caseloadPage{Rows: make([]caseloadRow, len(page.Rows)), NextCursor: page.Next, Total: page.Total,
		Counts: page.Counts, Position: page.Position, Today: query.Today}
	var named []uuid.UUID
	for i, row := range page.Rows {
		out.Rows[i] = caseloadRow{Row: row}
		switch {
		case !mayName(caller, row):
			out.Rows[i].Name = ProtectedLabel
		case c.opts.Names != nil && !row.Erased:
			name, shown, err := c.opts.Names.Name(r.Context(), caller, row.ID)
			if err != nil {
				return fmt.Errorf("caseload: open a name: %w", err)
			}
			if !shown {
				out.Rows[i].Name = ProtectedLabel
				continue
			}
			out.Rows[i].Name = name
			named = append(named, row.ID)
		}
	}
	// A name is personal data: a page that shows any is recorded, with
	// every participant it names, before anything is shown. One record
	// for the page, which is one look, rather than one for each row: the
	// rows' records were nearly all the log's appends in the caseworkers'
	// mix (docs/performance.md, "Load").
	if len(named) > 0 {
		purpose := "casework"
		if g, ok := GrantFrom(r.Context()); ok && g.Purpose != "" {
			purpose = g.Purpose
		}
		look := domain.AccessRecorded{Participants: named, View: domain.ViewCaseload, PersonalData: true, Purpose: purpose, Decision: domain.AccessPermitted}
		if err := c.api.record(r, caller, look); err != nil {
			return err
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	c.api.JSON(w, r, http.StatusOK, out)
	return nil
}

// search opens the names of the caller's scope that the caller may see and
// keeps those containing s, case-insensitively.
func (c *caseloadRoutes) search(ctx context.Context, caller identity.Identity, scope caseload.Scope, today domain.Date, s string) (func(caseload.Row) bool, error) {
	if c.opts.Names == nil {
		return func(caseload.Row) bool { return false }, nil
	}
	needle := strings.ToLower(s)
	match := map[uuid.UUID]bool{}
	for _, row := range c.model.Rows(scope, today) {
		if row.Erased || !mayName(caller, row) {
			continue
		}
		name, shown, err := c.opts.Names.Name(ctx, caller, row.ID)
		if err != nil {
			return nil, fmt.Errorf("caseload search: open a name: %w", err)
		}
		if shown && strings.Contains(strings.ToLower(name), needle) {
			match[row.ID] = true
		}
	}
	return func(r caseload.Row) bool { return match[r.ID] }, nil
}

// caseloadQuery validates the query parameters into a caseload.Query.
func caseloadQuery(get func(string) string, scope caseload.Scope) (caseload.Query, error) {
	q := caseload.Query{Scope: scope}
	list := func(name string) []string {
		v := get(name)
		if v == "" {
			return nil
		}
		return strings.Split(v, ",")
	}
	q.Programmes = list("programme")
	q.Caseworkers = list("caseworker")
	for _, v := range list("phase") {
		ph, ok := parsePhase(v)
		if !ok {
			return q, badParam("phase", "invalid", "one or more of engagement, vocational_profile, job_finding, employer_engagement, ongoing_support")
		}
		q.Phases = append(q.Phases, ph)
	}
	for _, v := range list("status") {
		st := domain.Status(v)
		if st != domain.StatusActive && st != domain.StatusPaused && st != domain.StatusExited {
			return q, badParam("status", "invalid", "one or more of active, paused, exited")
		}
		q.Statuses = append(q.Statuses, st)
	}
	for _, v := range list("placement_kind") {
		k := domain.PlacementKind(v)
		if !k.Valid() {
			return q, badParam("placement_kind", "invalid", "not a placement kind")
		}
		q.PlacementKinds = append(q.PlacementKinds, k)
	}
	for _, v := range list("consent_missing") {
		s := domain.ConsentScope(v)
		if !s.Valid() {
			return q, badParam("consent_missing", "invalid", "not a consent scope")
		}
		q.ConsentsMissing = append(q.ConsentsMissing, s)
	}
	if v := get("address_protection"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return q, badParam("address_protection", "type", "true or false")
		}
		q.AddressProtected = &b
	}
	for _, v := range list("flag") {
		f := caseload.Flag(v)
		if !containsFlag(f) {
			return q, badParam("flag", "invalid", "not a flag of the caseload")
		}
		q.Flags = append(q.Flags, f)
	}
	if v := get(paramSort); v != "" {
		s, desc := strings.CutPrefix(v, "-")
		if !containsSort(caseload.Sort(s)) {
			return q, badParam(paramSort, "invalid", "a date or count column, '-' in front for descending")
		}
		q.Sort, q.Desc = caseload.Sort(s), desc
	}
	if v := get(paramLimit); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > caseload.MaxLimit {
			return q, badParam(paramLimit, "range", fmt.Sprintf("a whole number from 1 to %d", caseload.MaxLimit))
		}
		q.Limit = n
	}
	q.After = get(paramCursor)
	return q, nil
}

func parsePhase(s string) (domain.Phase, bool) {
	for ph := domain.PhaseEngagement; ph <= domain.PhaseOngoingSupport; ph++ {
		if ph.String() == s {
			return ph, true
		}
	}
	return domain.PhaseNone, false
}

func containsFlag(f caseload.Flag) bool {
	for _, x := range caseload.Flags() {
		if x == f {
			return true
		}
	}
	return false
}

func containsSort(s caseload.Sort) bool {
	for _, x := range caseload.Sorts() {
		if x == s {
			return true
		}
	}
	return false
}
