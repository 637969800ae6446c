package projections

import (
	"context"
	"fmt"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
)

// StreamReader reads one stream; eventstore.Store is one.
type StreamReader interface {
	ReadStream(ctx context.Context, stream string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error)
}

// DecodePublic decodes a participant event as the store holds it, without
// its personal member (domain.DecodePublicEvent): read models never hold
// personal data, so they never need the member's key, and an erased
// participant's events decode the same as before the erasure.
func DecodePublic(ev eventstore.RecordedEvent) (domain.Recorded, error) {
	de, err := domain.DecodePublicEvent(ev.Type, ev.Data)
	if err != nil {
		return domain.Recorded{}, fmt.Errorf("event %s in %s: %w", ev.ID, ev.Stream, err)
	}
	return domain.Recorded{ID: ev.ID, Stream: ev.Stream, Revision: ev.Revision, Position: ev.Position, Event: de}, nil
}

// PublicHistory reads the stream of ev up to and including ev, decoded by
// DecodePublic. A read model whose state of a participant a correction or
// void changes folds it again from this with domain.FoldParticipant, the
// fold every other reader uses.
func PublicHistory(ctx context.Context, streams StreamReader, ev eventstore.RecordedEvent) ([]domain.Recorded, error) {
	evs, err := streams.ReadStream(ctx, ev.Stream, eventstore.ReadStreamOptions{Limit: int(ev.Revision) + 1})
	if err != nil {
		return nil, fmt.Errorf("read %s up to %s: %w", ev.Stream, ev.ID, err)
	}
	if len(evs) == 0 || evs[len(evs)-1].ID != ev.ID {
		return nil, fmt.Errorf("read %s up to %s: the stream does not hold the event at revision %d", ev.Stream, ev.ID, ev.Revision)
	}
	h := make([]domain.Recorded, 0, len(evs))
	for _, e := range evs {
		r, err := DecodePublic(e)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", ev.Stream, err)
		}
		h = append(h, r)
	}
	return h, nil
}
