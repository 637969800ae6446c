package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/caseledger/caseledger/api/identity"
)

// A client sends the same bearer token with every request, and checking
// its signature (ECDSA or RSA) costs more than many a handler does. The
// identities of tokens verified lately are kept, each until its token
// expires but for at most tokenCacheTTL: a signing key the issuer
// withdraws stops being honoured within that minute. Failures are never
// kept, so a token is refused exactly as the verifier would.
const (
	tokenCacheTTL = time.Minute
	// tokenCacheMax bounds the tokens kept; past it, expired entries go,
	// and if that is not enough, all of them.
	tokenCacheMax = 10_000
)

// tokenCache is a TokenVerifier that asks next only about tokens it has
// not verified lately.
type tokenCache struct {
	next TokenVerifier
	now  func() time.Time
	mu   sync.Mutex
	// ids holds verified identities by the SHA-256 of their token, so that
	// the tokens themselves are not kept.
	ids map[[sha256.Size]byte]verifiedToken
}

type verifiedToken struct {
	id    identity.Identity
	until time.Time
}

func newTokenCache(next TokenVerifier, now func() time.Time) *tokenCache {
	return &tokenCache{next: next, now: now, ids: map[[sha256.Size]byte]verifiedToken{}}
}

func (c *tokenCache) Verify(ctx context.Context, raw string) (identity.Identity, error) {
	key := sha256.Sum256([]byte(raw))
	now := c.now()
	c.mu.Lock()
	v, ok := c.ids[key]
	c.mu.Unlock()
	if ok && now.Before(v.until) {
		return v.id, nil
	}
	id, err := c.next.Verify(ctx, raw)
	if err != nil {
		return id, err
	}
	exp, ok := tokenExpiry(raw)
	if !ok {
		return id, nil // nothing says until when: verified every time
	}
	until := now.Add(tokenCacheTTL)
	if exp.Before(until) {
		until = exp
	}
	if !now.Before(until) {
		return id, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.ids) >= tokenCacheMax {
		for k, v := range c.ids {
			if !now.Before(v.until) {
				delete(c.ids, k)
			}
		}
		if len(c.ids) >= tokenCacheMax {
			clear(c.ids)
		}
	}
	c.ids[key] = verifiedToken{id: id, until: until}
	return id, nil
}

// tokenExpiry reads the exp claim of a compact JWS whose signature the
// verifier has checked; ok is false for anything else.
func tokenExpiry(raw string) (time.Time, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil || claims.Exp == "" {
		return time.Time{}, false
	}
	secs, err := claims.Exp.Float64()
	if err != nil || math.IsNaN(secs) || secs <= 0 || secs > math.MaxInt32*4 {
		return time.Time{}, false
	}
	// A fraction of a second is rounded down: never kept past the expiry.
	return time.Unix(int64(secs), 0), true
}
