package api

import (
	"net/http"

	"github.com/caseledger/caseledger/api/identity"
	"github.com/caseledger/caseledger/domain"
)

// The access policy (shared/design/access.md) in one place. Every route
// registered with HandleAction names an Action; the API decides it with
// Decide in two steps that use the same rules:
//
//  1. before the handler runs, on the caller alone (authorise): may the
//     role ever do this? must it state a purpose?
//  2. for an action on one participant, once the handler has loaded them
//     (caseworkRoutes.authorize): is the participant within the caller's
//     scope (office, assignment), and what may be shown (personal data,
//     the neutral label of address protection, a volunteer's view)?
//
// A denial is answered 403 when the role may never do the action and 404
// when the participant is outside the caller's scope, exactly as for one
// that does not exist; every denial is recorded in the access log with
// its reason before it is answered.

// Action is what a route does, in the terms of the access table.
type Action string

// Actions.
const (
	// ActReadIdentity: who the token says the caller is (GET /v1/me).
	ActReadIdentity Action = "read_identity"
	// ActEnrol: enrol a new participant, in the caller's own office.
	ActEnrol Action = "enrol"
	// ActWriteCasework: any command on a participant's record except a
	// meeting, an assignment and an erasure.
	ActWriteCasework Action = "write_casework"
	// ActRecordMeeting: record a meeting; volunteers may, for the
	// participants they mentor.
	ActRecordMeeting Action = "record_meeting"
	// ActAssign: (re)assign a participant's team: team leads only.
	ActAssign Action = "assign"
	// ActReadParticipant: a participant's state.
	ActReadParticipant Action = "read_participant"
	// ActReadHistory: a participant's events with their metadata.
	ActReadHistory Action = "read_history"
	// ActErase: erase a participant's personal data.
	ActErase Action = "erase_personal_data"
	// ActManageConfiguration: define programmes, register and update
	// employers.
	ActManageConfiguration Action = "manage_configuration"
	// ActReadEmployer: an employer's record.
	ActReadEmployer Action = "read_employer"
	// ActReadProgramme: a programme's definition; nothing about a person.
	ActReadProgramme Action = "read_programme"
	// ActReadAccessLog: query the access log.
	ActReadAccessLog Action = "read_access_log"
	// ActReadCaseload: the caller's office's caseload list.
	ActReadCaseload Action = "read_caseload"
	// ActReadStatistics: disclosure-controlled (suppressed) statistics.
	ActReadStatistics Action = "read_statistics"
	// ActExport: the pseudonymised export.
	ActExport Action = "export"
)

// scope is how far a role's permission of an action reaches.
type scope int

const (
	// anyone: the action concerns no participant, or any participant.
	anyone scope = iota + 1
	// ownOffice: participants whose current episode is in the caller's
	// office.
	ownOffice
	// mentored: participants of the caller's office in whose team the
	// caller is a volunteer mentor.
	mentored
)

// rule is one action's row of the access table.
type rule struct {
	// participant: the action concerns the one participant of the
	// route's {id}, which the handler loads and decides on (step 2).
	participant bool
	// view is what a denial is recorded as in the access log.
	view domain.AccessView
	// roles are the roles that may do the action, and how far.
	roles map[identity.Role]scope
}

var (
	caseworkers = map[identity.Role]scope{identity.Caseworker: ownOffice, identity.TeamLead: ownOffice}
	adminsOnly  = map[identity.Role]scope{identity.Admin: anyone}
)

// rules is the access table: what each role may do. A role not named
// for an action is refused it (403).
var rules = map[Action]rule{
	ActReadIdentity: {view: domain.ViewConfiguration, roles: map[identity.Role]scope{
		identity.Caseworker: anyone, identity.TeamLead: anyone, identity.Auditor: anyone,
		identity.Evaluator: anyone, identity.Volunteer: anyone, identity.Admin: anyone}},
	ActEnrol:         {view: domain.ViewCasework, roles: caseworkers},
	ActWriteCasework: {participant: true, view: domain.ViewCasework, roles: caseworkers},
	ActRecordMeeting: {participant: true, view: domain.ViewCasework, roles: map[identity.Role]scope{
		identity.Caseworker: ownOffice, identity.TeamLead: ownOffice, identity.Volunteer: mentored}},
	ActAssign: {participant: true, view: domain.ViewCasework, roles: map[identity.Role]scope{identity.TeamLead: ownOffice}},
	ActReadParticipant: {participant: true, view: domain.ViewParticipant, roles: map[identity.Role]scope{
		identity.Caseworker: ownOffice, identity.TeamLead: ownOffice, identity.Auditor: anyone, identity.Volunteer: mentored}},
	ActReadHistory: {participant: true, view: domain.ViewHistory, roles: map[identity.Role]scope{
		identity.Caseworker: ownOffice, identity.TeamLead: ownOffice, identity.Auditor: anyone}},
	// Admins manage the installation, erasure included, without reading
	// personal data; auditors erase stating why.
	ActErase: {participant: true, view: domain.ViewCasework, roles: map[identity.Role]scope{
		identity.Admin: anyone, identity.Auditor: anyone}},
	ActManageConfiguration: {view: domain.ViewConfiguration, roles: adminsOnly},
	// Caseworkers pick employers for contacts and placements.
	ActReadEmployer: {view: domain.ViewConfiguration, roles: map[identity.Role]scope{
		identity.Caseworker: anyone, identity.TeamLead: anyone, identity.Auditor: anyone, identity.Admin: anyone}},
	ActReadProgramme: {view: domain.ViewConfiguration, roles: map[identity.Role]scope{
		identity.Caseworker: anyone, identity.TeamLead: anyone, identity.Auditor: anyone,
		identity.Evaluator: anyone, identity.Volunteer: anyone, identity.Admin: anyone}},
	ActReadAccessLog: {view: domain.ViewAccessLog, roles: map[identity.Role]scope{identity.Auditor: anyone}},
	// A list of the office's participants, scoped to the caller's office
	// by the route itself.
	ActReadCaseload: {view: domain.ViewParticipant, roles: map[identity.Role]scope{
		identity.Caseworker: ownOffice, identity.TeamLead: ownOffice}},
	// Statistics are suppressed whoever reads them; caseworkers and team
	// leads read their office's, evaluators any cohort's.
	ActReadStatistics: {view: domain.ViewConfiguration, roles: map[identity.Role]scope{
		identity.Caseworker: ownOffice, identity.TeamLead: ownOffice, identity.Evaluator: anyone}},
	// Row-level data leave the system: evaluators only, every export
	// recorded (api/export.go).
	ActExport: {view: domain.ViewExport, roles: map[identity.Role]scope{identity.Evaluator: anyone}},
}

