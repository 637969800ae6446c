//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api/identity"
	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore/esdb"
	"github.com/caseledger/caseledger/eventstore/esdb/esdbtest"
)

// The disk tests put the data directory on a file system of their own,
// which they fill or turn read-only. A tmpfs is filled, and remounted
// read-only when nothing on it is open for writing. The embedded store
// holds its file open for writing all along, and Linux refuses to remount
// such a file system read-only (EBUSY): only the kernel turns it
// read-only under a writer, after an error. So the read-only case with
// the embedded store runs on an ext4 image that the kernel turns
// read-only (faults_ext4_test.go), and is repaired as an operator would:
// under load, and once at the worst moment of a commit, which strace
// holds open. With the log in EventStoreDB, where a read-only data
// directory leaves the log writable, it runs on a tmpfs remounted
// read-only and back.

// mountTmpfs mounts a tmpfs of size bytes on a new directory, unmounted
// when the test ends. Without the privilege to mount, the test is
// skipped, except in CI (CI=true), where it fails.
func mountTmpfs(t *testing.T, size int64) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		unprivileged(t, fmt.Sprintf("the disk fault tests mount a tmpfs, which needs root or CAP_SYS_ADMIN: %v", err))
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

// unsyncedMessage is what the server logs when a commit's header was
// written and its sync failed.
const unsyncedMessage = "a commit was written but not synced"

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

