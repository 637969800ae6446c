package api

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api/identity"
)

// countingVerifier accepts a token while the clock is before its exp (a
// token without exp always), unless told to refuse, and counts the calls.
type countingVerifier struct {
	now    func() time.Time
	refuse bool
	calls  int
}

func (v *countingVerifier) Verify(_ context.Context, raw string) (identity.Identity, error) {
	v.calls++
	if v.refuse {
		return identity.Identity{}, identity.ErrInvalidToken
	}
	if exp, ok := tokenExpiry(raw); ok && !v.now().Before(exp) {
		return identity.Identity{}, fmt.Errorf("%w: expired", identity.ErrInvalidToken)
	}
	return identity.Identity{UserID: raw[len(raw)-3:], Role: identity.Caseworker, Office: "oslo"}, nil
}

// jwt is a compact JWS with these claims; the signature is not checked
// here, the verifier stands for that.
func jwt(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"ES256"}`)) + "." + enc([]byte(claims)) + "." + enc([]byte("sig"))
}

func TestTokenCache(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	type step struct {
		after  time.Duration // since start
		token  string
		refuse bool // the verifier refuses whatever it is asked
		ok     bool
		calls  int // the verifier's calls so far
	}
	far := jwt(fmt.Sprintf(`{"sub":"u-1","exp":%d}`, start.Add(12*time.Hour).Unix()))
	soon := jwt(fmt.Sprintf(`{"sub":"u-1","exp":%d.9}`, start.Add(10*time.Second).Unix()))
	other := jwt(fmt.Sprintf(`{"sub":"u-2","exp":%d}`, start.Add(12*time.Hour).Unix()))
	for _, tt := range []struct {
		name  string
		steps []step
	}{
		{"a token is verified once a minute", []step{
			{0, far, false, true, 1}, {time.Second, far, false, true, 1}, {59 * time.Second, far, false, true, 1},
			{60 * time.Second, far, false, true, 2}, {61 * time.Second, far, false, true, 2},
		}},
		{"another token is verified on its own", []step{
			{0, far, false, true, 1}, {0, other, false, true, 2}, {time.Second, other, false, true, 2},
		}},
		{"a token is not taken past its expiry", []step{
			{0, soon, false, true, 1}, {9 * time.Second, soon, false, true, 1}, {10 * time.Second, soon, false, false, 2},
			{11 * time.Second, soon, false, false, 3},
		}},
		{"a refusal is not kept", []step{
			{0, far, true, false, 1}, {time.Second, far, false, true, 2}, {2 * time.Second, far, true, true, 2},
		}},
		{"a token without exp is verified every time", []step{
			{0, jwt(`{"sub":"u-1"}`), false, true, 1}, {0, jwt(`{"sub":"u-1"}`), false, true, 2},
			{0, "opaque-token", false, true, 3}, {0, "opaque-token", false, true, 4},
			{0, jwt(`{"exp":"tomorrow"}`), false, true, 5}, {0, jwt(`{"exp":"tomorrow"}`), false, true, 6},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var now time.Time
			clock := func() time.Time { return now }
			v := &countingVerifier{now: clock}
			c := newTokenCache(v, clock)
			want := identity.Identity{}
			for i, s := range tt.steps {
				now, v.refuse = start.Add(s.after), s.refuse
				id, err := c.Verify(context.Background(), s.token)
				if (err == nil) != s.ok || v.calls != s.calls {
					t.Fatalf("step %d: %+v, %v after %d calls; want ok %v after %d", i, id, err, v.calls, s.ok, s.calls)
				}
				if err == nil {
					want.UserID, want.Role, want.Office = s.token[len(s.token)-3:], identity.Caseworker, "oslo"
					if id != want {
						t.Fatalf("step %d: %+v, want %+v", i, id, want)
					}
				}
			}
		})
	}
}

// TestTokenCacheBound: past its bound the cache drops what has expired,
// and then everything, rather than grow.
func TestTokenCacheBound(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	c := newTokenCache(&countingVerifier{now: clock}, clock)
	for i := range tokenCacheMax + 10 {
		tok := jwt(fmt.Sprintf(`{"sub":"u-%d","exp":%d}`, i, now.Add(time.Hour).Unix()))
		if _, err := c.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
		if len(c.ids) > tokenCacheMax {
			t.Fatalf("%d tokens kept after %d", len(c.ids), i+1)
		}
	}
}
