package identity

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
)

// KeyFileName is the local issuer's signing key, inside the data directory.
const KeyFileName = "local-issuer-key.pem"

const pemType = "PRIVATE KEY" // PKCS #8

// LocalIssuer mints and verifies tokens for the embedded default, where no
// OpenID Connect issuer exists: an ECDSA P-256 key signs them (ES256) and
// the same key's public half verifies them. It is safe for concurrent use.
type LocalIssuer struct {
	signer   jose.Signer
	keyID    string
	cfg      Config
	verifier *Verifier
}

// OpenLocalIssuer returns the issuer whose key is KeyFileName in dataDir,
// creating the directory and the key on first use.
func OpenLocalIssuer(ctx context.Context, dataDir string, cfg Config) (*LocalIssuer, error) {
	key, err := LoadOrCreateKey(ctx, filepath.Join(dataDir, KeyFileName))
	if err != nil {
		return nil, err
	}
	return NewLocalIssuer(key, cfg)
}

// NewLocalIssuer returns an issuer that signs with key, a P-256 key.
func NewLocalIssuer(key *ecdsa.PrivateKey, cfg Config) (*LocalIssuer, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return nil, errors.New("local issuer: signing key must be ECDSA P-256")
	}
	cfg = cfg.withDefaults()
	kid, err := keyID(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("local issuer: key id: %w", err)
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: string(jose.ES256)}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return nil, fmt.Errorf("local issuer: signer: %w", err)
	}
	// The local issuer only ever signs with ES256, whatever a caller set.
	vcfg := cfg
	vcfg.SigningAlgs = []string{string(jose.ES256)}
	return &LocalIssuer{
		signer:   signer,
		keyID:    kid,
		cfg:      cfg,
		verifier: NewVerifier(&oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{&key.PublicKey}}, vcfg),
	}, nil
}

// KeyID is the kid the issuer's tokens carry: the key's RFC 7638
// thumbprint, so it changes exactly when the key does.
func (li *LocalIssuer) KeyID() string { return li.keyID }

// Verifier returns the verifier for this issuer's tokens.
func (li *LocalIssuer) Verifier() *Verifier { return li.verifier }

// Mint returns a signed token for id, valid for ttl from now.
func (li *LocalIssuer) Mint(id Identity, ttl time.Duration) (string, error) {
	if err := id.Validate(); err != nil {
		return "", fmt.Errorf("mint token: %w", err)
	}
	if ttl <= 0 {
		return "", fmt.Errorf("mint token: ttl %s is not positive", ttl)
	}
	now := li.cfg.Now().UTC()
	claims := map[string]any{
		"iss":                li.cfg.Issuer,
		"aud":                li.cfg.Audience,
		"iat":                now.Unix(),
		"nbf":                now.Unix(),
		"exp":                now.Add(ttl).Unix(),
		"jti":                uuid.NewString(),
		li.cfg.Claims.Role:   string(id.Role),
		li.cfg.Claims.UserID: id.UserID,
	}
	if id.Office != "" {
		claims[li.cfg.Claims.Office] = id.Office
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("mint token: encode claims: %w", err)
	}
	jws, err := li.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("mint token: sign: %w", err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("mint token: serialise: %w", err)
	}
	return tok, nil
}

func keyID(pub *ecdsa.PublicKey) (string, error) {
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// LoadOrCreateKey reads the P-256 key in the PEM file at path, or creates
// one there (mode 0600, in a directory of mode 0700) when there is none.
// A key file that others may read is refused rather than used: whoever
// reads it can mint tokens for any role.
func LoadOrCreateKey(ctx context.Context, path string) (*ecdsa.PrivateKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("load signing key %s: %w", path, err)
	}
	key, err := loadKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	return createKey(path)
}

func loadKey(path string) (*ecdsa.PrivateKey, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load signing key %s: %w", path, err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("load signing key %s: %w: mode %04o lets others read it; make it 0600", path, ErrInvalidKeyFile, perm)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load signing key %s: %w", path, err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != pemType {
		return nil, fmt.Errorf("load signing key %s: %w: no %q PEM block", path, ErrInvalidKeyFile, pemType)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("load signing key %s: %w: %w", path, ErrInvalidKeyFile, err)
	}
	key, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		return nil, fmt.Errorf("load signing key %s: %w: not an ECDSA P-256 key", path, ErrInvalidKeyFile)
	}
	return key, nil
}

// createKey writes the new key to a temporary file and links it into
// place, so that a reader never sees half a key and, when two processes
// start at once, both end up using the one that was linked first.
func createKey(path string) (*ecdsa.PrivateKey, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create signing key %s: %w", path, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("create signing key %s: generate: %w", path, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("create signing key %s: encode: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, ".signing-key-*.tmp") // CreateTemp uses mode 0600
	if err != nil {
		return nil, fmt.Errorf("create signing key %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := pem.Encode(tmp, &pem.Block{Type: pemType, Bytes: der}); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("create signing key %s: write: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("create signing key %s: sync: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("create signing key %s: close: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return loadKey(path)
		}
		return nil, fmt.Errorf("create signing key %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		// Make the new name durable too; a failure here only risks a key
		// being created again after a crash, so it is not an error.
		_ = d.Sync()
		d.Close()
	}
	return key, nil
}
