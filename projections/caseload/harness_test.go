package caseload_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore/bolt"
	"github.com/caseledger/caseledger/personaldata/keystoretest"
	"github.com/caseledger/caseledger/projections"
	"github.com/caseledger/caseledger/projections/caseload"
)

// The command handler's clock: 15 May 2026, midday in Oslo. Every business
// date written is on or before it; queries choose their own today.
var now = time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC)

// fixture is an installation: the real bolt store, real sealing, the real
// command handler, and the caseload model fed by a running Runner.
type fixture struct {
	dir    string
	store  *bolt.Store
	svc    *casework.Service
	model  *caseload.Model
	runner *projections.Runner
	stop   func() // stops the runner, waiting for its last snapshot
	last   uint64 // position of the last write
	serial int
}

func (f *fixture) nextSerial() int { f.serial++; return 100 + f.serial%800 }

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	store, err := bolt.Open(filepath.Join(dir, "events.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc, err := casework.New(store, casework.Options{Now: func() time.Time { return now }, Keys: keystoretest.Keyring(t, dir)})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{dir: dir, store: store, svc: svc}
	f.start(t)
	return f
}

// start runs a fresh model and runner over the store until the test ends.
func (f *fixture) start(t *testing.T) {
	t.Helper()
	f.model = caseload.New(f.store)
	r, err := projections.New(f.store, projections.Options{Dir: filepath.Join(f.dir, "projections")}, f.model)
	if err != nil {
		t.Fatal(err)
	}
	f.runner = r
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	f.stop = func() { cancel(); <-done }
	t.Cleanup(f.stop)
}

// stopAndRestart stops the runner and starts a new process's model and
// runner over the same store and snapshot directory.
func stopAndRestart(t *testing.T, f *fixture) {
	t.Helper()
	f.stop()
	f.start(t)
}

func (f *fixture) sync(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.runner.WaitFor(ctx, f.last); err != nil {
		t.Fatal(err)
	}
}

func d(t testing.TB, s string) domain.Date {
	t.Helper()
	v, err := domain.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func req() casework.Request {
	return casework.Request{Actor: domain.Actor{UserID: "u-kari", Role: "caseworker", Office: "oslo"}, CorrelationID: uuid.New()}
}

// participant writes for one participant.
type participant struct {
	f  *fixture
	id uuid.UUID
}

func (f *fixture) exec(t *testing.T, id uuid.UUID, decide casework.Decision) casework.Result {
	t.Helper()
	res, err := f.svc.Execute(context.Background(), domain.ParticipantStream(id), req(), decide)
	if err != nil {
		t.Fatal(err)
	}
	f.last = res.Position
	return res
}

func do[C any](t *testing.T, p participant, decide func(domain.Participant, C, domain.Date) ([]domain.Event, error), cmd C) casework.Result {
	t.Helper()
	return p.f.exec(t, p.id, func(h []domain.Recorded, today domain.Date) ([]domain.Event, error) {
		return decide(domain.FoldParticipant(h), cmd, today)
	})
}

// enrol enrols a participant of office on enrolledOn, assigned to users.
func (f *fixture) enrol(t *testing.T, office, enrolledOn string, protected bool, users ...string) participant {
	t.Helper()
	var nid string
	var err error
	for range 50 {
		if nid, err = domain.SyntheticNationalID(d(t, "1990-04-12"), f.nextSerial()); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	p := participant{f: f, id: uuid.New()}
	do(t, p, domain.Enrol, domain.EnrolCommand{
		Programme: "hope-bergen", Office: office, EnrolledOn: d(t, enrolledOn), AddressProtection: protected,
		ReferralSource: domain.ReferralSources()[0],
		Profile: domain.Profile{BirthYear: 1990, Gender: domain.Genders()[0], RegionOfBirth: domain.RegionsOfBirth()[0],
			IncomeSource: domain.IncomeSources()[0], NorwegianLevel: domain.NorwegianLevels()[0], EducationLevel: domain.EducationLevels()[0]},
		Personal: &domain.EnrolmentPersonal{Name: "Test Person", NationalID: nid},
	})
	for _, u := range users {
		do(t, p, domain.AssignCaseworker, domain.AssignCaseworkerCommand{UserID: u, Role: domain.CaseworkerRoles()[0], Date: d(t, enrolledOn)})
	}
	return p
}

func (p participant) meeting(t *testing.T, on, next string) casework.Result {
	t.Helper()
	cmd := domain.RecordMeetingCommand{Date: d(t, on), Kind: domain.MeetingGuidance}
	if next != "" {
		cmd.NextMeetingOn = d(t, next)
	}
	return do(t, p, domain.RecordMeeting, cmd)
}

func (p participant) score(t *testing.T, on string, tp domain.Timepoint, v int) casework.Result {
	t.Helper()
	return do(t, p, domain.RecordScore, domain.RecordScoreCommand{Date: d(t, on), Timepoint: tp,
		Instrument: domain.InstrumentIndicatorIndex, InstrumentVersion: domain.IndicatorIndexVersion,
		Scores: domain.Scores{Hope: v, WellBeing: v, Network: v, WorkAttachment: v}})
}

func (p participant) consent(t *testing.T, on string, scope domain.ConsentScope) {
	t.Helper()
	do(t, p, domain.GiveConsent, domain.GiveConsentCommand{Scope: scope, Date: d(t, on)})
}

func (p participant) job(t *testing.T, on string) uuid.UUID {
	t.Helper()
	id := uuid.New()
	do(t, p, domain.StartPlacement, domain.StartPlacementCommand{PlacementID: id, Kind: domain.PlacementOrdinaryJob,
		StartedOn: d(t, on), HoursPercentage: 60})
	return id
}

// practice starts a work practice on on, planned to end on plannedEnd.
func (p participant) practice(t *testing.T, on, plannedEnd string) uuid.UUID {
	t.Helper()
	id := uuid.New()
	do(t, p, domain.StartPlacement, domain.StartPlacementCommand{PlacementID: id, Kind: domain.PlacementWorkPractice,
		StartedOn: d(t, on), HoursPercentage: 50, PlannedEnd: d(t, plannedEnd)})
	return id
}

func (p participant) exit(t *testing.T, on string) {
	t.Helper()
	do(t, p, domain.Exit, domain.ExitCommand{Date: d(t, on), Reason: domain.ExitReasons()[0], Destination: domain.Destinations()[0]})
}

// list queries the model for the office of oslo on today.
func list(t *testing.T, m *caseload.Model, today string, edit func(*caseload.Query)) caseload.Page {
	t.Helper()
	q := caseload.Query{Scope: caseload.Scope{Office: "oslo"}, Today: d(t, today), Limit: caseload.MaxLimit}
	if edit != nil {
		edit(&q)
	}
	page, err := m.List(q)
	if err != nil {
		t.Fatal(err)
	}
	return page
}

func flagsOf(t *testing.T, m *caseload.Model, id uuid.UUID, today string) []caseload.Flag {
	t.Helper()
	row, ok := m.Get(id, d(t, today))
	if !ok {
		t.Fatalf("no row for %s", id)
	}
	return row.Flags
}
