package esdbtest

import (
	"fmt"
	"sort"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/google/uuid"
)

// record is one event of the in-memory log. Records are never changed once
// written, so they are shared with readers without copying.
type record struct {
	id      uuid.UUID
	stream  string
	rev     uint64
	pos     uint64 // commit position; EventStoreDB's prepare position is the same for non-transactional writes
	typ     string
	json    bool
	data    []byte
	meta    []byte
	created int64 // .NET ticks (100 ns) since the Unix epoch, as EventStoreDB reports them
}

// proposed is an event of an append request.
type proposed struct {
	id   uuid.UUID
	typ  string
	json bool
	data []byte
	meta []byte
}

// expectKind mirrors the expected_stream_revision oneof of an append.
type expectKind uint8

const (
	expectAny expectKind = iota
	expectNoStream
	expectExists
	expectRevision
)

type expectation struct {
	kind expectKind
	rev  uint64
}

// appendOutcome is what the log decided about an append: written (or
// recognised as already written), or refused because the stream was not
// where the request expected it.
type appendOutcome struct {
	wrong   bool
	current int64  // the stream's last revision; -1 when it has no events
	rev     uint64 // last revision of the append's events
	pos     uint64 // position of the last of them
}

// Positions are spaced like byte offsets of a transaction log: each record
// takes a header plus its payload, so consecutive positions are never
// adjacent numbers. An adapter that assumes contiguity, or passes a
// position that is not an event's own, is caught by the strict position
// checks of reads and subscriptions.
const (
	firstPosition = 1 << 10
	recordHeader  = 88
)

// systemStatsEvery is how many user appends pass between two statistics
// events, standing in for the $stats events a real node writes every few
// seconds.
const systemStatsEvery = 5

// memLog is the store behind the server: one mutex around a slice. It is
// the whole state that survives Stop and Start.
type memLog struct {
	mu      sync.Mutex
	records []*record
	streams map[string][]int // record indexes by revision
	// byID stands in for the server's cache of recently committed event
	// ids, which is all EventStoreDB consults to recognise a retried append
	// with ExpectedVersion.Any. Unbounded here; bounded on a real server.
	byID    map[uuid.UUID]int
	next    uint64 // position the next record takes
	appends int    // user appends so far, to interleave system events

	maxAppendSize int
	systemEvents  bool

	// changed is closed, and replaced, whenever records are added, waking
	// every waiting subscription at once.
	changed chan struct{}
	// dropped is closed, and replaced, to end every live subscription.
	dropped chan struct{}
}

func newMemLog(maxAppendSize int, systemEvents bool) *memLog {
	l := &memLog{
		streams:       make(map[string][]int),
		byID:          make(map[uuid.UUID]int),
		next:          firstPosition,
		maxAppendSize: maxAppendSize,
		systemEvents:  systemEvents,
		changed:       make(chan struct{}),
		dropped:       make(chan struct{}),
	}
	if systemEvents {
		// A real node's log starts with records of its own, so a new
		// database's $all is never empty; adapters must leave these out.
		l.mu.Lock()
		l.writeSystem("$epoch-information", "$epoch-information")
		l.writeSystem("$users", "$User")
		l.writeSystem("$user-admin", "$UserCreated")
		l.writeSystem("$settings", "$settings")
		l.mu.Unlock()
	}
	return l
}

func ticks(t time.Time) int64 { return t.UnixNano() / 100 }

// sizeOnDisk is EventStoreDB's measure of an event for its append size
// limit: payload bytes plus two bytes per UTF-16 unit of the type name.
func sizeOnDisk(p proposed) int {
	return len(p.data) + len(p.meta) + 2*len(utf16.Encode([]rune(p.typ)))
}

