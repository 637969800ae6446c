package identity_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"github.com/caseledger/caseledger/api/identity"
)

// signingKey is one of an issuer's keys: what it signs with and the kid
// its tokens name.
type signingKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

func (k *signingKey) public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

// rsaKeys are generated once: RSA key generation is slow enough under
// -race to dominate the package's tests if every test made its own.
var rsaKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	keys := make([]*rsa.PrivateKey, 3)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	return keys
})

func rsaKey(i int, kid string) *signingKey {
	return &signingKey{kid: kid, alg: jose.RS256, priv: rsaKeys()[i]}
}

func ecKey(t *testing.T, kid string) *signingKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &signingKey{kid: kid, alg: jose.ES256, priv: k}
}

// sign returns claims as a compact JWS signed by k with alg (k's own
// algorithm when alg is empty).
func sign(t *testing.T, k *signingKey, alg jose.SignatureAlgorithm, claims map[string]any) string {
	t.Helper()
	if alg == "" {
		alg = k.alg
	}
	s, err := jose.NewSigner(
		jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// testIdP is an OpenID Connect issuer over TLS in this process: a
// discovery document and a key set that a test may change while a
// verifier uses it.
type testIdP struct {
	srv *httptest.Server
	ln  *pipeListener

	mu   sync.Mutex
	keys []jose.JSONWebKey
	down bool // the key set answers 500
	// discovery, when set, changes the discovery document.
	discovery func(doc map[string]any)

	jwksFetches atomic.Int32
}

func newTestIdP(t *testing.T, keys ...*signingKey) *testIdP {
	t.Helper()
	p := &testIdP{}
	p.publish(keys...)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		base := p.srv.URL
		doc := map[string]any{
			"issuer":                                base,
			"jwks_uri":                              base + "/keys",
			"authorization_endpoint":                base + "/auth",
			"token_endpoint":                        base + "/token",
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		}
		p.mu.Lock()
		if p.discovery != nil {
			p.discovery(doc)
		}
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(doc)
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		p.jwksFetches.Add(1)
		p.mu.Lock()
		set, down := jose.JSONWebKeySet{Keys: p.keys}, p.down
		p.mu.Unlock()
		if down {
			http.Error(w, "unavailable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(set)
	})
	p.srv = httptest.NewUnstartedServer(mux)
	// Connections are pipes in memory, not sockets, so that a test in a
	// synctest bubble holds every goroutine the exchange needs and
	// synctest.Wait can tell when go-oidc's background fetch is done.
	ln := newPipeListener()
	p.srv.Listener, p.ln = ln, ln
	// A client that refuses the test certificate is a case under test,
	// not something to report on stderr.
	p.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	p.srv.StartTLS()
	p.srv.Client().Transport.(*http.Transport).DialContext = ln.dial
	t.Cleanup(p.srv.Close)
	return p
}

// pipeListener accepts the connections its dial makes; the server's
// certificate names *.example.com, so that is where it pretends to be.
type pipeListener struct {
	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
	case <-ctx.Done():
	}
	client.Close()
	server.Close()
	return nil, net.ErrClosed
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "idp.example.com:443" }

func (p *testIdP) issuer() string { return p.srv.URL }

// publish makes the key set hold exactly keys, as an issuer does when it
// rotates.
func (p *testIdP) publish(keys ...*signingKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys = nil
	for _, k := range keys {
		p.keys = append(p.keys, k.public())
	}
}

func (p *testIdP) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
}

func (p *testIdP) setDiscovery(f func(doc map[string]any)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.discovery = f
}

// verifier returns a verifier for p on the fake clock t0, with cfg's
// other settings.
func (p *testIdP) verifier(t *testing.T, cfg identity.Config) *identity.Verifier {
	t.Helper()
	cfg.HTTPClient = p.srv.Client()
	if cfg.Now == nil {
		cfg.Now = clock(t0)
	}
	v, err := identity.NewOIDCVerifier(context.Background(), p.issuer(), cfg)
	if err != nil {
		t.Fatalf("NewOIDCVerifier: %v", err)
	}
	return v
}

