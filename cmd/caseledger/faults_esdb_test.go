//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore/esdb"
	"github.com/caseledger/caseledger/eventstore/esdb/esdbtest"
)

// TestFaultEventStoreDBDown stops EventStoreDB (the in-process test
// server) under a server process: /readyz fails, and writes answer 503
// and store nothing. Once it is back, the refused writes, sent again with
// their keys, are stored once; the server's subscription has resumed, so
// that the caseload reaches the position of the last write (read your
// writes) and shows it; and the read model equals one rebuilt from the
// log, which holds every answered write once.
func TestFaultEventStoreDBDown(t *testing.T) {
	es := esdbtest.New(t, esdbtest.Options{})
	dir := t.TempDir()
	srv, c, tk, cw := startFaultServer(t, dir, "--store", es.ConnectionString())
	today := faultToday()
	var writes []*write
	var people []uuid.UUID
	last := map[uuid.UUID]domain.Date{}
	meeting := func(id uuid.UUID) *write {
		on := last[id].AddDays(1)
		return meetingWrite(t, cw, id, fmt.Sprintf("meeting-%s-%s", id, on), on)
	}
	sendOK := func(w *write) {
		t.Helper()
		ack(t, c, w)
		writes = append(writes, w)
		if w.kind == domain.TypeMeetingHeld {
			last[w.participant] = w.on
		}
	}
	for n := range 3 {
		e := enrolWrite(t, cw, n, today.AddDays(-60))
		sendOK(e)
		id := e.participantID(t)
		people = append(people, id)
		last[id] = today.AddDays(-60)
		sendOK(meeting(id))
	}
	readCaseload(t, c, tk, maxPosition(writes))

	es.Stop()
	if why := srv.waitReady(t, false); !strings.Contains(why, "event store") {
		t.Errorf("/readyz with EventStoreDB down: %s", why)
	}
	var refused []*write
	for _, id := range people {
		w := meeting(id)
		if r := w.send(c); r.status != http.StatusServiceUnavailable || r.problemType() != "unavailable" || r.header.Get("Retry-After") == "" {
			t.Fatalf("a meeting with EventStoreDB down: %s, want 503 unavailable with Retry-After", r)
		}
		refused = append(refused, w)
	}
	enrol := enrolWrite(t, cw, 3, today.AddDays(-60))
	if r := enrol.send(c); r.status != http.StatusServiceUnavailable {
		t.Fatalf("an enrolment with EventStoreDB down: %s", r)
	}
	refused = append(refused, enrol)

	if err := es.Start(); err != nil {
		t.Fatal(err)
	}
	srv.waitReady(t, true)
	// The adapter may need a moment to find the server again; the
	// refused writes are sent again with their keys until they pass.
	for _, w := range refused {
		deadline := time.Now().Add(pollTimeout)
		for r := w.send(c); !w.acked; r = w.send(c) {
			if r.status != http.StatusServiceUnavailable || time.Now().After(deadline) {
				t.Fatalf("write %s after EventStoreDB returned: %s", w.key, r)
			}
			time.Sleep(100 * time.Millisecond)
		}
		writes = append(writes, w)
		if w.kind == domain.TypeMeetingHeld {
			last[w.participant] = w.on
		}
	}
	people = append(people, enrol.participantID(t))
	last[people[3]] = today.AddDays(-60)
	for _, id := range people {
		sendOK(meeting(id))
	}

	// The subscription resumed: the read model reaches the last write and
	// shows every participant's last meeting.
	live := readCaseload(t, c, tk, maxPosition(writes))
	if live.total != len(people) {
		t.Fatalf("the caseload lists %d participants, want %d", live.total, len(people))
	}
	for _, raw := range live.rows {
		var row struct {
			ID          uuid.UUID `json:"id"`
			LastContact string    `json:"last_contact"`
		}
		if err := json.Unmarshal(raw, &row); err != nil {
			t.Fatal(err)
		}
		if want := last[row.ID].String(); row.LastContact != want {
			t.Errorf("participant %s: last contact %q in the caseload, last meeting on %s", row.ID, row.LastContact, want)
		}
	}
	if n := scrape(t, c, "caseledger_eventstore_subscription_reconnects_total"); n < 1 {
		t.Errorf("caseledger_eventstore_subscription_reconnects_total = %v after the server came back, want at least 1", n)
	}
	srv.stop(t)

	store, err := esdb.Open(context.Background(), es.ConnectionString(), esdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkLog(t, store, writes)
	store.Close()
	if code, out := runCommand(t, "rebuild", "--data", dir, "--store", es.ConnectionString()); code != 0 {
		t.Fatalf("rebuild: exit %d\n%s", code, out)
	}
	srv = startReady(t, dir, "--store", es.ConnectionString())
	sameCaseload(t, "followed across the outage, and rebuilt", live, readCaseload(t, newClient(srv), tk, maxPosition(writes)))
}
