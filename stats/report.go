package stats

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
)

// DefinitionsVersion is the version of measures.md this package computes.
const DefinitionsVersion = "v1"

// Cohort filters episodes. Empty members do not filter; the enrolment date
// range includes both ends.
type Cohort struct {
	Programme     string               `json:"programme,omitempty"`
	Office        string               `json:"office,omitempty"`
	EnrolledFrom  domain.Date          `json:"enrolled_from,omitzero"`
	EnrolledTo    domain.Date          `json:"enrolled_to,omitzero"`
	Gender        domain.Gender        `json:"gender,omitempty"`
	RegionOfBirth domain.RegionOfBirth `json:"region_of_birth,omitempty"`
	IncomeSource  domain.IncomeSource  `json:"income_source,omitempty"` // at intake
}

// Includes reports whether e is in the cohort.
func (c Cohort) Includes(e Episode) bool {
	return c.filter().includes(e.Programme, e.Office, dayOf(e.EnrolledOn), e.Profile.Gender, e.Profile.RegionOfBirth, e.Profile.IncomeSource)
}

// Request is what a report is computed for.
type Request struct {
	Cohort Cohort
	// AsOf is the business date of the figures. Required.
	AsOf domain.Date
	// KnownAt is the knowledge cut-off; zero reads the whole log.
	KnownAt audit.KnownAt
	// K is the disclosure threshold; 0 means DefaultK.
	K int
}

// Report is a whole outcome report. Its JSON is deterministic: the same
// request on the same log gives the same bytes.
type Report struct {
	DefinitionsVersion string      `json:"definitions_version"`
	Cohort             Cohort      `json:"cohort"`
	AsOf               domain.Date `json:"as_of"`
	// KnownAt is the cut-off as requested ("" for the head of the log).
	KnownAt string `json:"known_at"`
	// LogPosition is the position of the last event read.
	LogPosition uint64 `json:"log_position"`
	// EventsRead counts the events of the log read up to the cut-off.
	EventsRead int `json:"events_read"`
	// EventsUsed counts the events that fed the report: every event of the
	// participant streams with an episode in the cohort, and the
	// definition of the cohort's programme; EventsDigest is the SHA-256 of
	// their ids in log order.
	EventsUsed   int      `json:"events_used"`
	EventsDigest string   `json:"events_digest"`
	K            int      `json:"k"`
	Measures     Measures `json:"measures"`
}

// ErrInvalidRequest marks a request that cannot be computed.
var ErrInvalidRequest = errors.New("invalid statistics request")

// checked is req with the default k, or an error matching
// ErrInvalidRequest.
func (req Request) checked() (Request, error) {
	if req.AsOf.IsZero() {
		return Request{}, fmt.Errorf("%w: as_of is required", ErrInvalidRequest)
	}
	if req.K == 0 {
		req.K = DefaultK
	}
	if req.K < 1 {
		return Request{}, fmt.Errorf("%w: k must be at least 1", ErrInvalidRequest)
	}
	return req, nil
}

// knownAtInLog refuses a known_at position past the head of the log: the
// report would name a point the log has not reached, and its figures would
// change once the log got there.
func knownAtInLog(ctx context.Context, store LogReader, known audit.KnownAt) error {
	if known.Position == 0 {
		return nil
	}
	head, err := store.ReadAll(ctx, eventstore.ReadAllOptions{Backwards: true, From: eventstore.End, Limit: 1})
	if err != nil {
		return fmt.Errorf("statistics: read the head of the log: %w", err)
	}
	var at uint64
	if len(head) > 0 {
		at = head[0].Position
	}
	if known.Position > at {
		return &ParamError{ParamKnownAt, "out_of_range", fmt.Sprintf("a log position no later than the head of the log, %d", at)}
	}
	return nil
}

// Compute reads the log up to req.KnownAt and computes the report. It
// folds what it reads into a read model of its own, as the running model
// folds the log (see Model), so that a recompute at a past known_at runs
// at the speed of a projection rebuild and holds the facts the measures
// need rather than the whole log.
func Compute(ctx context.Context, store LogReader, req Request) (Report, error) {
	req, err := req.checked()
	if err != nil {
		return Report{}, err
	}
	if err := knownAtInLog(ctx, store, req.KnownAt); err != nil {
		return Report{}, err
	}
	return compute(ctx, store, req)
}

// compute is Compute of a request already checked.
func compute(ctx context.Context, store LogReader, req Request) (Report, error) {
	m := NewModel(store)
	if err := m.replay(ctx, store, req.KnownAt); err != nil {
		return Report{}, err
	}
	unlock := m.readSorted()
	defer unlock()
	return m.report(req), nil
}

// FromLog computes the report of req on what was read of the log with
// FromLog, folding each participant stream with domain.FoldParticipant. It
// is the reference the read model is tested against.
func FromLog(log Log, req Request) Report {
	if req.K == 0 {
		req.K = DefaultK
	}
	var cohort []Episode
	for _, e := range log.Episodes(req.AsOf) {
		if req.Cohort.Includes(e) {
			cohort = append(cohort, e)
		}
	}
	var (
		targets []domain.Target
		used    usedDigest
	)
	if def, ok := log.Programmes[req.Cohort.Programme]; ok && req.Cohort.Programme != "" {
		targets = def.Targets
		used.addEvent(def.EventID)
	}
	for i, e := range cohort { // in stream-name order
		if i > 0 && cohort[i-1].Stream == e.Stream {
			continue
		}
		h := log.Participants[e.Stream]
		ids := make([]uuid.UUID, len(h))
		for j, r := range h {
			ids[j] = r.ID
		}
		used.addStream(chainOf(ids), len(ids))
	}
	return Report{
		DefinitionsVersion: DefinitionsVersion,
		Cohort:             req.Cohort,
		AsOf:               req.AsOf,
		KnownAt:            req.KnownAt.String(),
		LogPosition:        log.Position,
		EventsRead:         log.EventsRead,
		EventsUsed:         used.events,
		EventsDigest:       used.sum(),
		K:                  req.K,
		Measures:           Measure(cohort, req.AsOf, targets, req.K),
	}
}
