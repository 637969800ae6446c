package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/projections/caseload"
	"github.com/caseledger/caseledger/projections/overview"
)

// ProtectedLabel stands in for the name of a participant under strengthened
// address protection, for everyone not allowed to see who it is.
const ProtectedLabel = "Protected participant"

// The participant overview, GET /v1/participants/{id}: a participant's
// state now from the overview read model, or as known at a point of the
// log (?known_at=) from a fold of the events recorded by then.
//
// The access policy decides on the participant as the log holds them now,
// whatever point is asked for: the stream is loaded (casework's loader
// keeps it cached) and the decision is made on the model's state when the
// model has applied exactly that stream, else on the stream's fold, which
// then is the view too. So the overview is never older than the log's
// state the decision saw, and a caller reads their own writes without
// asking; min_position waits, as for the caseload, for the read models to
// reach a position of other writes.
//
// The model holds no personal data: names, contact details, notes and
// minutes are taken from the loaded stream, for the items shown, for the
// callers the policy lets see them. The look is recorded before anything
// is shown (audit.go). A volunteer mentor gets mentorOf's view instead.

// OverviewOptions configure RegisterOverview.
type OverviewOptions struct {
	// Waiter serves min_position; nil answers such reads at once.
	Waiter PositionWaiter
	// Today is the business date flags and days in the programme are
	// counted for (Europe/Oslo); the command handler's when nil.
	Today func() domain.Date
	// Wait bounds a min_position wait; DefaultReadYourWritesWait when 0.
	Wait time.Duration
}

// RegisterOverview adds GET /v1/participants/{id}, served from model.
func RegisterOverview(a *API, svc *casework.Service, model *overview.Model, opts OverviewOptions) {
	if opts.Wait <= 0 {
		opts.Wait = DefaultReadYourWritesWait
	}
	if opts.Today == nil {
		opts.Today = svc.Today
	}
	o := &overviewRoutes{caseworkRoutes: a.casework(svc), model: model, opts: opts}
	a.HandleAction(http.MethodGet, "/participants/{id}", ActReadParticipant, o.getParticipant)
}

type overviewRoutes struct {
	*caseworkRoutes
	model *overview.Model
	opts  OverviewOptions
}

func (o *overviewRoutes) getParticipant(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	q, err := queryValues(r, audit.ParamKnownAt, paramMinPosition)
	if err != nil {
		return err
	}
	known, err := audit.ParseKnownAt(q.Get(audit.ParamKnownAt))
	if err != nil {
		return paramProblem(err)
	}
	if !known.IsZero() && q.Get(paramMinPosition) != "" {
		return badParam(paramMinPosition, "conflict", "not with known_at: a past point of the log is read from the log itself")
	}
	if err := readYourWrites(r.Context(), w, q, o.opts.Waiter, o.opts.Wait, "the participant overview"); err != nil {
		return err
	}
	fromModel := false
	lk, err := o.lookAt(r, known, func(h []domain.Recorded) (domain.Participant, error) {
		if len(h) == 0 {
			return domain.Participant{}, nil
		}
		// The model holds the revisions of the events that recorded the
		// items; it gives the items those events' ids from h.
		ov, ok, err := o.model.Get(id, h)
		if err != nil {
			return domain.Participant{}, err
		}
		if ok && ov.Revision == h[len(h)-1].Revision {
			fromModel = true
			return ov.Participant, nil
		}
		// The model has not applied the stream's latest events yet (or,
		// written to meanwhile, is ahead of what was loaded, so that h
		// may lack events its items were recorded by): the fold of what
		// was loaded is the state now.
		return domain.FoldParticipant(h), nil
	})
	if err != nil {
		return err
	}
	h := known.Of(lk.history)
	if len(h) == 0 {
		if err := o.permit(r, lk, domain.ViewParticipant, false); err != nil {
			return err
		}
		return NewProblem(http.StatusNotFound, ProblemNotFound, "nothing was recorded about the participant by known_at",
			QueryError(audit.ParamKnownAt, "before_first_event", "before the participant's first event"))
	}
	last := h[len(h)-1]
	p := lk.now
	switch {
	case !known.IsZero():
		p = domain.FoldParticipant(h)
	case fromModel && lk.decision.Identify:
		p = withPersonal(p, lk.history)
	}
	var (
		v        any
		personal bool
	)
	if lk.decision.Mentor {
		mv := mentorOf(lk.id, last.Revision, p, h, lk.caller.UserID, lk.decision.Identify)
		mv.Position, mv.KnownAt = last.Position, known.String()
		v, personal = mv, mv.showsPersonal()
	} else {
		today := o.opts.Today()
		pv := participantOf(lk.id, last.Revision, p, today, lk.decision.Identify)
		pv.Position, pv.KnownAt = last.Position, known.String()
		if known.IsZero() {
			// Flags are for today, of the state now: a past point has none.
			pv.Flags = caseload.FlagsOf(p, today)
		}
		v, personal = pv, pv.showsPersonal()
	}
	if err := o.permit(r, lk, domain.ViewParticipant, personal); err != nil {
		return err
	}
	w.Header().Set("ETag", strconv.Quote(strconv.FormatUint(last.Revision, 10)))
	w.Header().Set("Cache-Control", "no-store")
	o.api.JSON(w, r, http.StatusOK, v)
	return nil
}