// claimsOf returns the claims of a valid caseworker token from iss at t0,
// changed by change: a nil value removes the claim.
func claimsOf(iss string, change map[string]any) map[string]any {
	m := map[string]any{
		"iss":    iss,
		"aud":    identity.DefaultAudience,
		"sub":    caseworker.UserID,
		"role":   string(caseworker.Role),
		"office": caseworker.Office,
		"iat":    t0.Unix(),
		"nbf":    t0.Unix(),
		"exp":    t0.Add(time.Hour).Unix(),
		"jti":    "b9d1c1b2-0f5e-4f7c-9d55-0c9a3f1b2e11",
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

func TestOIDCVerifyAccepts(t *testing.T) {
	rk, ek := rsaKey(0, "rsa-1"), ecKey(t, "ec-1")
	idp := newTestIdP(t, rk, ek)

	keycloak := identity.ClaimNames{UserID: "preferred_username", Role: "realm_access.roles", Office: "office"}
	tests := []struct {
		name   string
		key    *signingKey
		claims identity.ClaimNames
		algs   []string
		change map[string]any
		want   identity.Identity
	}{
		{name: "RS256 with defaults", key: rk, want: caseworker},
		{name: "ES256 with defaults", key: ek, want: caseworker},
		{name: "ES256 only, when configured so", key: ek, algs: []string{"ES256"}, want: caseworker},
		{name: "audience among several", key: rk,
			change: map[string]any{"aud": []string{"account", identity.DefaultAudience}}, want: caseworker},
		{name: "not before within go-oidc's five minutes of clock skew", key: rk,
			change: map[string]any{"nbf": t0.Add(4 * time.Minute).Unix()}, want: caseworker},
		{name: "auditor without office", key: rk,
			change: map[string]any{"role": "auditor", "office": nil},
			want:   identity.Identity{UserID: caseworker.UserID, Role: identity.Auditor}},
		{name: "role list with one product role among the issuer's own", key: rk,
			change: map[string]any{"role": []string{"offline_access", "caseworker", "uma_authorization"}}, want: caseworker},
		{name: "role list naming the same role twice", key: rk,
			change: map[string]any{"role": []string{"caseworker", "caseworker"}}, want: caseworker},
		{name: "nested role list, Keycloak realm roles", key: rk, claims: keycloak,
			change: map[string]any{
				"sub":                "f:2c1d:17",
				"preferred_username": "kari",
				"role":               nil,
				"realm_access":       map[string]any{"roles": []string{"default-roles-nav", "team_lead"}},
			},
			want: identity.Identity{UserID: "kari", Role: identity.TeamLead, Office: caseworker.Office}},
		{name: "nested role list under a client id with a dot in it", key: rk,
			claims: identity.ClaimNames{Role: "resource_access.caseledger.api.roles"},
			change: map[string]any{
				"role": nil,
				"resource_access": map[string]any{
					"account":        map[string]any{"roles": []string{"manage-account"}},
					"caseledger.api": map[string]any{"roles": []string{"volunteer"}},
				},
			},
			want: identity.Identity{UserID: caseworker.UserID, Role: identity.Volunteer, Office: caseworker.Office}},
		{name: "namespaced claim names with dots, looked up whole", key: ek,
			claims: identity.ClaimNames{Role: "https://caseledger.example/role", Office: "https://caseledger.example/office"},
			change: map[string]any{
				"role":                              nil,
				"office":                            nil,
				"https://caseledger.example/role":   "caseworker",
				"https://caseledger.example/office": caseworker.Office,
			},
			want: caseworker},
		{name: "nested office", key: rk,
			claims: identity.ClaimNames{Office: "org.unit"},
			change: map[string]any{"office": nil, "org": map[string]any{"unit": "bergen"}},
			want:   identity.Identity{UserID: caseworker.UserID, Role: identity.Caseworker, Office: "bergen"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := idp.verifier(t, identity.Config{Claims: tt.claims, SigningAlgs: tt.algs})
			tok := sign(t, tt.key, "", claimsOf(idp.issuer(), tt.change))
			got, err := v.Verify(context.Background(), tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got != tt.want {
				t.Fatalf("Verify = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// hs256 returns claims signed with HMAC-SHA256 under secret and naming
// kid: the algorithm confusion attack, where the secret is the issuer's
// public key, which anyone may read.
func hs256(t *testing.T, kid string, secret []byte, claims map[string]any) string {
	t.Helper()
	h := encodeSegment(t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid})
	p := encodeSegment(t, claims)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(h + "." + p))
	return h + "." + p + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func TestOIDCVerifyRejects(t *testing.T) {
	rk, ek := rsaKey(0, "rsa-1"), ecKey(t, "ec-1")
	idp := newTestIdP(t, rk, ek)
	iss := idp.issuer()
	valid := func(change map[string]any) map[string]any { return claimsOf(iss, change) }
	good := sign(t, rk, "", valid(nil))

	stranger := rsaKey(1, "stranger")
	strangerWithOurKid := &signingKey{kid: rk.kid, alg: jose.RS256, priv: rsaKeys()[1]}
	strangerWithoutKid := &signingKey{alg: jose.RS256, priv: rsaKeys()[1]}

	pubDER, err := x509.MarshalPKIXPublicKey(rk.priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	pubJWK, err := json.Marshal(rk.public())
	if err != nil {
		t.Fatal(err)
	}

	header, payload, sig := segments(t, good)
	tampered := encodeSegment(t, header) + "." +
		encodeSegment(t, mergeClaims(payload, map[string]any{"role": "admin"})) + "." + sig
	flipped := func() string {
		b, _ := base64.RawURLEncoding.DecodeString(sig)
		b[len(b)-1] ^= 1
		return good[:strings.LastIndex(good, ".")+1] + base64.RawURLEncoding.EncodeToString(b)
	}()
	algNone := encodeSegment(t, map[string]any{"alg": "none", "typ": "JWT", "kid": rk.kid}) + "." + encodeSegment(t, payload) + "."

	local := newIssuer(t, newKey(t), identity.Config{Now: clock(t0)})

	tests := []struct {
		name  string
		algs  []string
		token string
	}{
		{name: "expired", token: sign(t, rk, "", valid(map[string]any{
			"iat": t0.Add(-2 * time.Hour).Unix(), "nbf": t0.Add(-2 * time.Hour).Unix(), "exp": t0.Add(-time.Second).Unix()}))},
		{name: "no expiry", token: sign(t, rk, "", valid(map[string]any{"exp": nil}))},
		{name: "not valid yet", token: sign(t, rk, "", valid(map[string]any{"nbf": t0.Add(time.Hour).Unix()}))},
		{name: "wrong issuer", token: sign(t, rk, "", valid(map[string]any{"iss": "https://evil.example"}))},
		{name: "issuer with a trailing slash", token: sign(t, rk, "", valid(map[string]any{"iss": iss + "/"}))},
		{name: "no issuer", token: sign(t, rk, "", valid(map[string]any{"iss": nil}))},
		{name: "wrong audience", token: sign(t, rk, "", valid(map[string]any{"aud": "evil-app"}))},
		{name: "no audience", token: sign(t, rk, "", valid(map[string]any{"aud": nil}))},
		{name: "unknown key id", token: sign(t, stranger, "", valid(nil))},
		{name: "another key claiming our key id", token: sign(t, strangerWithOurKid, "", valid(nil))},
		{name: "another key, no key id", token: sign(t, strangerWithoutKid, "", valid(nil))},
		{name: "tampered payload", token: tampered},
		{name: "tampered signature", token: flipped},
		{name: "alg none", token: algNone},
		{name: "HS256 keyed with the RSA public key's PEM", token: hs256(t, rk.kid, pubPEM, valid(nil))},
		{name: "HS256 keyed with the RSA public key's DER", token: hs256(t, rk.kid, pubDER, valid(nil))},
		{name: "HS256 keyed with the published JWK", token: hs256(t, rk.kid, pubJWK, valid(nil))},
		{name: "our key, an algorithm not accepted", token: sign(t, rk, jose.RS512, valid(nil))},
		{name: "ES256 when only RS256 is accepted", algs: []string{"RS256"}, token: sign(t, ek, "", valid(nil))},
		{name: "token of the local issuer", token: mint(t, local, caseworker, time.Hour)},
		{name: "garbage", token: "not.a.jwt"},
		{name: "two product roles", token: sign(t, rk, "", valid(map[string]any{"role": []string{"caseworker", "auditor"}}))},
		{name: "no product role", token: sign(t, rk, "", valid(map[string]any{"role": []string{"offline_access", "superuser"}}))},
		{name: "unknown role", token: sign(t, rk, "", valid(map[string]any{"role": "superuser"}))},
		{name: "role claim absent", token: sign(t, rk, "", valid(map[string]any{"role": nil}))},
		{name: "role as an object", token: sign(t, rk, "", valid(map[string]any{"role": map[string]any{"name": "caseworker"}}))},
		{name: "role list with a number", token: sign(t, rk, "", valid(map[string]any{"role": []any{"caseworker", 7}}))},
		{name: "no subject", token: sign(t, rk, "", valid(map[string]any{"sub": nil}))},
		{name: "subject not a string", token: sign(t, rk, "", valid(map[string]any{"sub": 17}))},
		{name: "caseworker without office", token: sign(t, rk, "", valid(map[string]any{"office": nil}))},
	}
	verifiers := map[string]*identity.Verifier{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := strings.Join(tt.algs, ",")
			v, ok := verifiers[key]
			if !ok {
				v = idp.verifier(t, identity.Config{SigningAlgs: tt.algs})
				verifiers[key] = v
			}
			id, err := v.Verify(context.Background(), tt.token)
			if err == nil {
				t.Fatalf("Verify accepted the token as %+v", id)
			}
			t.Log(err)
			if !errors.Is(err, identity.ErrInvalidToken) {
				t.Fatalf("Verify error %v, want ErrInvalidToken", err)
			}
			assertNoSecrets(t, err, tt.token)
		})
	}
}

// assertNoSecrets fails when err quotes the token or a value of the test
// tokens' claims.
func assertNoSecrets(t *testing.T, err error, token string) {
	t.Helper()
	msg := err.Error()
	if token != "" && strings.Contains(msg, token) {
		t.Fatalf("error quotes the token: %v", err)
	}
	for _, v := range []string{caseworker.UserID, caseworker.Office, "superuser", "evil", "offline_access"} {
		if strings.Contains(msg, v) {
			t.Fatalf("error quotes the claim value %q: %v", v, err)
		}
	}
}

func mergeClaims(base, change map[string]any) map[string]any {
	m := map[string]any{}
	for k, v := range base {
		m[k] = v
	}
	for k, v := range change {
		m[k] = v
	}
	return m
}

// TestOIDCKeyRotation runs one verifier through an issuer's key rotation
// and outage, as a running server would meet them. Fetches counts the
// requests for the key set so far: keys come from the cache until a token
// names one it does not hold.
//
// go-oidc refetches in a goroutine of its own and updates its cache after
// the waiting Verify has returned, so a step could meet the previous
// step's fetch still settling. The test runs in a synctest bubble and
// waits for that goroutine after each step, instead of sleeping.
func TestOIDCKeyRotation(t *testing.T) {
	synctest.Test(t, testOIDCKeyRotation)
}

func testOIDCKeyRotation(t *testing.T) {
	a, b, c := rsaKey(0, "2026-01"), ecKey(t, "2026-02"), rsaKey(2, "2026-03")
	idp := newTestIdP(t, a)
	v := idp.verifier(t, identity.Config{})

	steps := []struct {
		name    string
		before  func()
		key     *signingKey
		ok      bool
		reason  string // in the error, when not ok
		fetches int32
	}{
		{name: "first token fetches the keys", key: a, ok: true, fetches: 1},
		{name: "next token uses the cached keys", key: a, ok: true, fetches: 1},
		{name: "issuer rotates to a new key and drops the old; a token of the new key refetches", before: func() { idp.publish(b) },
			key: b, ok: true, fetches: 2},
		{name: "token of the rotated-out key", key: a, reason: "signature not verified", fetches: 3},
		{name: "new key again, from the cache", key: b, ok: true, fetches: 3},
		{name: "issuer down: a cached key still verifies", before: func() { idp.setDown(true) },
			key: b, ok: true, fetches: 3},
		{name: "issuer down: a key not yet seen cannot", key: c, reason: "keys could not be fetched", fetches: 4},
		{name: "issuer back, publishing the next key beside the current", before: func() { idp.setDown(false); idp.publish(b, c) },
			key: c, ok: true, fetches: 5},
		{name: "current key still published", key: b, ok: true, fetches: 5},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		tok := sign(t, s.key, "", claimsOf(idp.issuer(), nil))
		id, err := v.Verify(context.Background(), tok)
		synctest.Wait()
		switch {
		case s.ok && err != nil:
			t.Errorf("%s: Verify: %v", s.name, err)
		case s.ok && id != caseworker:
			t.Errorf("%s: Verify = %+v, want %+v", s.name, id, caseworker)
		case !s.ok && err == nil:
			t.Errorf("%s: Verify accepted the token", s.name)
		case !s.ok && (!errors.Is(err, identity.ErrInvalidToken) || !strings.Contains(err.Error(), s.reason)):
			t.Errorf("%s: Verify error %v, want ErrInvalidToken for %q", s.name, err, s.reason)
		}
		if got := idp.jwksFetches.Load(); got != s.fetches {
			t.Errorf("%s: key set fetched %d times in all, want %d", s.name, got, s.fetches)
		}
	}
}

func TestNewOIDCVerifierRefuses(t *testing.T) {
	idp := newTestIdP(t, rsaKey(0, "rsa-1"))
	tests := []struct {
		name      string
		url       string // idp's issuer when empty
		cfg       identity.Config
		discovery func(doc map[string]any)
		// untrusting, when set, makes the client one that does not trust
		// the test server's certificate.
		untrusting bool
		config     bool // the error is ErrInvalidConfig
	}{
		{name: "plain http to another host", url: "http://idp.example.invalid/realms/nav", config: true},
		{name: "not a URL", url: "idp", config: true},
		{name: "Config.Issuer differs from the URL", cfg: identity.Config{Issuer: "https://other.example"}, config: true},
		{name: "HS256 accepted", cfg: identity.Config{SigningAlgs: []string{"RS256", "HS256"}}, config: true},
		{name: "none accepted", cfg: identity.Config{SigningAlgs: []string{"none"}}, config: true},
		{name: "unknown algorithm", cfg: identity.Config{SigningAlgs: []string{"rs256"}}, config: true},
		{name: "no discovery document", url: idp.issuer() + "/realms/missing"},
		{name: "discovery names another issuer", discovery: func(doc map[string]any) { doc["issuer"] = "https://other.example" }},
		{name: "no jwks_uri", discovery: func(doc map[string]any) { delete(doc, "jwks_uri") }, config: true},
		{name: "jwks_uri over plain http to another host",
			discovery: func(doc map[string]any) { doc["jwks_uri"] = "http://keys.example.invalid/jwks" }, config: true},
		{name: "client that does not trust the issuer's certificate", untrusting: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idp.setDiscovery(tt.discovery)
			t.Cleanup(func() { idp.setDiscovery(nil) })
			url := tt.url
			if url == "" {
				url = idp.issuer()
			}
			cfg := tt.cfg
			cfg.HTTPClient = idp.srv.Client()
			if tt.untrusting {
				cfg.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: idp.ln.dial}}
			}
			v, err := identity.NewOIDCVerifier(context.Background(), url, cfg)
			if err == nil {
				t.Fatalf("NewOIDCVerifier returned %v", v)
			}
			t.Log(err)
			if got := errors.Is(err, identity.ErrInvalidConfig); got != tt.config {
				t.Fatalf("errors.Is(%v, ErrInvalidConfig) = %v, want %v", err, got, tt.config)
			}
		})
	}
}

// TestModesAgree holds both modes to one code path: the same claims,
// signed by the same key, give the same identity or the same error
// whether the local issuer's verifier or an OpenID Connect one reads them.
func TestModesAgree(t *testing.T) {
	key := ecKey(t, "shared")
	idp := newTestIdP(t, key)
	remote := idp.verifier(t, identity.Config{SigningAlgs: []string{"ES256"}})
	local := identity.NewVerifier(&oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{key.priv.Public()}}, identity.Config{Now: clock(t0)})

	tests := []struct {
		name    string
		change  map[string]any
		wantErr error
	}{
		{name: "caseworker"},
		{name: "auditor", change: map[string]any{"role": "auditor", "office": nil}},
		{name: "role list", change: map[string]any{"role": []string{"offline_access", "evaluator"}}},
		{name: "two roles", change: map[string]any{"role": []string{"caseworker", "admin"}}, wantErr: identity.ErrAmbiguousRole},
		{name: "no role", change: map[string]any{"role": []string{"offline_access"}}, wantErr: identity.ErrUnknownRole},
		{name: "role absent", change: map[string]any{"role": nil}, wantErr: identity.ErrUnknownRole},
		{name: "no subject", change: map[string]any{"sub": nil}, wantErr: identity.ErrMissingUser},
		{name: "volunteer without office", change: map[string]any{"role": "volunteer", "office": nil}, wantErr: identity.ErrMissingOffice},
		{name: "expired", change: map[string]any{"exp": t0.Add(-time.Minute).Unix()}, wantErr: identity.ErrInvalidToken},
		{name: "wrong audience", change: map[string]any{"aud": "evil-app"}, wantErr: identity.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			localID, localErr := local.Verify(context.Background(), sign(t, key, "", claimsOf(identity.DefaultIssuer, tt.change)))
			remoteID, remoteErr := remote.Verify(context.Background(), sign(t, key, "", claimsOf(idp.issuer(), tt.change)))
			if localID != remoteID {
				t.Fatalf("identities differ: local %+v, OpenID Connect %+v", localID, remoteID)
			}
			if (localErr == nil) != (remoteErr == nil) || (localErr != nil && localErr.Error() != remoteErr.Error()) {
				t.Fatalf("errors differ: local %v, OpenID Connect %v", localErr, remoteErr)
			}
			if tt.wantErr == nil {
				if localErr != nil {
					t.Fatalf("Verify: %v", localErr)
				}
				return
			}
			if !errors.Is(remoteErr, tt.wantErr) || !errors.Is(remoteErr, identity.ErrInvalidToken) {
				t.Fatalf("Verify error %v, want %v within ErrInvalidToken", remoteErr, tt.wantErr)
			}
		})
	}
}