// scrape reads a metric without labels from the server's /metrics.
func scrape(t *testing.T, c *client, name string) float64 {
	t.Helper()
	r := c.do(http.MethodGet, "/metrics", "", nil, "")
	if r.status != http.StatusOK {
		t.Fatalf("/metrics: %s", r)
	}
	for line := range strings.Lines(string(r.body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("/metrics: %s: %v", name, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}

// accessRecords is the access log's records of participant id, as an
// auditor reads them.
func accessRecords(t *testing.T, c *client, tk tokens, id uuid.UUID) []audit.Record {
	t.Helper()
	auditor := tk.mint(t, identity.Identity{UserID: "au-fault", Role: identity.Auditor})
	r := c.do(http.MethodGet, "/v1/audit/access?participant="+id.String(), auditor, map[string]string{"Purpose": "fault test"}, "")
	if r.status != http.StatusOK {
		t.Fatalf("the access log of a participant: %s", r)
	}
	var page audit.Page
	if err := json.Unmarshal(r.body, &page); err != nil {
		t.Fatalf("the access log of a participant: %v", err)
	}
	return page.Records
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
//
// The server has a spill journal on another volume (--access-spill), so
// reads of personal data go on: their records reach the access log, each
// once, when the disk has room again. (TestFaultDataDirTurnsReadOnly
// shows the refusal without one.)
func TestFaultDiskFull(t *testing.T) {
	mnt := mountTmpfs(t, 64<<20)
	dir := filepath.Join(mnt, "data")
	srv, c, tk, cw := startFaultServer(t, dir, "--access-spill", t.TempDir())
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
	fullAt := time.Now()
	if r := c.do(http.MethodGet, "/v1/participants/"+people[0].String(), cw, nil, ""); r.status != http.StatusOK {
		t.Errorf("a participant on a full disk: %s", r)
	}
	if r := c.do(http.MethodGet, "/v1/caseload", tk.lead, nil, ""); r.status != http.StatusOK {
		t.Errorf("the caseload on a full disk: %s", r)
	}
	// The store refused at least one of their records (the other may
	// fit into pages the refused write's rollback freed): it is held.
	if held := scrape(t, c, "caseledger_access_records_held"); held < 1 {
		t.Errorf("caseledger_access_records_held = %v after two looks on a full disk, want at least 1", held)
	}

	// The fix: no restart.
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	srv.waitReady(t, true)
	fixedAt := time.Now()
	var during []domain.AccessView
	for _, r := range accessRecords(t, c, tk, people[0]) {
		if r.View != domain.ViewAccessLog && r.RecordedAt.After(fullAt) && r.RecordedAt.Before(fixedAt) {
			during = append(during, r.View)
		}
	}
	if want := []domain.AccessView{domain.ViewParticipant, domain.ViewCaseload}; !slices.Equal(during, want) {
		t.Errorf("the access log holds %v for the looks at a participant on the full disk, want %v", during, want)
	}
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

// TestFaultDataDirTurnsReadOnly has the kernel turn the embedded store's
// file system read-only under a running server while caseworkers write,
// as ext4 does after an error under errors=remount-ro. Every write
// answers 503 cannot_write from then on, a refused write sent again
// included; /readyz fails and says why, /livez stays up; reads of
// nothing personal go on. Reads of personal data go on too when the
// server has a spill journal on another volume for their access records
// (--access-spill): the records reach the access log, each once, after
// the repair. Without one, every read of personal data answers 503
// access_not_recorded, since its record cannot be written. The server
// stops on SIGTERM although it can save nothing. Repaired as an operator
// would (unmount, e2fsck, mount), the log holds every answered write
// once, a restarted server takes the refused writes, sent again with
// their keys, once each, and its read models equal a rebuild's.
func TestFaultDataDirTurnsReadOnly(t *testing.T) {
	t.Run("with a spill journal", func(t *testing.T) { faultDataDirTurnsReadOnly(t, true) })
	t.Run("without one", func(t *testing.T) { faultDataDirTurnsReadOnly(t, false) })
}

func faultDataDirTurnsReadOnly(t *testing.T, withSpill bool) {
	const caseworkers, beforeFault = 4, 40
	disk := mountExt4(t, 64<<20)
	dir := filepath.Join(disk.dir, "data")
	var spillArgs []string
	if withSpill {
		spillArgs = []string{"--access-spill", t.TempDir()} // another file system than the loop device
	}
	srv, c, tk, cw := startFaultServer(t, dir, spillArgs...)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	team := make([]*loadWorker, caseworkers)
	for i := range team {
		team[i] = &loadWorker{t: t, no: i, token: tk.caseworker(t, fmt.Sprintf("cw-%d", i)), rng: rand.New(rand.NewPCG(seed, uint64(i)))}
	}

	// The caseworkers write until the disk refuses them, each keeping
	// the write refused and its answer; the disk fails once some writes
	// are answered, while the others are under way.
	var answered atomic.Int64
	underWay, stop := make(chan struct{}), make(chan struct{})
	var once sync.Once
	refusals := make([]reply, caseworkers)
	var wg sync.WaitGroup
	for i, w := range team {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				wr := w.next()
				w.sent = append(w.sent, wr)
				if r := wr.send(c); !wr.acked {
					w.pending, refusals[i] = wr, r
					return
				}
				w.note(wr)
				if answered.Add(1) == beforeFault {
					once.Do(func() { close(underWay) })
				}
			}
		})
	}
	select {
	case <-underWay:
	case <-time.After(pollTimeout):
		close(stop)
		wg.Wait()
		t.Fatalf("%d writes answered within %s, want %d before the disk fails", answered.Load(), pollTimeout, beforeFault)
	}
	failedAt := time.Now()
	disk.fail(t)
	refusedAll := make(chan struct{})
	go func() { wg.Wait(); close(refusedAll) }()
	select {
	case <-refusedAll:
	case <-time.After(pollTimeout):
		close(stop)
		<-refusedAll
		t.Fatalf("writes were still answered %s after the disk turned read-only", pollTimeout)
	}

	var writes []*write
	for i, w := range team {
		writes = append(writes, w.sent...)
		w.sent = nil
		refusedForStorage(t, fmt.Sprintf("write %s as the disk turned read-only", w.pending.key), refusals[i], disk.dir)
	}
	t.Logf("%d writes answered before the disk refused them; it failed once %d were", answered.Load(), beforeFault)

	if why := srv.waitReady(t, false); !strings.Contains(why, "read-only file system") || strings.Contains(why, disk.dir) {
		t.Errorf("/readyz on a read-only data directory: %s", why)
	}
	if r := c.do(http.MethodGet, "/livez", "", nil, ""); r.status != http.StatusOK {
		t.Errorf("/livez on a read-only data directory: %s", r)
	}
	// A refused write sent again is refused again: the failed commit left
	// nothing that a retry could be answered from.
	for _, w := range team {
		refusedForStorage(t, fmt.Sprintf("write %s sent again on a read-only disk", w.pending.key), w.pending.send(c), disk.dir)
	}
	enrol := enrolWrite(t, cw, 90001, faultToday().AddDays(-loadSpan))
	refusedForStorage(t, "an enrolment on a read-only disk", enrol.send(c), disk.dir)

	// Had the disk failed between a commit's header write and its sync,
	// a moment of microseconds, the store would answer nothing from the
	// log any more (TestFaultReadOnlyBeforeTheCommitIsSynced), and reads
	// of it would be refused too. Otherwise they are checked here.
	var someone uuid.UUID
	var heldLooks []domain.AccessView // the looks at someone the journal holds
	if strings.Contains(srv.out.String(), unsyncedMessage) {
		t.Log("the disk failed between a commit's header write and its sync: the reads are not checked")
	} else {
		// Nothing personal: answered as ever.
		if r := c.do(http.MethodGet, "/v1/programmes/"+faultProgramme, cw, nil, ""); r.status != http.StatusOK {
			t.Errorf("the programme on a read-only disk: %s", r)
		}
		if r := c.do(http.MethodGet, "/v1/me", cw, nil, ""); r.status != http.StatusOK {
			t.Errorf("/v1/me on a read-only disk: %s", r)
		}
		if r := c.do(http.MethodGet, "/v1/stats/outcomes?programme="+faultProgramme+"&format=json", tk.lead, nil, ""); r.status != http.StatusOK {
			t.Errorf("the outcome statistics on a read-only disk: %s", r)
		}
		// Personal data: never shown unrecorded. With a spill journal the
		// records are held there and the looks answered as ever, a denial
		// included; without one no record can be written, not even a
		// denial's, so a look outside the caller's office answers 503 too,
		// not its usual 404.
		for _, w := range team {
			if len(w.people) > 0 {
				someone = w.people[0].id
			}
		}
		if someone == uuid.Nil {
			t.Fatal("no participant was enrolled before the disk failed")
		}
		elsewhere := tk.mint(t, identity.Identity{UserID: "cw-bergen", Role: identity.Caseworker, Office: "bergen"})
		for _, look := range []struct {
			what, token, path string
			view              domain.AccessView
			status            int // with a spill journal
		}{
			{"a participant", tk.lead, "/v1/participants/" + someone.String(), domain.ViewParticipant, http.StatusOK},
			{"a participant's history", tk.lead, "/v1/participants/" + someone.String() + "/history", domain.ViewHistory, http.StatusOK},
			{"the caseload, which shows names", tk.lead, "/v1/caseload", domain.ViewCaseload, http.StatusOK},
			{"a participant of another office", elsewhere, "/v1/participants/" + someone.String(), domain.ViewParticipant, http.StatusNotFound},
		} {
			r := c.do(http.MethodGet, look.path, look.token, nil, "")
			if !withSpill {
				if r.status != http.StatusServiceUnavailable || r.problemType() != "access_not_recorded" || r.header.Get("Retry-After") == "" {
					t.Errorf("%s on a read-only disk: %s, want 503 access_not_recorded with Retry-After", look.what, r)
				}
				continue
			}
			if r.status != look.status {
				t.Errorf("%s on a read-only disk, with a spill journal: %s, want %d", look.what, r, look.status)
			}
			heldLooks = append(heldLooks, look.view) // the caseload's first page lists everyone here
		}
		if withSpill {
			if held := scrape(t, c, "caseledger_access_records_held"); held < float64(len(heldLooks)) {
				t.Errorf("caseledger_access_records_held = %v on a read-only disk, want at least %d", held, len(heldLooks))
			}
		}
	}

	// The server cannot save its read models' snapshots; it stops all
	// the same.
	srv.stop(t)
	repairedAt := time.Now()
	disk.repair(t)
	store := openDataStore(t, dir)
	checkLog(t, store, writes)
	store.Close()

	srv = startReady(t, dir, spillArgs...)
	c = newClient(srv)
	if len(heldLooks) > 0 {
		// The looks at someone during the outage, moved from the journal
		// once the store took writes: each once, at the time it was made.
		var during []domain.AccessView
		for _, r := range accessRecords(t, c, tk, someone) {
			if r.View != domain.ViewAccessLog && r.RecordedAt.After(failedAt) && r.RecordedAt.Before(repairedAt) {
				if r.Held {
					t.Errorf("record %s still held after the repair", r.EventID)
				}
				during = append(during, r.View)
			}
		}
		if !slices.Equal(during, heldLooks) {
			t.Errorf("the access log holds %v for the looks at the participant on the read-only disk, want %v", during, heldLooks)
		}
	}
	// The refused writes, sent again with their keys (they are among
	// writes already, unanswered until now).
	for _, w := range team {
		ack(t, c, w.pending)
		w.note(w.pending)
	}
	ack(t, c, enrol)
	writes = append(writes, enrol)
	for _, w := range team {
		wr := w.next()
		ack(t, c, wr)
		w.note(wr)
		writes = append(writes, wr)
	}
	restarted := readCaseload(t, c, tk, maxPosition(writes))
	srv.stop(t)
	store = openDataStore(t, dir)
	checkLog(t, store, writes)
	store.Close()
	if code, out := runCommand(t, "rebuild", "--data", dir); code != 0 {
		t.Fatalf("rebuild: exit %d\n%s", code, out)
	}
	srv = startReady(t, dir)
	sameCaseload(t, "restarted on the repaired disk, and rebuilt", restarted, readCaseload(t, newClient(srv), tk, maxPosition(writes)))
}

// TestFaultReadOnlyBeforeTheCommitIsSynced turns the embedded store's file
// system read-only at the worst moment of a commit: after the store wrote
// the commit's header (bbolt's meta page) into the page cache, before it
// synced it. The client is told 503, and the header never reaches the
// disk, yet the page cache goes on showing the commit to the server. The
// same write sent again must not be answered from what the disk does not
// hold: it answers 503 cannot_write like every write on the read-only
// disk, and nothing else is answered from the log either. Repaired and
// restarted, the server has the write once, whether the disk came to hold
// it or not.
//
// strace holds each fdatasync of the server back a moment, which is when
// the test has the kernel turn the file system read-only.
func TestFaultReadOnlyBeforeTheCommitIsSynced(t *testing.T) {
	straceBin, err := exec.LookPath("strace")
	if err != nil {
		unprivileged(t, fmt.Sprintf("the test holds the server's syncs back with strace (Debian: strace): %v", err))
	}
	disk := mountExt4(t, 64<<20)
	dir := filepath.Join(disk.dir, "data")
	srv, c, _, cw := startFaultServer(t, dir)
	today := faultToday()
	enrol := enrolWrite(t, cw, 0, today.AddDays(-30))
	ack(t, c, enrol)
	id := enrol.participantID(t)
	first := meetingWrite(t, cw, id, "meeting-1", today.AddDays(-20))
	ack(t, c, first)
	writes := []*write{enrol, first}

	hold := holdSyncs(t, straceBin, srv)
	unsynced := meetingWrite(t, cw, id, "meeting-2", today.AddDays(-10))
	writes = append(writes, unsynced)
	answer := make(chan reply, 1)
	go func() { answer <- unsynced.send(c) }()
	select {
	case <-hold.headerWritten:
	case r := <-answer:
		t.Fatalf("the write was answered before its header was written: %s\nstrace:\n%s", r, hold.output())
	case <-time.After(pollTimeout):
		t.Fatalf("the store wrote no commit header within %s\nstrace:\n%s", pollTimeout, hold.output())
	}
	disk.fail(t)
	r := <-answer
	hold.detach()
	refusedForStorage(t, "the write whose header was not synced", r, disk.dir)
	refusedForStorage(t, "the same write sent again on the read-only disk", unsynced.send(c), disk.dir)
	// Nor is anything else answered from the log: it may show what the
	// disk does not hold. The server says so, and is not ready.
	refusedForStorage(t, "the programme, read from the log", c.do(http.MethodGet, "/v1/programmes/"+faultProgramme, cw, nil, ""), disk.dir)
	if why := srv.waitReady(t, false); !strings.Contains(why, "read-only file system") || strings.Contains(why, disk.dir) {
		t.Errorf("/readyz after the unsynced commit: %s", why)
	}
	if r := c.do(http.MethodGet, "/livez", "", nil, ""); r.status != http.StatusOK {
		t.Errorf("/livez after the unsynced commit: %s", r)
	}
	if !strings.Contains(srv.out.String(), unsyncedMessage) {
		t.Errorf("the server does not log %q:\n%s", unsyncedMessage, srv.out)
	}

	srv.stop(t)
	disk.repair(t)
	srv = startReady(t, dir)
	ack(t, newClient(srv), unsynced)
	srv.stop(t)
	store := openDataStore(t, dir)
	checkLog(t, store, writes)
	store.Close()
}

// syncHold is strace delaying every fdatasync of a server's process by a
// few seconds.
type syncHold struct {
	cmd *exec.Cmd
	// headerWritten is closed when a commit's header has been written:
	// the first write after a sync, since a commit syncs its pages, then
	// writes its header, and syncs that last.
	headerWritten chan struct{}
	done          chan struct{} // closed when strace's output ends
	stopOnce      sync.Once

	mu  sync.Mutex
	out strings.Builder
}

// A sync and a write that succeeded, as strace prints them once they
// return, whole or resumed (it pads the result to a column).
var (
	syncedLine  = regexp.MustCompile(`fdatasync.*\)\s+= 0\b`)
	writtenLine = regexp.MustCompile(`pwrite64.*\)\s+= [1-9]`)
)

// holdSyncs attaches strace to the server; the test's end detaches it.
func holdSyncs(t *testing.T, straceBin string, p *proc) *syncHold {
	t.Helper()
	h := &syncHold{headerWritten: make(chan struct{}), done: make(chan struct{})}
	h.cmd = exec.Command(straceBin, "-f", "-e", "trace=pwrite64,fdatasync", "-e", "inject=fdatasync:delay_enter=2s",
		"-e", "signal=none", "-s", "0", "-p", strconv.Itoa(p.cmd.Process.Pid))
	out, err := h.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	attached := make(chan struct{})
	go func() {
		defer close(h.done)
		sc := bufio.NewScanner(out)
		var attachedOnce, headerOnce sync.Once
		synced := false
		for sc.Scan() {
			line := sc.Text()
			h.mu.Lock()
			h.out.WriteString(line + "\n")
			h.mu.Unlock()
			switch {
			case strings.Contains(line, " attached"):
				attachedOnce.Do(func() { close(attached) })
			case syncedLine.MatchString(line):
				synced = true
			case synced && writtenLine.MatchString(line):
				headerOnce.Do(func() { close(h.headerWritten) })
			}
		}
	}()
	t.Cleanup(h.detach)
	select {
	case <-attached:
	case <-h.done:
		unprivileged(t, fmt.Sprintf("strace cannot attach to the server:\n%s", h.output()))
	case <-time.After(pollTimeout):
		t.Fatalf("strace did not attach within %s", pollTimeout)
	}
	return h
}

// detach ends the tracing.
func (h *syncHold) detach() {
	h.stopOnce.Do(func() {
		_ = h.cmd.Process.Signal(syscall.SIGTERM) // strace detaches and exits
		<-h.done
		_ = h.cmd.Wait()
	})
}

// output is what strace printed so far.
func (h *syncHold) output() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.out.String()
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
