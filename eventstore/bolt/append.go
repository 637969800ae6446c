package bolt

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/caseledger/caseledger/eventstore"
)

// A request is one Append waiting for the writer.
type request struct {
	ctx      context.Context
	stream   string
	expected eventstore.Expected
	events   []eventstore.EventData
	// state decides, once, whether the writer or a cancelled caller owns
	// the request, so that a cancelled Append can promise nothing was
	// written, and one taken into a commit always learns its outcome.
	state atomic.Int32
	done  chan outcome
}

const (
	statePending int32 = iota
	stateTaken
	stateCancelled
)

type outcome struct {
	res eventstore.AppendResult
	err error
}

// Append implements eventstore.Store. It returns after the commit that holds
// the events has been fsynced.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.Expected, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if s.closed.Load() {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, eventstore.ErrClosed)
	}
	if err := eventstore.ValidateAppend(stream, expected, events, s.opts.MaxEventSize); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := s.unsyncedErr(); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	req := &request{ctx: ctx, stream: stream, expected: expected, events: events, done: make(chan outcome, 1)}
	select {
	case s.requests <- req:
	case <-ctx.Done():
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, ctx.Err())
	case <-s.closing:
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, eventstore.ErrClosed)
	}
	select {
	case o := <-req.done:
		return o.res, o.err
	case <-ctx.Done():
		if req.state.CompareAndSwap(statePending, stateCancelled) {
			return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, ctx.Err())
		}
		// The writer took it into a commit: its outcome follows within
		// one fsync, and is the only honest answer.
		o := <-req.done
		return o.res, o.err
	}
}

// writeLoop is the only writer. It takes every append that is queued when it
// becomes free and commits them in one transaction, so that concurrent
// appenders share fsyncs; a lone appender is committed at once.
func (s *Store) writeLoop() {
	defer close(s.writerDone)
	var batch []*request
	for {
		select {
		case <-s.closing:
			return
		default:
		}
		select {
		case r := <-s.requests:
			batch = append(batch[:0], r)
		case <-s.closing:
			return
		}
		n := len(batch[0].events)
		// Appenders answered by the last commit are usually about to queue
		// again; yielding once lets them, so the drain below takes them into
		// this commit instead of leaving them for the next fsync. With
		// nothing else runnable this returns at once: a lone appender is
		// not delayed.
		runtime.Gosched()
	drain:
		for n < s.opts.MaxBatchEvents {
			select {
			case r := <-s.requests:
				batch = append(batch, r)
				n += len(r.events)
			default:
				break drain
			}
		}
		s.commit(batch)
		clear(batch)
	}
}

// errNothingWritten rolls back a transaction in which every request failed
// its check or was a retry, sparing an fsync.
var errNothingWritten = errors.New("nothing written")

func (s *Store) commit(batch []*request) {
	taken := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil && r.state.CompareAndSwap(statePending, stateCancelled) {
			r.done <- outcome{err: fmt.Errorf("append to %s: %w", r.stream, err)}
			continue
		}
		if r.state.CompareAndSwap(statePending, stateTaken) {
			taken = append(taken, r)
		}
	}
	if len(taken) == 0 {
		return
	}
	// Appends queued before a commit could not be synced must not be
	// answered from it either (one found stored would be, without a sync).
	if err := s.unsyncedErr(); err != nil {
		for _, r := range taken {
			r.done <- outcome{err: fmt.Errorf("append to %s: %w", r.stream, err)}
		}
		return
	}
	outcomes := make([]outcome, len(taken))
	start := time.Now()
	var written counts
	var txID uint64
	err := s.db.Update(func(tx *bbolt.Tx) error {
		txID = uint64(tx.ID())
		w, err := newTxWriter(tx)
		if err != nil {
			return err
		}
		defer func() { written = w.count }()
		for i, r := range taken {
			res, checkErr, err := w.apply(r, s.opts.Clock().UTC())
			if err != nil {
				return fmt.Errorf("append to %s: %w", r.stream, err)
			}
			outcomes[i] = outcome{res: res, err: checkErr}
		}
		if w.count.appends == 0 {
			return errNothingWritten
		}
		return nil
	})
	switch {
	case err == nil:
		s.synced = txID
		s.commits.Add(1)
		s.appends.Add(written.appends)
		s.events.Add(written.events)
		s.signalCommit()
		s.readviseIfMoved()
	case errors.Is(err, errNothingWritten):
	default:
		// bbolt rolled the transaction back; none of it is visible, and the
		// next commit starts from the last good one. Unless only the sync
		// of its header failed: bbolt then shows the commit, which the
		// disk may never hold.
		if !eventstore.IsStorageFault(err) {
			if cause := diskCause(s.path); cause != nil {
				err = fmt.Errorf("%w (its file system: %w)", err, cause)
			}
		}
		s.log.Error("event store commit failed", "err", err, "appends", len(taken), "took", time.Since(start))
		if s.shownTx() != s.synced {
			s.unsynced.Store(&err)
			s.log.Error("event store: a commit was written but not synced; refusing reads and appends until the store is opened again")
		}
		for i, r := range taken {
			outcomes[i] = outcome{err: fmt.Errorf("append to %s: commit: %w: %w", r.stream, eventstore.ErrUnavailable, err)}
		}
	}
	for i, r := range taken {
		r.done <- outcomes[i]
	}
}

