package chain_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/chain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/bolt"
)

// The definition, spelt out byte by byte: a change to it changes every
// stored chain, so it must not change by accident.
func TestDigestDefinition(t *testing.T) {
	lp := func(b []byte) []byte {
		return append(binary.BigEndian.AppendUint64(nil, uint64(len(b))), b...)
	}
	id := uuid.MustParse("00112233-4455-4677-8899-aabbccddeeff")
	var msg []byte
	msg = append(msg, "caseledger-chain-v1\x00"...)
	msg = append(msg, lp(id[:])...)
	msg = append(msg, lp([]byte("MeetingHeld"))...)
	msg = append(msg, lp([]byte("application/json"))...)
	msg = append(msg, lp([]byte(`{"date":"2026-03-09"}`))...)
	msg = append(msg, lp([]byte(`{"prev_digest":"x"}`))...)
	want := sha256.Sum256(msg)
	for _, ct := range []string{"", "application/json"} {
		if got := chain.Of(id, "MeetingHeld", ct, []byte(`{"date":"2026-03-09"}`), []byte(`{"prev_digest":"x"}`)); got != chain.Digest(want) {
			t.Errorf("content type %q: digest %s, want %x", ct, got, want)
		}
	}
	genesis := sha256.Sum256(append([]byte("caseledger-chain-v1 genesis\x00"), lp([]byte("participant-1"))...))
	if got := chain.Genesis("participant-1"); got != chain.Digest(genesis) {
		t.Errorf("genesis %s, want %x", got, genesis)
	}
	if chain.Genesis("participant-1") == chain.Genesis("participant-2") {
		t.Error("two streams share a genesis")
	}
	// Length prefixes keep the boundaries: moving a byte from data to
	// metadata changes the digest.
	if chain.Of(id, "T", "", []byte("ab"), []byte("c")) == chain.Of(id, "T", "", []byte("a"), []byte("bc")) {
		t.Error("digest ignores where data end and metadata begin")
	}
}