// writeLocked adds one record; l.mu must be held.
func (l *memLog) writeLocked(stream string, p proposed, created int64) *record {
	revs := l.streams[stream]
	r := &record{
		id:      p.id,
		stream:  stream,
		rev:     uint64(len(revs)),
		pos:     l.next,
		typ:     p.typ,
		json:    p.json,
		data:    p.data,
		meta:    p.meta,
		created: created,
	}
	size := uint64(recordHeader + len(stream) + len(p.typ) + len(p.data) + len(p.meta))
	l.next += (size + 7) &^ 7
	l.records = append(l.records, r)
	l.streams[stream] = append(revs, len(l.records)-1)
	l.byID[p.id] = len(l.records) - 1
	return r
}

func (l *memLog) writeSystem(stream, typ string) {
	l.writeLocked(stream, proposed{
		id:   uuid.New(),
		typ:  typ,
		json: true,
		data: []byte(`{}`),
	}, ticks(time.Now()))
}

// broadcastLocked wakes the subscriptions waiting for new records.
func (l *memLog) broadcastLocked() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// current is the stream's last revision, -1 when it has no events.
func (l *memLog) currentLocked(stream string) int64 {
	return int64(len(l.streams[stream])) - 1
}

// append decides an append the way EventStoreDB's index writer does, so
// that an adapter is tested against the server's own idempotency rules and
// not kinder ones:
//
//   - With Any or StreamExists, only the first event's id is looked up in
//     the cache of committed ids. If it is found in this stream and the
//     following events match the stream from there, the append is an
//     idempotent success naming the original events; if it is found but
//     the rest does not match, it is a wrong expected version; if it is not
//     found, the events are written, whatever the others' ids.
//   - With NoStream or a revision below the stream's current one, the events
//     must match the stream from the revision after the expected one for an
//     idempotent success; anything else is a wrong expected version.
//   - A revision above the current one is a wrong expected version; the
//     current one itself writes, without looking at ids at all.
func (l *memLog) append(stream string, exp expectation, evs []proposed) appendOutcome {
	created := ticks(time.Now())
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := l.currentLocked(stream)
	wrong := appendOutcome{wrong: true, current: cur}
	if len(evs) == 0 {
		// Nothing to write; EventStoreDB answers with where the stream is.
		return appendOutcome{current: cur, rev: uint64(max(cur, 0))}
	}

	switch exp.kind {
	case expectAny, expectExists:
		if i, ok := l.byID[evs[0].id]; ok && l.records[i].stream == stream {
			if out, ok := l.matchLocked(stream, l.records[i].rev, evs); ok {
				return out
			}
			return wrong // "corrupted idempotency" is reported as a wrong expected version
		}
		if exp.kind == expectExists && cur < 0 {
			return wrong
		}
	case expectNoStream, expectRevision:
		want := int64(-1)
		if exp.kind == expectRevision {
			want = int64(exp.rev)
		}
		switch {
		case want < cur:
			if out, ok := l.matchLocked(stream, uint64(want+1), evs); ok {
				return out
			}
			return wrong
		case want > cur:
			return wrong
		}
	default:
		return wrong
	}

	var last *record
	for _, p := range evs {
		last = l.writeLocked(stream, p, created)
	}
	out := appendOutcome{current: int64(last.rev), rev: last.rev, pos: last.pos}
	l.appends++
	if l.systemEvents && l.appends%systemStatsEvery == 0 {
		l.writeSystem("$stats-127.0.0.1:2113", "$statsCollected")
	}
	l.broadcastLocked()
	return out
}

// matchLocked reports whether the stream holds evs, by id, at revisions
// from on; if so, the outcome names the last of them.
func (l *memLog) matchLocked(stream string, from uint64, evs []proposed) (appendOutcome, bool) {
	revs := l.streams[stream]
	if from+uint64(len(evs)) > uint64(len(revs)) {
		return appendOutcome{}, false
	}
	var last *record
	for i, p := range evs {
		last = l.records[revs[from+uint64(i)]]
		if last.id != p.id {
			return appendOutcome{}, false
		}
	}
	return appendOutcome{current: int64(len(revs)) - 1, rev: last.rev, pos: last.pos}, true
}

