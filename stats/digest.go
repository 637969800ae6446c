package stats

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"

	"github.com/google/uuid"
)

// A report's events_digest names exactly the events that fed it: the
// definition of the cohort's programme and every event of each
// participant stream with an episode in the cohort. It is built so that a
// read model can keep its part of every stream as the events come, in 32
// bytes, and a report over a hundred thousand streams hashes only their
// chains:
//
//   - a stream's chain starts as 32 zero bytes; each of its events, in
//     stream order, makes it SHA-256(chain || the event's id as 16 bytes);
//   - events_digest is the lower-case hex SHA-256 of the programme
//     definition's event id (16 bytes, when the cohort names a programme
//     that has a definition), followed by the chain of every stream with
//     an episode in the cohort, in stream-name order.
//
// events_used counts the same events.

// chain is a stream's running digest of its event ids.
type chain [sha256.Size]byte

// next is the chain after one more event.
func (c chain) next(id uuid.UUID) chain {
	var b [sha256.Size + 16]byte
	copy(b[:], c[:])
	copy(b[sha256.Size:], id[:])
	return sha256.Sum256(b[:])
}

// chainOf is the chain of a stream's events.
func chainOf(ids []uuid.UUID) chain {
	var c chain
	for _, id := range ids {
		c = c.next(id)
	}
	return c
}

// usedDigest is a report's events_digest and events_used, built in
// their order: the programme definition first, then the streams by name.
type usedDigest struct {
	h      hash.Hash
	events int
}

func (d *usedDigest) write(b []byte) {
	if d.h == nil {
		d.h = sha256.New()
	}
	d.h.Write(b)
}

// addEvent adds the programme definition's event.
func (d *usedDigest) addEvent(id uuid.UUID) {
	d.write(id[:])
	d.events++
}

// addStream adds a stream of n events whose chain is c.
func (d *usedDigest) addStream(c chain, n int) { d.addChains(c[:], n) }

// addChains adds streams of n events in all whose chains are chains, one
// after the other.
func (d *usedDigest) addChains(chains []byte, n int) {
	d.write(chains)
	d.events += n
}

// sum is the digest in lower-case hex.
func (d *usedDigest) sum() string {
	d.write(nil)
	return hex.EncodeToString(d.h.Sum(nil))
}