// withPersonal returns p, a state without personal data folded from the
// stream h (the overview model's), with the personal sections the fold of
// h gives its items: each from the event, as corrected, that recorded the
// item. The fold keeps a goal's closing note too, which no view shows;
// it is not filled in. p's slices are the caller's own and are changed.
func withPersonal(p domain.Participant, h []domain.Recorded) domain.Participant {
	if p.Erased {
		return p // and the loaded stream holds no personal member either
	}
	// Only the events whose personal sections the items below take.
	byID := make(map[uuid.UUID]domain.Event)
	for _, r := range domain.EffectiveHistory(h) {
		switch r.Event.(type) {
		case domain.ParticipantEnrolled, domain.ParticipantExited, domain.GoalSet, domain.MeetingHeld,
			domain.EmployerContacted, domain.PlacementStarted, domain.ParticipationPaused:
			byID[r.ID] = r.Event
		}
	}
	if ep, ok := p.CurrentEpisode(); ok {
		if e, ok := byID[ep.EnrolmentID].(domain.ParticipantEnrolled); ok {
			p.Personal = e.Personal
		}
	}
	for i := range p.Episodes {
		if x := p.Episodes[i].Exit; x != nil {
			if e, ok := byID[x.EventID].(domain.ParticipantExited); ok {
				x.Personal = e.Personal
			}
		}
	}
	for i := range p.Goals {
		if e, ok := byID[p.Goals[i].EventID].(domain.GoalSet); ok {
			p.Goals[i].Personal = e.Personal
		}
	}
	for i := range p.Meetings {
		if e, ok := byID[p.Meetings[i].EventID].(domain.MeetingHeld); ok {
			p.Meetings[i].Personal = e.Personal
		}
	}
	for i := range p.Contacts {
		if e, ok := byID[p.Contacts[i].EventID].(domain.EmployerContacted); ok {
			p.Contacts[i].Personal = e.Personal
		}
	}
	for i := range p.Placements {
		if e, ok := byID[p.Placements[i].EventID].(domain.PlacementStarted); ok {
			p.Placements[i].Personal = e.Personal
		}
	}
	for i := range p.Pauses {
		if e, ok := byID[p.Pauses[i].EventID].(domain.ParticipationPaused); ok {
			p.Pauses[i].Personal = e.Personal
		}
	}
	return p
}

// readYourWrites waits, bounded by wait, for the read models to reach the
// position the query names in min_position, if any; 503 with Retry-After
// when they do not in time. what names the read model for the answer.
func readYourWrites(ctx context.Context, w http.ResponseWriter, q url.Values, waiter PositionWaiter, wait time.Duration, what string) error {
	v := q.Get(paramMinPosition)
	if v == "" {
		return nil
	}
	pos, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return badParam(paramMinPosition, "type", "a log position: a whole number")
	}
	if waiter == nil {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	err = waiter.WaitFor(wctx, pos)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	w.Header().Set("Retry-After", "1")
	return NewProblem(http.StatusServiceUnavailable, ProblemNotReady,
		what+" has not reached the position asked for yet; try again shortly",
		QueryError(paramMinPosition, "not_reached", "not reflected yet"))
}

