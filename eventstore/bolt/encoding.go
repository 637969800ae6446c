package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/eventstore"
)

// The file's buckets. Buckets that only ever grow at their end (log, names,
// typenames) are packed full, since bbolt splits pages by key order and
// never writes to a full page on their left again; the others take random
// inserts and keep bbolt's default fill. The measured cost of each is in
// docs/performance.md.
var (
	// bucketLog: be64(position) -> record. The global log.
	bucketLog = []byte("log")
	// bucketStreams: stream name -> uvarint(stream number). Stream numbers
	// keep the name out of every record and every index key.
	bucketStreams = []byte("streams")
	// bucketNames: be64(stream number) -> stream name, to name the stream of
	// a record read from the log.
	bucketNames = []byte("names")
	// bucketTypes and bucketTypeNames do for event types what the two above
	// do for streams: a handful of type names repeat in every record.
	bucketTypes     = []byte("types")
	bucketTypeNames = []byte("typenames")
	// bucketIndex holds two kinds of per-stream keys, both prefixed by
	// ord(stream number) so that one append to a stream usually dirties one
	// leaf page rather than one page per index:
	//
	//	ord(no) 0x01 ord(chunk) -> positions of revisions chunk*revChunk ...
	//	ord(no) 0x02 event id   -> uvarint(revision)
	//
	// A chunk lists the positions of up to revChunk consecutive revisions,
	// the first as a uvarint and the others as uvarint increments: about
	// three bytes per event, where a key per revision took twenty-five.
	bucketIndex = []byte("index")
	// bucketMeta: small facts about the file itself.
	bucketMeta = []byte("meta")

	allBuckets = [][]byte{bucketLog, bucketStreams, bucketNames, bucketTypes, bucketTypeNames, bucketIndex, bucketMeta}
)

var keyFormat = []byte("format")

// formatVersion changes whenever the layout above or the record encoding
// changes in a way older code cannot read.
const formatVersion = "caseledger-bolt-1"

const (
	tagRevision byte = 0x01
	tagID       byte = 0x02
	// ordEnd sorts after the first byte of every ord() encoding, which is a
	// length of at most 8.
	ordEnd byte = 0x09
)

// revChunk is how many revisions one index chunk holds. Appending to a
// stream rewrites its last chunk, so a chunk stays small (under 200 bytes
// even for revisions a million positions apart).
const revChunk = 64

// appendOrd appends v so that byte order equals numeric order and no
// encoding is a prefix of another: a length byte (0-8), then the significant
// bytes big-endian. Small numbers, the common case for stream numbers and
// revisions, take two or three bytes instead of eight.
func appendOrd(b []byte, v uint64) []byte {
	n := (bits.Len64(v) + 7) / 8
	b = append(b, byte(n))
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*uint(i))))
	}
	return b
}

// readOrd decodes appendOrd's output at the start of b.
func readOrd(b []byte) (v uint64, rest []byte, ok bool) {
	if len(b) == 0 {
		return 0, nil, false
	}
	n := int(b[0])
	if n > 8 || len(b) < 1+n {
		return 0, nil, false
	}
	for _, c := range b[1 : 1+n] {
		v = v<<8 | uint64(c)
	}
	return v, b[1+n:], true
}

func streamPrefix(no uint64, tag byte) []byte {
	return append(appendOrd(make([]byte, 0, 16), no), tag)
}

// chunkKey is the index key of the chunk holding revision rev.
func chunkKey(no, rev uint64) []byte {
	return appendOrd(streamPrefix(no, tagRevision), rev/revChunk)
}

// revisionsEnd sorts after every chunk key of the stream and before its id
// keys.
func revisionsEnd(no uint64) []byte {
	return append(streamPrefix(no, tagRevision), ordEnd)
}

// chunkNumber parses the chunk number out of a chunk key of stream no.
func chunkNumber(k []byte, no uint64) (uint64, bool) {
	prefix := streamPrefix(no, tagRevision)
	if !hasPrefix(k, prefix) {
		return 0, false
	}
	c, rest, ok := readOrd(k[len(prefix):])
	return c, ok && len(rest) == 0
}

// decodeChunk appends the positions a chunk lists to dst.
func decodeChunk(v []byte, dst []uint64) ([]uint64, error) {
	var pos uint64
	for i := 0; len(v) > 0; i++ {
		d, n := binary.Uvarint(v)
		if n <= 0 || (i > 0 && d == 0) {
			return dst, errCorrupt
		}
		pos += d
		dst = append(dst, pos)
		v = v[n:]
	}
	if len(dst) == 0 {
		return dst, errCorrupt
	}
	return dst, nil
}

// chunkLen counts the positions of a chunk: every uvarint ends in exactly
// one byte below 0x80. 0 for a malformed chunk.
func chunkLen(v []byte) int {
	if len(v) == 0 || v[len(v)-1] >= 0x80 {
		return 0
	}
	n := 0
	for _, c := range v {
		if c < 0x80 {
			n++
		}
	}
	return n
}

// extendChunk returns a new chunk value: v followed by positions, which
// continue the stream after last, the chunk's last position (0 for a new
// chunk).
func extendChunk(v []byte, last uint64, positions []uint64) []byte {
	b := make([]byte, len(v), len(v)+len(positions)*binary.MaxVarintLen32)
	copy(b, v)
	for _, p := range positions {
		b = binary.AppendUvarint(b, p-last)
		last = p
	}
	return b
}

func idKey(no uint64, id uuid.UUID) []byte {
	return append(streamPrefix(no, tagID), id[:]...)
}

func be64(v uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), v)
}

func uvarint(v uint64) []byte {
	return binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64), v)
}

