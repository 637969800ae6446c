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
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
)

// ErrNotRecorded is why a look must not happen: its access record could not
// be appended. Callers answer "unavailable" and show nothing.
var ErrNotRecorded = errors.New("access could not be recorded")

// MaxBatch bounds the access records one append carries. Looks that arrive
// while an append is under way wait for the next one, which takes as many
// of them as fit (a single RecordAll of more goes alone, never split).
const MaxBatch = 512

// maxBatchBytes bounds, about, the bytes one append of records carries: a
// store takes appends of 4 MiB or more (docs/deploy.md), and a caseload
// page's record lists up to 500 participants, so 512 of those would not
// fit.
const maxBatchBytes = 1 << 20

// recordSize is about how many bytes an access record takes in an append:
// its metadata and members, and 40 for each participant it lists.
func recordSize(rec domain.AccessRecorded) int {
	return 1024 + len(rec.Purpose) + len(rec.Cohort) + 40*len(rec.Participants)
}

// Log writes access records and answers queries about them. It is safe for
// concurrent use; one Log should serve a process, since it group-commits
// the records of concurrent requests (see RecordAll).
type Log struct {
	svc   *casework.Service
	spill *Spill // nil: a look whose record the store refuses is not shown
	log   *slog.Logger

	mu sync.Mutex
	// queue holds the looks waiting for an append, in arrival order.
	queue []*pending
	// writing is set while a goroutine appends what is queued; it ends,
	// and clears it, once the queue is empty.
	writing bool
}

// pending is one caller's records on their way to the store.
type pending struct {
	ctx     context.Context
	stamp   casework.Stamp // who looked, and in which request
	records []domain.AccessRecorded
	size    int        // about, in bytes (recordSize)
	done    chan error // receives the outcome once; buffered
}

// Options are a Log's optional parts.
type Options struct {
	// Spill, when set, takes the records the store refuses for want of
	// storage (a full or read-only disk) or reach (an unavailable
	// cluster), so that looks go on; they move to the log once it takes
	// writes again. The Log does not close it.
	Spill *Spill
	// Logger says when records start and stop being held; nil logs
	// nothing.
	Logger *slog.Logger
}

