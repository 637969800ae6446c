package personaldata

import (
	"context"
	"errors"
	"fmt"
)

// KeyStore keeps wrapped data keys, one per key id, apart from the event
// log: destroying a key makes what it sealed unreadable while the events
// stay. Implementations are safe for concurrent use, also by several
// processes sharing one store, and must pass keystoretest.Run.
type KeyStore interface {
	// Get returns the key stored under id, or an error matching ErrNoKey.
	Get(ctx context.Context, id string) (WrappedKey, error)
	// Create stores key under id, durably, unless a key is stored under id
	// already: then it stores nothing and fails with ErrKeyExists, so that
	// of two writers racing to create a participant's key exactly one wins
	// and both use its key.
	Create(ctx context.Context, id string, key WrappedKey) error
	// Delete destroys the key stored under id, durably and as thoroughly as
	// the medium allows. Deleting a key that is not there is not an error.
	Delete(ctx context.Context, id string) error
}

// WrappedKey is a data key encrypted under a master key: what a KeyStore
// keeps.
type WrappedKey struct {
	// Master is the ID of the master key that wrapped it.
	Master string
	// Ciphertext is nonce (12 bytes) || AES-256-GCM(master key, data key)
	// with the tag (16 bytes); the additional data binds it to its key id.
	Ciphertext []byte
}

// Errors of the key store and the keyring; callers match them with
// errors.Is.
var (
	// ErrNoKey: no data key is stored under the id; for a participant
	// whose personal data were erased, it was destroyed.
	ErrNoKey = errors.New("no data key")
	// ErrKeyExists: Create found a key stored under the id already.
	ErrKeyExists = errors.New("data key exists already")
	// ErrInvalidKeyID: the id cannot name a key.
	ErrInvalidKeyID = errors.New("invalid key id")
	// ErrKeyStoreUnavailable: the key store could not be read or written
	// (its disk is full, read-only or failing, its volume is gone). The
	// call did nothing a retry would repeat: it may be retried later.
	ErrKeyStoreUnavailable = errors.New("key store unavailable")
)

// MaxKeyIDLen bounds key ids, which are stream names (see KeyID).
const MaxKeyIDLen = 200

// ValidateKeyID refuses ids a key store need not hold: empty, longer than
// MaxKeyIDLen, starting with a dot, or with a byte other than an ASCII
// letter, digit, '.', '_' or '-'. Such ids are safe as file names and
// database keys on every platform.
func ValidateKeyID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty", ErrInvalidKeyID)
	case len(id) > MaxKeyIDLen:
		return fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidKeyID, len(id), MaxKeyIDLen)
	case id[0] == '.':
		return fmt.Errorf("%w: starts with a dot", ErrInvalidKeyID)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: byte %d is not a letter, digit, '.', '_' or '-'", ErrInvalidKeyID, i)
		}
	}
	return nil
}

// KeyID is the id of the data key that seals the personal members of a
// stream's events: the stream name itself. A participant's stream holds
// everything about them, so its key is the participant's key; an
// employer's stream holds its contact persons, sealed under the
// employer's key.
func KeyID(stream string) string { return stream }