func TestParse(t *testing.T) {
	d := chain.Genesis("s")
	if got, err := chain.Parse(d.String()); err != nil || got != d {
		t.Fatalf("Parse(String()) = %s, %v", got, err)
	}
	for _, bad := range []string{"", "00", strings.ToUpper(d.String()), d.String()[:63] + "g", d.String() + "00"} {
		if _, err := chain.Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

// chained returns n events of stream linked as a writer links them, at
// positions from pos on.
func chained(stream string, n int, pos uint64) []eventstore.RecordedEvent {
	evs := make([]eventstore.RecordedEvent, n)
	prev := chain.Genesis(stream)
	for i := range evs {
		meta, _ := json.Marshal(map[string]string{"actor": "u-1", "prev_digest": prev.String()})
		evs[i] = eventstore.RecordedEvent{
			ID: uuid.New(), Stream: stream, Revision: uint64(i), Position: pos + uint64(i), Type: "MeetingHeld",
			ContentType: "application/json", Data: []byte(`{"date":"2026-03-09","kind":"marker"}`), Metadata: meta,
		}
		prev = chain.OfRecorded(evs[i])
	}
	return evs
}

func verify(evs []eventstore.RecordedEvent) chain.Report {
	v := chain.NewVerifier()
	for _, e := range evs {
		v.Add(e)
	}
	return v.Report()
}

func TestVerifier(t *testing.T) {
	const s = "participant-a"
	tests := []struct {
		name   string
		tamper func(evs []eventstore.RecordedEvent) []eventstore.RecordedEvent
		// want is the revision named by the first break, -1 for none.
		want int
		// reason is part of the first break's reason.
		reason string
	}{
		{"intact", func(e []eventstore.RecordedEvent) []eventstore.RecordedEvent { return e }, -1, ""},
		{"a byte of the data changed", func(e []eventstore.RecordedEvent) []eventstore.RecordedEvent {
			e[1].Data = bytes.Replace(e[1].Data, []byte("marker"), []byte("markes"), 1)
			return e
		}, 1, "do not match the digest that revision 2"},
		{"the metadata changed", func(e []eventstore.RecordedEvent) []eventstore.RecordedEvent {
			e[2].Metadata = bytes.Replace(e[2].Metadata, []byte("u-1"), []byte("u-2"), 1)
			return e
		}, 2, "do not match"},
		{"the type changed", func(e []eventstore.RecordedEvent) []eventstore.RecordedEvent {
			e[0].Type = "EntryVoided"
			return e
		}, 0, "do not match"},
		{"the id changed", func(e []eventstore.RecordedEvent) []eventstore.RecordedEvent {
			e[1].ID = uuid.New()
			return e
		}, 1, "do not match"},
		{"an event removed", func(e []eventstore.RecordedEvent) []eventstore.RecordedEvent {
			return append(e[:1:1], e[2:]...)
		}, 2, "not contiguous"},
		{"two events swapped, revisions kept", func(e []eventstore.RecordedEvent) []eventstore.RecordedEvent {
			e[1].Data, e[2].Data = e[2].Data, e[1].Data
			e[1].Metadata, e[2].Metadata = e[2].Metadata, e[1].Metadata
			e[1].ID, e[2].ID = e[2].ID, e[1].ID
			return e
			// Revision 1 holds revision 2's link now, which does not match
			// revision 0: the break names revision 0 and the event whose
			// link disagrees, since a chain cannot tell which of the two
			// was changed.
		}, 0, "revision 1 (event"},
		{"the first event's link changed", func(e []eventstore.RecordedEvent) []eventstore.RecordedEvent {
			e[0].Metadata = []byte(`{"prev_digest":"` + chain.Genesis("other").String() + `"}`)
			return e
		}, 0, "genesis"},
		{"no link", func(e []eventstore.RecordedEvent) []eventstore.RecordedEvent {
			e[3].Metadata = []byte(`{"actor":"u-1"}`)
			return e
		}, 3, "no prev_digest"},
		{"metadata not JSON", func(e []eventstore.RecordedEvent) []eventstore.RecordedEvent {
			e[3].Metadata = []byte(`{"actor"`)
			return e
		}, 3, "not a JSON object"},
		{"a chain moved to another stream", func(e []eventstore.RecordedEvent) []eventstore.RecordedEvent {
			for i := range e {
				e[i].Stream = "participant-b"
			}
			return e
		}, 0, "genesis"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Another stream interleaved, which stays intact.
			a, b := chained(s, 5, 1), chained("employer-x", 5, 100)
			a = tt.tamper(a)
			var evs []eventstore.RecordedEvent
			for i := range max(len(a), len(b)) {
				if i < len(a) {
					evs = append(evs, a[i])
				}
				if i < len(b) {
					evs = append(evs, b[i])
				}
			}
			r := verify(evs)
			if tt.want < 0 {
				if !r.OK() {
					t.Fatalf("breaks: %v", r.Breaks)
				}
				return
			}
			if r.OK() {
				t.Fatal("no break found")
			}
			first := r.Breaks[0]
			var named eventstore.RecordedEvent
			for _, e := range a {
				if e.Revision == uint64(tt.want) {
					named = e
				}
			}
			if first.Stream != a[0].Stream || first.Revision != uint64(tt.want) || first.EventID != named.ID || first.Position != named.Position {
				t.Fatalf("first break %v, want revision %d (event %s, position %d)", first, tt.want, named.ID, named.Position)
			}
			if !strings.Contains(first.Reason, tt.reason) {
				t.Fatalf("reason %q, want %q in it", first.Reason, tt.reason)
			}
			for _, br := range r.Breaks {
				if br.Stream == "employer-x" {
					t.Fatalf("the intact stream broke: %v", br)
				}
			}
		})
	}
}

// A change to the last event of a stream is covered by no link yet; the
// heads digest shows it.
func TestHeadsDigestShowsAChangedLastEvent(t *testing.T) {
	evs := append(chained("participant-a", 3, 1), chained("participant-b", 2, 10)...)
	before := verify(evs)
	if !before.OK() || before.Streams != 2 || before.Events != 5 {
		t.Fatalf("report %+v", before)
	}
	evs[2].Data = []byte(`{"date":"2026-03-10"}`)
	after := verify(evs)
	if !after.OK() {
		t.Fatalf("a change to the last event broke a link: %v", after.Breaks)
	}
	if before.HeadsDigest() == after.HeadsDigest() {
		t.Fatal("the heads digest did not change")
	}
	// The digest is over sorted "stream head" lines.
	want := sha256.Sum256([]byte("participant-a " + before.Heads["participant-a"].String() + "\nparticipant-b " + before.Heads["participant-b"].String() + "\n"))
	if before.HeadsDigest() != chain.Digest(want) {
		t.Fatalf("heads digest %s, want %x", before.HeadsDigest(), want)
	}
}

func TestVerifyReadsTheWholeLogInPages(t *testing.T) {
	ctx := context.Background()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "events.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	streams := []string{"participant-a", "participant-b", "programme-c"}
	heads := map[string]chain.Digest{}
	for round := range 4 {
		for _, s := range streams {
			prev, ok := heads[s]
			if !ok {
				prev = chain.Genesis(s)
			}
			e := eventstore.EventData{ID: uuid.New(), Type: "T", Data: []byte(`{}`),
				Metadata: []byte(`{"prev_digest":"` + prev.String() + `"}`)}
			if _, err := store.Append(ctx, s, eventstore.Any, e); err != nil {
				t.Fatal(err)
			}
			heads[s] = chain.OfData(e)
			_ = round
		}
	}
	for _, page := range []int{0, 1, 5, 12, 100} {
		r, err := chain.Verify(ctx, store, page)
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK() || r.Events != 12 || r.Streams != 3 {
			t.Fatalf("page %d: %+v", page, r)
		}
		for s, h := range heads {
			if r.Heads[s] != h {
				t.Fatalf("page %d: head of %s is %s, want %s", page, s, r.Heads[s], h)
			}
		}
	}
}
