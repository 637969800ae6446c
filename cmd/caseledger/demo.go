package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/caseledger/caseledger/api/identity"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/personaldata"
	"github.com/caseledger/caseledger/seed"
)

// The demo keeps its data apart from a real data directory, and never
// reads CASELEDGER_DATA: demo data seeded into a real store would sit in
// its immutable log for good.
const defaultDemoDataDir = "./demo-data"

// demoTeamLead is the identity of the token the demo prints: the team lead
// the demo data give the first office, who sees that office's whole
// caseload (a caseworker sees only the participants on their team).
func demoTeamLead() identity.Identity {
	office := seed.Offices()[0]
	return identity.Identity{UserID: office + "-lead-1", Role: identity.TeamLead, Office: office}
}

const demoTokenTTL = 12 * time.Hour

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("demo", "caseledger demo [--data DIR] [--addr HOST:PORT] [--participants N]")
	idf := addIdentityFlags(fs, defaultDemoDataDir, false)
	srvf := addServerFlags(fs)
	var participants int
	fs.IntVar(&participants, "participants", demoParticipants, "participants to seed an empty demo store with (0: none); a store with events is left as it is")
	if err := fs.parse(e, args); err != nil {
		return err
	}
	if participants < 0 || participants > seed.MaxParticipants {
		return usageErrorf(fs.Name(), "--participants must be 0 to %d, not %d", seed.MaxParticipants, participants)
	}
	if err := idf.check(fs); err != nil {
		return err
	}
	if err := srvf.check(fs); err != nil {
		return err
	}
	// The demo makes its own master key on its first start, beside its
	// data, so that it runs with one command; it says so.
	var keyCreated bool
	keys := func(ctx context.Context, _ *slog.Logger) (*personaldata.Keyring, error) {
		master, created, err := openDemoMasterKey(idf.dataDir)
		if err != nil {
			return nil, err
		}
		keyCreated = created
		return openKeyring(ctx, idf.dataDir, master)
	}
	return serve(ctx, e, idf, srvf, keys, func(ctx context.Context, s started) error {
		if err := seedIfEmpty(ctx, s, participants); err != nil {
			return err
		}
		who := demoTeamLead()
		tok, err := s.issuer.Mint(who, demoTokenTTL)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "caseledger demo: serving %s on http://%s (Ctrl-C stops it)\n\n", idf.dataDir, s.addr)
		keyFile := filepath.Join(idf.dataDir, demoMasterKeyFile)
		if keyCreated {
			fmt.Fprintf(e.stdout, "Personal data are sealed under a master key made for this demo now: %s (mode 0600).\n", keyFile)
		} else {
			fmt.Fprintf(e.stdout, "Personal data are sealed under the demo's master key: %s.\n", keyFile)
		}
		fmt.Fprintf(e.stdout, "It stays beside the demo data, which cannot be read without it; a real\ninstallation keeps its master key apart from its data (%s).\n\n", envMasterKey)
		fmt.Fprintf(e.stdout, "A team lead's token (user %s, office %s, valid %.0f hours):\n\n%s\n\n",
			who.UserID, who.Office, demoTokenTTL.Hours(), tok)
		fmt.Fprintf(e.stdout, "Try it: the office's active participants\n\ncurl -s -H 'Authorization: Bearer %s' 'http://%s/v1/caseload?status=active&limit=5'\n\n", tok, s.addr)
		return nil
	})
}

// demoParticipants is the size of the demo population: enough for every
// measure to show something, small enough for the demo to start in
// seconds. "caseledger seed" writes larger ones.
const demoParticipants = 300

// seedIfEmpty writes the demo data set of n participants into a store
// that has no events, through the server's own command handler, with seed
// 1 as of today.
func seedIfEmpty(ctx context.Context, s started, n int) error {
	if n == 0 {
		return nil
	}
	head, err := s.store.ReadAll(ctx, eventstore.ReadAllOptions{Backwards: true, From: eventstore.End, Limit: 1})
	if err != nil {
		return fmt.Errorf("look for existing demo data: %w", err)
	}
	if len(head) > 0 {
		s.log.InfoContext(ctx, "demo store holds events already; not seeding")
		return nil
	}
	s.log.InfoContext(ctx, "demo store is empty; seeding demo data", "participants", n)
	stats, err := seed.Run(ctx, s.svc, seed.Config{Participants: n, Seed: 1}, nil)
	if err != nil {
		return fmt.Errorf("seed the demo store: %w", err)
	}
	s.log.InfoContext(ctx, "demo data seeded", "participants", stats.Participants, "episodes", stats.Episodes,
		"events", stats.Written, "as_of", stats.Today.String(), "took", stats.Elapsed.Round(time.Millisecond).String())
	return nil
}
