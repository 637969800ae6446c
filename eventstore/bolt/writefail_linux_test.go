//go:build linux

package bolt_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/bolt"
)

// writeFailChildEnv marks the child process that runs
// TestFailedCommitsLeaveTheStoreUsable for real: the file size limit it
// sets holds for the whole process, so no other test may share it.
const writeFailChildEnv = "CASELEDGER_BOLT_WRITE_FAIL_CHILD"

// TestFailedCommitsLeaveTheStoreUsable makes the disk refuse the store's
// writes (a file size limit, RLIMIT_FSIZE, makes every write and every
// growth of the file past the limit fail with EFBIG, as a full disk fails
// them with ENOSPC) while appenders keep appending, and then lifts
// the limit. Appends fail with ErrUnavailable and none of them shows up;
// the appends that fitted into the file's free pages succeed, reads and
// subscriptions keep working throughout; once the limit is gone the same
// appends succeed, once each, after the last good position; and bbolt's
// own consistency check finds nothing wrong with the file.
func TestFailedCommitsLeaveTheStoreUsable(t *testing.T) {
	if os.Getenv(writeFailChildEnv) == "" {
		const name = "TestFailedCommitsLeaveTheStoreUsable"
		cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), writeFailChildEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("--- PASS: "+name)) {
			t.Fatalf("the child running the test: %v\n%s", err, out)
		}
		return
	}

	// Two ways the disk refuses: growing the file fails (bbolt's message
	// then loses the errno), or writing a page past the limit fails
	// within a file that has room (the errno stays in the chain).
	tests := []struct {
		name string
		// below is how far under the file's size the limit is set.
		below     int64
		eventSize int
		errno     bool // the failures carry EFBIG
	}{
		{"the file cannot grow", 0, 96 << 10, false},
		{"a page cannot be written", 48 << 10, 1 << 10, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { failedCommits(t, tt.below, tt.eventSize, tt.errno) })
	}
}