// New returns a Log that writes and reads through svc, whose clock decides
// the day stream a record goes to.
func New(svc *casework.Service, opts Options) *Log {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Log{svc: svc, spill: opts.Spill, log: log}
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
	size := 0
	for _, rec := range records {
		if _, err := domain.RecordAccess(rec); err != nil {
			return fmt.Errorf("record %s access: malformed record: %v", rec.View, err)
		}
		size += recordSize(rec)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("record %s access: %w: %w", view, ErrNotRecorded, err)
	}
	if correlationID == uuid.Nil {
		correlationID = uuid.New()
	}
	p := &pending{ctx: ctx, stamp: casework.Stamp{Actor: reader, CorrelationID: correlationID}, records: records, size: size, done: make(chan error, 1)}
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
	n, size, i := 0, 0, 0
	for ; i < len(l.queue); i++ {
		p := l.queue[i]
		if err := p.ctx.Err(); err != nil {
			p.done <- fmt.Errorf("%w: %w", ErrNotRecorded, err)
			continue
		}
		if len(batch) > 0 && (n+len(p.records) > MaxBatch || size+p.size > maxBatchBytes) {
			break
		}
		batch = append(batch, p)
		n += len(p.records)
		size += p.size
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
// back, decode or keep the day's records. With a spill journal, records
// it holds go first, so that the log stays in the order of the looks, and
// the batch is held too when the store refuses it.
func (l *Log) append(batch []*pending) error {
	// Each record's id and time are fixed before the first attempt: an
	// append that fails having written (a commit whose answer was lost)
	// and is then held stores the record once when it moves, since the
	// store keeps an id once.
	at := l.svc.Now().UTC()
	b := heldBatch{Day: l.svc.DateOf(at)}
	for _, p := range batch {
		for _, rec := range p.records {
			b.Records = append(b.Records, heldRecord{EventID: uuid.New(), At: at, Actor: p.stamp.Actor, CorrelationID: p.stamp.CorrelationID, Access: rec})
		}
	}
	ctx, done := batchContext(batch)
	defer done()
	if l.spill != nil && l.spill.Len() > 0 {
		if err := l.moveHeld(ctx); err != nil {
			return l.hold(b, err)
		}
	}
	if err := l.appendBatches(ctx, []heldBatch{b}); err != nil {
		return l.hold(b, err)
	}
	return nil
}

// hold writes to the spill journal the batch whose append failed with
// cause, if the journal is there and cause is the store's (its disk or its
// reach), not the records'; it returns nil once they are durable there,
// else what the callers must not show for.
func (l *Log) hold(b heldBatch, cause error) error {
	if l.spill == nil || !storeRefused(cause) {
		return fmt.Errorf("%w: %w", ErrNotRecorded, cause)
	}
	was := l.spill.Len()
	if err := l.spill.hold(b); err != nil {
		return fmt.Errorf("%w: %w (and the spill journal: %w)", ErrNotRecorded, cause, err)
	}
	if was == 0 {
		l.log.Warn("the event store refuses access records; holding them in the spill journal until it takes writes again", "journal", l.spill.Path(), "error", cause.Error())
	}
	return nil
}

// storeRefused reports whether an append failed for want of the store:
// its disk refused the write, or it could not be reached or was closed.
func storeRefused(err error) bool {
	return eventstore.IsStorageFault(err) || errors.Is(err, eventstore.ErrUnavailable) || errors.Is(err, eventstore.ErrClosed)
}

// moveHeld appends the records the spill journal holds to their days'
// streams, oldest first, then empties it. Consecutive batches of a day
// share an append, up to MaxBatch records. Each record keeps the id and
// time it was held with, so a move that is tried again after one that
// failed having written (or after a crash before the journal was emptied)
// stores every record once.
func (l *Log) moveHeld(ctx context.Context) error {
	held := l.spill.held()
	for start := 0; start < len(held); {
		end, n, size := start+1, len(held[start].Records), held[start].size()
		for end < len(held) && held[end].Day == held[start].Day && n+len(held[end].Records) <= MaxBatch && size+held[end].size() <= maxBatchBytes {
			n += len(held[end].Records)
			size += held[end].size()
			end++
		}
		err := l.appendBatches(ctx, held[start:end])
		if errors.Is(err, eventstore.ErrIdempotency) || errors.Is(err, eventstore.ErrEventTooLarge) {
			// Part of this append was stored by an earlier move grouped
			// otherwise, or the store takes less at once than the bound
			// here: the records go one at a time. Each keeps its id, so
			// each is stored once whether it was before or not.
			err = l.appendOneByOne(ctx, held[start:end])
		}
		if err != nil {
			return fmt.Errorf("move held access records: %w", err)
		}
		start = end
	}
	if err := l.spill.release(); err != nil {
		return err
	}
	l.log.Info("access records held in the spill journal are in the access log", "records", countHeld(held))
	return nil
}

// RetryHeld moves the records the spill journal holds to the log every
// so often, until ctx ends, so that they do not wait for the next look
// once the store takes writes again. Looks that come meanwhile move them
// first as well.
func (l *Log) RetryHeld(ctx context.Context, every time.Duration) {
	if l.spill == nil {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if l.spill.Len() == 0 {
			continue
		}
		l.mu.Lock()
		busy := l.writing
		l.writing = true
		l.mu.Unlock()
		if busy {
			continue // the writer moves them before its next append
		}
		if err := l.moveHeldRecovering(ctx); err != nil {
			// Expected while the store is down; anything else refuses
			// every later look until an operator has seen to it.
			level := slog.LevelWarn
			if storeRefused(err) {
				level = slog.LevelDebug
			}
			l.log.Log(ctx, level, "access records still held", "records", l.spill.Len(), "error", err.Error())
		}
		l.write() // what queued meanwhile; it clears writing
	}
}

// moveHeldRecovering is moveHeld with a panic turned into its error, as
// appendRecovering does for the write path.
func (l *Log) moveHeldRecovering(ctx context.Context) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("move held access records: panic: %v", v)
		}
	}()
	return l.moveHeld(ctx)
}

// appendBatches appends batches of one day in one append, each record
// stamped as it was taken or held.
func (l *Log) appendBatches(ctx context.Context, batches []heldBatch) error {
	var events []domain.Event
	var stamps []casework.Stamp
	for _, b := range batches {
		for _, r := range b.Records {
			events = append(events, r.Access)
			stamps = append(stamps, casework.Stamp{Actor: r.Actor, CorrelationID: r.CorrelationID, At: r.At, EventID: r.EventID})
		}
	}
	first := stamps[0]
	_, err := l.svc.AppendLog(ctx, domain.AccessLogStream(batches[0].Day), casework.Request{Actor: first.Actor, CorrelationID: first.CorrelationID, Stamps: stamps}, events)
	return err
}

// appendOneByOne appends each record of batches alone.
func (l *Log) appendOneByOne(ctx context.Context, batches []heldBatch) error {
	for _, b := range batches {
		for i := range b.Records {
			if err := l.appendBatches(ctx, []heldBatch{{Day: b.Day, Records: b.Records[i : i+1]}}); err != nil {
				return err
			}
		}
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
