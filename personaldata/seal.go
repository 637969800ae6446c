package personaldata

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"
)

// PersonalMember is the JSON member of an event that holds its personal
// data and free text.
const PersonalMember = "personal"

// Errors of sealed members; none of their messages quote the data.
var (
	// ErrMalformed: stored event data are not a JSON object, or its
	// personal member is neither absent, null nor a well-formed sealed
	// member.
	ErrMalformed = errors.New("malformed event data")
	// ErrInClear: the personal member of a stored event is not sealed.
	ErrInClear = errors.New("personal data stored in clear")
	// ErrTampered: a sealed member does not open under its data key: it
	// was altered, or moved from another event.
	ErrTampered = errors.New("sealed personal data do not open")
)

// sealedMember is the stored form of a personal member.
type sealedMember struct {
	Sealed string `json:"sealed"`
	Key    string `json:"key"`
}

// SealEvent returns data, the JSON object of an event that the stream will
// hold under id, with its personal member sealed under the stream's data
// key, which is created if the stream has none. Data without a personal
// member (or with null) are returned as they are, and create no key.
func (k *Keyring) SealEvent(ctx context.Context, stream string, id uuid.UUID, data []byte) ([]byte, error) {
	return k.seal(ctx, stream, id, data, true)
}

// SealEventWithExistingKey is SealEvent for a stream that holds sealed
// personal data already: its data key must be in the store, and a missing
// one fails with an error matching both ErrNoKey and
// ErrKeyStoreUnavailable, never makes a new key. A key store that lost
// the key, or a key volume not mounted, must not leave one participant's
// data under two keys, the older of them unreadable.
func (k *Keyring) SealEventWithExistingKey(ctx context.Context, stream string, id uuid.UUID, data []byte) ([]byte, error) {
	out, err := k.seal(ctx, stream, id, data, false)
	if errors.Is(err, ErrNoKey) {
		return nil, fmt.Errorf("%w: %w", ErrKeyStoreUnavailable, err)
	}
	return out, err
}

func (k *Keyring) seal(ctx context.Context, stream string, id uuid.UUID, data []byte, create bool) ([]byte, error) {
	members, i, err := personalOf(data)
	if err != nil {
		return nil, fmt.Errorf("seal event %s: %w", id, err)
	}
	if i < 0 {
		return data, nil
	}
	if _, err := parseSealed(members[i].value); err == nil {
		return nil, fmt.Errorf("seal event %s: %w: its personal member is sealed already", id, ErrMalformed)
	}
	if bytes.TrimSpace(members[i].value)[0] != '{' {
		return nil, fmt.Errorf("seal event %s: %w: the personal member is not an object", id, ErrMalformed)
	}
	keyID := KeyID(stream)
	if err := ValidateKeyID(keyID); err != nil {
		return nil, fmt.Errorf("seal event %s: %w", id, err)
	}
	aead, err := k.dataKey(ctx, keyID, create)
	if err != nil {
		return nil, fmt.Errorf("seal event %s: %w", id, err)
	}
	var plain bytes.Buffer
	if err := json.Compact(&plain, members[i].value); err != nil {
		return nil, fmt.Errorf("seal event %s: %w", id, ErrMalformed)
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+plain.Len()+aead.Overhead())
	if _, err := io.ReadFull(k.rand, nonce); err != nil {
		return nil, fmt.Errorf("seal event %s: %w", id, err)
	}
	blob := aead.Seal(nonce, nonce, plain.Bytes(), sealAD(stream, id, keyID))
	sealed, err := json.Marshal(sealedMember{Sealed: base64.StdEncoding.EncodeToString(blob), Key: keyID})
	if err != nil {
		return nil, fmt.Errorf("seal event %s: %w", id, err)
	}
	members[i].value = sealed
	return writeObject(members), nil
}

// OpenEvent returns data, the JSON object the stream holds under id, with
// its personal member opened. Data without a personal member are returned
// as they are. It fails with ErrNoKey when the stream's data key is gone
// (the participant's personal data were erased; StripPersonal then gives
// what can still be read), ErrInClear when the member is not sealed,
// ErrTampered when it does not open, ErrWrongMasterKey when the key does
// not unwrap.
func (k *Keyring) OpenEvent(ctx context.Context, stream string, id uuid.UUID, data []byte) ([]byte, error) {
	members, i, err := personalOf(data)
	if err != nil {
		return nil, fmt.Errorf("open event %s: %w", id, err)
	}
	if i < 0 {
		return data, nil
	}
	s, err := parseSealed(members[i].value)
	if err != nil {
		return nil, fmt.Errorf("open event %s: %w", id, err)
	}
	keyID := KeyID(stream)
	if s.key != keyID {
		return nil, fmt.Errorf("open event %s: %w: sealed under another stream's key", id, ErrTampered)
	}
	aead, err := k.dataKey(ctx, keyID, false)
	if err != nil {
		return nil, fmt.Errorf("open event %s: %w", id, err)
	}
	ns := aead.NonceSize()
	if len(s.blob) < ns+aead.Overhead() {
		return nil, fmt.Errorf("open event %s: %w: too short", id, ErrTampered)
	}
	plain, err := aead.Open(nil, s.blob[:ns], s.blob[ns:], sealAD(stream, id, keyID))
	if err != nil {
		return nil, fmt.Errorf("open event %s: %w", id, ErrTampered)
	}
	if !json.Valid(plain) || bytes.TrimSpace(plain)[0] != '{' {
		return nil, fmt.Errorf("open event %s: %w: the opened member is not a JSON object", id, ErrMalformed)
	}
	members[i].value = plain
	return writeObject(members), nil
}