func failedCommits(t *testing.T, below int64, eventSize int, wantErrno bool) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "events.db")
	// A small growth step makes the file's slack run out after a few
	// appends, so that the limit bites soon.
	s, err := bolt.Open(path, bolt.Options{AllocSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	var log []uuid.UUID // event ids in log order, as the store acknowledged them
	for i := range 20 {
		evs := newEvents(1 + i%3)
		mustAppend(t, s, streamOf(i), eventstore.Any, evs...)
		for _, ev := range evs {
			log = append(log, ev.ID)
		}
	}
	subCtx, stopSub := context.WithCancel(ctx)
	defer stopSub()
	sub, err := s.Subscribe(subCtx, eventstore.SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	delivered := make(chan uuid.UUID, 1024)
	go func() {
		defer close(delivered)
		for {
			m, err := sub.Next(subCtx)
			if err != nil {
				return
			}
			if m.Event != nil {
				delivered <- m.Event.ID
			}
		}
	}()

	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	var saved syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &saved); err != nil {
		t.Fatal(err)
	}
	limit := saved
	limit.Cur = uint64(info.Size() - below)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limit); err != nil {
		t.Fatal(err)
	}
	liftLimit := func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &saved); err != nil {
			t.Fatal(err)
		}
	}
	defer liftLimit()

	type attempt struct {
		stream string
		events []eventstore.EventData
		res    eventstore.AppendResult
		err    error
	}
	newAttempt := func(n int) *attempt {
		return &attempt{stream: streamOf(n), events: []eventstore.EventData{
			event("Large", `{"pad":"`+string(bytes.Repeat([]byte{'x'}, eventSize))+`"}`)}}
	}
	// One append at a time until the first is refused: which way it is
	// refused is then the same on every run.
	var attempts []*attempt
	for n := 0; n < 200; n++ {
		at := newAttempt(n)
		at.res, at.err = s.Append(ctx, at.stream, eventstore.Any, at.events...)
		attempts = append(attempts, at)
		if at.err != nil {
			if got := errors.Is(at.err, syscall.EFBIG); got != wantErrno {
				t.Fatalf("the first failure (%v) carries EFBIG: %v, want %v; the test no longer takes the path it is meant to", at.err, got, wantErrno)
			}
			break
		}
	}
	// Then appenders race while the disk refuses.
	const appenders, each = 6, 4
	racing := make([]*attempt, appenders*each)
	var wg sync.WaitGroup
	for a := range appenders {
		wg.Go(func() {
			for i := range each {
				n := len(attempts) + a*each + i
				at := newAttempt(n)
				at.res, at.err = s.Append(ctx, at.stream, eventstore.Any, at.events...)
				racing[a*each+i] = at
			}
		})
	}
	wg.Wait()
	attempts = append(attempts, racing...)
	// Each append was acknowledged or failed with ErrUnavailable.
	var failed, acked []*attempt
	for _, at := range attempts {
		switch {
		case at.err == nil:
			acked = append(acked, at)
		case errors.Is(at.err, eventstore.ErrUnavailable):
			failed = append(failed, at)
		default:
			t.Fatalf("append to %s failed with %v, want ErrUnavailable", at.stream, at.err)
		}
	}
	if len(failed) == 0 {
		t.Fatal("no append failed: the file size limit did not bite, and the test checked nothing")
	}
	t.Logf("with the limit: %d appends acknowledged, %d refused, e.g. with %v", len(acked), len(failed), failed[0].err)
	slices.SortFunc(acked, func(a, b *attempt) int { return cmp.Compare(a.res.Position, b.res.Position) })
	for _, at := range acked {
		log = append(log, at.events[0].ID)
	}

	// Reads go on, and show exactly what was acknowledged.
	checkIDs(t, "while the disk refuses", checkLog(t, s), log)

	liftLimit()
	for _, at := range failed {
		res, err := s.Append(ctx, at.stream, eventstore.Any, at.events...)
		if err != nil {
			t.Fatalf("retry after the limit was lifted: %v", err)
		}
		if want := uint64(len(log) + 1); res.Position != want {
			t.Fatalf("retry landed at position %d, want %d: the failed commits left a gap or a trace", res.Position, want)
		}
		log = append(log, at.events[0].ID)
	}
	// A second retry of an append that now succeeded stores nothing.
	again, err := s.Append(ctx, failed[0].stream, eventstore.Any, failed[0].events...)
	if err != nil || again.Position != uint64(len(log)-len(failed)+1) {
		t.Fatalf("idempotent retry: %+v, %v", again, err)
	}
	checkIDs(t, "after the limit was lifted", checkLog(t, s), log)

	// The subscription delivered everything once, in order, across the
	// failures.
	var got []uuid.UUID
	timeout := time.After(30 * time.Second)
	for len(got) < len(log) {
		select {
		case id, ok := <-delivered:
			if !ok {
				t.Fatalf("subscription ended after %d of %d events", len(got), len(log))
			}
			got = append(got, id)
		case <-timeout:
			t.Fatalf("subscription delivered %d of %d events", len(got), len(log))
		}
	}
	if !slices.Equal(got, log) {
		t.Fatal("the subscription delivered another sequence than the log holds")
	}
	stopSub()

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(func(tx *bbolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
	db.Close()
	if err != nil {
		t.Fatalf("bbolt's check of the file: %v", err)
	}
	reopened := openStore(t, path, bolt.Options{})
	checkIDs(t, "after reopening", checkLog(t, reopened), log)
}

func streamOf(i int) string { return "case-" + string(rune('a'+i%7)) }

// checkIDs compares the log's event ids with want, in order.
func checkIDs(t *testing.T, when string, all []eventstore.RecordedEvent, want []uuid.UUID) {
	t.Helper()
	got := make([]uuid.UUID, len(all))
	for i, ev := range all {
		got[i] = ev.ID
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s: the log holds %d events, %d acknowledged; or another order", when, len(got), len(want))
	}
}