// mentorView is what a volunteer mentor sees of a participant assigned to
// them (access.md): the name and phone, to reach them, and the meetings
// the volunteer recorded themselves. Nothing else: no other meetings or
// notes, no scores, goals, placements, profile or history. Under address
// protection the name is the neutral label, and the phone and the notes
// of their meetings are left out.
type mentorView struct {
	ID       uuid.UUID     `json:"id"`
	Revision uint64        `json:"revision"`
	Name     string        `json:"name,omitempty"`
	Phone    string        `json:"phone,omitempty"`
	Erased   bool          `json:"erased"`
	Redacted bool          `json:"redacted"`
	Meetings []meetingView `json:"meetings"`
	// Position and KnownAt as in participantView.
	Position uint64 `json:"position"`
	KnownAt  string `json:"known_at,omitempty"`
}

// showsPersonal reports whether the view holds personal data.
func (v mentorView) showsPersonal() bool {
	if (v.Name != "" && !v.Redacted) || v.Phone != "" {
		return true
	}
	for _, m := range v.Meetings {
		if m.Personal != nil {
			return true
		}
	}
	return false
}

// mentorOf builds user's mentor view of a participant in state p, folded
// from h, whose events tell who recorded each meeting; identify as for
// participantOf.
func mentorOf(id uuid.UUID, rev uint64, p domain.Participant, h []domain.Recorded, user string, identify bool) mentorView {
	mine := map[uuid.UUID]bool{}
	for _, r := range h {
		if r.Event != nil && r.Event.EventType() == domain.TypeMeetingHeld && r.Meta.Actor.UserID == user {
			mine[r.ID] = true
		}
	}
	// participantOf decides what identify shows; of its view only the
	// name and the meetings are taken.
	full := participantOf(id, rev, domain.Participant{Personal: p.Personal, Meetings: p.Meetings}, domain.Date{}, identify)
	v := mentorView{ID: id, Revision: rev, Name: full.Name, Erased: p.Erased, Redacted: !identify, Meetings: []meetingView{}}
	if identify && p.Personal != nil {
		v.Phone = p.Personal.Phone
	}
	for _, m := range full.Meetings {
		if mine[m.EventID] {
			v.Meetings = append(v.Meetings, m)
		}
	}
	return v
}

// participantView is a participant's current state as the API shows it.
type participantView struct {
	ID                uuid.UUID        `json:"id"`
	Revision          uint64           `json:"revision"`
	Status            domain.Status    `json:"status"`
	Phase             domain.Phase     `json:"phase"`
	AddressProtection bool             `json:"address_protection"`
	Name              string           `json:"name,omitempty"`
	Personal          any              `json:"personal,omitempty"`
	Erased            bool             `json:"erased"`
	Episodes          []episodeView    `json:"episodes"`
	Team              []teamMemberView `json:"team"`
	Consents          []consentView    `json:"consents"`
	Goals             []goalView       `json:"goals"`
	Meetings          []meetingView    `json:"meetings"`
	Scores            []scoreView      `json:"scores"`
	EmployerContacts  []contactView    `json:"employer_contacts"`
	Placements        []placementView  `json:"placements"`
	IncomeSources     []incomeView     `json:"income_sources"`
	Pauses            []pauseView      `json:"pauses"`
	DaysInProgramme   int              `json:"days_in_programme"`
	OpenPlacementIDs  []uuid.UUID      `json:"open_placement_ids"`
	// Flags are the caseload's flags of the participant today; absent in
	// a view as known at a point of the log.
	Flags    []caseload.Flag `json:"flags,omitzero"`
	Redacted bool            `json:"redacted"`
	// Position is the global log position of the last event folded.
	Position uint64 `json:"position"`
	// KnownAt echoes the point of the log asked for; absent for now.
	KnownAt string `json:"known_at,omitempty"`
}