func readUvarint(b []byte) (uint64, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 || n != len(b) {
		return 0, errCorrupt
	}
	return v, nil
}

var errCorrupt = errors.New("corrupt record")

// Record flags.
const (
	// flagContentType: the record carries its content type; otherwise it is
	// the default, which most events use, so it costs nothing.
	flagContentType byte = 1 << iota
)

// A record is one event in the log:
//
//	flags byte
//	uvarint stream number
//	uvarint revision
//	8 bytes recorded time, Unix nanoseconds, big-endian
//	16 bytes event id
//	uvarint type number            see bucketTypes
//	[uvarint len + content type]  if flagContentType
//	uvarint len + data
//	metadata                       the rest
//
// The position is the key and the stream name lives in bucketNames, so
// neither is repeated here.
func encodeRecord(no, rev, typ uint64, recorded time.Time, ev *eventstore.EventData) []byte {
	ct := eventstore.ContentTypeOrDefault(ev.ContentType)
	var flags byte
	size := 1 + 3*binary.MaxVarintLen64 + 8 + 16 + binary.MaxVarintLen32 + len(ev.Data) + len(ev.Metadata)
	if ct != defaultContentType {
		flags |= flagContentType
		size += binary.MaxVarintLen32 + len(ct)
	}
	b := make([]byte, 0, size)
	b = append(b, flags)
	b = binary.AppendUvarint(b, no)
	b = binary.AppendUvarint(b, rev)
	b = binary.BigEndian.AppendUint64(b, uint64(recorded.UnixNano()))
	b = append(b, ev.ID[:]...)
	b = binary.AppendUvarint(b, typ)
	if flags&flagContentType != 0 {
		b = binary.AppendUvarint(b, uint64(len(ct)))
		b = append(b, ct...)
	}
	b = binary.AppendUvarint(b, uint64(len(ev.Data)))
	b = append(b, ev.Data...)
	b = append(b, ev.Metadata...)
	return b
}

var defaultContentType = eventstore.ContentTypeOrDefault("")

// recordHead is the part of a record needed to filter it and to answer an
// idempotent retry, decoded without copying the payload.
type recordHead struct {
	stream   uint64
	revision uint64
	recorded int64
	id       uuid.UUID
	typ      uint64
	ct       []byte // aliases the record; nil for the default
	rest     []byte // data length, data, metadata
}

func decodeHead(b []byte) (h recordHead, err error) {
	if len(b) < 1 {
		return h, errCorrupt
	}
	flags := b[0]
	b = b[1:]
	var n int
	if h.stream, n = binary.Uvarint(b); n <= 0 {
		return h, errCorrupt
	}
	b = b[n:]
	if h.revision, n = binary.Uvarint(b); n <= 0 {
		return h, errCorrupt
	}
	b = b[n:]
	if len(b) < 8+16 {
		return h, errCorrupt
	}
	h.recorded = int64(binary.BigEndian.Uint64(b))
	copy(h.id[:], b[8:24])
	b = b[24:]
	if h.typ, n = binary.Uvarint(b); n <= 0 {
		return h, errCorrupt
	}
	b = b[n:]
	if flags&flagContentType != 0 {
		if h.ct, b, err = readBytes(b); err != nil {
			return h, err
		}
	}
	h.rest = b
	return h, nil
}

func readBytes(b []byte) (field, rest []byte, err error) {
	l, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < l {
		return nil, nil, errCorrupt
	}
	return b[n : n+int(l)], b[n+int(l):], nil
}

// payload copies data and metadata out of the mapped file, which is only
// valid inside the transaction, into memory from a.
func (h *recordHead) payload(a *arena) (data, meta []byte, err error) {
	d, m, err := readBytes(h.rest)
	if err != nil {
		return nil, nil, err
	}
	if len(d)+len(m) == 0 {
		return nil, nil, nil
	}
	buf := a.alloc(len(d) + len(m))
	copy(buf, d)
	copy(buf[len(d):], m)
	if len(d) > 0 {
		data = buf[:len(d):len(d)]
	}
	if len(m) > 0 {
		meta = buf[len(d):]
	}
	return data, meta, nil
}

// arena hands out the payloads of a read from shared blocks: a read of a
// million events then makes thousands of allocations, not a million. Blocks
// start small and double, so that reading one short stream does not pay for
// zeroing a large block, and stop at a size that keeps what a caller holding
// on to one event also keeps alive small.
type arena struct {
	block []byte
	next  int // size of the next block
}

const (
	firstArenaBlock = 2 << 10
	maxArenaBlock   = 64 << 10
)

func (a *arena) alloc(n int) []byte {
	if n > maxArenaBlock/8 {
		return make([]byte, n)
	}
	if cap(a.block)-len(a.block) < n {
		size := max(a.next, firstArenaBlock, n)
		a.next = min(2*size, maxArenaBlock)
		a.block = make([]byte, 0, size)
	}
	i := len(a.block)
	a.block = a.block[:i+n]
	// The capacity limit keeps an append to one payload from spilling
	// into the next.
	return a.block[i : i+n : i+n]
}

// interner interns the short strings of decoded records (types, content
// types, stream names), which repeat heavily, so that a long read allocates
// them once rather than once per event.
type interner struct {
	m map[string]string
}

func (s *interner) intern(b []byte) string {
	if v, ok := s.m[string(b)]; ok {
		return v
	}
	if s.m == nil || len(s.m) >= maxInterned {
		s.m = make(map[string]string)
	}
	v := string(b)
	s.m[v] = v
	return v
}

const maxInterned = 4096

func corrupt(what string, pos uint64, err error) error {
	return fmt.Errorf("%s: position %d: %w", what, pos, err)
}

func beUint64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }
