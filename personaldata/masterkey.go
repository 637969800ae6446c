package personaldata

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/caseledger/caseledger/internal/atomicfile"
)

// KeySize is the size in bytes of master keys and data keys: AES-256.
const KeySize = 32

// maxMasterKeyFile bounds what ReadMasterKeyFile reads: base64 of 32 bytes
// is 44 characters.
const maxMasterKeyFile = 1 << 10

// MasterKey wraps and unwraps data keys. It comes from the environment or a
// key file and is never written to the event log or the key store. Its
// zero value holds no key. Formatting or logging one prints its id, never
// its bytes.
type MasterKey struct {
	key *[KeySize]byte
	id  string
}

// ErrInvalidMasterKey: what was given is not a master key. Its messages
// never quote what was given.
var ErrInvalidMasterKey = errors.New("invalid master key")

// NewMasterKey returns the master key of 32 key bytes. An all-zero key is
// refused: it is a placeholder, not a secret.
func NewMasterKey(b []byte) (MasterKey, error) {
	if len(b) != KeySize {
		return MasterKey{}, fmt.Errorf("%w: %d bytes, want %d", ErrInvalidMasterKey, len(b), KeySize)
	}
	if subtle.ConstantTimeCompare(b, make([]byte, KeySize)) == 1 {
		return MasterKey{}, fmt.Errorf("%w: all bytes are zero", ErrInvalidMasterKey)
	}
	k := new([KeySize]byte)
	copy(k[:], b)
	mac := hmac.New(sha256.New, k[:])
	mac.Write([]byte("caseledger master key id v1"))
	return MasterKey{key: k, id: "mk-" + hex.EncodeToString(mac.Sum(nil)[:8])}, nil
}

// ParseMasterKey reads a master key written in base64 (standard or URL
// alphabet, padded or not; surrounding white space is ignored), as
// CASELEDGER_MASTER_KEY and key files hold it.
func ParseMasterKey(s string) (MasterKey, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return MasterKey{}, fmt.Errorf("%w: empty", ErrInvalidMasterKey)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return NewMasterKey(b)
		}
	}
	return MasterKey{}, fmt.Errorf("%w: not base64 of %d bytes", ErrInvalidMasterKey, KeySize)
}

// GenerateMasterKey returns a new random master key.
func GenerateMasterKey() (MasterKey, error) {
	b := make([]byte, KeySize)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		return MasterKey{}, fmt.Errorf("generate master key: %w", err)
	}
	return NewMasterKey(b)
}

// Encode returns the key in standard base64, as ParseMasterKey reads it.
// Only code that writes a key file calls it.
func (m MasterKey) Encode() string {
	if m.key == nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(m.key[:])
}

// ID names the key without revealing it: the start of an HMAC of a fixed
// text under the key. Key files record the id of the master key that
// wrapped them, so that a wrong master key is named as such.
func (m MasterKey) ID() string { return m.id }

// IsZero reports whether m holds no key.
func (m MasterKey) IsZero() bool { return m.key == nil }

// String names the key by its id.
func (m MasterKey) String() string {
	if m.key == nil {
		return "MasterKey(none)"
	}
	return "MasterKey(" + m.id + ")"
}

// GoString is String: %#v prints no key bytes either.
func (m MasterKey) GoString() string { return m.String() }

// Format prints String for every verb, so that no verb prints key bytes.
func (m MasterKey) Format(f fmt.State, _ rune) { io.WriteString(f, m.String()) }

// LogValue logs the key's id only.
func (m MasterKey) LogValue() slog.Value { return slog.StringValue(m.String()) }

// ReadMasterKeyFile reads a master key file: base64 of 32 bytes, as
// WriteMasterKeyFile writes it.
func ReadMasterKeyFile(path string) (MasterKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return MasterKey{}, fmt.Errorf("read master key file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxMasterKeyFile+1))
	if err != nil {
		return MasterKey{}, fmt.Errorf("read master key file %s: %w", path, err)
	}
	if len(b) > maxMasterKeyFile {
		return MasterKey{}, fmt.Errorf("master key file %s: %w: the file is too large", path, ErrInvalidMasterKey)
	}
	m, err := ParseMasterKey(string(b))
	if err != nil {
		return MasterKey{}, fmt.Errorf("master key file %s: %w", path, err)
	}
	return m, nil
}

// OpenOrCreateMasterKeyFile reads the master key file at path, or, when
// there is none, creates one (mode 0600) holding a new random key. created
// reports which. It is for the demo; a production master key is made and
// kept by the operator, apart from the data.
func OpenOrCreateMasterKeyFile(path string) (m MasterKey, created bool, err error) {
	m, err = ReadMasterKeyFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return m, false, err
	}
	if m, err = GenerateMasterKey(); err != nil {
		return MasterKey{}, false, err
	}
	dir, name := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	err = atomicfile.CreateExclusive(dir, name, []byte(m.Encode()+"\n"), 0o600)
	if errors.Is(err, fs.ErrExist) { // another process created it first
		m, err = ReadMasterKeyFile(path)
		return m, false, err
	}
	if err != nil {
		return MasterKey{}, false, fmt.Errorf("create master key file: %w", err)
	}
	return m, true, nil
}
