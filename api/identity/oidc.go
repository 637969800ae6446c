package identity

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// defaultHTTPTimeout bounds each request to the issuer when Config names
// no client. go-oidc fetches keys in the background without a deadline of
// its own, and every request that meets an unknown key waits for that
// fetch; a stalled issuer must not hold them for longer than this.
const defaultHTTPTimeout = 10 * time.Second

// DefaultOIDCSigningAlgs returns the algorithms accepted from an OpenID
// Connect issuer when Config.SigningAlgs is empty: RS256, which OpenID
// Connect requires every issuer to offer, and ES256.
func DefaultOIDCSigningAlgs() []string {
	return []string{oidc.RS256, oidc.ES256}
}

// asymmetricAlgs are the algorithms Config.SigningAlgs may name: each
// verifies with a public key that cannot sign. An HMAC algorithm would
// turn the issuer's published key into a signing secret, and "none" needs
// no key at all.
var asymmetricAlgs = map[string]bool{
	oidc.RS256: true, oidc.RS384: true, oidc.RS512: true,
	oidc.PS256: true, oidc.PS384: true, oidc.PS512: true,
	oidc.ES256: true, oidc.ES384: true, oidc.ES512: true,
	oidc.EdDSA: true,
}

// NewOIDCVerifier returns a verifier for tokens of the OpenID Connect
// issuer at issuerURL. It reads the issuer's discovery document once, now,
// so that a wrong URL fails at start rather than at the first request; the
// keys are fetched when a token first needs them, and fetched again
// whenever a token names a key not yet seen, which is how a rotation at
// the issuer reaches a running server.
//
// Tokens must carry issuerURL as iss, so cfg.Issuer is left empty (or set
// to the same URL). cfg.SigningAlgs defaults to DefaultOIDCSigningAlgs.
// ctx bounds the discovery only; cfg.HTTPClient makes every request.
//
// issuerURL and the key set's URL must be https, except on a loopback
// host: whoever can change the keys in transit can sign for any role.
func NewOIDCVerifier(ctx context.Context, issuerURL string, cfg Config) (*Verifier, error) {
	if err := checkFetchURL(issuerURL); err != nil {
		return nil, fmt.Errorf("openid connect issuer: %w", err)
	}
	if cfg.Issuer != "" && cfg.Issuer != issuerURL {
		return nil, fmt.Errorf("openid connect issuer %s: %w: Config.Issuer differs from the issuer URL; leave it empty", issuerURL, ErrInvalidConfig)
	}
	cfg.Issuer = issuerURL
	if len(cfg.SigningAlgs) == 0 {
		cfg.SigningAlgs = DefaultOIDCSigningAlgs()
	}
	for _, alg := range cfg.SigningAlgs {
		if !asymmetricAlgs[alg] {
			return nil, fmt.Errorf("openid connect issuer %s: %w: signing algorithm %q is not an asymmetric one this verifier accepts", issuerURL, ErrInvalidConfig, alg)
		}
	}
	cfg = cfg.withDefaults()

	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: defaultHTTPTimeout}
	}
	// The provider keeps the client for its key set, which outlives ctx.
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, client), issuerURL)
	if err != nil {
		return nil, fmt.Errorf("openid connect discovery for %s: %w", issuerURL, err)
	}
	var meta struct {
		JWKSURL string `json:"jwks_uri"`
	}
	if err := provider.Claims(&meta); err != nil {
		return nil, fmt.Errorf("openid connect discovery for %s: %w", issuerURL, err)
	}
	if err := checkFetchURL(meta.JWKSURL); err != nil {
		return nil, fmt.Errorf("openid connect discovery for %s: jwks_uri: %w", issuerURL, err)
	}
	return newVerifier(provider.Verifier(cfg.oidcConfig()), cfg), nil
}

// checkFetchURL refuses a URL that keys or the document naming them could
// not be fetched from safely.
func checkFetchURL(raw string) error {
	if raw == "" {
		return fmt.Errorf("%w: no URL", ErrInvalidConfig)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%w: not an absolute URL", ErrInvalidConfig)
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("%w: %s is not https", ErrInvalidConfig, u.Redacted())
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
