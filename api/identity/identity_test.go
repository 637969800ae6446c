package identity_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"github.com/caseledger/caseledger/api/identity"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func clock(t time.Time) func() time.Time { return func() time.Time { return t } }

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newIssuer(t *testing.T, key *ecdsa.PrivateKey, cfg identity.Config) *identity.LocalIssuer {
	t.Helper()
	li, err := identity.NewLocalIssuer(key, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return li
}

func mint(t *testing.T, li *identity.LocalIssuer, id identity.Identity, ttl time.Duration) string {
	t.Helper()
	tok, err := li.Mint(id, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

var caseworker = identity.Identity{UserID: "u-17", Role: identity.Caseworker, Office: "oslo-sentrum"}

func TestMintVerifyRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		cfg  identity.Config
		id   identity.Identity
	}{
		{"caseworker with defaults", identity.Config{Now: clock(t0)}, caseworker},
		{"auditor without office", identity.Config{Now: clock(t0)}, identity.Identity{UserID: "a-1", Role: identity.Auditor}},
		{"custom claim names", identity.Config{
			Issuer: "https://idp.example.invalid", Audience: "ledger-api", Now: clock(t0),
			Claims: identity.ClaimNames{UserID: "preferred_username", Role: "caseledger_role", Office: "org_unit"},
		}, identity.Identity{UserID: "kari", Role: identity.TeamLead, Office: "bergen"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			li := newIssuer(t, newKey(t), tt.cfg)
			tok := mint(t, li, tt.id, time.Hour)
			got, err := li.Verifier().Verify(context.Background(), tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got != tt.id {
				t.Fatalf("Verify = %+v, want %+v", got, tt.id)
			}
		})
	}
}

func TestTokenHeaderNamesKeyAndAlgorithm(t *testing.T) {
	li := newIssuer(t, newKey(t), identity.Config{})
	tok := mint(t, li, caseworker, time.Hour)
	jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	h := jws.Signatures[0].Header
	if h.KeyID == "" || h.KeyID != li.KeyID() {
		t.Errorf("kid = %q, want %q", h.KeyID, li.KeyID())
	}
	if h.Algorithm != "ES256" {
		t.Errorf("alg = %q, want ES256", h.Algorithm)
	}
}

// segments splits a compact JWS and decodes its header and payload.
func segments(t *testing.T, tok string) (header, payload map[string]any, sig string) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	dec := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	return dec(parts[0]), dec(parts[1]), parts[2]
}

func encodeSegment(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestVerifyRejects(t *testing.T) {
	key := newKey(t)
	li := newIssuer(t, key, identity.Config{Now: clock(t0)})
	good := mint(t, li, caseworker, time.Hour)

	// signWith signs payload with key as ES256, the way an attacker holding
	// some other key would.
	signWith := func(k *ecdsa.PrivateKey, claims map[string]any) string {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k, KeyID: li.KeyID()}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(claims)
		jws, err := s.Sign(b)
		if err != nil {
			t.Fatal(err)
		}
		out, err := jws.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	header, payload, sig := segments(t, good)

	withClaims := func(change map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range payload {
			m[k] = v
		}
		for k, v := range change {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}

	tampered := func() string {
		p := withClaims(map[string]any{"role": "admin"})
		return encodeSegment(t, header) + "." + encodeSegment(t, p) + "." + sig
	}()
	algNone := encodeSegment(t, map[string]any{"alg": "none", "typ": "JWT"}) + "." + encodeSegment(t, payload) + "."
	hs256 := func() string {
		// Algorithm confusion: an HMAC keyed with the public key's bytes.
		pub, _ := json.Marshal(jose.JSONWebKey{Key: &key.PublicKey})
		h := encodeSegment(t, map[string]any{"alg": "HS256", "typ": "JWT"})
		p := encodeSegment(t, payload)
		m := hmac.New(sha256.New, pub)
		m.Write([]byte(h + "." + p))
		return h + "." + p + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}()
	flipped := func() string {
		b, _ := base64.RawURLEncoding.DecodeString(sig)
		b[len(b)-1] ^= 1
		return good[:strings.LastIndex(good, ".")+1] + base64.RawURLEncoding.EncodeToString(b)
	}()

	expiredLi := newIssuer(t, key, identity.Config{Now: clock(t0.Add(-2 * time.Hour))})
	wrongAud := newIssuer(t, key, identity.Config{Audience: "someone-else", Now: clock(t0)})
	wrongIss := newIssuer(t, key, identity.Config{Issuer: "https://evil.invalid", Now: clock(t0)})
	otherKey := newIssuer(t, newKey(t), identity.Config{Now: clock(t0)})

	tests := []struct {
		name  string
		token string
	}{
		{"empty", ""},
		{"garbage", "not-a-jwt"},
		{"expired", mint(t, expiredLi, caseworker, time.Hour)},
		{"wrong audience", mint(t, wrongAud, caseworker, time.Hour)},
		{"wrong issuer", mint(t, wrongIss, caseworker, time.Hour)},
		{"tampered payload", tampered},
		{"flipped signature bit", flipped},
		{"signed by another key", mint(t, otherKey, caseworker, time.Hour)},
		{"signed by another key claiming our kid", signWith(newKey(t), payload)},
		{"alg none", algNone},
		{"alg HS256 keyed with the public key", hs256},
		{"unknown role", signWith(key, withClaims(map[string]any{"role": "superuser"}))},
		{"two roles in a list", signWith(key, withClaims(map[string]any{"role": []string{"caseworker", "auditor"}}))},
		{"no product role in a list", signWith(key, withClaims(map[string]any{"role": []string{"superuser"}}))},
		{"role as a number", signWith(key, withClaims(map[string]any{"role": 7}))},
		{"no role", signWith(key, withClaims(map[string]any{"role": nil}))},
		{"no subject", signWith(key, withClaims(map[string]any{"sub": nil}))},
		{"caseworker without office", signWith(key, withClaims(map[string]any{"office": nil}))},
		{"no expiry", signWith(key, withClaims(map[string]any{"exp": nil}))},
		{"not valid yet", signWith(key, withClaims(map[string]any{"nbf": t0.Add(time.Hour).Unix()}))},
	}
	v := li.Verifier()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := v.Verify(context.Background(), tt.token)
			if err == nil {
				t.Fatalf("Verify accepted the token as %+v", id)
			}
			t.Log(err)
			if !errors.Is(err, identity.ErrInvalidToken) && !errors.Is(err, identity.ErrMissingToken) {
				t.Fatalf("Verify error %v is neither ErrInvalidToken nor ErrMissingToken", err)
			}
			if tt.token != "" && strings.Contains(err.Error(), tt.token) {
				t.Fatalf("error quotes the token: %v", err)
			}
			if strings.Contains(err.Error(), "superuser") || strings.Contains(err.Error(), caseworker.UserID) {
				t.Fatalf("error quotes a claim's value: %v", err)
			}
		})
	}
}

