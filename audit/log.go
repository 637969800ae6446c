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
	"sync"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
)

// ErrNotRecorded is why a look must not happen: its access record could not
// be appended. Callers answer "unavailable" and show nothing.
var ErrNotRecorded = errors.New("access could not be recorded")

// MaxBatch bounds the access records one append carries. Looks that arrive
// while an append is under way wait for the next one, which takes as many
// of them as fit (a single RecordAll of more goes alone, never split).
const MaxBatch = 512

// Log writes access records and answers queries about them. It is safe for
// concurrent use; one Log should serve a process, since it group-commits
// the records of concurrent requests (see RecordAll).
type Log struct {
	svc *casework.Service

	mu sync.Mutex
	// queue holds the looks waiting for an append, in arrival order.
	queue []*pending
	// writing is set while a goroutine appends what is queued; it ends,
	// and clears it, once the queue is empty.
	writing bool
}

// pending is one caller's records on their way to the store.
type pending struct {
	ctx    context.Context
	stamp  casework.Stamp
	events []domain.Event
	done   chan error // receives the outcome once; buffered
}

// New returns a Log that writes and reads through svc, whose clock decides
// the day stream a record goes to.
func New(svc *casework.Service) *Log {
	return &Log{svc: svc}
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
// rows of a list page), all in the same append, and returns once they are
// durable. It fails, and the caller must show nothing, exactly as Record
// does.
//
// Every record of a day goes to the same stream, so concurrent appends
// would only conflict and retry: instead the looks of concurrent requests
// are group-committed. One goroutine at a time appends; looks that arrive
// meanwhile queue, and the next append takes them all (up to MaxBatch
// records) in arrival order, each stamped with its own reader and
// correlation id. Every caller in an append gets its outcome. A caller
// whose context ends before its records are taken is not recorded; one
// whose context ends while they are being appended returns at once with
// ErrNotRecorded although the records may still land (a look recorded that
// was not shown, never the reverse). The append is abandoned only when
// every caller in it has gone.
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
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("record %s access: %w: %w", view, ErrNotRecorded, err)
	}
	if correlationID == uuid.Nil {
		correlationID = uuid.New()
	}
	p := &pending{ctx: ctx, stamp: casework.Stamp{Actor: reader, CorrelationID: correlationID}, events: events, done: make(chan error, 1)}
	l.mu.Lock()
	l.queue = append(l.queue, p)
	start := !l.writing
	l.writing = true
	l.mu.Unlock()
	if start {
		go l.write()
	}
	select {
	case err := <-p.done:
		if err != nil {
			return fmt.Errorf("record %s access: %w", view, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("record %s access: %w: %w", view, ErrNotRecorded, ctx.Err())
	}
}

// write appends what is queued, a batch at a time, until the queue is
// empty.
func (l *Log) write() {
	for {
		batch := l.take()
		if batch == nil {
			return
		}
		err := l.appendRecovering(batch)
		for _, p := range batch {
			p.done <- err
		}
	}
}

// appendRecovering is append, with a panic turned into the batch's error:
// this goroutine serves every caller, and a bug met by one batch must not
// take the process down or leave the queue without a writer.
func (l *Log) appendRecovering(batch []*pending) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("append access records: %w: panic: %v", ErrNotRecorded, v)
		}
	}()
	return l.append(batch)
}

// take removes the next batch from the queue: its first look, and those
// after it while they fit in MaxBatch records. Looks whose callers have
// gone are answered and left out. With nothing queued, it clears writing
// and returns nil.
func (l *Log) take() []*pending {
	l.mu.Lock()
	defer l.mu.Unlock()
	var batch []*pending
	n, i := 0, 0
	for ; i < len(l.queue); i++ {
		p := l.queue[i]
		if err := p.ctx.Err(); err != nil {
			p.done <- fmt.Errorf("%w: %w", ErrNotRecorded, err)
			continue
		}
		if len(batch) > 0 && n+len(p.events) > MaxBatch {
			break
		}
		batch = append(batch, p)
		n += len(p.events)
	}
	// The rest moves to the front so that the queue's array is reused
	// rather than grown at one end and dropped at the other.
	rest := copy(l.queue, l.queue[i:])
	clear(l.queue[rest:])
	l.queue = l.queue[:rest]
	if len(batch) == 0 {
		l.writing = false
	}
	return batch
}

// append writes the batch's records to today's stream in one append. The
// stream is a log (casework.Service.AppendLog): appending does not read
// back, decode or keep the day's records.
func (l *Log) append(batch []*pending) error {
	var events []domain.Event
	var stamps []casework.Stamp
	for _, p := range batch {
		events = append(events, p.events...)
		for range p.events {
			stamps = append(stamps, p.stamp)
		}
	}
	ctx, done := batchContext(batch)
	defer done()
	first := batch[0].stamp
	stream := domain.AccessLogStream(l.svc.Today())
	_, err := l.svc.AppendLog(ctx, stream, casework.Request{Actor: first.Actor, CorrelationID: first.CorrelationID, Stamps: stamps}, events)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotRecorded, err)
	}
	return nil
}

// batchContext is the context of a batch's append: it carries the first
// caller's values and ends once every caller in the batch has gone, so
// that no single caller's cancellation fails the others' records. done
// releases it.
func batchContext(batch []*pending) (ctx context.Context, done func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(batch[0].ctx))
	var left atomic.Int64
	left.Store(int64(len(batch)))
	stops := make([]func() bool, len(batch))
	for i, p := range batch {
		stops[i] = context.AfterFunc(p.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}
