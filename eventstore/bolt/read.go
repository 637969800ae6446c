package bolt

import (
	"context"
	"fmt"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/caseledger/caseledger/eventstore"
)

// Reads are cut into chunks of at most opts.ReadChunk events, each in its own
// read transaction: a bbolt read transaction pins the mapping, and the writer
// cannot remap a growing file until every pinned one ends. A multi-chunk read
// stops where the log (or stream) ended when it began, so it returns the same
// events a single transaction would have.

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	if err := eventstore.ValidateStreamName(stream); err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	if opts.Limit < 0 {
		return nil, fmt.Errorf("read %s: %w: limit %d", stream, eventstore.ErrInvalidReadRange, opts.Limit)
	}
	var (
		out       []eventstore.RecordedEvent
		dec       = s.decoder()
		no        uint64
		next      = opts.From // next revision to read
		last      uint64      // the stream's last revision when the read began
		started   bool
		done      bool
		positions = make([]uint64, 0, revChunk)
	)
	for !done {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", stream, err)
		}
		err := s.view(func(tx *bbolt.Tx) error {
			b := buckets(tx)
			if !started {
				started = true
				v := b.streams.Get([]byte(stream))
				if v == nil {
					return eventstore.ErrStreamNotFound
				}
				var err error
				if no, err = readUvarint(v); err != nil {
					return fmt.Errorf("stream number: %w", err)
				}
				var ok bool
				if last, ok, err = lastRevision(b.index.Cursor(), no); err != nil || !ok {
					return fmt.Errorf("stream without events: %w", errCorrupt)
				}
				if opts.Backwards {
					next = min(next, last)
				} else if next > last {
					done = true
					return nil
				}
			}
			want := s.opts.ReadChunk
			if opts.Limit > 0 {
				want = min(want, opts.Limit-len(out))
			}
			for n := 0; n < want && !done; {
				var err error
				if positions, err = decodeChunk(b.index.Get(chunkKey(no, next)), positions[:0]); err != nil {
					return fmt.Errorf("index chunk of revision %d: %w", next, err)
				}
				base := next - next%revChunk
				// Walk this chunk from next, in the direction of the read.
				for n < want && !done {
					i := next - base
					if i >= uint64(len(positions)) {
						return fmt.Errorf("revision %d missing from index: %w", next, errCorrupt)
					}
					pos := positions[i]
					ev, err := dec.event(b, pos, b.log.Get(be64(pos)))
					if err != nil {
						return err
					}
					out = append(out, ev)
					n++
					switch {
					case opts.Backwards && next == 0, !opts.Backwards && next == last:
						done = true
					case opts.Backwards:
						next--
					default:
						next++
					}
					if next/revChunk != base/revChunk {
						break
					}
				}
			}
			if opts.Limit > 0 && len(out) >= opts.Limit {
				done = true
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", stream, err)
		}
	}
	return out, nil
}

// ReadAll implements eventstore.Store.
func (s *Store) ReadAll(ctx context.Context, opts eventstore.ReadAllOptions) ([]eventstore.RecordedEvent, error) {
	if opts.Limit < 0 {
		return nil, fmt.Errorf("read all: %w: limit %d", eventstore.ErrInvalidReadRange, opts.Limit)
	}
	var (
		out   []eventstore.RecordedEvent
		dec   = s.decoder()
		after = opts.From // exclusive bound of the next chunk
		stop  uint64      // head when the read began, forwards only
	)
	if opts.Limit > 0 {
		out = make([]eventstore.RecordedEvent, 0, min(opts.Limit, 1<<16))
	}
	for started := false; ; started = true {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read all: %w", err)
		}
		want := s.opts.ReadChunk
		if opts.Limit > 0 {
			want = min(want, opts.Limit-len(out))
		}
		var n int
		var err error
		if opts.Backwards {
			n, after, err = s.readAllBackwards(dec, after, want, &out)
		} else {
			n, after, err = s.readAllForwards(dec, after, want, started, &stop, &out)
		}
		if err != nil {
			return nil, fmt.Errorf("read all: %w", err)
		}
		if n < want || (opts.Limit > 0 && len(out) >= opts.Limit) {
			return out, nil
		}
	}
}

// readAllForwards reads up to want events after position after, never past
// *stop, which the first chunk sets to the head.
func (s *Store) readAllForwards(dec decoder, after uint64, want int, started bool, stop *uint64, out *[]eventstore.RecordedEvent) (int, uint64, error) {
	n := 0
	err := s.view(func(tx *bbolt.Tx) error {
		b := buckets(tx)
		c := b.log.Cursor()
		if !started {
			if k, _ := c.Last(); k != nil {
				*stop = beUint64(k)
			}
		}
		if after >= *stop {
			return nil
		}
		for k, v := c.Seek(be64(after + 1)); k != nil && n < want; k, v = c.Next() {
			pos := beUint64(k)
			if pos > *stop {
				break
			}
			ev, err := dec.event(b, pos, v)
			if err != nil {
				return err
			}
			*out = append(*out, ev)
			after = pos
			n++
		}
		return nil
	})
	return n, after, err
}