// StripPersonal returns data without its personal member: what an event
// shows once its data key is destroyed. Data without one are returned as
// they are.
func StripPersonal(data []byte) ([]byte, error) {
	members, i, err := personalOf(data)
	if err != nil {
		return nil, fmt.Errorf("strip personal data: %w", err)
	}
	if i < 0 {
		return data, nil
	}
	return writeObject(append(members[:i:i], members[i+1:]...)), nil
}

// HasPersonal reports whether data, the JSON object of an event, carry a
// personal member that is not null.
func HasPersonal(data []byte) (bool, error) {
	_, i, err := personalOf(data)
	return i >= 0, err
}

// IsSealed reports whether data, as stored, hold a personal member in the
// sealed form (and false for data without a personal member).
func IsSealed(data []byte) bool {
	members, i, err := personalOf(data)
	if err != nil || i < 0 {
		return false
	}
	_, err = parseSealed(members[i].value)
	return err == nil
}

// sealAD binds a sealed member to its stream, its event and its key.
func sealAD(stream string, id uuid.UUID, keyID string) []byte {
	b := []byte("caseledger personal v1\x00")
	b = appendLP(b, []byte(stream))
	b = append(b, id[:]...)
	return appendLP(b, []byte(keyID))
}

func appendLP(b, part []byte) []byte {
	n := uint32(len(part))
	b = append(b, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	return append(b, part...)
}

type sealed struct {
	blob []byte
	key  string
}

// maxSealedMember bounds a sealed member before it is decoded; events are
// at most 1 MiB (eventstore.DefaultMaxEventSize).
const maxSealedMember = 4 << 20

// parseSealed reads the stored form of a personal member strictly: an
// object with exactly the string members "sealed" (standard base64) and
// "key" (a valid key id), each once.
func parseSealed(v json.RawMessage) (sealed, error) {
	if len(v) > maxSealedMember {
		return sealed{}, fmt.Errorf("%w: sealed member too large", ErrMalformed)
	}
	members, err := parseObject(v)
	if err != nil {
		if t := bytes.TrimSpace(v); len(t) > 0 && t[0] != '{' {
			return sealed{}, fmt.Errorf("%w: the personal member is not an object", ErrMalformed)
		}
		return sealed{}, err
	}
	var s sealedMember
	var haveSealed, haveKey bool
	for _, m := range members {
		var dst *string
		switch m.name {
		case "sealed":
			dst, haveSealed = &s.Sealed, true
		case "key":
			dst, haveKey = &s.Key, true
		default:
			return sealed{}, ErrInClear
		}
		if err := json.Unmarshal(m.value, dst); err != nil {
			return sealed{}, fmt.Errorf("%w: sealed member %q is not a string", ErrMalformed, m.name)
		}
	}
	if !haveSealed || !haveKey {
		return sealed{}, ErrInClear
	}
	if err := ValidateKeyID(s.Key); err != nil {
		return sealed{}, fmt.Errorf("%w: sealed member: %v", ErrMalformed, err)
	}
	blob, err := base64.StdEncoding.Strict().DecodeString(s.Sealed)
	if err != nil {
		return sealed{}, fmt.Errorf("%w: sealed member is not base64", ErrMalformed)
	}
	return sealed{blob: blob, key: s.Key}, nil
}

// member is one member of a JSON object, its value as written.
type member struct {
	name  string
	value json.RawMessage
}

// personalOf parses data, an event's JSON object, and finds its personal
// member: its index, or -1 when it is absent or null.
func personalOf(data []byte) ([]member, int, error) {
	members, err := parseObject(data)
	if err != nil {
		return nil, -1, err
	}
	for i, m := range members {
		if m.name == PersonalMember {
			if string(bytes.TrimSpace(m.value)) == "null" {
				return members, -1, nil
			}
			return members, i, nil
		}
	}
	return members, -1, nil
}

// parseObject returns the members of the JSON object data in order. It
// refuses anything else, a member named twice, and trailing data.
func parseObject(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	var members []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: a member is named twice", ErrMalformed)
		}
		seen[name] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
		}
		members = append(members, member{name: name, value: v})
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the object", ErrMalformed)
	}
	return members, nil
}

// writeObject writes members as a JSON object, in order.
func writeObject(members []member) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // names as the domain wrote them
	b.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		_ = enc.Encode(m.name)  // a string always encodes
		b.Truncate(b.Len() - 1) // Encode ends with a newline
		b.WriteByte(':')
		b.Write(m.value)
	}
	b.WriteByte('}')
	return b.Bytes()
}
