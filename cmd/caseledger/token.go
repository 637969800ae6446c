package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/caseledger/caseledger/api/identity"
)

// maxTokenTTL bounds a local token's life: the local issuer cannot revoke
// a token, so a leaked one is only ever good for this long.
const maxTokenTTL = 7 * 24 * time.Hour

func runToken(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("token", "caseledger token --user U --role R [--office O] [--ttl 12h] [--data DIR]")
	idf := addIdentityFlags(fs, defaultDataDir, true)
	var (
		user, role, office string
		ttl                time.Duration
	)
	fs.StringVar(&user, "user", "", "user id the token names (required)")
	fs.StringVar(&role, "role", "", "role: "+roleList()+" (required)")
	fs.StringVar(&office, "office", "", "office the user acts for (required for caseworker, team_lead and volunteer)")
	fs.DurationVar(&ttl, "ttl", 12*time.Hour, "how long the token is valid, at most "+maxTokenTTL.String())
	if err := fs.parse(e, args); err != nil {
		return err
	}
	if err := fs.required("user", "role"); err != nil {
		return err
	}
	if err := idf.check(fs); err != nil {
		return err
	}
	r, err := identity.ParseRole(role)
	if err != nil {
		return usageErrorf(fs.Name(), "--role %q is not one of %s", role, roleList())
	}
	if r.OfficeScoped() && office == "" {
		return usageErrorf(fs.Name(), "missing --office: a %s acts for one office", r)
	}
	if ttl <= 0 || ttl > maxTokenTTL {
		return usageErrorf(fs.Name(), "--ttl %s is not between 0 and %s", ttl, maxTokenTTL)
	}

	issuer, err := identity.OpenLocalIssuer(ctx, idf.dataDir, idf.config())
	if err != nil {
		return err
	}
	tok, err := issuer.Mint(identity.Identity{UserID: user, Role: r, Office: office}, ttl)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(e.stdout, tok)
	return err
}

func roleList() string {
	var names []string
	for _, r := range identity.Roles() {
		names = append(names, string(r))
	}
	return strings.Join(names, ", ")
}
