package audit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/chain"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/personaldata/keystoretest"
)

// faulty is a store whose appends fail with err while it is set; with
// afterWrite they fail once the events are written, as a commit whose
// answer is lost does.
type faulty struct {
	eventstore.Store
	mu         sync.Mutex
	err        error
	afterWrite bool
	only       string // when set, only appends to this stream fail
}

func (s *faulty) fail(err error, afterWrite bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err, s.afterWrite = err, afterWrite
}

func (s *faulty) Append(ctx context.Context, stream string, expected eventstore.Expected, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	s.mu.Lock()
	err, afterWrite := s.err, s.afterWrite
	if s.only != "" && stream != s.only {
		err = nil
	}
	s.mu.Unlock()
	if err != nil && !afterWrite {
		return eventstore.AppendResult{}, err
	}
	res, werr := s.Store.Append(ctx, stream, expected, events...)
	if werr != nil {
		return res, werr
	}
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	return res, nil
}

// readOnly is what the embedded store answers on a read-only disk.
var readOnly = fmt.Errorf("commit: %w: %w", eventstore.ErrUnavailable, &fs.PathError{Op: "write", Path: "events.db", Err: syscall.EROFS})

// spilling is a fixture whose Log writes through a faulty store and holds
// what it refuses in a spill journal of its own directory.
type spilling struct {
	*fixture
	store     *faulty
	spillDir  string
	spill     *audit.Spill
	svc       *casework.Service
	log       *audit.Log
	knownLogs int
}

func newSpilling(t testing.TB) *spilling {
	t.Helper()
	f := newFixture(t, time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC))
	s := &spilling{fixture: f, store: &faulty{Store: f.store}, spillDir: t.TempDir()}
	s.reopen(t)
	return s
}

// reopen starts afresh over the same store and journal, as a restarted
// process does.
func (s *spilling) reopen(t testing.TB) {
	t.Helper()
	if s.spill != nil {
		if err := s.spill.Close(); err != nil {
			t.Fatal(err)
		}
	}
	spill, err := audit.OpenSpill(s.spillDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { spill.Close() })
	svc, err := casework.New(s.store, casework.Options{Now: s.clock, Keys: keystoretest.Keyring(t, s.dir)})
	if err != nil {
		t.Fatal(err)
	}
	s.spill, s.svc, s.log = spill, svc, audit.New(svc, audit.Options{Spill: spill})
}

// logged is the access records in the store, in log order: each as its
// participant, with its time of recording.
func (s *spilling) logged(t *testing.T) []audit.Record {
	t.Helper()
	page, err := audit.New(s.fixture.svc, audit.Options{}).Query(context.Background(), audit.Query{From: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return page.Records
}

func (s *spilling) intact(t *testing.T) {
	t.Helper()
	rep, err := chain.Verify(context.Background(), s.fixture.store, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Breaks) > 0 {
		t.Fatalf("the access log's chain is broken: %+v", rep.Breaks)
	}
}

func participants(recs []audit.Record) []uuid.UUID {
	out := make([]uuid.UUID, len(recs))
	for i, r := range recs {
		out[i] = r.ParticipantID
	}
	return out
}

func TestSpillHoldsOnlyWhatTheStoreCannotTake(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cause error
		held  bool
	}{
		{"read-only disk", readOnly, true},
		{"full disk", &fs.PathError{Op: "write", Path: "events.db", Err: syscall.ENOSPC}, true},
		{"failing disk", fmt.Errorf("sync: %w", syscall.EIO), true},
		{"cluster unreachable", fmt.Errorf("append: %w: connection refused", eventstore.ErrUnavailable), true},
		{"store closed", eventstore.ErrClosed, true},
		{"a record the store calls invalid", eventstore.ErrInvalidEvent, false},
		{"a broken chain", chain.ErrBroken, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSpilling(t)
			s.store.fail(tc.cause, false)
			look := access("u-kari", uuid.New(), domain.ViewParticipant)
			err := s.log.Record(context.Background(), look)
			if tc.held {
				if err != nil {
					t.Fatalf("Record = %v, want it held", err)
				}
				if s.spill.Len() != 1 {
					t.Fatalf("journal holds %d records, want 1", s.spill.Len())
				}
				return
			}
			if !errors.Is(err, audit.ErrNotRecorded) {
				t.Fatalf("Record = %v, want ErrNotRecorded", err)
			}
			if s.spill.Len() != 0 {
				t.Fatalf("journal holds %d records of a refusal that is not the store's", s.spill.Len())
			}
		})
	}
}