// txWriter applies appends inside one write transaction.
type txWriter struct {
	log, streams, names, typesByName, typeNames, index *bbolt.Bucket

	head       uint64 // last position in the log
	lastStream uint64 // highest stream number handed out
	lastType   uint64 // highest type number handed out
	types      map[string]uint64
	positions  []uint64
	count      counts
}

type counts struct{ appends, events uint64 }

func newTxWriter(tx *bbolt.Tx) (*txWriter, error) {
	w := &txWriter{
		log:         tx.Bucket(bucketLog),
		streams:     tx.Bucket(bucketStreams),
		names:       tx.Bucket(bucketNames),
		typesByName: tx.Bucket(bucketTypes),
		typeNames:   tx.Bucket(bucketTypeNames),
		index:       tx.Bucket(bucketIndex),
		types:       make(map[string]uint64),
	}
	// These only grow at their end: packing their pages full costs nothing
	// later and is what keeps the file near the size of its data.
	w.log.FillPercent = 1.0
	w.names.FillPercent = 1.0
	w.typeNames.FillPercent = 1.0
	var err error
	if w.head, err = lastNumber(w.log); err != nil {
		return nil, fmt.Errorf("log: %w", err)
	}
	if w.lastStream, err = lastNumber(w.names); err != nil {
		return nil, fmt.Errorf("stream names: %w", err)
	}
	if w.lastType, err = lastNumber(w.typeNames); err != nil {
		return nil, fmt.Errorf("type names: %w", err)
	}
	return w, nil
}

// lastNumber is the highest be64 key of a bucket, 0 when it is empty.
func lastNumber(b *bbolt.Bucket) (uint64, error) {
	k, _ := b.Cursor().Last()
	if k == nil {
		return 0, nil
	}
	if len(k) != 8 {
		return 0, fmt.Errorf("key of %d bytes: %w", len(k), errCorrupt)
	}
	return beUint64(k), nil
}

// apply checks one append and, if it passes, writes it. checkErr is the
// append's own refusal, which leaves the transaction usable; err means the
// transaction must be abandoned.
func (w *txWriter) apply(r *request, now time.Time) (res eventstore.AppendResult, checkErr, err error) {
	no, last, exists, err := w.stream(r.stream)
	if err != nil {
		return res, nil, err
	}
	if exists {
		res, present, err := w.retried(r, no)
		if err != nil {
			return res, nil, err
		}
		switch {
		case present == len(r.events):
			return res, nil, nil
		case present > 0:
			return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w: %d of %d event ids are in the stream", r.stream, eventstore.ErrIdempotency, present, len(r.events)), nil
		}
	}
	if !expectationHolds(r.expected, last, exists) {
		return res, &eventstore.ConflictError{Stream: r.stream, Expected: r.expected, Actual: last, Exists: exists}, nil
	}

	if !exists {
		w.lastStream++
		no = w.lastStream
		if err := w.streams.Put([]byte(r.stream), uvarint(no)); err != nil {
			return res, nil, err
		}
		if err := w.names.Put(be64(no), []byte(r.stream)); err != nil {
			return res, nil, err
		}
	}
	first := uint64(0)
	if exists {
		first = last + 1
	}
	w.positions = w.positions[:0]
	for i := range r.events {
		ev := &r.events[i]
		rev := first + uint64(i)
		typ, err := w.typeNumber(ev.Type)
		if err != nil {
			return res, nil, err
		}
		w.head++
		if err := w.log.Put(be64(w.head), encodeRecord(no, rev, typ, now, ev)); err != nil {
			return res, nil, err
		}
		if err := w.index.Put(idKey(no, ev.ID), uvarint(rev)); err != nil {
			return res, nil, err
		}
		w.positions = append(w.positions, w.head)
	}
	if err := w.indexPositions(no, first, w.positions); err != nil {
		return res, nil, err
	}
	w.count.appends++
	w.count.events += uint64(len(r.events))
	return eventstore.AppendResult{Revision: first + uint64(len(r.events)) - 1, Position: w.head}, nil, nil
}

