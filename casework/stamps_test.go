package casework_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
)

// TestStampsRecordEachEventAsItsRequests: one append that carries the
// events of several requests records each as done by its own actor under
// its own correlation id; stamps that do not match the events, or that
// come with an idempotency key, write nothing.
func TestStampsRecordEachEventAsItsRequests(t *testing.T) {
	ctx := context.Background()
	look := func(user string) (casework.Stamp, domain.Event) {
		return casework.Stamp{Actor: domain.Actor{UserID: user, Role: "caseworker", Office: "bergen"}, CorrelationID: uuid.New()},
			domain.AccessRecorded{ParticipantID: uuid.New(), View: domain.ViewParticipant, Decision: domain.AccessPermitted, Via: "GET /v1/participants/{id}"}
	}
	decideAll := func(events []domain.Event) casework.Decision {
		return func([]domain.Recorded, domain.Date) ([]domain.Event, error) { return events, nil }
	}

	store := openStore(t)
	svc := newService(t, store, casework.Options{})
	stream := domain.AccessLogStream(svc.Today())
	var stamps []casework.Stamp
	var events []domain.Event
	for _, user := range []string{"u-1", "u-2", "u-3"} {
		s, e := look(user)
		stamps, events = append(stamps, s), append(events, e)
	}

	for _, tt := range []struct {
		name string
		req  casework.Request
		evs  []domain.Event
	}{
		{"fewer stamps than events", casework.Request{Actor: stamps[0].Actor, CorrelationID: uuid.New(), Stamps: stamps[:2]}, events},
		{"more stamps than events", casework.Request{Actor: stamps[0].Actor, CorrelationID: uuid.New(), Stamps: stamps}, events[:1]},
		{"with an idempotency key", casework.Request{Actor: stamps[0].Actor, CorrelationID: uuid.New(), Stamps: stamps, IdempotencyKey: "k"}, events},
	} {
		if _, err := svc.Execute(ctx, stream, tt.req, decideAll(tt.evs)); err == nil {
			t.Errorf("%s: written", tt.name)
		}
	}
	if n := streamLen(t, store, stream); n != 0 {
		t.Fatalf("refused requests wrote %d events", n)
	}

	req := casework.Request{Actor: domain.Actor{UserID: "u-batch", Role: "caseworker"}, CorrelationID: uuid.New(), Stamps: stamps}
	if _, err := svc.Execute(ctx, stream, req, decideAll(events)); err != nil {
		t.Fatal(err)
	}
	// A second service reads the stream from the store, not from a cache.
	got, _, err := newService(t, store, casework.Options{}).Load(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(stamps) {
		t.Fatalf("%d events, want %d", len(got), len(stamps))
	}
	for i, r := range got {
		if r.Meta.Actor != stamps[i].Actor || r.Meta.CorrelationID != stamps[i].CorrelationID {
			t.Errorf("event %d recorded as %+v in %s, want %+v in %s", i, r.Meta.Actor, r.Meta.CorrelationID, stamps[i].Actor, stamps[i].CorrelationID)
		}
	}
}
