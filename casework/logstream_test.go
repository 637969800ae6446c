package casework_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/chain"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
)

func looks(n int, user string) ([]casework.Stamp, []domain.Event) {
	var stamps []casework.Stamp
	var events []domain.Event
	for i := range n {
		stamps = append(stamps, casework.Stamp{Actor: domain.Actor{UserID: fmt.Sprintf("%s-%d", user, i), Role: "caseworker", Office: "bergen"}, CorrelationID: uuid.New()})
		events = append(events, domain.AccessRecorded{ParticipantID: uuid.New(), View: domain.ViewParticipant, Decision: domain.AccessPermitted, Via: "GET /v1/participants/{id}"})
	}
	return stamps, events
}

// TestAppendLog: appends from two processes and from Execute interleave in
// one stream, each picking up where the other left off; the result is one
// chain, every event decodes as it was stamped.
func TestAppendLog(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	// a's store lets b append once, on cue, between a's read of the head
	// and its append.
	racy := &racingStore{Store: store.Store}
	a := newService(t, &testStore{Store: racy, dir: store.dir}, casework.Options{})
	b := newService(t, store, casework.Options{})
	stream := domain.AccessLogStream(a.Today())

	var want []casework.Stamp
	appendLog := func(svc *casework.Service, n int, user string) {
		t.Helper()
		stamps, events := looks(n, user)
		res, err := svc.AppendLog(ctx, stream, casework.Request{Actor: stamps[0].Actor, CorrelationID: stamps[0].CorrelationID, Stamps: stamps}, events)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, stamps...)
		if res.Revision != uint64(len(want)-1) || len(res.EventIDs) != n {
			t.Fatalf("%s: revision %d with %d ids, want %d with %d", user, res.Revision, len(res.EventIDs), len(want)-1, n)
		}
	}
	appendLog(a, 3, "u-a")  // a new stream
	appendLog(b, 2, "u-b")  // b has not seen it: picks up its last event
	appendLog(a, 1, "u-a2") // a's head is behind: a reads b's events
	racy.before = func() { appendLog(b, 2, "u-b-race") }
	appendLog(a, 4, "u-a3") // b gets in between: a conflict, and a again
	if racy.before != nil {
		t.Fatal("b did not append in between")
	}
	stamps, events := looks(1, "u-exec")
	if _, err := a.Execute(ctx, stream, casework.Request{Actor: stamps[0].Actor, CorrelationID: stamps[0].CorrelationID},
		func([]domain.Recorded, domain.Date) ([]domain.Event, error) { return events, nil }); err != nil {
		t.Fatal(err)
	}
	want = append(want, stamps...)
	appendLog(b, 2, "u-b2")

	report, err := chain.Verify(ctx, store, 0)
	if err != nil || !report.OK() {
		t.Fatalf("chain: %+v, %v", report, err)
	}
	got, _, err := newService(t, store, casework.Options{}).Load(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d", len(got), len(want))
	}
	for i, r := range got {
		if r.Meta.Actor != want[i].Actor || r.Meta.CorrelationID != want[i].CorrelationID || r.Revision != uint64(i) {
			t.Errorf("event %d (revision %d) recorded as %s, want %s", i, r.Revision, r.Meta.Actor.UserID, want[i].Actor.UserID)
		}
	}
}

// TestAppendLogRefuses: what a log does not take, and a stream whose
// chain another writer broke, are refused and nothing is written.
func TestAppendLogRefuses(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	svc := newService(t, store, casework.Options{})
	stream := domain.AccessLogStream(svc.Today())
	stamps, events := looks(1, "u")
	req := casework.Request{Actor: stamps[0].Actor, CorrelationID: uuid.New()}

	rev := int64(-1)
	for name, r := range map[string]casework.Request{
		"idempotency key": {Actor: req.Actor, CorrelationID: req.CorrelationID, IdempotencyKey: "k"},
		"If-Match":        {Actor: req.Actor, CorrelationID: req.CorrelationID, IfMatch: &rev},
		"stamps":          {Actor: req.Actor, CorrelationID: req.CorrelationID, Stamps: append(stamps, stamps...)},
	} {
		if _, err := svc.AppendLog(ctx, stream, r, events); err == nil {
			t.Errorf("%s: written", name)
		}
	}
	if n := streamLen(t, store, stream); n != 0 {
		t.Fatalf("refused appends wrote %d events", n)
	}

	if _, err := svc.AppendLog(ctx, stream, req, events); err != nil {
		t.Fatal(err)
	}
	// Another writer appends an event that does not link to the head.
	meta := fmt.Sprintf(`{"schema_version":1,"occurred_on":"2026-05-15","recorded_at":"2026-05-15T10:00:00Z","actor":{"user_id":"x","role":"caseworker"},"correlation_id":"%s","prev_digest":"%s"}`,
		uuid.New(), strings.Repeat("0", 64))
	forged := eventstore.EventData{ID: uuid.New(), Type: domain.TypeAccessRecorded, ContentType: "application/json",
		Data: []byte(`{"view":"participant","personal_data":false,"decision":"permit","via":"x"}`), Metadata: []byte(meta)}
	if _, err := store.Append(ctx, stream, eventstore.AtRevision(0), forged); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AppendLog(ctx, stream, req, events); !errors.Is(err, chain.ErrBroken) {
		t.Errorf("after a broken link: %v, want chain.ErrBroken", err)
	}
	if n := streamLen(t, store, stream); n != 2 {
		t.Errorf("%d events after a refused append, want 2", n)
	}
}

// racingStore runs before once, just ahead of the next append: another
// process's write that lands between a read and an append.
type racingStore struct {
	eventstore.Store
	before func()
}

func (r *racingStore) Append(ctx context.Context, stream string, expected eventstore.Expected, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if f := r.before; f != nil {
		r.before = nil
		f()
	}
	return r.Store.Append(ctx, stream, expected, events...)
}