// indexPositions adds the positions of revisions first, first+1, ... to the
// stream's chunks, extending its last chunk and starting new ones.
func (w *txWriter) indexPositions(no, first uint64, positions []uint64) error {
	var scratch []uint64
	for len(positions) > 0 {
		key := chunkKey(no, first)
		var old []byte
		var last uint64
		if first%revChunk != 0 {
			if old = w.index.Get(key); old == nil {
				return fmt.Errorf("chunk of revision %d missing: %w", first, errCorrupt)
			}
			var err error
			if scratch, err = decodeChunk(old, scratch[:0]); err != nil {
				return fmt.Errorf("chunk of revision %d: %w", first, err)
			}
			last = scratch[len(scratch)-1]
		}
		n := min(len(positions), int(revChunk-first%revChunk))
		if err := w.index.Put(key, extendChunk(old, last, positions[:n])); err != nil {
			return err
		}
		positions = positions[n:]
		first += uint64(n)
	}
	return nil
}

// typeNumber finds or hands out the number an event type is stored as.
func (w *txWriter) typeNumber(name string) (uint64, error) {
	if no, ok := w.types[name]; ok {
		return no, nil
	}
	var no uint64
	if v := w.typesByName.Get([]byte(name)); v != nil {
		var err error
		if no, err = readUvarint(v); err != nil {
			return 0, fmt.Errorf("type %s: %w", name, err)
		}
	} else {
		w.lastType++
		no = w.lastType
		if err := w.typesByName.Put([]byte(name), uvarint(no)); err != nil {
			return 0, err
		}
		if err := w.typeNames.Put(be64(no), []byte(name)); err != nil {
			return 0, err
		}
	}
	w.types[name] = no
	return no, nil
}

// stream looks up a stream's number and last revision. A stream exists
// exactly when it has events: it is created by its first append.
func (w *txWriter) stream(name string) (no, last uint64, exists bool, err error) {
	v := w.streams.Get([]byte(name))
	if v == nil {
		return 0, 0, false, nil
	}
	if no, err = readUvarint(v); err != nil {
		return 0, 0, false, fmt.Errorf("stream %s number: %w", name, err)
	}
	last, ok, err := lastRevision(w.index.Cursor(), no)
	if err != nil || !ok {
		return 0, 0, false, fmt.Errorf("stream %s has a number but no events: %w", name, errors.Join(errCorrupt, err))
	}
	return no, last, true, nil
}

// retried counts how many of the request's event ids the stream holds, and
// the result of the one with the highest revision.
func (w *txWriter) retried(r *request, no uint64) (res eventstore.AppendResult, present int, err error) {
	for i := range r.events {
		v := w.index.Get(idKey(no, r.events[i].ID))
		if v == nil {
			continue
		}
		rev, err := readUvarint(v)
		if err != nil {
			return res, 0, fmt.Errorf("event id %s: %w", r.events[i].ID, err)
		}
		if present == 0 || rev > res.Revision {
			res.Revision = rev
		}
		present++
	}
	if present == 0 {
		return res, 0, nil
	}
	if res.Position, err = positionOf(w.index, no, res.Revision); err != nil {
		return res, 0, err
	}
	return res, present, nil
}

func expectationHolds(e eventstore.Expected, last uint64, exists bool) bool {
	switch e.Kind {
	case eventstore.ExpectAny:
		return true
	case eventstore.ExpectNoStream:
		return !exists
	case eventstore.ExpectStreamExists:
		return exists
	case eventstore.ExpectRevision:
		return exists && last == e.Revision
	}
	return false // ValidateAppend refused other kinds already
}

// lastRevision finds a stream's last revision from its last chunk: the one
// just before the end marker of its chunk keys.
func lastRevision(c *bbolt.Cursor, no uint64) (rev uint64, ok bool, err error) {
	k, v := c.Seek(revisionsEnd(no))
	if k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	if k == nil || !hasPrefix(k, streamPrefix(no, tagRevision)) {
		return 0, false, nil
	}
	chunk, ok := chunkNumber(k, no)
	n := chunkLen(v)
	if !ok || n == 0 {
		return 0, false, errCorrupt
	}
	return chunk*revChunk + uint64(n) - 1, true, nil
}

// positionOf looks up the position of one revision of a stream.
func positionOf(index *bbolt.Bucket, no, rev uint64) (uint64, error) {
	v := index.Get(chunkKey(no, rev))
	var buf [revChunk]uint64
	positions, err := decodeChunk(v, buf[:0])
	if err != nil || uint64(len(positions)) <= rev%revChunk {
		return 0, fmt.Errorf("position of revision %d: %w", rev, errCorrupt)
	}
	return positions[rev%revChunk], nil
}

func hasPrefix(b, prefix []byte) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == string(prefix)
}