// showsPersonal reports whether the view holds any personal section.
func (v participantView) showsPersonal() bool {
	if v.Personal != nil {
		return true
	}
	for _, ep := range v.Episodes {
		if ep.Exit != nil && ep.Exit.Personal != nil {
			return true
		}
	}
	for _, g := range v.Goals {
		if g.Personal != nil {
			return true
		}
	}
	for _, m := range v.Meetings {
		if m.Personal != nil {
			return true
		}
	}
	for _, c := range v.EmployerContacts {
		if c.Personal != nil {
			return true
		}
	}
	for _, p := range v.Placements {
		if p.Personal != nil {
			return true
		}
	}
	for _, p := range v.Pauses {
		if p.Personal != nil {
			return true
		}
	}
	return false
}

type episodeView struct {
	Number         int                   `json:"number"`
	EnrolmentID    uuid.UUID             `json:"enrolment_id"`
	Programme      string                `json:"programme"`
	Office         string                `json:"office"`
	EnrolledOn     domain.Date           `json:"enrolled_on"`
	ReferralSource domain.ReferralSource `json:"referral_source"`
	Profile        domain.Profile        `json:"profile"`
	Exit           *exitView             `json:"exit,omitempty"`
}

type exitView struct {
	EventID     uuid.UUID          `json:"event_id"`
	Date        domain.Date        `json:"date"`
	Reason      domain.ExitReason  `json:"reason"`
	Destination domain.Destination `json:"destination"`
	Personal    any                `json:"personal,omitempty"`
}

type teamMemberView struct {
	UserID string                `json:"user_id"`
	Role   domain.CaseworkerRole `json:"role"`
}

type consentView struct {
	Scope       domain.ConsentScope `json:"scope"`
	InForce     bool                `json:"in_force"`
	GivenOn     domain.Date         `json:"given_on,omitzero"`
	WithdrawnOn domain.Date         `json:"withdrawn_on,omitzero"`
}

type goalView struct {
	ID         uuid.UUID          `json:"id"`
	ParentID   uuid.UUID          `json:"parent_id,omitzero"`
	EventID    uuid.UUID          `json:"event_id"`
	Episode    int                `json:"episode"`
	Area       domain.GoalArea    `json:"area"`
	SetOn      domain.Date        `json:"set_on"`
	TargetDate domain.Date        `json:"target_date,omitzero"`
	Outcome    domain.GoalOutcome `json:"outcome,omitempty"`
	ClosedOn   domain.Date        `json:"closed_on,omitzero"`
	Personal   any                `json:"personal,omitempty"`
}

type meetingView struct {
	EventID       uuid.UUID          `json:"event_id"`
	Episode       int                `json:"episode"`
	Date          domain.Date        `json:"date"`
	Kind          domain.MeetingKind `json:"kind"`
	NextMeetingOn domain.Date        `json:"next_meeting_on,omitzero"`
	Personal      any                `json:"personal,omitempty"`
}

type scoreView struct {
	EventID           uuid.UUID        `json:"event_id"`
	Episode           int              `json:"episode"`
	Date              domain.Date      `json:"date"`
	Timepoint         domain.Timepoint `json:"timepoint"`
	Instrument        string           `json:"instrument"`
	InstrumentVersion int              `json:"instrument_version"`
	Scores            domain.Scores    `json:"scores"`
}

type contactView struct {
	EventID    uuid.UUID             `json:"event_id"`
	Episode    int                   `json:"episode"`
	EmployerID uuid.UUID             `json:"employer_id"`
	Date       domain.Date           `json:"date"`
	Purpose    domain.ContactPurpose `json:"purpose"`
	Personal   any                   `json:"personal,omitempty"`
}

type placementView struct {
	ID              uuid.UUID                 `json:"id"`
	EventID         uuid.UUID                 `json:"event_id"`
	Episode         int                       `json:"episode"`
	Kind            domain.PlacementKind      `json:"kind"`
	EmployerID      uuid.UUID                 `json:"employer_id,omitzero"`
	StartedOn       domain.Date               `json:"started_on"`
	HoursPercentage int                       `json:"hours_percentage"`
	Contract        domain.Contract           `json:"contract,omitempty"`
	ChangedOn       domain.Date               `json:"changed_on,omitzero"`
	PlannedEnd      domain.Date               `json:"planned_end,omitzero"`
	EndedOn         domain.Date               `json:"ended_on,omitzero"`
	EndReason       domain.PlacementEndReason `json:"end_reason,omitempty"`
	Personal        any                       `json:"personal,omitempty"`
}

type incomeView struct {
	Episode int                 `json:"episode"`
	From    domain.Date         `json:"from"`
	Source  domain.IncomeSource `json:"source"`
}

type pauseView struct {
	Episode  int                `json:"episode"`
	From     domain.Date        `json:"from"`
	To       domain.Date        `json:"to,omitzero"`
	Reason   domain.PauseReason `json:"reason"`
	Personal any                `json:"personal,omitempty"`
}

// participantOf builds the view; identify false leaves out every personal
// section and shows the neutral label instead of the name.
func participantOf(id uuid.UUID, rev uint64, p domain.Participant, today domain.Date, identify bool) participantView {
	// personal shows a personal section only to whom may see it; a typed
	// nil pointer must become an untyped nil for omitempty to drop it.
	personal := func(v any, isNil bool) any {
		if !identify || isNil {
			return nil
		}
		return v
	}
	v := participantView{
		ID: id, Revision: rev, Status: p.Status(), Phase: p.Phase(),
		AddressProtection: p.AddressProtection, Erased: p.Erased, Redacted: !identify,
		Episodes: []episodeView{}, Team: []teamMemberView{}, Consents: []consentView{}, Goals: []goalView{},
		Meetings: []meetingView{}, Scores: []scoreView{}, EmployerContacts: []contactView{},
		Placements: []placementView{}, IncomeSources: []incomeView{}, Pauses: []pauseView{},
		OpenPlacementIDs: []uuid.UUID{},
	}
	switch {
	case !identify:
		v.Name = ProtectedLabel
	case p.Personal != nil:
		v.Name = p.Personal.Name
		v.Personal = p.Personal
	}
	for _, ep := range p.Episodes {
		ev := episodeView{Number: ep.Number, EnrolmentID: ep.EnrolmentID, Programme: ep.Programme, Office: ep.Office,
			EnrolledOn: ep.EnrolledOn, ReferralSource: ep.ReferralSource, Profile: ep.Profile}
		if ep.Exit != nil {
			ev.Exit = &exitView{EventID: ep.Exit.EventID, Date: ep.Exit.Date, Reason: ep.Exit.Reason,
				Destination: ep.Exit.Destination, Personal: personal(ep.Exit.Personal, ep.Exit.Personal == nil)}
		}
		v.Episodes = append(v.Episodes, ev)
	}
	if ep, ok := p.OpenEpisode(); ok {
		v.DaysInProgramme = today.DaysSince(ep.EnrolledOn)
	}
	users := make([]string, 0, len(p.Team))
	for u := range p.Team {
		users = append(users, u)
	}
	slices.Sort(users)
	for _, u := range users {
		v.Team = append(v.Team, teamMemberView{UserID: u, Role: p.Team[u]})
	}
	scopes := make([]domain.ConsentScope, 0, len(p.Consents))
	for s := range p.Consents {
		scopes = append(scopes, s)
	}
	slices.Sort(scopes)
	for _, s := range scopes {
		c := p.Consents[s]
		v.Consents = append(v.Consents, consentView{Scope: s, InForce: c.InForce, GivenOn: c.GivenOn, WithdrawnOn: c.WithdrawnOn})
	}
	for _, g := range p.Goals {
		v.Goals = append(v.Goals, goalView{ID: g.ID, ParentID: g.ParentID, EventID: g.EventID, Episode: g.Episode,
			Area: g.Area, SetOn: g.SetOn, TargetDate: g.TargetDate, Outcome: g.Outcome, ClosedOn: g.ClosedOn,
			Personal: personal(g.Personal, g.Personal == nil)})
	}
	for _, m := range p.Meetings {
		v.Meetings = append(v.Meetings, meetingView{EventID: m.EventID, Episode: m.Episode, Date: m.Date, Kind: m.Kind,
			NextMeetingOn: m.NextMeetingOn, Personal: personal(m.Personal, m.Personal == nil)})
	}
	for _, s := range p.Scores {
		v.Scores = append(v.Scores, scoreView{EventID: s.EventID, Episode: s.Episode, Date: s.Date, Timepoint: s.Timepoint,
			Instrument: s.Instrument, InstrumentVersion: s.InstrumentVersion, Scores: s.Scores})
	}
	for _, c := range p.Contacts {
		v.EmployerContacts = append(v.EmployerContacts, contactView{EventID: c.EventID, Episode: c.Episode,
			EmployerID: c.EmployerID, Date: c.Date, Purpose: c.Purpose, Personal: personal(c.Personal, c.Personal == nil)})
	}
	for _, pl := range p.Placements {
		v.Placements = append(v.Placements, placementView{ID: pl.ID, EventID: pl.EventID, Episode: pl.Episode, Kind: pl.Kind,
			EmployerID: pl.EmployerID, StartedOn: pl.StartedOn, HoursPercentage: pl.HoursPercentage, Contract: pl.Contract,
			ChangedOn: pl.ChangedOn, PlannedEnd: pl.PlannedEnd, EndedOn: pl.EndedOn, EndReason: pl.EndReason, Personal: personal(pl.Personal, pl.Personal == nil)})
		if pl.Open() {
			v.OpenPlacementIDs = append(v.OpenPlacementIDs, pl.ID)
		}
	}
	for _, in := range p.IncomeSources {
		v.IncomeSources = append(v.IncomeSources, incomeView{Episode: in.Episode, From: in.From, Source: in.Source})
	}
	for _, pa := range p.Pauses {
		v.Pauses = append(v.Pauses, pauseView{Episode: pa.Episode, From: pa.From, To: pa.To, Reason: pa.Reason,
			Personal: personal(pa.Personal, pa.Personal == nil)})
	}
	return v
}

