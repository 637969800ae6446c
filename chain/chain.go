// Package chain links the events of each stream into a hash chain, so that
// a change to any stored byte of an event is found.
//
// The digest of an event is taken over its bytes as stored (after the
// personal member is sealed, so that destroying a data key changes
// nothing the chain covers):
//
//	digest(e) = SHA-256("caseledger-chain-v1\x00" || lp(id) || lp(type) || lp(content type) || lp(data) || lp(metadata))
//
// where lp(x) is the length of x as 8 bytes big-endian followed by x, and
// id is the event id's 16 bytes. Each event's metadata carries, as
// "prev_digest" in lower-case hex, the digest of its predecessor in the
// stream; the first event carries the stream's genesis digest
//
//	genesis(stream) = SHA-256("caseledger-chain-v1 genesis\x00" || lp(stream))
//
// so that a chain cannot be moved to another stream. The writer of a
// stream computes the digests as it appends (casework does); concurrent
// writers are serialised by the expected revision, so each chain is a
// line. A Verifier walks the log and names every event whose bytes no
// longer match its stream's chain.
package chain

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/eventstore"
)

// PrevMember is the metadata member that holds the predecessor's digest.
const PrevMember = "prev_digest"

// ErrBroken: an event's link does not match its predecessor's digest, or
// revisions are not contiguous.
var ErrBroken = errors.New("hash chain broken")

// Digest is a SHA-256 digest of an event, or a stream's genesis.
type Digest [sha256.Size]byte

// String is the digest in lower-case hex, as metadata carry it.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// Parse reads a digest written by String.
func Parse(s string) (Digest, error) {
	var d Digest
	if len(s) != 2*len(d) {
		return Digest{}, fmt.Errorf("digest: %d characters, want %d", len(s), 2*len(d))
	}
	if _, err := hex.Decode(d[:], []byte(s)); err != nil || d.String() != s {
		return Digest{}, errors.New("digest: not lower-case hex")
	}
	return d, nil
}

// Genesis is the digest the first event of stream links to.
func Genesis(stream string) Digest {
	h := sha256.New()
	h.Write([]byte("caseledger-chain-v1 genesis\x00"))
	writeLP(h, []byte(stream))
	return sum(h)
}

// Of is the digest of an event with these stored bytes. An empty content
// type is the store's default (eventstore.ContentTypeOrDefault), as it is
// read back.
func Of(id uuid.UUID, typ, contentType string, data, metadata []byte) Digest {
	h := sha256.New()
	h.Write([]byte("caseledger-chain-v1\x00"))
	writeLP(h, id[:])
	writeLP(h, []byte(typ))
	writeLP(h, []byte(eventstore.ContentTypeOrDefault(contentType)))
	writeLP(h, data)
	writeLP(h, metadata)
	return sum(h)
}

// OfData is the digest of an event about to be appended.
func OfData(e eventstore.EventData) Digest {
	return Of(e.ID, e.Type, e.ContentType, e.Data, e.Metadata)
}

// OfRecorded is the digest of a stored event.
func OfRecorded(e eventstore.RecordedEvent) Digest {
	return Of(e.ID, e.Type, e.ContentType, e.Data, e.Metadata)
}

// Link returns the digest an event's metadata say its predecessor has.
func Link(metadata []byte) (Digest, error) {
	var m struct {
		Prev *string `json:"prev_digest"`
	}
	if err := json.Unmarshal(metadata, &m); err != nil {
		return Digest{}, errors.New("metadata are not a JSON object")
	}
	if m.Prev == nil {
		return Digest{}, fmt.Errorf("metadata carry no %s", PrevMember)
	}
	d, err := Parse(*m.Prev)
	if err != nil {
		return Digest{}, fmt.Errorf("metadata %s: %w", PrevMember, err)
	}
	return d, nil
}

func writeLP(h hash.Hash, b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}

func sum(h hash.Hash) Digest {
	var d Digest
	h.Sum(d[:0])
	return d
}
