package stats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/caseledger/caseledger/eventstore"
)

// Waiter waits until the read models reflect a log position;
// *projections.Runner is one.
type Waiter interface {
	WaitFor(ctx context.Context, position uint64) error
}

// Reports answers report requests from the read model when it can, and
// recomputes them from the log otherwise. Both give the same bytes for the
// same request at the same log position.
type Reports struct {
	Log LogReader
	// Model is the running read model; nil recomputes every report.
	Model *Model
	// Waiter is what Model is run by, and Wait bounds how long a report
	// waits for Model to reach the head of the log (0: it does not wait,
	// and Model answers only when it is there already).
	Waiter Waiter
	Wait   time.Duration
	// Logger learns when a report the model should answer is recomputed;
	// nil discards that.
	Logger *slog.Logger
}

// errNotThere: the model did not reach the position a report needs in time.
var errNotThere = errors.New("statistics: the read model has not reached the head of the log")

// Compute answers req. A request without known_at, or with a log position
// the model has not passed, is answered by the model once it has reached
// the head of the log (or the position, if that comes first): the
// caller's own writes are in it. A known_at before the model's position,
// or a time, is recomputed from the log, as is a request the model cannot
// answer in time (catching up after a start, or stopped at an event it
// cannot apply).
func (s Reports) Compute(ctx context.Context, req Request) (Report, error) {
	req, err := req.checked()
	if err != nil {
		return Report{}, err
	}
	if err := knownAtInLog(ctx, s.Log, req.KnownAt); err != nil {
		return Report{}, err
	}
	if s.Model != nil && req.KnownAt.Time.IsZero() {
		r, err := s.fromModel(ctx, req)
		switch {
		case err == nil:
			return r, nil
		case errors.Is(err, errNotThere):
			if s.Logger != nil {
				s.Logger.WarnContext(ctx, "statistics: recomputing a report from the log, the read model is behind", "error", err.Error())
			}
		case !errors.Is(err, ErrPastKnownAt):
			return Report{}, err
		}
	}
	return compute(ctx, s.Log, req)
}

// fromModel answers req from the model, or says why it cannot.
func (s Reports) fromModel(ctx context.Context, req Request) (Report, error) {
	if p := req.KnownAt.Position; p != 0 && p < s.Model.Position() {
		return Report{}, ErrPastKnownAt
	}
	head, err := s.Log.ReadAll(ctx, eventstore.ReadAllOptions{Backwards: true, From: eventstore.End, Limit: 1})
	if err != nil {
		return Report{}, fmt.Errorf("statistics: read the head of the log: %w", err)
	}
	var target uint64
	if len(head) > 0 {
		target = head[0].Position
	}
	if p := req.KnownAt.Position; p != 0 && p < target {
		target = p
	}
	if s.Waiter != nil && s.Wait > 0 && s.Model.Position() < target {
		wctx, cancel := context.WithTimeout(ctx, s.Wait)
		defer cancel()
		if err := s.Waiter.WaitFor(wctx, target); err != nil {
			if ctx.Err() != nil {
				return Report{}, ctx.Err()
			}
			return Report{}, fmt.Errorf("%w: %w", errNotThere, err)
		}
	}
	if at := s.Model.Position(); at < target {
		return Report{}, fmt.Errorf("%w: it is at %d, the report needs %d", errNotThere, at, target)
	}
	return s.Model.Report(req)
}
