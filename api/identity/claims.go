package identity

import (
	"encoding/json"
	"fmt"
	"strings"
)

// lookupClaim finds the claim that name points to in claims.
//
// A name is first looked up whole, because issuers that namespace their
// claims put dots in the key itself ("https://caseledger.example/role").
// Failing that, its dots step into nested objects ("realm_access.roles",
// "resource_access.caseledger.api.roles"); at each level the longest member
// name that exists and leads to the rest of the path wins, so a client id
// with a dot in it still resolves.
func lookupClaim(claims map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	return lookupPath(claims, strings.Split(name, "."))
}

func lookupPath(obj map[string]json.RawMessage, segs []string) (json.RawMessage, bool) {
	for n := len(segs); n >= 1; n-- {
		v, ok := obj[strings.Join(segs[:n], ".")]
		if !ok {
			continue
		}
		if n == len(segs) {
			return v, true
		}
		var inner map[string]json.RawMessage
		if json.Unmarshal(v, &inner) != nil {
			continue
		}
		if found, ok := lookupPath(inner, segs[n:]); ok {
			return found, true
		}
	}
	return nil, false
}

// stringClaim returns the claim that name points to, "" when it is absent
// or null, and an error when it is anything but a string.
func stringClaim(claims map[string]json.RawMessage, name string) (string, error) {
	raw, ok := lookupClaim(claims, name)
	if !ok || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("claim %q is not a string", name)
	}
	return s, nil
}

// roleClaim reads the caller's role from the claim that name points to.
//
// The rule: the claim is a string or a list of strings. Of its values,
// only product roles (those of Roles, matched exactly) count; anything else
// is the issuer's business and is ignored, since issuers put their own
// roles in shared lists (Keycloak's "offline_access", for one). Exactly one
// product role must remain, a value repeated counting once. None is
// ErrUnknownRole; two or more is ErrAmbiguousRole, because roles are not
// ranked (an auditor is not more than a caseworker, only other) and an
// identity acts in exactly one, so picking one would be a guess at what
// the caller may see.
func roleClaim(claims map[string]json.RawMessage, name string) (Role, error) {
	raw, ok := lookupClaim(claims, name)
	if !ok || string(raw) == "null" {
		return "", fmt.Errorf("%w: claim %q is absent", ErrUnknownRole, name)
	}
	var values []string
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		values = []string{one}
	} else if err := json.Unmarshal(raw, &values); err != nil {
		return "", fmt.Errorf("claim %q is neither a string nor a list of strings", name)
	}
	var found Role
	for _, v := range values {
		r := Role(v)
		if !r.Valid() || r == found {
			continue
		}
		if found != "" {
			return "", fmt.Errorf("%w: claim %q names more than one", ErrAmbiguousRole, name)
		}
		found = r
	}
	if found == "" {
		return "", fmt.Errorf("%w: claim %q names none", ErrUnknownRole, name)
	}
	return found, nil
}
