// Package identity says who is calling: it verifies bearer tokens (JWTs)
// with go-oidc and turns their claims into an Identity.
//
// Tokens come from one of two issuers, through one Verifier: in production
// an OpenID Connect issuer, whose keys are found by discovery and refetched
// when it rotates them (NewOIDCVerifier); on the embedded default a local
// issuer, whose signing key lives in the data directory (OpenLocalIssuer).
// Either way the same checks and the same claim rules apply, and a refused
// token is ErrInvalidToken.
//
// The package knows nothing of HTTP; the api package extracts the bearer
// token, calls a Verifier and answers 401 or 403.
package identity

import (
	"context"
	"errors"
	"fmt"
)

// Role is what a user may do; see docs on access (shared/design/access.md).
type Role string

// The roles a token may carry. Any other value makes the token invalid.
const (
	Caseworker Role = "caseworker"
	TeamLead   Role = "team_lead"
	Auditor    Role = "auditor"
	Evaluator  Role = "evaluator"
	Volunteer  Role = "volunteer"
	Admin      Role = "admin"
)

// Roles lists every known role, in the order the access table names them.
func Roles() []Role {
	return []Role{Caseworker, TeamLead, Auditor, Evaluator, Volunteer, Admin}
}

// ParseRole returns the role named s, or ErrUnknownRole.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		// The value itself stays out of the error: it came from a token.
		return "", ErrUnknownRole
	}
	return r, nil
}

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	switch r {
	case Caseworker, TeamLead, Auditor, Evaluator, Volunteer, Admin:
		return true
	}
	return false
}

// OfficeScoped reports whether the role acts for one office, so that an
// identity with it must name that office: without one, no office check
// could ever pass or fail meaningfully.
func (r Role) OfficeScoped() bool {
	return r == Caseworker || r == TeamLead || r == Volunteer
}

// Identity is the authenticated caller of a request.
type Identity struct {
	UserID string
	Role   Role
	Office string // empty for roles that are not office-scoped
}

// Errors of identities and tokens. Their messages never carry a token or a
// claim's value.
var (
	ErrUnknownRole    = errors.New("unknown role")
	ErrAmbiguousRole  = errors.New("more than one role")
	ErrMissingUser    = errors.New("missing user id")
	ErrMissingOffice  = errors.New("missing office for an office-scoped role")
	ErrMissingToken   = errors.New("missing bearer token")
	ErrInvalidToken   = errors.New("invalid token")
	ErrInvalidKeyFile = errors.New("invalid signing key file")
	// ErrInvalidConfig is a configuration that could never verify a token
	// safely; it is the operator's to fix, not the issuer's.
	ErrInvalidConfig = errors.New("invalid identity configuration")
)

// Validate checks what every identity must have, whether it comes from a
// token being verified or one being minted.
func (id Identity) Validate() error {
	switch {
	case id.UserID == "":
		return ErrMissingUser
	case !id.Role.Valid():
		return ErrUnknownRole
	case id.Role.OfficeScoped() && id.Office == "":
		return fmt.Errorf("%w (%s)", ErrMissingOffice, id.Role)
	}
	return nil
}

type contextKey struct{}

// NewContext returns a copy of ctx that carries id.
func NewContext(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, contextKey{}, id)
}

// FromContext returns the identity in ctx, if the request was authenticated.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(contextKey{}).(Identity)
	return id, ok
}