func TestHeldRecordsMoveFirstInTheOrderOfTheLooks(t *testing.T) {
	ctx := context.Background()
	s := newSpilling(t)
	a, b, c := uuid.New(), uuid.New(), uuid.New()
	if err := s.log.Record(ctx, access("u-kari", uuid.New(), domain.ViewParticipant)); err != nil {
		t.Fatal(err)
	}
	s.store.fail(readOnly, false)
	s.set(time.Date(2026, 5, 15, 10, 1, 0, 0, time.UTC))
	if err := s.log.Record(ctx, access("u-kari", a, domain.ViewParticipant)); err != nil {
		t.Fatal(err)
	}
	s.set(time.Date(2026, 5, 15, 10, 2, 0, 0, time.UTC))
	if err := s.log.RecordAll(ctx, domain.Actor{UserID: "u-ola", Role: "caseworker", Office: "oslo"}, uuid.New(), []domain.AccessRecorded{access("", b, domain.ViewCaseload).Record}); err != nil {
		t.Fatal(err)
	}

	// While held, an auditor sees them, marked, after what the log holds.
	page, err := s.log.Query(ctx, audit.Query{From: time.Date(2026, 5, 15, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(page.Records); got != 3 || page.Records[0].Held || !page.Records[1].Held || !page.Records[2].Held ||
		page.Records[1].ParticipantID != a || page.Records[2].ParticipantID != b || page.Records[2].UserID != "u-ola" || page.Records[1].Position != 0 {
		t.Fatalf("query while held: %+v", page.Records)
	}
	if logged := s.logged(t); len(logged) != 1 {
		t.Fatalf("the log holds %d records while the store refuses writes, want the 1 from before", len(logged))
	}

	// The store takes writes again: the next look moves them first.
	s.store.fail(nil, false)
	s.set(time.Date(2026, 5, 15, 10, 30, 0, 0, time.UTC))
	if err := s.log.Record(ctx, access("u-kari", c, domain.ViewParticipant)); err != nil {
		t.Fatal(err)
	}
	logged := s.logged(t)
	if got := participants(logged[1:]); len(got) != 3 || got[0] != a || got[1] != b || got[2] != c {
		t.Fatalf("log order after the move: %v, want %v", got, []uuid.UUID{a, b, c})
	}
	for i, want := range []time.Time{
		time.Date(2026, 5, 15, 10, 1, 0, 0, time.UTC),
		time.Date(2026, 5, 15, 10, 2, 0, 0, time.UTC),
		time.Date(2026, 5, 15, 10, 30, 0, 0, time.UTC),
	} {
		if r := logged[1+i]; !r.RecordedAt.Equal(want) || r.Held {
			t.Errorf("record %d: recorded_at %v held %v, want the time of the look %v", i, r.RecordedAt, r.Held, want)
		}
	}
	if logged[2].UserID != "u-ola" || logged[2].View != domain.ViewCaseload {
		t.Errorf("held record lost its reader or view: %+v", logged[2])
	}
	if s.spill.Len() != 0 {
		t.Errorf("journal still holds %d records", s.spill.Len())
	}
	s.intact(t)
}

func TestHeldRecordsGoToTheDayOfTheLook(t *testing.T) {
	ctx := context.Background()
	s := newSpilling(t)
	s.store.fail(readOnly, false)
	s.set(time.Date(2026, 5, 15, 21, 0, 0, 0, time.UTC)) // 23:00 in Oslo
	held := uuid.New()
	if err := s.log.Record(ctx, access("u-kari", held, domain.ViewParticipant)); err != nil {
		t.Fatal(err)
	}
	s.store.fail(nil, false)
	s.set(time.Date(2026, 5, 16, 8, 0, 0, 0, time.UTC))
	if err := s.log.Record(ctx, access("u-kari", uuid.New(), domain.ViewParticipant)); err != nil {
		t.Fatal(err)
	}
	want := []string{domain.AccessLogStream(mustDate(t, 2026, 5, 15)), domain.AccessLogStream(mustDate(t, 2026, 5, 16))}
	if got := s.streams(t); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("streams %v, want %v", got, want)
	}
	s.intact(t)
}

func TestHeldRecordsSurviveARestart(t *testing.T) {
	ctx := context.Background()
	s := newSpilling(t)
	s.store.fail(readOnly, false)
	held := uuid.New()
	if err := s.log.Record(ctx, access("u-kari", held, domain.ViewParticipant)); err != nil {
		t.Fatal(err)
	}
	s.reopen(t)
	if s.spill.Len() != 1 {
		t.Fatalf("after a restart the journal holds %d records, want 1", s.spill.Len())
	}
	s.store.fail(nil, false)
	later := uuid.New()
	if err := s.log.Record(ctx, access("u-kari", later, domain.ViewParticipant)); err != nil {
		t.Fatal(err)
	}
	if got := participants(s.logged(t)); len(got) != 2 || got[0] != held || got[1] != later {
		t.Fatalf("log after restart: %v, want %v", got, []uuid.UUID{held, later})
	}
}

// A move whose append wrote the records but answered a failure, and a
// crash after the move but before the journal was emptied, both try the
// move again: every record is stored once and the chain holds.
func TestHeldRecordsAreStoredOnceWhenTheMoveIsTriedAgain(t *testing.T) {
	ctx := context.Background()
	s := newSpilling(t)
	s.store.fail(readOnly, false)
	first := uuid.New()
	if err := s.log.Record(ctx, access("u-kari", first, domain.ViewParticipant)); err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(s.spillDir, audit.SpillFile)
	before, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}

	// The move writes, then fails: both records are held, the first twice
	// over in the sense that the store has it already.
	s.store.fail(readOnly, true)
	second := uuid.New()
	if err := s.log.Record(ctx, access("u-kari", second, domain.ViewParticipant)); err != nil {
		t.Fatal(err)
	}
	if s.spill.Len() != 2 {
		t.Fatalf("journal holds %d records, want 2", s.spill.Len())
	}
	s.store.fail(nil, false)
	third := uuid.New()
	if err := s.log.Record(ctx, access("u-kari", third, domain.ViewParticipant)); err != nil {
		t.Fatal(err)
	}
	if got := participants(s.logged(t)); len(got) != 3 || got[0] != first || got[1] != second || got[2] != third {
		t.Fatalf("log: %v, want %v", got, []uuid.UUID{first, second, third})
	}

	// A crash before the journal was emptied: it comes back holding the
	// first record, which the log has.
	if err := s.spill.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(journal, before, 0o600); err != nil {
		t.Fatal(err)
	}
	s.spill = nil
	s.reopen(t)
	if err := s.log.Record(ctx, access("u-kari", uuid.New(), domain.ViewParticipant)); err != nil {
		t.Fatal(err)
	}
	if got := participants(s.logged(t)); len(got) != 4 || got[0] != first || got[1] != second || got[2] != third {
		t.Fatalf("log after the move was tried again: %v", got)
	}
	s.intact(t)
}

// A look whose own append wrote its record and then failed (a commit
// whose answer was lost) is held with the id it was written under, so the
// move stores it once.
func TestALookWhoseAppendWroteAndFailedIsStoredOnce(t *testing.T) {
	ctx := context.Background()
	s := newSpilling(t)
	s.store.fail(readOnly, true)
	first := uuid.New()
	if err := s.log.Record(ctx, access("u-kari", first, domain.ViewParticipant)); err != nil {
		t.Fatal(err)
	}
	if s.spill.Len() != 1 {
		t.Fatalf("journal holds %d records, want the look whose answer was lost", s.spill.Len())
	}
	s.store.fail(nil, false)
	second := uuid.New()
	if err := s.log.Record(ctx, access("u-kari", second, domain.ViewParticipant)); err != nil {
		t.Fatal(err)
	}
	if got := participants(s.logged(t)); len(got) != 2 || got[0] != first || got[1] != second {
		t.Fatalf("log: %v, want each look once: %v", got, []uuid.UUID{first, second})
	}
	s.intact(t)
}

// While a move has stored some held records and not others, a query shows
// each record once: those stored from the log, the rest as held.
func TestQueryWhileAMoveIsHalfDone(t *testing.T) {
	ctx := context.Background()
	s := newSpilling(t)
	s.store.fail(readOnly, false)
	a, b, c := uuid.New(), uuid.New(), uuid.New()
	s.set(time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC))
	if err := s.log.Record(ctx, access("u-kari", a, domain.ViewParticipant)); err != nil {
		t.Fatal(err)
	}
	s.set(time.Date(2026, 5, 16, 10, 0, 0, 0, time.UTC))
	if err := s.log.Record(ctx, access("u-kari", b, domain.ViewParticipant)); err != nil {
		t.Fatal(err)
	}
	// The 15th's stream takes writes again, the 16th's not: the next
	// look's move stores a and stops at b, and c is held behind it.
	s.store.mu.Lock()
	s.store.only = domain.AccessLogStream(mustDate(t, 2026, 5, 16))
	s.store.mu.Unlock()
	if err := s.log.Record(ctx, access("u-kari", c, domain.ViewParticipant)); err != nil {
		t.Fatal(err)
	}
	page, err := s.log.Query(ctx, audit.Query{From: time.Date(2026, 5, 15, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range page.Records {
		got = append(got, fmt.Sprintf("%v held=%v", r.ParticipantID, r.Held))
	}
	want := []string{fmt.Sprintf("%v held=false", a), fmt.Sprintf("%v held=true", b), fmt.Sprintf("%v held=true", c)}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Fatalf("query while half moved:\n got %v\nwant %v", got, want)
	}
}

// A move of many large records goes in appends the store takes: a
// caseload page lists up to 500 participants, and 512 of those would
// not fit in one.
func TestHeldPagesMoveInAppendsOfBoundedSize(t *testing.T) {
	ctx := context.Background()
	s := newSpilling(t)
	s.store.fail(readOnly, false)
	reader := domain.Actor{UserID: "u-kari", Role: "caseworker", Office: "oslo"}
	const pages = 60
	for range pages {
		look := access("u-kari", uuid.Nil, domain.ViewCaseload).Record
		look.Participants = make([]uuid.UUID, domain.MaxListedParticipants)
		for i := range look.Participants {
			look.Participants[i] = uuid.New()
		}
		if err := s.log.RecordAll(ctx, reader, uuid.New(), []domain.AccessRecorded{look}); err != nil {
			t.Fatal(err)
		}
	}
	s.store.fail(nil, false)
	sizes := &sizing{Store: s.store}
	s.store.Store, sizes.Store = sizes, s.store.Store
	if err := s.log.Record(ctx, access("u-kari", uuid.New(), domain.ViewParticipant)); err != nil {
		t.Fatal(err)
	}
	if n := len(s.logged(t)); n != pages+1 {
		t.Fatalf("the log holds %d records, want %d", n, pages+1)
	}
	for _, b := range sizes.bytes {
		if b > 2<<20 {
			t.Fatalf("an append of %d bytes, over twice the bound of 1 MiB (a store is asked to take 4 MiB); appends: %v", b, sizes.bytes)
		}
	}
	if len(sizes.bytes) < 3 {
		t.Fatalf("%d appends for %d pages of 500 and a look, want them split: %v", len(sizes.bytes), pages, sizes.bytes)
	}
}

// sizing records the bytes of every append it passes on.
type sizing struct {
	eventstore.Store
	bytes []int
}

func (s *sizing) Append(ctx context.Context, stream string, expected eventstore.Expected, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	n := 0
	for _, e := range events {
		n += len(e.Data) + len(e.Metadata)
	}
	s.bytes = append(s.bytes, n)
	return s.Store.Append(ctx, stream, expected, events...)
}

func TestRetryHeldMovesRecordsWithoutANewLook(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newSpilling(t)
	s.store.fail(readOnly, false)
	held := uuid.New()
	if err := s.log.Record(ctx, access("u-kari", held, domain.ViewParticipant)); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); s.log.RetryHeld(ctx, time.Millisecond) }()
	time.Sleep(20 * time.Millisecond) // a few tries against the refusing store
	if s.spill.Len() != 1 {
		t.Fatalf("journal holds %d records while the store refuses, want 1", s.spill.Len())
	}
	s.store.fail(nil, false)
	deadline := time.Now().Add(10 * time.Second)
	for s.spill.Len() > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if got := participants(s.logged(t)); len(got) != 1 || got[0] != held {
		t.Fatalf("log: %v, want the held record", got)
	}
}

