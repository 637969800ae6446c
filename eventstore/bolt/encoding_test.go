package bolt

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/eventstore"
)

func TestOrdPreservesOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	vals := []uint64{0, 1, 255, 256, 65535, 65536, math.MaxUint32, math.MaxUint64 - 1, math.MaxUint64}
	for range 2000 {
		vals = append(vals, rng.Uint64()>>rng.IntN(64))
	}
	for _, a := range vals {
		enc := appendOrd(nil, a)
		got, rest, ok := readOrd(append(enc, 0xAB))
		if !ok || got != a || !bytes.Equal(rest, []byte{0xAB}) {
			t.Fatalf("readOrd(appendOrd(%d)) = %d, %x, %v", a, got, rest, ok)
		}
	}
	// Keys of two numbers, each followed by more key, must sort by the
	// numbers first: that is what makes ord(no)+tag+... group by stream.
	for i := 1; i < len(vals); i++ {
		a, b := vals[i-1], vals[i]
		ka := append(appendOrd(nil, a), 0xFF)
		kb := append(appendOrd(nil, b), 0x00)
		if cmp := bytes.Compare(ka, kb); (a < b && cmp >= 0) || (a > b && cmp <= 0) {
			t.Fatalf("ord(%d)+ff vs ord(%d)+00 compares %d", a, b, cmp)
		}
	}
}

func TestChunkKeysSortBeforeEndMarkerAndIDKeys(t *testing.T) {
	const no = 300
	keys := [][]byte{chunkKey(no, 0), chunkKey(no, revChunk), chunkKey(no, 1<<40), chunkKey(no, math.MaxUint64),
		revisionsEnd(no), idKey(no, uuid.Nil), idKey(no, uuid.Max), chunkKey(no+1, 0)}
	if !slices.IsSortedFunc(keys, bytes.Compare) {
		t.Fatalf("keys out of order: %x", keys)
	}
	if !bytes.Equal(chunkKey(no, revChunk-1), chunkKey(no, 0)) {
		t.Fatal("revisions of one chunk have different keys")
	}
	if c, ok := chunkNumber(chunkKey(no, 5*revChunk+3), no); !ok || c != 5 {
		t.Fatalf("chunkNumber = %d, %v; want 5", c, ok)
	}
	if _, ok := chunkNumber(chunkKey(no+1, 0), no); ok {
		t.Fatal("chunkNumber accepted another stream's key")
	}
}

func TestChunkRoundTrip(t *testing.T) {
	positions := []uint64{1, 2, 300, 70_000, 70_001, 1 << 40}
	var v []byte
	var last uint64
	for i := range positions {
		// Grown one append at a time, as the writer does.
		v = extendChunk(v, last, positions[i:i+1])
		last = positions[i]
		if n := chunkLen(v); n != i+1 {
			t.Fatalf("chunkLen after %d positions = %d", i+1, n)
		}
	}
	if whole := extendChunk(nil, 0, positions); !bytes.Equal(whole, v) {
		t.Fatalf("chunk grown in steps %x differs from one built at once %x", v, whole)
	}
	got, err := decodeChunk(v, nil)
	if err != nil || !slices.Equal(got, positions) {
		t.Fatalf("decodeChunk = %v, %v; want %v", got, err, positions)
	}
	for _, bad := range [][]byte{nil, {0x80}, {1, 0}} {
		if _, err := decodeChunk(bad, nil); err == nil {
			t.Fatalf("decodeChunk(%x) accepted a malformed chunk", bad)
		}
	}
}

func TestRecordRoundTrip(t *testing.T) {
	rec := time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)
	cases := []eventstore.EventData{
		{ID: uuid.New(), Type: "MeetingHeld", Data: []byte(`{"a":1}`), Metadata: []byte(`{"m":2}`)},
		{ID: uuid.New(), Type: "AttachmentAdded", ContentType: "application/octet-stream", Data: []byte{0, 1, 0}},
		{ID: uuid.New(), Type: "Empty"},
		{ID: uuid.New(), Type: "OnlyMeta", Metadata: []byte{0}},
		{ID: uuid.New(), Type: "ExplicitJSON", ContentType: "application/json", Data: []byte("x")},
	}
	for _, ev := range cases {
		b := encodeRecord(42, 7, 3, rec, &ev)
		h, err := decodeHead(b)
		if err != nil {
			t.Fatalf("%s: decode: %v", ev.Type, err)
		}
		data, meta, err := h.payload(&arena{})
		if err != nil {
			t.Fatalf("%s: payload: %v", ev.Type, err)
		}
		ct := defaultContentType
		if h.ct != nil {
			ct = string(h.ct)
		}
		if h.stream != 42 || h.revision != 7 || h.recorded != rec.UnixNano() || h.id != ev.ID || h.typ != 3 || ct != eventstore.ContentTypeOrDefault(ev.ContentType) ||
			!bytes.Equal(data, ev.Data) || !bytes.Equal(meta, ev.Metadata) {
			t.Fatalf("%s: round trip gave %+v data %q meta %q", ev.Type, h, data, meta)
		}
		// Every truncation is refused, never misread as a shorter event,
		// except where only metadata (the tail) is cut.
		fixed := len(b) - len(ev.Metadata)
		for n := range fixed {
			if h, err := decodeHead(b[:n]); err == nil {
				if _, _, err := h.payload(&arena{}); err == nil {
					t.Fatalf("%s: record cut to %d of %d bytes decoded without error", ev.Type, n, len(b))
				}
			} else if !errors.Is(err, errCorrupt) {
				t.Fatalf("%s: cut to %d: %v", ev.Type, n, err)
			}
		}
	}
}

func TestDefaultContentTypeCostsNothing(t *testing.T) {
	ev := eventstore.EventData{ID: uuid.New(), Type: "T", Data: []byte("d")}
	plain := encodeRecord(1, 0, 1, time.Unix(0, 0), &ev)
	ev.ContentType = "application/json"
	explicit := encodeRecord(1, 0, 1, time.Unix(0, 0), &ev)
	if !bytes.Equal(plain, explicit) {
		t.Fatalf("explicit default content type is stored: %d vs %d bytes", len(explicit), len(plain))
	}
}

func TestArenaPayloadsDoNotOverlap(t *testing.T) {
	a := &arena{}
	x, y := a.alloc(3), a.alloc(3)
	copy(y, "yyy")
	x = append(x, "xxxx"...)
	if string(y) != "yyy" {
		t.Fatalf("appending to one payload changed the next: %q", y)
	}
	if big := a.alloc(maxArenaBlock); len(big) != maxArenaBlock {
		t.Fatalf("large allocation of %d bytes", len(big))
	}
	_ = x
}