// Actions lists every action of the access table.
func Actions() []Action {
	return []Action{ActReadIdentity, ActEnrol, ActWriteCasework, ActRecordMeeting, ActAssign, ActReadParticipant,
		ActReadHistory, ActErase, ActManageConfiguration, ActReadEmployer, ActReadProgramme, ActReadAccessLog,
		ActReadCaseload, ActReadStatistics, ActExport}
}

// ConcernsParticipant reports whether the action is on the one participant
// the route names.
func (a Action) ConcernsParticipant() bool { return rules[a].participant }

// Subject is what the policy needs to know of a participant.
type Subject struct {
	// Known: the log holds an enrolment of the participant.
	Known bool
	// Office is the office of the current episode.
	Office            string
	Team              map[string]domain.CaseworkerRole
	AddressProtection bool
}

// SubjectOf is the policy's view of a participant's state.
func SubjectOf(p domain.Participant) Subject {
	ep, ok := p.CurrentEpisode()
	return Subject{Known: ok, Office: ep.Office, Team: p.Team, AddressProtection: p.AddressProtection}
}

// Decision is the policy's answer.
type Decision struct {
	Permit bool
	// Reason and Status (403 or 404) are set for a denial.
	Reason domain.DenyReason
	Status int
	// PurposeRequired: the caller must state a purpose (auditors, always).
	PurposeRequired bool
	// Identify: the caller may see who the participant is, their personal
	// data and what was written about them; otherwise the neutral label.
	Identify bool
	// Mentor: the caller gets a volunteer's view (name, phone, their own
	// meetings), never the whole record.
	Mentor bool
}

// err is the error a denial is answered with. A participant outside the
// caller's scope is answered exactly as one that does not exist.
func (d Decision) err() error {
	if d.Status == http.StatusNotFound {
		return ErrNotFound
	}
	return ErrForbidden
}

func deny(reason domain.DenyReason, status int) Decision {
	return Decision{Reason: reason, Status: status}
}

// Decide decides whether caller may do act, on subj when the action
// concerns a participant (or, for an enrolment, the office it names), and
// what may be shown. Without a subject (nil) it decides the caller alone:
// step 1 above, whose denials are the role's; Decide with the subject
// repeats step 1, so a handler cannot skip it.
func Decide(caller identity.Identity, act Action, subj *Subject) Decision {
	ru, ok := rules[act]
	sc, permitted := ru.roles[caller.Role]
	if !ok || !permitted {
		return deny(domain.DenyRole, http.StatusForbidden)
	}
	d := Decision{Permit: true, PurposeRequired: caller.Role == identity.Auditor && act != ActReadIdentity}
	if subj == nil {
		return d
	}
	switch {
	case !subj.Known:
		return deny(domain.DenyUnknownParticipant, http.StatusNotFound)
	case sc != anyone && subj.Office != caller.Office:
		return deny(domain.DenyOtherOffice, http.StatusNotFound)
	case sc == mentored && subj.Team[caller.UserID] != domain.RoleVolunteerMentor:
		return deny(domain.DenyNotAssigned, http.StatusNotFound)
	}
	d.Mentor = sc == mentored
	d.Identify = mayIdentify(caller, *subj)
	return d
}

// mayIdentify says whether the caller may see who a participant is and
// what was written about them: always, unless the participant is under
// strengthened address protection, which only auditors and the
// caseworkers and team leads assigned to them see through. A volunteer
// mentor is not a caseworker: under protection they see the label.
func mayIdentify(caller identity.Identity, subj Subject) bool {
	if !subj.AddressProtection || caller.Role == identity.Auditor {
		return true
	}
	if caller.Role != identity.Caseworker && caller.Role != identity.TeamLead {
		return false
	}
	_, assigned := subj.Team[caller.UserID]
	return assigned
}

// Scopes describes the action's row of the access table, for the
// documentation: each role that may do it, and how far ("any", "own
// office", "assigned to them").
func (a Action) Scopes() map[identity.Role]string {
	out := map[identity.Role]string{}
	for role, sc := range rules[a].roles {
		switch sc {
		case anyone:
			out[role] = "any"
		case ownOffice:
			out[role] = "own office"
		case mentored:
			out[role] = "assigned to them"
		}
	}
	return out
}