func TestVerifierWithStaticKeySetOfSeveralKeys(t *testing.T) {
	// A key rotation keeps the old public key in the set for a while.
	oldKey, newKeyPair := newKey(t), newKey(t)
	cfg := identity.Config{Now: clock(t0)}
	v := identity.NewVerifier(&oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{&oldKey.PublicKey, &newKeyPair.PublicKey}}, cfg)
	for _, k := range []*ecdsa.PrivateKey{oldKey, newKeyPair} {
		tok := mint(t, newIssuer(t, k, cfg), caseworker, time.Hour)
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	}
}

func TestMintRefuses(t *testing.T) {
	li := newIssuer(t, newKey(t), identity.Config{})
	tests := []struct {
		name string
		id   identity.Identity
		ttl  time.Duration
		want error
	}{
		{"unknown role", identity.Identity{UserID: "u", Role: "root"}, time.Hour, identity.ErrUnknownRole},
		{"no user", identity.Identity{Role: identity.Auditor}, time.Hour, identity.ErrMissingUser},
		{"volunteer without office", identity.Identity{UserID: "v", Role: identity.Volunteer}, time.Hour, identity.ErrMissingOffice},
		{"zero ttl", caseworker, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := li.Mint(tt.id, tt.ttl)
			if err == nil {
				t.Fatal("Mint succeeded")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Mint error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, identity.KeyFileName)

	first, err := identity.LoadOrCreateKey(ctx, path)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %04o, want 0600", perm)
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %v (%v), want 0700", info.Mode().Perm(), err)
	}
	second, err := identity.LoadOrCreateKey(ctx, path)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if !first.Equal(second) {
		t.Fatal("second call returned a different key")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data dir holds %d entries, want only the key", len(entries))
	}

	// A token minted by one process verifies in another that loads the key.
	a, err := identity.OpenLocalIssuer(ctx, dir, identity.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := identity.OpenLocalIssuer(ctx, dir, identity.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verifier().Verify(ctx, mint(t, a, caseworker, time.Hour)); err != nil {
		t.Fatalf("token from a copy of the issuer: %v", err)
	}
}

func TestLoadKeyRefusesBadFiles(t *testing.T) {
	ctx := context.Background()
	rsaLike := "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"
	tests := []struct {
		name string
		data string
		mode os.FileMode
	}{
		{"readable by others", "", 0o644},
		{"not PEM", "hello", 0o600},
		{"wrong PEM type", rsaLike, 0o600},
		{"garbage PKCS8", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, identity.KeyFileName)
			data := tt.data
			if data == "" {
				if _, err := identity.LoadOrCreateKey(ctx, path); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			if _, err := identity.LoadOrCreateKey(ctx, path); !errors.Is(err, identity.ErrInvalidKeyFile) {
				t.Fatalf("LoadOrCreateKey error %v, want ErrInvalidKeyFile", err)
			}
		})
	}
}

func TestContext(t *testing.T) {
	ctx := context.Background()
	if _, ok := identity.FromContext(ctx); ok {
		t.Fatal("identity in an empty context")
	}
	got, ok := identity.FromContext(identity.NewContext(ctx, caseworker))
	if !ok || got != caseworker {
		t.Fatalf("FromContext = %+v, %v", got, ok)
	}
}

func TestParseRole(t *testing.T) {
	for _, r := range identity.Roles() {
		if got, err := identity.ParseRole(string(r)); err != nil || got != r {
			t.Errorf("ParseRole(%q) = %q, %v", r, got, err)
		}
	}
	for _, s := range []string{"", "Caseworker", "root", "caseworker "} {
		if _, err := identity.ParseRole(s); !errors.Is(err, identity.ErrUnknownRole) {
			t.Errorf("ParseRole(%q) error %v, want ErrUnknownRole", s, err)
		}
	}
}