// readStream returns up to count records of a stream, forwards from
// revision from or backwards from it (clamped to the last revision), and
// whether the stream exists.
func (l *memLog) readStream(stream string, from uint64, backwards bool, count uint64) ([]*record, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	revs := l.streams[stream]
	if len(revs) == 0 {
		return nil, false
	}
	var out []*record
	if backwards {
		start := min(from, uint64(len(revs)-1))
		for r := int64(start); r >= 0 && uint64(len(out)) < count; r-- {
			out = append(out, l.records[revs[r]])
		}
		return out, true
	}
	for r := from; r < uint64(len(revs)) && uint64(len(out)) < count; r++ {
		out = append(out, l.records[revs[r]])
	}
	return out, true
}

// indexAfterLocked is the index of the first record whose position is
// above pos.
func (l *memLog) indexAfterLocked(pos uint64) int {
	return sort.Search(len(l.records), func(i int) bool { return l.records[i].pos > pos })
}

// checkPositionLocked accepts only positions a client can have been given:
// an event's own, or the head (where the next event will be written).
// EventStoreDB refuses to start reading in the middle of a record.
func (l *memLog) checkPositionLocked(commit, prepare uint64) error {
	if commit != prepare {
		return fmt.Errorf("invalid position: commit %d and prepare %d differ, and this server writes no transactions", commit, prepare)
	}
	if commit == l.next {
		return nil
	}
	i := sort.Search(len(l.records), func(i int) bool { return l.records[i].pos >= commit })
	if i == len(l.records) || l.records[i].pos != commit {
		return fmt.Errorf("invalid position %d: no event starts there", commit)
	}
	return nil
}

// allPosition is where an $all read or subscription starts.
type allPosition struct {
	start, end bool
	commit     uint64
	prepare    uint64
}

// readAll returns up to count records of the global log: forwards from the
// position (inclusive), backwards from before it, as EventStoreDB reads $all.
func (l *memLog) readAll(from allPosition, backwards bool, count uint64) ([]*record, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var i int
	switch {
	case from.start:
		i = 0
	case from.end:
		i = len(l.records)
	default:
		if err := l.checkPositionLocked(from.commit, from.prepare); err != nil {
			return nil, err
		}
		i = sort.Search(len(l.records), func(i int) bool { return l.records[i].pos >= from.commit })
	}
	var out []*record
	if backwards {
		for j := i - 1; j >= 0 && uint64(len(out)) < count; j-- {
			out = append(out, l.records[j])
		}
		return out, nil
	}
	for j := i; j < len(l.records) && uint64(len(out)) < count; j++ {
		out = append(out, l.records[j])
	}
	return out, nil
}

// subscriptionStart resolves where a subscription begins: the position it
// delivers after (exclusive), as EventStoreDB's catch-up subscriptions do.
func (l *memLog) subscriptionStart(from allPosition) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case from.start:
		return 0, nil
	case from.end:
		if len(l.records) == 0 {
			return 0, nil
		}
		return l.records[len(l.records)-1].pos, nil
	default:
		if err := l.checkPositionLocked(from.commit, from.prepare); err != nil {
			return 0, err
		}
		return from.commit, nil
	}
}

// after returns up to max records after position pos, the channel that
// signals more records, and the position the next record will take.
func (l *memLog) after(pos uint64, max int) (recs []*record, changed <-chan struct{}, head uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := l.indexAfterLocked(pos)
	j := min(len(l.records), i+max)
	return l.records[i:j:j], l.changed, l.next
}

// drops returns the channel the next dropSubscriptions closes. A
// subscription takes it once, when it starts, so that a drop ends it even
// while it is busy sending.
func (l *memLog) drops() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}

// dropSubscriptions ends every live subscription.
func (l *memLog) dropSubscriptions() {
	l.mu.Lock()
	defer l.mu.Unlock()
	close(l.dropped)
	l.dropped = make(chan struct{})
}
