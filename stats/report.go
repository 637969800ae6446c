package stats

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/domain"
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
	switch {
	case c.Programme != "" && e.Programme != c.Programme,
		c.Office != "" && e.Office != c.Office,
		!c.EnrolledFrom.IsZero() && e.EnrolledOn.Before(c.EnrolledFrom),
		!c.EnrolledTo.IsZero() && e.EnrolledOn.After(c.EnrolledTo),
		c.Gender != "" && e.Profile.Gender != c.Gender,
		c.RegionOfBirth != "" && e.Profile.RegionOfBirth != c.RegionOfBirth,
		c.IncomeSource != "" && e.Profile.IncomeSource != c.IncomeSource:
		return false
	}
	return true
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

// Compute reads the log up to req.KnownAt and computes the report.
func Compute(ctx context.Context, store LogReader, req Request) (Report, error) {
	if req.AsOf.IsZero() {
		return Report{}, fmt.Errorf("%w: as_of is required", ErrInvalidRequest)
	}
	if req.K == 0 {
		req.K = DefaultK
	}
	if req.K < 1 {
		return Report{}, fmt.Errorf("%w: k must be at least 1", ErrInvalidRequest)
	}
	log, err := ReadLog(ctx, store, req.KnownAt)
	if err != nil {
		return Report{}, err
	}
	return FromLog(log, req), nil
}

// FromLog computes the report of req on what was read of the log.
func FromLog(log Log, req Request) Report {
	if req.K == 0 {
		req.K = DefaultK
	}
	var (
		cohort []Episode
		used   []domain.Recorded
	)
	for _, e := range log.Episodes(req.AsOf) {
		if req.Cohort.Includes(e) {
			cohort = append(cohort, e)
		}
	}
	streams := map[string]bool{}
	for _, e := range cohort {
		streams[e.Stream] = true
	}
	for s := range streams {
		used = append(used, log.Participants[s]...)
	}
	var targets []domain.Target
	ids := make([]idAt, 0, len(used)+1)
	for _, r := range used {
		ids = append(ids, idAt{r.Position, r.ID})
	}
	if def, ok := log.Programmes[req.Cohort.Programme]; ok && req.Cohort.Programme != "" {
		targets = def.Targets
		ids = append(ids, idAt{0, def.EventID})
	}
	slices.SortFunc(ids, func(a, b idAt) int {
		if a.pos != b.pos {
			return cmpU64(a.pos, b.pos)
		}
		return slices.Compare(a.id[:], b.id[:])
	})
	plain := make([]uuid.UUID, len(ids))
	for i, x := range ids {
		plain[i] = x.id
	}
	return Report{
		DefinitionsVersion: DefinitionsVersion,
		Cohort:             req.Cohort,
		AsOf:               req.AsOf,
		KnownAt:            req.KnownAt.String(),
		LogPosition:        log.Position,
		EventsRead:         log.EventsRead,
		EventsUsed:         len(plain),
		EventsDigest:       digestIDs(plain),
		K:                  req.K,
		Measures:           Measure(cohort, req.AsOf, targets, req.K),
	}
}

type idAt struct {
	pos uint64
	id  uuid.UUID
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
