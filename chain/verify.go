package chain

import (
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/eventstore"
)

// Break names an event whose stored bytes no longer match its stream's
// chain.
type Break struct {
	Stream   string
	Revision uint64
	EventID  uuid.UUID
	Position uint64
	// Reason says what does not match, without quoting the event.
	Reason string
}

func (b Break) String() string {
	return fmt.Sprintf("%s revision %d (event %s, position %d): %s", b.Stream, b.Revision, b.EventID, b.Position, b.Reason)
}

// Report is what a walk over the log found.
type Report struct {
	Streams int
	Events  int
	// Breaks lists, in log order, the events whose chain is broken; empty
	// when every link holds.
	Breaks []Break
	// Heads maps each stream to the digest of its last event.
	Heads map[string]Digest
}

// OK reports whether every link holds.
func (r Report) OK() bool { return len(r.Breaks) == 0 }

// HeadsDigest is one digest over every stream's head: SHA-256 over the
// lines "<stream> <head digest in hex>\n", sorted by stream name. Kept
// outside the store, it shows a later change to the last event of any
// stream, which no successor's link covers yet.
func (r Report) HeadsDigest() Digest {
	h := sha256.New()
	for _, s := range slices.Sorted(maps.Keys(r.Heads)) {
		fmt.Fprintf(h, "%s %s\n", s, r.Heads[s])
	}
	return sum(h)
}

// Verifier checks events, in log order, against the chains of their
// streams. The zero value is not usable; use NewVerifier.
type Verifier struct {
	streams map[string]*link
	events  int
	breaks  []Break
}

// link is where a stream's chain stands.
type link struct {
	next uint64 // the revision expected next
	head Digest // digest of the last event, or the genesis
	last eventRef
}

type eventRef struct {
	revision, position uint64
	id                 uuid.UUID
}

// NewVerifier returns a verifier that has seen no event.
func NewVerifier() *Verifier {
	return &Verifier{streams: map[string]*link{}}
}

// Add checks e against its stream's chain so far. Events of one stream
// must come in the order of the log.
//
// An event whose link does not match its predecessor's digest breaks the
// chain there: the predecessor's bytes were changed (or its successor's
// link was), and the predecessor is the event named. A first event that
// does not link to its stream's genesis, an event without a readable
// link, and a revision out of sequence are named themselves. After a
// break the walk goes on from the bytes as they are, so one changed event
// is named once.
func (v *Verifier) Add(e eventstore.RecordedEvent) {
	v.events++
	st, ok := v.streams[e.Stream]
	if !ok {
		st = &link{head: Genesis(e.Stream)}
		v.streams[e.Stream] = st
	}
	here := eventRef{revision: e.Revision, position: e.Position, id: e.ID}
	if e.Revision != st.next {
		reason := fmt.Sprintf("revision %d follows revision %d: revisions are not contiguous", e.Revision, st.last.revision)
		if st.next == 0 {
			reason = fmt.Sprintf("the stream starts at revision %d, not 0", e.Revision)
		}
		v.fail(e.Stream, here, reason)
	}
	prev, err := Link(e.Metadata)
	switch {
	case e.Revision != st.next:
		// The gap explains the link that does not match; naming the
		// predecessor as changed would mislead.
	case err != nil:
		v.fail(e.Stream, here, err.Error())
	case prev != st.head && e.Revision == 0:
		v.fail(e.Stream, here, "its prev_digest is not the genesis digest of this stream: its metadata were changed, or it was moved from another stream")
	case prev != st.head && ok:
		v.fail(e.Stream, st.last, fmt.Sprintf("its stored bytes do not match the digest that revision %d (event %s) recorded: it was changed, or that event's link was", e.Revision, e.ID))
	case prev != st.head:
		v.fail(e.Stream, here, "its prev_digest does not match the revision before it")
	}
	st.head = OfRecorded(e)
	st.next = e.Revision + 1
	st.last = here
}

func (v *Verifier) fail(stream string, at eventRef, reason string) {
	v.breaks = append(v.breaks, Break{Stream: stream, Revision: at.revision, EventID: at.id, Position: at.position, Reason: reason})
}

// Report returns what the verifier found so far.
func (v *Verifier) Report() Report {
	r := Report{Streams: len(v.streams), Events: v.events, Breaks: slices.Clone(v.breaks), Heads: make(map[string]Digest, len(v.streams))}
	for s, st := range v.streams {
		r.Heads[s] = st.head
	}
	return r
}

// DefaultPageSize is how many events Verify reads at a time.
const DefaultPageSize = 1000

// Verify walks the whole log forwards, pageSize events at a time
// (DefaultPageSize when 0), and checks every stream's chain. It fails only
// when the store does; broken links are in the report.
func Verify(ctx context.Context, store eventstore.Store, pageSize int) (Report, error) {
	if pageSize <= 0 {
		pageSize = DefaultPageSize
	}
	v := NewVerifier()
	var from uint64
	for {
		page, err := store.ReadAll(ctx, eventstore.ReadAllOptions{From: from, Limit: pageSize})
		if err != nil {
			return Report{}, fmt.Errorf("verify: read the log after position %d: %w", from, err)
		}
		for _, e := range page {
			if e.Position <= from {
				return Report{}, fmt.Errorf("verify: the log went back from position %d to %d", from, e.Position)
			}
			v.Add(e)
			from = e.Position
		}
		if len(page) < pageSize {
			return v.Report(), nil
		}
	}
}
