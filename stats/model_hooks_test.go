package stats

import (
	"context"
	"slices"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/projections"
)

// FoldDisagreements lists the participant streams whose records, as m
// folded them event by event (and again after each correction or void),
// differ from the record of domain.FoldParticipant over the stream as
// streams holds it up to m's position: the test that Model's two folds
// agree.
func (m *Model) FoldDisagreements(ctx context.Context, streams StreamReader) ([]string, error) {
	m.mu.Lock() // recordOf may add texts
	defer m.mu.Unlock()
	var out []string
	for i, id := range m.ids {
		stream := domain.ParticipantStream(id)
		evs, err := streams.ReadStream(ctx, stream, eventstore.ReadStreamOptions{})
		if err != nil {
			return nil, err
		}
		h := make([]domain.Recorded, 0, len(evs))
		for _, ev := range evs {
			if ev.Position > m.position {
				break
			}
			r, err := projections.DecodePublic(ev)
			if err != nil {
				return nil, err
			}
			h = append(h, r)
		}
		want := m.recordOf(domain.FoldParticipant(h))
		if !slices.Equal(want[headerWords:], m.records[i][headerWords:]) || m.records[i].events() != len(h) {
			out = append(out, stream)
		}
	}
	return out, nil
}

// ScanInRuns has reports read the records in runs of run records, in up to
// scanners goroutines, so that a small population is read in several.
func (m *Model) ScanInRuns(run, scanners int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.scanRun, m.scanners = run, scanners
}
