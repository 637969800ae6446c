// Package audit is the auditors' side of caseledger: the access log (every
// look at a participant's data, history or the log itself, recorded before
// anything is shown), its queries and its export as ArcSight Common Event
// Format lines, and the replay of a participant's history as it was known
// at any point of the log.
//
// Access records are domain.AccessRecorded events in the same event store
// as the casework, one stream per business day (domain.AccessLogStream),
// written through the command handler so that they are stamped, and
// chained, like every other event.
//
//	log := audit.New(svc)
//	err := log.Record(ctx, audit.Access{Reader: actor, CorrelationID: id, Record: domain.AccessRecorded{…}})
//	if err != nil {
//		return err // show nothing: there are no unlogged looks
//	}
package audit

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
)

// ErrNotRecorded is why a look must not happen: its access record could not
// be appended. Callers answer "unavailable" and show nothing.
var ErrNotRecorded = errors.New("access could not be recorded")

// Log writes access records and answers queries about them. It is safe for
// concurrent use; one Log should serve a process, since it takes its
// appends one at a time (see Record).
type Log struct {
	svc *casework.Service
	// turn holds a token while an append is under way. Every record of a
	// day goes to the same stream at the revision the command handler read,
	// so concurrent appends from one process would only conflict and retry;
	// taking turns makes each append succeed at the first attempt (other
	// processes writing to the same store are still resolved by the
	// command handler's retries).
	turn chan struct{}
}

// New returns a Log that writes and reads through svc, whose clock decides
// the day stream a record goes to.
func New(svc *casework.Service) *Log {
	return &Log{svc: svc, turn: make(chan struct{}, 1)}
}

// Access is one look to record.
type Access struct {
	// Reader is who looked, in which role, for which office.
	Reader domain.Actor
	// CorrelationID ties the record to the request's log lines; a new one
	// is made when it is nil.
	CorrelationID uuid.UUID
	Record        domain.AccessRecorded
}

// Record appends the access record and returns once it is durable. An
// error that matches ErrNotRecorded means the store did not take it; any
// other error is a record that is not well formed (a programming error).
// Either way the caller must not show what was asked for.
func (l *Log) Record(ctx context.Context, a Access) error {
	return l.RecordAll(ctx, a.Reader, a.CorrelationID, []domain.AccessRecorded{a.Record})
}

// RecordAll records one reader's look at several participants at once (the
// rows of a list page) in a single append, so that a list costs one
// durable write however many rows it shows. It fails, and the caller must
// show nothing, exactly as Record does.
func (l *Log) RecordAll(ctx context.Context, reader domain.Actor, correlationID uuid.UUID, records []domain.AccessRecorded) error {
	if len(records) == 0 {
		return nil
	}
	view := records[0].View
	events := make([]domain.Event, 0, len(records))
	for _, rec := range records {
		evs, err := domain.RecordAccess(rec)
		if err != nil {
			return fmt.Errorf("record %s access: malformed record: %v", rec.View, err)
		}
		events = append(events, evs...)
	}
	if correlationID == uuid.Nil {
		correlationID = uuid.New()
	}
	select {
	case l.turn <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("record %s access: %w: %w", view, ErrNotRecorded, ctx.Err())
	}
	defer func() { <-l.turn }()
	stream := domain.AccessLogStream(l.svc.Today())
	_, err := l.svc.Execute(ctx, stream, casework.Request{Actor: reader, CorrelationID: correlationID},
		func([]domain.Recorded, domain.Date) ([]domain.Event, error) { return events, nil })
	if err != nil {
		return fmt.Errorf("record %s access: %w: %w", view, ErrNotRecorded, err)
	}
	return nil
}