func (c *caseworkRoutes) getEmployer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	h, rev, err := c.svc.Load(r.Context(), domain.EmployerStream(id))
	if errors.Is(err, casework.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	e := domain.FoldEmployer(h)
	if !e.Registered {
		return ErrNotFound
	}
	w.Header().Set("ETag", strconv.Quote(strconv.FormatUint(rev, 10)))
	c.api.JSON(w, r, http.StatusOK, struct {
		ID                 uuid.UUID                `json:"id"`
		Revision           uint64                   `json:"revision"`
		OrganisationNumber string                   `json:"organisation_number"`
		Name               string                   `json:"name"`
		IndustryCode       string                   `json:"industry_code"`
		Municipality       string                   `json:"municipality"`
		Personal           *domain.EmployerPersonal `json:"personal,omitempty"`
	}{id, rev, e.OrganisationNumber, e.Name, e.IndustryCode, e.Municipality, e.Personal})
	return nil
}

func (c *caseworkRoutes) getProgramme(w http.ResponseWriter, r *http.Request) error {
	slug := Var(r, "slug")
	if !domain.ValidSlug(slug) {
		return ErrNotFound
	}
	h, rev, err := c.svc.Load(r.Context(), domain.ProgrammeStream(slug))
	if errors.Is(err, casework.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	p := domain.FoldProgramme(h)
	if !p.Defined {
		return ErrNotFound
	}
	w.Header().Set("ETag", strconv.Quote(strconv.FormatUint(rev, 10)))
	c.api.JSON(w, r, http.StatusOK, struct {
		Slug     string          `json:"slug"`
		Revision uint64          `json:"revision"`
		Name     string          `json:"name"`
		Targets  []domain.Target `json:"targets"`
		Version  int             `json:"version"`
	}{p.Slug, rev, p.Name, p.Targets, p.Version})
	return nil
}
