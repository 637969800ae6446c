package personaldata

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
)

// Pseudonyms for the pseudonymised export (access.md): an episode is
// named by a keyed hash, so that two exports of one deployment can be
// joined and none can be joined to a person without the key.
//
// A pseudonym is HMAC-SHA-256, under the export key, of a secret of the
// subject's stream followed by the subject (for an episode, the
// participant id and the episode number). Both keys are derived with
// HKDF-SHA-256, each for this one use: the export key from the master key,
// the stream's secret from the stream's data key. The export key makes
// the pseudonyms of one deployment stable and those of two deployments
// unrelated. The stream's secret makes a pseudonym die with the data key:
// once a participant's personal data are erased nobody, the deployment
// included, can compute their pseudonym again, or tell which stream a
// pseudonym in an older export named.

// HKDF info strings: one use each, versioned, so that a later scheme
// cannot collide with this one.
const (
	exportKeyInfo    = "caseledger export pseudonym key v1"
	streamSecretInfo = "caseledger export pseudonym stream secret v1"
)

// Pseudonyms computes export pseudonyms with a keyring's keys. It is safe
// for concurrent use.
type Pseudonyms struct {
	keys      *Keyring
	exportKey []byte
}

// Pseudonyms returns the keyring's pseudonym maker.
func (k *Keyring) Pseudonyms() (*Pseudonyms, error) {
	key, err := hkdf.Key(sha256.New, k.master.key[:], nil, exportKeyInfo, KeySize)
	if err != nil {
		return nil, fmt.Errorf("derive the export key: %w", err)
	}
	return &Pseudonyms{keys: k, exportKey: key}, nil
}

// Of returns the pseudonym of subject in the stream whose data key is
// keyID (see KeyID). It never creates a data key: for a stream without
// one (erased, or never given personal data) it fails with an error that
// matches ErrNoKey.
func (p *Pseudonyms) Of(ctx context.Context, keyID string, subject []byte) ([]byte, error) {
	if err := ValidateKeyID(keyID); err != nil {
		return nil, fmt.Errorf("pseudonym: %w", err)
	}
	w, err := p.keys.store.Get(ctx, keyID)
	if err != nil {
		return nil, fmt.Errorf("pseudonym: data key of %s: %w", keyID, err)
	}
	dataKey, err := p.keys.unwrapKey(keyID, w)
	if err != nil {
		return nil, fmt.Errorf("pseudonym: %w", err)
	}
	secret, err := hkdf.Key(sha256.New, dataKey, nil, streamSecretInfo, KeySize)
	clear(dataKey)
	if err != nil {
		return nil, fmt.Errorf("pseudonym: derive the secret of %s: %w", keyID, err)
	}
	mac := hmac.New(sha256.New, p.exportKey)
	mac.Write(secret) // fixed length, so secret and subject cannot shift into each other
	mac.Write(subject)
	clear(secret)
	return mac.Sum(nil), nil
}