func TestALookIsRefusedWhenTheJournalCannotHoldIt(t *testing.T) {
	s := newSpilling(t)
	s.store.fail(readOnly, false)
	// A closed journal stands in for its volume failing as well.
	if err := s.spill.Close(); err != nil {
		t.Fatal(err)
	}
	err := s.log.Record(context.Background(), access("u-kari", uuid.New(), domain.ViewParticipant))
	if !errors.Is(err, audit.ErrNotRecorded) || !strings.Contains(err.Error(), "spill journal") {
		t.Fatalf("Record = %v, want ErrNotRecorded naming the spill journal", err)
	}
	if s.spill.Len() != 0 {
		t.Fatalf("journal counts %d records it could not write", s.spill.Len())
	}
}

// holdOne leaves a journal in dir holding one record, as a run whose store
// refused it does.
func holdOne(t testing.TB, dir string) []byte {
	t.Helper()
	s := newSpilling(t)
	s.spillDir = dir
	s.reopen(t)
	s.store.fail(readOnly, false)
	if err := s.log.Record(context.Background(), access("u-kari", uuid.New(), domain.ViewParticipant)); err != nil {
		t.Fatal(err)
	}
	if err := s.spill.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, audit.SpillFile))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestOpenSpill(t *testing.T) {
	dir := t.TempDir()
	line := holdOne(t, dir)
	if bytes.Count(line, []byte("\n")) != 1 || !bytes.HasSuffix(line, []byte("\n")) {
		t.Fatalf("a held batch is not one line: %q", line)
	}
	damaged := bytes.Replace(line, []byte(`"u-kari"`), []byte(`"u-kare"`), 1)
	// A line whose sum holds but whose record the log would refuse.
	malformed := audit.JournalLine("maybe")
	for _, tc := range []struct {
		name     string
		journal  []byte
		held     int
		torn     int
		damaged  string // the line ErrSpillDamaged names
		journal2 []byte // what the file holds after opening
	}{
		{name: "empty", journal: nil},
		{name: "one batch", journal: line, held: 1, journal2: line},
		{name: "two batches", journal: append(clone(line), line...), held: 2, journal2: append(clone(line), line...)},
		{name: "a last line cut short", journal: append(clone(line), line[:len(line)/2]...), held: 1, torn: len(line) / 2, journal2: line},
		{name: "a last line without its end", journal: append(clone(line), line[:len(line)-1]...), held: 1, torn: len(line) - 1, journal2: line},
		{name: "a changed last line", journal: append(clone(line), damaged...), held: 1, torn: len(damaged), journal2: line},
		{name: "a changed line before the last", journal: append(clone(damaged), line...), damaged: "line 1"},
		{name: "a line that is not JSON before the last", journal: append([]byte("{not json\n"), line...), damaged: "line 1"},
		{name: "a line as the fuzz seed has it", journal: audit.JournalLine("permit"), held: 1, journal2: audit.JournalLine("permit")},
		{name: "a batch with a malformed record, summed", journal: append(clone(malformed), line...), damaged: "line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, audit.SpillFile)
			if err := os.WriteFile(path, tc.journal, 0o600); err != nil {
				t.Fatal(err)
			}
			spill, err := audit.OpenSpill(dir)
			if tc.damaged != "" {
				if !errors.Is(err, audit.ErrSpillDamaged) || !strings.Contains(err.Error(), tc.damaged) {
					t.Fatalf("OpenSpill = %v, want ErrSpillDamaged naming %s", err, tc.damaged)
				}
				if got, _ := os.ReadFile(path); !bytes.Equal(got, tc.journal) {
					t.Fatal("a damaged journal was changed")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer spill.Close()
			if spill.Len() != tc.held || spill.Torn() != tc.torn {
				t.Errorf("held %d torn %d, want %d and %d", spill.Len(), spill.Torn(), tc.held, tc.torn)
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, tc.journal2) {
				t.Errorf("journal after opening:\n%q\nwant\n%q", got, tc.journal2)
			}
		})
	}
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

func TestOpenSpillIsExclusive(t *testing.T) {
	dir := t.TempDir()
	first, err := audit.OpenSpill(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.OpenSpill(dir); err == nil || !strings.Contains(err.Error(), "another process") {
		t.Fatalf("second OpenSpill = %v, want it refused", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := audit.OpenSpill(dir)
	if err != nil {
		t.Fatalf("OpenSpill after the first closed: %v", err)
	}
	again.Close()
	info, err := os.Stat(filepath.Join(dir, audit.SpillFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v, want 0600: it names who looked at whom", info.Mode().Perm())
	}
}

func mustDate(t *testing.T, y int, m time.Month, d int) domain.Date {
	t.Helper()
	day, err := domain.NewDate(y, m, d)
	if err != nil {
		t.Fatal(err)
	}
	return day
}

// limited refuses appends of more than max events, as a store whose
// largest append is smaller than the Log's bound does.
type limited struct {
	eventstore.Store
	max int
}

func (s limited) Append(ctx context.Context, stream string, expected eventstore.Expected, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if len(events) > s.max {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, eventstore.ErrEventTooLarge)
	}
	return s.Store.Append(ctx, stream, expected, events...)
}

// A held batch larger than the store takes at once moves a record at a
// time, each once, rather than keeping every later look waiting.
func TestAHeldBatchTooLargeForTheStoreMovesARecordAtATime(t *testing.T) {
	ctx := context.Background()
	s := newSpilling(t)
	s.store.fail(readOnly, false)
	reader := domain.Actor{UserID: "u-kari", Role: "caseworker", Office: "oslo"}
	ids := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	var looks []domain.AccessRecorded
	for _, id := range ids {
		looks = append(looks, access("u-kari", id, domain.ViewParticipant).Record)
	}
	if err := s.log.RecordAll(ctx, reader, uuid.New(), looks); err != nil {
		t.Fatal(err)
	}
	s.store.fail(nil, false)
	s.store.Store = limited{Store: s.store.Store, max: 1}
	last := uuid.New()
	if err := s.log.Record(ctx, access("u-kari", last, domain.ViewParticipant)); err != nil {
		t.Fatalf("a look after a held batch the store takes only a record at a time: %v", err)
	}
	if got := participants(s.logged(t)); !slices.Equal(got, append(ids, last)) {
		t.Fatalf("log: %v, want %v", got, append(ids, last))
	}
	s.intact(t)
}