// readAllBackwards reads up to want events before position before.
func (s *Store) readAllBackwards(dec decoder, before uint64, want int, out *[]eventstore.RecordedEvent) (int, uint64, error) {
	n := 0
	if before == 0 {
		return 0, 0, nil
	}
	err := s.view(func(tx *bbolt.Tx) error {
		b := buckets(tx)
		c := b.log.Cursor()
		var k, v []byte
		if before == eventstore.End {
			k, v = c.Last()
		} else if k, v = c.Seek(be64(before)); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil && n < want; k, v = c.Prev() {
			pos := beUint64(k)
			ev, err := dec.event(b, pos, v)
			if err != nil {
				return err
			}
			*out = append(*out, ev)
			before = pos
			n++
		}
		return nil
	})
	return n, before, err
}

// txBuckets are the buckets a read needs on every event. Opening a bucket
// is a lookup in the root bucket, which adds up over many short reads, so
// the name buckets, needed only when a name cache misses, are opened then.
type txBuckets struct {
	tx                  *bbolt.Tx
	log, streams, index *bbolt.Bucket
}

func buckets(tx *bbolt.Tx) txBuckets {
	return txBuckets{
		tx:      tx,
		log:     tx.Bucket(bucketLog),
		streams: tx.Bucket(bucketStreams),
		index:   tx.Bucket(bucketIndex),
	}
}

// nameCache maps stream or type numbers to names. A number's name never
// changes once committed, so entries never go stale; only readers fill it,
// from committed data, since a number the writer hands out in a transaction
// that then fails is handed out again. It is emptied when full rather than
// kept in LRU order: refilling is one bbolt lookup per name.
type nameCache struct {
	mu  sync.RWMutex
	m   map[uint64]string
	max int
}

func newNameCache(max int) *nameCache {
	return &nameCache{m: make(map[uint64]string), max: max}
}

// lookup returns the name of no, from the cache or else from the bucket
// of that name in tx.
func (c *nameCache) lookup(tx *bbolt.Tx, bucket []byte, no uint64) (string, error) {
	c.mu.RLock()
	name, ok := c.m[no]
	c.mu.RUnlock()
	if ok {
		return name, nil
	}
	v := tx.Bucket(bucket).Get(be64(no))
	if v == nil {
		return "", fmt.Errorf("number %d has no name: %w", no, errCorrupt)
	}
	name = string(v)
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[no] = name
	c.mu.Unlock()
	return name, nil
}

// decoder turns records into RecordedEvents.
type decoder struct {
	streams, types *nameCache
	cts            *interner
	mem            *arena
}

func (s *Store) decoder() decoder {
	return decoder{streams: s.streamNames, types: s.typeNames, cts: &interner{}, mem: &arena{}}
}

// event decodes the record at pos; rec aliases the mapping.
func (d decoder) event(b txBuckets, pos uint64, rec []byte) (eventstore.RecordedEvent, error) {
	if rec == nil {
		return eventstore.RecordedEvent{}, corrupt("read log", pos, errCorrupt)
	}
	h, err := decodeHead(rec)
	if err != nil {
		return eventstore.RecordedEvent{}, corrupt("read log", pos, err)
	}
	stream, typ, err := d.names(b, &h)
	if err != nil {
		return eventstore.RecordedEvent{}, corrupt("read log", pos, err)
	}
	return d.finish(pos, &h, stream, typ)
}

// names looks up the stream and type names of a record.
func (d decoder) names(b txBuckets, h *recordHead) (stream, typ string, err error) {
	if stream, err = d.streams.lookup(b.tx, bucketNames, h.stream); err != nil {
		return "", "", fmt.Errorf("stream: %w", err)
	}
	if typ, err = d.types.lookup(b.tx, bucketTypeNames, h.typ); err != nil {
		return "", "", fmt.Errorf("type: %w", err)
	}
	return stream, typ, nil
}

// finish completes an event from its decoded head, copying what it needs
// out of the mapping.
func (d decoder) finish(pos uint64, h *recordHead, stream, typ string) (eventstore.RecordedEvent, error) {
	data, meta, err := h.payload(d.mem)
	if err != nil {
		return eventstore.RecordedEvent{}, corrupt("read log", pos, err)
	}
	ct := defaultContentType
	if h.ct != nil {
		ct = d.cts.intern(h.ct)
	}
	return eventstore.RecordedEvent{
		ID:          h.id,
		Stream:      stream,
		Revision:    h.revision,
		Position:    pos,
		Type:        typ,
		ContentType: ct,
		Data:        data,
		Metadata:    meta,
		Recorded:    time.Unix(0, h.recorded).UTC(),
	}, nil
}
