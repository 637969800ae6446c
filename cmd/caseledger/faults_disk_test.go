//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/eventstore/esdb"
	"github.com/caseledger/caseledger/eventstore/esdb/esdbtest"
)

// The disk tests put the data directory on a tmpfs of their own, which
// they fill or remount read-only. A file system with a file open for
// writing cannot be remounted read-only (EBUSY: only the kernel forces
// that, after errors), and the embedded store holds its file open for
// writing all along; so the read-only case runs with the log in
// EventStoreDB, where the data directory holds the keys and snapshots,
// and the embedded store is checked at start instead.

// mountTmpfs mounts a tmpfs of size bytes on a new directory, unmounted
// when the test ends. Without the privilege to mount, the test is
// skipped, except in CI (CI=true), where it fails.
func mountTmpfs(t *testing.T, size int64) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		reason := fmt.Sprintf("the disk fault tests mount a tmpfs, which needs root or CAP_SYS_ADMIN: %v", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(reason)
		}
		t.Skip(reason)
	}
	// Registered after t.TempDir's removal and before any server's kill,
	// so it runs after the kill and before the removal.
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			err := syscall.Unmount(dir, 0)
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				// Detach it at least, so that nothing stays mounted.
				if derr := syscall.Unmount(dir, syscall.MNT_DETACH); derr != nil {
					t.Errorf("unmount %s: %v, then %v", dir, err, derr)
				}
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	return dir
}

// remount makes the tmpfs at dir read-only or writable again. A write in
// flight (a read model's snapshot) makes the kernel refuse for a moment.
func remount(t *testing.T, dir string, readOnly bool) {
	t.Helper()
	flags := uintptr(syscall.MS_REMOUNT | syscall.MS_NOSUID | syscall.MS_NODEV)
	if readOnly {
		flags |= syscall.MS_RDONLY
	}
	deadline := time.Now().Add(pollTimeout)
	for {
		err := syscall.Mount("tmpfs", dir, "tmpfs", flags, "")
		if err == nil {
			return
		}
		if !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline) {
			t.Fatalf("remount %s (read-only %v): %v", dir, readOnly, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fill writes a ballast file into dir until its file system is full, and
// returns the file's path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "ballast")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for _, size := range []int{1 << 20, 4 << 10} {
		for {
			if _, err := f.Write(chunk[:size]); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatal(err)
				}
				break
			}
		}
	}
	return path
}

// refusedForStorage checks that r is the answer to a write the disk
// refused: 503 cannot_write with Retry-After, naming no path.
func refusedForStorage(t *testing.T, what string, r reply, mnt string) {
	t.Helper()
	if r.status != http.StatusServiceUnavailable || r.problemType() != "cannot_write" || r.header.Get("Retry-After") == "" {
		t.Fatalf("%s: %s (Retry-After %q), want 503 cannot_write with Retry-After", what, r, r.header.Get("Retry-After"))
	}
	if strings.Contains(string(r.body), mnt) || strings.Contains(string(r.body), "/tmp") {
		t.Fatalf("%s: the answer names a path: %s", what, r.body)
	}
}

// personalRead checks a read of personal data while the access log
// cannot be written: it is shown (its record fitted into the store), or
// refused with 503 access_not_recorded; it is never shown unrecorded.
func personalRead(t *testing.T, what string, r reply) {
	t.Helper()
	if r.status != http.StatusOK && (r.status != http.StatusServiceUnavailable || r.problemType() != "access_not_recorded") {
		t.Fatalf("%s: %s, want 200 or 503 access_not_recorded", what, r)
	}
	t.Logf("%s: %d %s", what, r.status, r.problemType())
}

