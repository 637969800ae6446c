package seed

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/bolt"
	"github.com/caseledger/caseledger/personaldata/keystoretest"
)

// The reference clock: 15 May 2026, midday in Oslo.
var clock = time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC)

func refDate(t testing.TB) domain.Date {
	t.Helper()
	d, err := domain.ParseDate("2026-05-15")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// newStore opens a bolt store and a service over it in dir; a second call
// with the same dir stands for a later run of the same installation.
func newStore(t *testing.T, dir string) (*casework.Service, *bolt.Store) {
	t.Helper()
	store, err := bolt.Open(filepath.Join(dir, "events.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc, err := casework.New(store, casework.Options{
		Keys: keystoretest.Keyring(t, dir), Now: func() time.Time { return clock },
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc, store
}

func head(t *testing.T, store eventstore.Store) uint64 {
	t.Helper()
	evs, err := store.ReadAll(context.Background(), eventstore.ReadAllOptions{Backwards: true, From: eventstore.End, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) == 0 {
		return 0
	}
	return evs[0].Position
}

func TestPlansAreDeterministic(t *testing.T) {
	cat := newCatalogue()
	today := refDate(t)
	differ := 0
	for n := range 60 {
		a, b := plan(cat, 7, n, today), plan(newCatalogue(), 7, n, today)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("participant %d: two plans from seed 7 differ", n)
		}
		if len(a.Steps) == 0 {
			t.Fatalf("participant %d has no steps", n)
		}
		// Business facts, not just ids, change with the seed.
		other := plan(cat, 8, n, today)
		if !reflect.DeepEqual(a.Steps[0].Commands[0], other.Steps[0].Commands[0]) {
			differ++
		}
	}
	if differ < 55 {
		t.Errorf("only %d of 60 enrolments differ between seeds 7 and 8", differ)
	}
	if reflect.DeepEqual(plan(cat, 7, 1, today), plan(cat, 7, 2, today)) {
		t.Error("participants 1 and 2 have the same plan")
	}
}

func TestPlansEndOnTheReferenceDate(t *testing.T) {
	cat := newCatalogue()
	today := refDate(t)
	oldest := today
	for n := range 300 {
		for _, s := range plan(cat, 3, n, today).Steps {
			if s.On.After(today) {
				t.Fatalf("participant %d: step %s on %s, after %s", n, s.Name, s.On, today)
			}
			if s.On.Before(oldest) {
				oldest = s.On
			}
		}
	}
	if days := today.DaysSince(oldest); days < 2*365 || days > 3*365+3 {
		t.Errorf("the oldest step is %d days old; enrolments should spread over about three years", days)
	}
}

// Every plan must be accepted by the domain. Deciding them in memory
// checks far more participants than a store could in a test.
func TestEveryPlanIsAccepted(t *testing.T) {
	cat := newCatalogue()
	today := refDate(t)
	n := 900
	if testing.Short() {
		n = 200
	}
	for seed := uint64(1); seed <= 3; seed++ {
		for i := range n / 3 {
			if _, err := dryRun(plan(cat, seed, i, today), today); err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
		}
	}
}

func TestSyntheticIdentifiers(t *testing.T) {
	cat := newCatalogue()
	seen := map[string]bool{}
	for _, e := range cat.all {
		n := e.cmd.OrganisationNumber
		if err := domain.ValidateOrganisationNumber(n); err != nil || n[0] != '3' || seen[n] {
			t.Fatalf("organisation number %s: valid %v, want a unique valid number starting with 3", n, err)
		}
		seen[n] = true
	}
	today := refDate(t)
	for n := range 200 {
		for _, s := range plan(cat, 5, n, today).Steps {
			en, ok := s.Commands[0].(domain.EnrolCommand)
			if !ok {
				continue
			}
			p := en.Personal
			if p.NationalID != "" {
				id, err := domain.ParseNationalID(p.NationalID)
				if err != nil || !id.Synthetic {
					t.Fatalf("participant %d: national id is not a synthetic one (%v)", n, err)
				}
			}
			if p.Phone != "" && !strings.HasPrefix(p.Phone, "+47 00 ") {
				t.Fatalf("participant %d: phone %q is outside the unused +47 00 range", n, p.Phone)
			}
			if !strings.Contains(p.Name, "Test") && !strings.Contains(p.Name, "Prøve") {
				t.Fatalf("participant %d: name %q is not plainly made up", n, p.Name)
			}
			if en.AddressProtection && p.Address != "" {
				t.Fatalf("participant %d: an address under address protection", n)
			}
		}
	}
}

// Seeding a store writes what the plans hold, every command accepted, with
// figures that give each measure something to show; seeding again stores
// nothing.
func TestSeedIntoAStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	svc, store := newStore(t, dir)
	cfg := Config{Participants: 500, Seed: 42}
	if testing.Short() {
		cfg.Participants = 100
	}
	var progress bytes.Buffer
	stats, err := Run(ctx, svc, cfg, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Today != refDate(t) || stats.Participants != cfg.Participants || stats.Programmes != 5 || stats.Employers != len(newCatalogue().employersFor(cfg.Participants)) {
		t.Fatalf("stats %+v", stats)
	}
	if stats.Existing != 0 || stats.Written < 40*cfg.Participants {
		t.Fatalf("wrote %d events (%d found stored) for %d participants", stats.Written, stats.Existing, cfg.Participants)
	}
	if !strings.Contains(progress.String(), "participants") || !strings.HasSuffix(progress.String(), "\n") {
		t.Errorf("progress on a non-terminal: %q", progress.String())
	}

	// Read everything back from the store, as a projection would.
	f := newFigures()
	for n := range cfg.Participants {
		h, _, err := svc.Load(ctx, domain.ParticipantStream(participantID(cfg.Seed, n)))
		if err != nil {
			t.Fatalf("participant %d: %v", n, err)
		}
		f.add(h, stats.Today)
	}
	t.Logf("by type: %v\n%s", stats.ByType, f.report())
	if f.events != stats.Written-stats.Programmes-stats.Employers {
		t.Errorf("the participant streams hold %d events, the run wrote %d", f.events, stats.Written-stats.Programmes-stats.Employers)
	}
	checks := []struct {
		what    string
		got     float64
		lo, hi  float64
		minimum bool
	}{
		{"share with an ordinary job within a year", float64(f.jobInYear) / float64(f.yearEligible), 0.35, 0.65, false},
		{"share of counted weeks with a meeting", float64(f.weeksMet) / float64(f.weeks), 0.6, 0.95, false},
		{"mean change of hope", mean(f.hopeChange), 0.5, 2.5, false},
		{"share off social assistance at exit", rate(f.offSA), 0.25, 0.8, false},
		{"retention at 90 days", rate(f.retention), 0.6, 0.99, false},
		{"re-enrolled participants", float64(f.reEnrolled), 1, 0, true},
		{"corrections", float64(f.corrected), 1, 0, true},
		{"voids", float64(f.voided), 1, 0, true},
		{"pauses", float64(f.paused), 1, 0, true},
		{"drop-outs", float64(f.droppedOut), 1, 0, true},
		{"index pairs", float64(f.indexPairs), 10, 0, true},
	}
	for _, c := range checks {
		if c.got < c.lo || (!c.minimum && c.got > c.hi) {
			t.Errorf("%s: %.2f, want %v to %v", c.what, c.got, c.lo, c.hi)
		}
	}
	for _, typ := range []string{domain.TypeEmployerContacted, domain.TypePlacementStarted, domain.TypePlacementEnded,
		domain.TypeIncomeSourceChanged, domain.TypeGoalSet, domain.TypeGoalClosed, domain.TypeConsentGiven, domain.TypeCaseworkerAssigned} {
		if stats.ByType[typ] == 0 {
			t.Errorf("no %s events", typ)
		}
	}
	if stats.ByType[domain.TypeMeetingHeld] < stats.Written/3 {
		t.Errorf("%d meetings of %d events; meetings about weekly should be the bulk", stats.ByType[domain.TypeMeetingHeld], stats.Written)
	}

	// A second run of the same seed finds every step and stores nothing.
	before := head(t, store)
	again, err := Run(ctx, svc, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Written != 0 || again.Existing != stats.Written || head(t, store) != before {
		t.Fatalf("re-run wrote %d events, found %d of %d; head %d, was %d", again.Written, again.Existing, stats.Written, head(t, store), before)
	}

	// The same seed with another reference date would mix two populations
	// in one set of streams: it is refused, not replayed.
	cfg.Participants, cfg.Today = 1, refDate(t).AddDays(-30)
	if _, err := Run(ctx, svc, cfg, nil); !errors.Is(err, casework.ErrIdempotencyKeyReused) {
		t.Fatalf("another reference date: %v, want ErrIdempotencyKeyReused", err)
	}
}

// Event ids depend on the seed and the participant, never on how many
// workers wrote them or in what order.
func TestEventIDsDoNotDependOnWorkers(t *testing.T) {
	ctx := context.Background()
	ids := func(workers int) map[string][]string {
		svc, store := newStore(t, t.TempDir())
		if _, err := Run(ctx, svc, Config{Participants: 24, Seed: 9, Workers: workers}, nil); err != nil {
			t.Fatal(err)
		}
		all, err := store.ReadAll(ctx, eventstore.ReadAllOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for _, e := range all {
			out[e.Stream] = append(out[e.Stream], e.ID.String())
		}
		return out
	}
	few, many := ids(2), ids(16)
	if len(few) == 0 || !reflect.DeepEqual(few, many) {
		t.Fatalf("2 workers and 16 workers wrote different streams or ids (%d and %d streams)", len(few), len(many))
	}
}

func TestConfigIsValidated(t *testing.T) {
	svc, _ := newStore(t, t.TempDir())
	for _, cfg := range []Config{
		{Participants: 0},
		{Participants: MaxParticipants + 1},
		{Participants: 1, Workers: -1},
		{Participants: 1, Workers: MaxWorkers + 1},
		{Participants: 1, Today: refDate(t).AddDays(1)},
	} {
		if _, err := Run(context.Background(), svc, cfg, nil); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

func TestACancelledRunStops(t *testing.T) {
	svc, _ := newStore(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, svc, Config{Participants: 10}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestProgressLine(t *testing.T) {
	var buf bytes.Buffer
	m := newMeter(&buf, 2000)
	if m.tty {
		t.Fatal("a buffer is not a terminal")
	}
	stop := m.start()
	m.done.Store(1000)
	m.events.Store(1234567)
	stop()
	out := buf.String()
	for _, want := range []string{"1,000/2,000 participants", "( 50%)", "1,234,567 events", "took"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress %q lacks %q", out, want)
		}
	}
	if strings.Contains(out, "\r") {
		t.Errorf("plain progress redraws: %q", out)
	}
	if got := thousands(-1234); got != "-1,234" {
		t.Errorf("thousands(-1234) = %s", got)
	}
}

// An erased participant's data key is destroyed; writing their plan again
// must still find every step, not trip over data it can no longer read.
func TestAnErasedParticipantReRuns(t *testing.T) {
	ctx := context.Background()
	cat := newCatalogue()
	today := refDate(t)
	var pl Plan
	for n := 0; pl.Steps == nil; n++ {
		if n > 5000 {
			t.Fatal("no plan of the first 5000 erases personal data")
		}
		p := plan(cat, 42, n, today)
		if last := p.Steps[len(p.Steps)-1]; last.Name == "erase" {
			pl = p
		}
	}
	svc, _ := newStore(t, t.TempDir())
	var first, again tally
	if err := writePlan(ctx, svc, 42, pl, &first); err != nil {
		t.Fatal(err)
	}
	if err := writePlan(ctx, svc, 42, pl, &again); err != nil {
		t.Fatal(err)
	}
	if first.written == 0 || again.written != 0 || again.existing != first.written {
		t.Fatalf("first run wrote %d events; the second wrote %d and found %d", first.written, again.written, again.existing)
	}
	h, _, err := svc.Load(ctx, pl.Stream())
	if err != nil {
		t.Fatal(err)
	}
	if p := domain.FoldParticipant(h); !p.Erased || p.Personal != nil {
		t.Fatalf("participant %d is not erased after its plan", pl.Number)
	}
}
