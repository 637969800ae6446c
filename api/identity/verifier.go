package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Defaults of the embedded local issuer.
const (
	DefaultIssuer   = "caseledger-local"
	DefaultAudience = "caseledger"
)

// ClaimNames names the claims that carry a user's id, role and office.
// Issuers differ in what they call them, so each is configurable.
//
// A name is looked up whole first, so a namespaced claim such as
// "https://caseledger.example/role" works; failing that, dots step into
// nested objects, as in Keycloak's "realm_access.roles" or
// "resource_access.caseledger.roles".
//
// User and office claims are strings. The role claim is a string or a list
// of strings, of which exactly one must be a product role (see Roles):
// other values are ignored; none, or two or more, make the token invalid.
type ClaimNames struct {
	UserID string // default "sub"
	Role   string // default "role"
	Office string // default "office"
}

// DefaultClaimNames returns the claim names the local issuer uses.
func DefaultClaimNames() ClaimNames {
	return ClaimNames{UserID: "sub", Role: "role", Office: "office"}
}

// Config is what tokens must say, and where they say it. The zero value
// is the local issuer's configuration.
type Config struct {
	// Issuer is the iss every token must carry: DefaultIssuer when empty.
	// NewOIDCVerifier takes it from its issuer URL; leave it empty there.
	Issuer string
	// Audience is a value aud must contain; DefaultAudience when empty.
	Audience string
	// Claims names the claims of user, role and office; empty names take
	// the defaults. A name may be a path into nested objects
	// ("realm_access.roles"); see ClaimNames.
	Claims ClaimNames
	// SigningAlgs are the JWS algorithms accepted. When empty, ES256 for
	// the local issuer and DefaultOIDCSigningAlgs for an OpenID Connect
	// issuer. NewOIDCVerifier refuses any but asymmetric ones: with "none"
	// or an HMAC, anyone who has the issuer's public key could sign.
	SigningAlgs []string
	// Now is the clock for expiry checks and minting; time.Now when nil.
	Now func() time.Time
	// HTTPClient fetches an OpenID Connect issuer's discovery document and
	// keys; it is how tests reach an in-process issuer, and how a
	// deployment adds a proxy or a private CA. When nil, a client with a
	// timeout is used, so that a stalled issuer cannot hold the requests
	// that wait for its keys. The local issuer makes no requests.
	HTTPClient *http.Client
}

func (c Config) withDefaults() Config {
	if c.Issuer == "" {
		c.Issuer = DefaultIssuer
	}
	if c.Audience == "" {
		c.Audience = DefaultAudience
	}
	def := DefaultClaimNames()
	if c.Claims.UserID == "" {
		c.Claims.UserID = def.UserID
	}
	if c.Claims.Role == "" {
		c.Claims.Role = def.Role
	}
	if c.Claims.Office == "" {
		c.Claims.Office = def.Office
	}
	if len(c.SigningAlgs) == 0 {
		c.SigningAlgs = []string{"ES256"}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// oidcConfig is what go-oidc checks: signature algorithm, audience and,
// by c.Now, exp and nbf. The issuer goes to the verifier itself.
func (c Config) oidcConfig() *oidc.Config {
	return &oidc.Config{
		ClientID:             c.Audience,
		SupportedSigningAlgs: c.SigningAlgs,
		Now:                  c.Now,
	}
}

// Verifier checks bearer tokens and reads the caller's identity from them.
// It is safe for concurrent use.
type Verifier struct {
	oidc   *oidc.IDTokenVerifier
	claims ClaimNames
}

// NewVerifier returns a verifier that accepts tokens signed by a key of
// keys and issued as cfg says. keys is an *oidc.StaticKeySet for the local
// issuer; NewOIDCVerifier builds the same verifier on an OpenID Connect
// issuer's published keys.
func NewVerifier(keys oidc.KeySet, cfg Config) *Verifier {
	cfg = cfg.withDefaults()
	return newVerifier(oidc.NewVerifier(cfg.Issuer, keys, cfg.oidcConfig()), cfg)
}

// newVerifier is where both modes meet: from here on a token is a token,
// whoever signed it.
func newVerifier(v *oidc.IDTokenVerifier, cfg Config) *Verifier {
	return &Verifier{oidc: v, claims: cfg.Claims}
}

// Verify checks raw (a compact JWS, without "Bearer ") and returns the
// identity it carries. Every failure wraps ErrInvalidToken and names a
// reason fit for a log line: never the token, never a claim's value.
func (v *Verifier) Verify(ctx context.Context, raw string) (Identity, error) {
	if raw == "" {
		return Identity{}, ErrMissingToken
	}
	tok, err := v.oidc.Verify(ctx, raw)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %s", ErrInvalidToken, verifyFailure(err))
	}
	var claims map[string]json.RawMessage
	if err := tok.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("%w: claims are not a JSON object", ErrInvalidToken)
	}
	id, err := v.identity(claims)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return id, nil
}

func (v *Verifier) identity(claims map[string]json.RawMessage) (Identity, error) {
	user, err := stringClaim(claims, v.claims.UserID)
	if err != nil {
		return Identity{}, err
	}
	role, err := roleClaim(claims, v.claims.Role)
	if err != nil {
		return Identity{}, err
	}
	office, err := stringClaim(claims, v.claims.Office)
	if err != nil {
		return Identity{}, err
	}
	id := Identity{UserID: user, Role: role, Office: office}
	if err := id.Validate(); err != nil {
		return Identity{}, err
	}
	return id, nil
}

// verifyFailure names why go-oidc refused a token. Its messages can quote
// what the token says, so they are reduced to a fixed set of reasons.
func verifyFailure(err error) string {
	var expired *oidc.TokenExpiredError
	if errors.As(err, &expired) {
		return "expired"
	}
	msg := err.Error()
	for _, r := range []struct{ marker, reason string }{
		// Before the signature's marker, which wraps this one: an issuer
		// that cannot be reached is worth telling apart in a log.
		{"fetching keys", "issuer's keys could not be fetched"},
		{"malformed jwt", "malformed, or signed with an algorithm not accepted"},
		{"failed to verify signature", "signature not verified by any known key"},
		{"different provider", "wrong issuer"},
		{"expected audience", "wrong audience"},
		{"nbf", "not valid yet"},
		// go-oidc decodes the registered claims itself: a sub that is not
		// a string fails here, not in our claim rules.
		{"unmarshal claims", "claims malformed"},
	} {
		if strings.Contains(msg, r.marker) {
			return r.reason
		}
	}
	return "refused by the verifier"
}