// TestFaultDiskFull fills the disk under a running server with the
// embedded store: /readyz fails and says why, a new participant (whose
// key file cannot be written) and, once the store's free pages are used
// up, every write answers 503 cannot_write; reads of what holds no
// personal data go on; a look at personal data is shown only if its
// access record could be written. With the ballast gone, the same
// requests succeed without a restart, and the log holds every answered
// write once. A shutdown on a full disk still ends cleanly, leaving no
// half-written snapshot behind.
func TestFaultDiskFull(t *testing.T) {
	mnt := mountTmpfs(t, 64<<20)
	dir := filepath.Join(mnt, "data")
	srv, c, tk, cw := startFaultServer(t, dir)
	today := faultToday()
	var writes []*write
	var people []uuid.UUID
	days := map[uuid.UUID]int{}
	sendOK := func(w *write) {
		t.Helper()
		ack(t, c, w)
		writes = append(writes, w)
	}
	meeting := func(id uuid.UUID) *write {
		days[id]++
		return meetingWrite(t, cw, id, fmt.Sprintf("meeting-%s-%d", id, days[id]), today.AddDays(-100+days[id]))
	}
	for n := range 2 {
		e := enrolWrite(t, cw, n, today.AddDays(-100))
		sendOK(e)
		people = append(people, e.participantID(t))
		sendOK(meeting(people[n]))
	}

	ballast := fill(t, mnt)
	if why := srv.waitReady(t, false); !strings.Contains(why, "cannot be written") || strings.Contains(why, mnt) {
		t.Errorf("/readyz on a full disk: %s", why)
	}
	if r := c.do(http.MethodGet, "/livez", "", nil, ""); r.status != http.StatusOK {
		t.Errorf("/livez on a full disk: %s", r)
	}

	// A new participant needs a key file of their own.
	enrol := enrolWrite(t, cw, 2, today.AddDays(-100))
	refusedForStorage(t, "enrolment on a full disk", enrol.send(c), mnt)
	// The store writes into pages it freed before as long as it has
	// some; then it needs new ones, which the disk refuses.
	var refused []*write
	for i := 0; i < 100 && len(refused) == 0; i++ {
		w := meeting(people[i%2])
		r := w.send(c)
		if w.acked {
			writes = append(writes, w)
			continue
		}
		days[w.participant]-- // the day is still free
		refusedForStorage(t, "meeting on a full disk", r, mnt)
		refused = append(refused, w)
	}
	if len(refused) == 0 {
		t.Fatal("100 meetings were stored on a full disk: the disk never refused, and the test checked nothing")
	}
	t.Logf("full disk: %d writes answered before the first refusal", len(writes)-4)

	// Nothing personal: answered as ever.
	if r := c.do(http.MethodGet, "/v1/programmes/"+faultProgramme, cw, nil, ""); r.status != http.StatusOK {
		t.Errorf("the programme on a full disk: %s", r)
	}
	if r := c.do(http.MethodGet, "/v1/me", cw, nil, ""); r.status != http.StatusOK {
		t.Errorf("/v1/me on a full disk: %s", r)
	}
	personalRead(t, "a participant on a full disk", c.do(http.MethodGet, "/v1/participants/"+people[0].String(), cw, nil, ""))
	personalRead(t, "the caseload on a full disk", c.do(http.MethodGet, "/v1/caseload", tk.lead, nil, ""))

	// The fix: no restart.
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	srv.waitReady(t, true)
	sendOK(enrol)
	people = append(people, enrol.participantID(t))
	for _, w := range refused {
		days[w.participant]++
		sendOK(w)
	}
	sendOK(meeting(people[2]))

	// A shutdown on a full disk: the last snapshot cannot be written,
	// which costs the next start a longer catch-up, nothing else.
	ballast = fill(t, mnt)
	srv.stop(t)
	if !strings.Contains(srv.out.String(), "snapshot failed") {
		t.Errorf("the shutdown on a full disk does not say the snapshot failed:\n%s", srv.out)
	}
	left, err := filepath.Glob(filepath.Join(dir, projectionsDir, "*.tmp-*"))
	if err != nil || len(left) > 0 {
		t.Errorf("the failed snapshot left %v (%v)", left, err)
	}
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	store := openDataStore(t, dir)
	checkLog(t, store, writes)
	store.Close()
	srv = startReady(t, dir)
	if v := readCaseload(t, newClient(srv), tk, maxPosition(writes)); v.total != len(people) {
		t.Errorf("the caseload after the restart lists %d participants, want %d", v.total, len(people))
	}
}

// TestFaultDataDirReadOnly turns the data directory read-only under a
// server whose log is in EventStoreDB: /readyz fails and says why, a new
// participant (whose key file cannot be written) answers 503
// cannot_write, while writes and reads for participants whose keys exist
// go on. Made writable again, the refused enrolment succeeds without a
// restart, and the log holds every answered write once.
func TestFaultDataDirReadOnly(t *testing.T) {
	es := esdbtest.New(t, esdbtest.Options{})
	mnt := mountTmpfs(t, 16<<20)
	dir := filepath.Join(mnt, "data")
	srv, c, _, cw := startFaultServer(t, dir, "--store", es.ConnectionString())
	today := faultToday()
	var writes []*write
	sendOK := func(w *write) {
		t.Helper()
		ack(t, c, w)
		writes = append(writes, w)
	}
	first := enrolWrite(t, cw, 0, today.AddDays(-30))
	sendOK(first)
	p1 := first.participantID(t)
	sendOK(meetingWrite(t, cw, p1, "meeting-1", today.AddDays(-20)))

	remount(t, mnt, true)
	if why := srv.waitReady(t, false); !strings.Contains(why, "read-only file system") || strings.Contains(why, mnt) {
		t.Errorf("/readyz on a read-only data directory: %s", why)
	}
	second := enrolWrite(t, cw, 1, today.AddDays(-30))
	refusedForStorage(t, "enrolment on a read-only data directory", second.send(c), mnt)
	sendOK(meetingWrite(t, cw, p1, "meeting-2", today.AddDays(-10)))
	if r := c.do(http.MethodGet, "/v1/participants/"+p1.String(), cw, nil, ""); r.status != http.StatusOK || !strings.Contains(string(r.body), "Synthetic Person 0") {
		t.Errorf("a participant on a read-only data directory: %s", r)
	}

	remount(t, mnt, false)
	srv.waitReady(t, true)
	sendOK(second)
	sendOK(meetingWrite(t, cw, second.participantID(t), "meeting-3", today.AddDays(-5)))
	srv.stop(t)

	store, err := esdb.Open(context.Background(), es.ConnectionString(), esdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	checkLog(t, store, writes)
}

// TestFaultServeRefusesAReadOnlyStore starts serve on an embedded store
// whose disk is read-only: it refuses to start, in one line that says
// why, rather than serving reads it could not record.
func TestFaultServeRefusesAReadOnlyStore(t *testing.T) {
	mnt := mountTmpfs(t, 16<<20)
	dir := filepath.Join(mnt, "data")
	startReady(t, dir).stop(t)
	remount(t, mnt, true)
	code, out := runCommand(t, "serve", "--data", dir, "--addr", "127.0.0.1:0")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	if code != 1 || !strings.HasPrefix(last, "caseledger: ") || !strings.Contains(last, "read-only file system") {
		t.Fatalf("serve on a read-only store: exit %d, last line %q\n%s", code, last, out)
	}
}
