package bolt_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/bolt"
)

// The crash test re-executes the test binary as a child that appends until
// it is killed (see TestMain). The child prints a line for every event only
// after Append acknowledged it, so every line the parent read names an
// event the store promised to keep.
const crashChildEnv = "CASELEDGER_BOLT_CRASH_CHILD"

// crashData derives an event's data from its id, so that the parent can tell
// a torn or mixed-up record from a whole one without having been told about
// the event. Sizes vary to exercise records that span page boundaries.
func crashData(id uuid.UUID) ([]byte, []byte) {
	n := 20 + int(id[0])*8 // up to ~2 KiB
	data := make([]byte, 0, n+60)
	data = fmt.Appendf(data, `{"id":%q,"pad":"`, id)
	for len(data) < n {
		data = append(data, id.String()...)
	}
	data = append(data, `"}`...)
	return data, fmt.Appendf(nil, `{"m":%q}`, id)
}

func crashChild(path string) int {
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 1
	}
	var out sync.Mutex
	fmt.Println("ready")
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(w)))
			for {
				stream := fmt.Sprintf("participant-%02d", rng.IntN(40))
				n := 1 + rng.IntN(5)
				if rng.IntN(10) == 0 {
					n = 20 + rng.IntN(40)
				}
				evs := make([]eventstore.EventData, n)
				for i := range evs {
					id := uuid.New()
					data, meta := crashData(id)
					evs[i] = eventstore.EventData{ID: id, Type: "Step", Data: data, Metadata: meta}
				}
				res, err := s.Append(context.Background(), stream, eventstore.Any, evs...)
				if err != nil {
					fmt.Fprintln(os.Stderr, "crash child: append:", err)
					os.Exit(1)
				}
				var b bytes.Buffer
				for i, ev := range evs {
					back := uint64(n - 1 - i)
					fmt.Fprintf(&b, "ack %d %d %s %s\n", res.Position-back, res.Revision-back, stream, ev.ID)
				}
				out.Lock()
				os.Stdout.Write(b.Bytes())
				out.Unlock()
			}
		})
	}
	wg.Wait()
	return 0
}

type ack struct {
	pos, rev uint64
	stream   string
	id       uuid.UUID
}

func parseAck(line string) (ack, error) {
	f := strings.Fields(line)
	if len(f) != 5 || f[0] != "ack" {
		return ack{}, fmt.Errorf("not an ack: %q", line)
	}
	pos, err1 := strconv.ParseUint(f[1], 10, 64)
	rev, err2 := strconv.ParseUint(f[2], 10, 64)
	id, err3 := uuid.Parse(f[4])
	if err := errors.Join(err1, err2, err3); err != nil {
		return ack{}, fmt.Errorf("ack %q: %w", line, err)
	}
	return ack{pos: pos, rev: rev, stream: f[3], id: id}, nil
}

// TestCrashRecovery kills an appending child process at random moments and
// checks after each kill that the file opens, that every acknowledged event
// is there as it was appended, and that the log has no torn record and no
// gap.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	const rounds = 24
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	path := filepath.Join(t.TempDir(), "events.db")
	acked := make(map[uint64]ack)
	roundsWithAcks := 0
	for round := range rounds {
		lines, stderr := runAndKill(t, path, rng, round)
		n := 0
		for _, line := range lines {
			if line == "ready" {
				continue
			}
			a, err := parseAck(line)
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			if prev, dup := acked[a.pos]; dup {
				t.Fatalf("round %d: position %d acknowledged twice: %+v and %+v", round, a.pos, prev, a)
			}
			acked[a.pos] = a
			n++
		}
		if n > 0 {
			roundsWithAcks++
		}
		if stderr != "" {
			t.Fatalf("round %d: child wrote to stderr: %s", round, stderr)
		}
		verifyAfterCrash(t, path, acked, round)
	}
	t.Logf("%d rounds, %d with acknowledged appends, %d events acknowledged", rounds, roundsWithAcks, len(acked))
	if len(acked) == 0 {
		t.Fatal("no append was ever acknowledged: the test checked nothing")
	}
}

// runAndKill starts the child on path, kills it with SIGKILL after a random
// delay, and returns the complete lines it printed.
func runAndKill(t *testing.T, path string, rng *rand.Rand, round int) (lines []string, stderr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	done := make(chan []string)
	go func() {
		var got []string
		r := bufio.NewReader(stdout)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				// A line cut by the kill has no newline and names no
				// acknowledged event.
				if err != io.EOF {
					t.Errorf("read child output: %v", err)
				}
				break
			}
			line = strings.TrimSuffix(line, "\n")
			if line == "ready" {
				close(ready)
			}
			got = append(got, line)
		}
		done <- got
	}()
	// Most rounds kill mid-append; every fifth kills at a random moment
	// from the start, which can fall into Open.
	delay := time.Duration(rng.IntN(150)) * time.Millisecond
	if round%5 == 4 {
		time.Sleep(delay)
	} else {
		select {
		case <-ready:
			time.Sleep(delay)
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: child not ready after 10s", round)
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("round %d: kill: %v", round, err)
	}
	lines = <-done
	if err := cmd.Wait(); err == nil {
		t.Fatalf("round %d: child exited normally", round)
	}
	return lines, errBuf.String()
}

func verifyAfterCrash(t *testing.T, path string, acked map[uint64]ack, round int) {
	t.Helper()
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatalf("round %d: reopen after kill: %v", round, err)
	}
	defer s.Close()
	all := checkLog(t, s)
	for _, ev := range all {
		data, meta := crashData(ev.ID)
		if ev.Type != "Step" || !bytes.Equal(ev.Data, data) || !bytes.Equal(ev.Metadata, meta) {
			t.Fatalf("round %d: position %d (%s) is torn or mixed up", round, ev.Position, ev.ID)
		}
	}
	for pos, a := range acked {
		if pos == 0 || pos > uint64(len(all)) {
			t.Fatalf("round %d: acknowledged event %+v is missing; the log ends at %d", round, a, len(all))
		}
		ev := all[pos-1]
		if ev.ID != a.id || ev.Stream != a.stream || ev.Revision != a.rev {
			t.Fatalf("round %d: acknowledged %+v, position %d holds %s %s@%d", round, a, pos, ev.ID, ev.Stream, ev.Revision)
		}
	}
}
