//go:build linux

package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
)

// TestFaultKillUnderLoad SIGKILLs the server while caseworkers write
// (enrolments, baseline scores, meetings, each with an Idempotency-Key),
// restarts it on the same data directory, and checks, round after round:
// every acknowledged write is in the log where its answer said; the
// writes that got no answer, retried with the same keys, are stored once;
// a retried acknowledged write gets its first answer again; and the read
// models the restarted server serves (every page of the office's
// caseload, every participant's view) equal those of a server started
// after "caseledger rebuild".
func TestFaultKillUnderLoad(t *testing.T) {
	const rounds, caseworkers = 3, 6
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	dir := t.TempDir()
	srv := startReady(t, dir)
	tk := tokensFor(t, dir)
	defineProgramme(t, newClient(srv), tk)
	team := make([]*loadWorker, caseworkers)
	for i := range team {
		user := fmt.Sprintf("cw-%d", i)
		team[i] = &loadWorker{t: t, no: i, token: tk.caseworker(t, user), rng: rand.New(rand.NewPCG(seed, uint64(10+i)))}
	}

	var writes []*write
	for round := range rounds {
		// Load, and a kill at a random moment of it once it is under way.
		c := newClient(srv)
		stop, underWay := make(chan struct{}), make(chan struct{})
		var once sync.Once
		var wg sync.WaitGroup
		for _, w := range team {
			w.answered = func() { once.Do(func() { close(underWay) }) }
			wg.Go(func() { w.work(c, stop) })
		}
		select {
		case <-underWay:
		case <-time.After(pollTimeout):
			t.Fatalf("round %d: no write answered within %s", round, pollTimeout)
		}
		time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
		srv.kill(t)
		close(stop)
		wg.Wait()

		srv = startReady(t, dir)
		c = newClient(srv)
		var unanswered, answered int
		for _, w := range team {
			for _, wr := range w.sent {
				writes = append(writes, wr)
				if wr.acked {
					answered++
				} else {
					unanswered++
				}
			}
			w.sent = nil
		}
		// The writes left without an answer, sent again with the same
		// keys: each is stored now, or was before the kill; either way
		// once.
		for _, w := range team {
			w.retryPending(c)
		}
		// An answered write sent again gets its first answer.
		for range 5 {
			w := writes[rng.IntN(len(writes))]
			if !w.acked {
				continue
			}
			again := *w
			again.acked = false
			if r := again.send(c); !again.acked || again.result.Position != w.result.Position || again.etag != w.etag {
				t.Errorf("round %d: write %s sent again: %s, first answered at %d %s", round, w.key, r, w.result.Position, w.etag)
			}
		}
		t.Logf("round %d: %d writes answered before the kill, %d without an answer", round, answered, unanswered)
		if answered == 0 {
			t.Fatalf("round %d: no write was answered before the kill; the round checked nothing", round)
		}

		restarted := readCaseload(t, c, tk, maxPosition(writes))
		srv.stop(t)
		store := openDataStore(t, dir)
		checkLog(t, store, writes)
		store.Close()
		if code, out := runCommand(t, "rebuild", "--data", dir); code != 0 {
			t.Fatalf("rebuild: exit %d\n%s", code, out)
		}
		srv = startReady(t, dir)
		sameCaseload(t, fmt.Sprintf("round %d: restarted after the kill, and rebuilt", round), restarted, readCaseload(t, newClient(srv), tk, maxPosition(writes)))
		if t.Failed() {
			return
		}
	}
}

// loadWorker is a caseworker writing as fast as the server answers: it
// enrols participants, records each one's baseline score, then meetings
// on successive days.
type loadWorker struct {
	t     *testing.T
	no    int
	token string
	rng   *rand.Rand

	people   []*loadParticipant
	enrols   int
	answered func()   // called after each answered write
	sent     []*write // this round's writes
	pending  *write   // the write that got no answer, if any
}

type loadParticipant struct {
	id         uuid.UUID
	enrolledOn domain.Date
	scored     bool
	days       int // meetings recorded, on the days after enrolment
}

// loadSpan is how long before today participants are enrolled: room for
// a meeting a day.
const loadSpan = 300

// work writes until stop is closed or a write gets no answer (the server
// was killed), which is kept as pending.
func (w *loadWorker) work(c *client, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		wr := w.next()
		w.sent = append(w.sent, wr)
		r := wr.send(c)
		if !wr.acked {
			if r.err == nil && r.status != http.StatusServiceUnavailable {
				w.t.Errorf("write %s: %s", wr.key, r)
			}
			w.pending = wr
			return
		}
		w.note(wr)
		w.answered()
	}
}

// next is the worker's next write.
func (w *loadWorker) next() *write {
	var p *loadParticipant
	if len(w.people) > 0 {
		p = w.people[w.rng.IntN(len(w.people))]
	}
	if p == nil || p.days >= loadSpan-1 || (len(w.people) < 8 && w.rng.IntN(10) == 0) {
		w.enrols++
		return enrolWrite(w.t, w.token, w.no*10000+w.enrols, faultToday().AddDays(-loadSpan))
	}
	key := fmt.Sprintf("cw-%d-%s-%d", w.no, p.id, p.days)
	if !p.scored {
		return scoreWrite(w.t, w.token, p.id, key+"-score", p.enrolledOn)
	}
	return meetingWrite(w.t, w.token, p.id, key, p.enrolledOn.AddDays(p.days+1))
}

// note keeps what an answered write changed: a participant enrolled, a
// baseline scored, a meeting recorded.
func (w *loadWorker) note(wr *write) {
	if wr.kind == domain.TypeParticipantEnrolled {
		w.people = append(w.people, &loadParticipant{id: wr.participantID(w.t), enrolledOn: wr.on})
		return
	}
	for _, p := range w.people {
		if p.id != wr.participant {
			continue
		}
		if wr.kind == domain.TypeIndicatorScored {
			p.scored = true
		} else {
			p.days++
		}
		return
	}
	w.t.Errorf("write %s is for participant %s, not one of worker %d's", wr.key, wr.participant, w.no)
}

// retryPending sends the write that got no answer again, with its key,
// and requires the restarted server to answer it.
func (w *loadWorker) retryPending(c *client) {
	wr := w.pending
	if wr == nil {
		return
	}
	w.pending = nil
	if r := wr.send(c); !wr.acked {
		w.t.Fatalf("write %s sent again after the restart: %s", wr.key, r)
	}
	w.note(wr)
}
