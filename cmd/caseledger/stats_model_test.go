package main

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/projections"
)

// The server answers a report at the head of the log from the outcome read
// model it runs, and a past known_at from the log; caseledger stats, which
// reads the store itself, writes the same bytes for both.
func TestStatsFromTheReadModelMatchesTheCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store := openDataStore(t, dir)
	for i := range 12 {
		enrolled := statsDay(t, "2025-01-06").AddDays(5 * i)
		stream := statsEnrol(t, store, "oslo", enrolled)
		for m := range 1 + i%4 {
			statsAppend(t, store, stream, domain.MeetingHeld{Date: enrolled.AddDays(3 + 9*m), Kind: domain.MeetingKinds()[0]})
		}
		if i%2 == 0 {
			statsJob(t, store, stream, enrolled.AddDays(30+10*i))
		}
		if i%3 == 0 {
			statsAppend(t, store, stream, domain.ParticipantExited{Date: enrolled.AddDays(200), Reason: domain.ExitReasons()[0],
				Destination: domain.Destinations()[0]})
		}
	}
	head, err := store.ReadAll(ctx, eventstore.ReadAllOptions{Backwards: true, From: eventstore.End, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	past := strconv.FormatUint(head[0].Position/2, 10)

	// The server's read models, as serve runs them.
	models, runner, err := newProjections(store, dir, projections.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); runner.Run(rctx) }()
	h, token := evaluatorAPI(t, func(a *api.API) {
		api.RegisterStats(a, store, api.StatsOptions{Model: models.outcomes, Waiter: runner})
	})
	served := httptest.NewServer(h)
	type ask struct{ format, knownAt string }
	asks := []ask{{"json", ""}, {"csv", ""}, {"json", past}}
	answers := map[ask][]byte{}
	for _, q := range asks {
		url := served.URL + "/v1/stats/outcomes?programme=hope-oslo&as_of=2026-01-01&k=5&format=" + q.format
		if q.knownAt != "" {
			url += "&known_at=" + q.knownAt
		}
		answers[q] = statsGet(t, url, token)
	}
	if models.outcomes.Position() != head[0].Position {
		t.Fatalf("the read model is at %d, the log's head at %d", models.outcomes.Position(), head[0].Position)
	}
	served.Close()
	stop()
	<-done
	// The embedded store is one process's at a time.
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	for _, q := range asks {
		var out bytes.Buffer
		args := []string{"stats", "--data", dir, "--programme", "hope-oslo", "--as-of", "2026-01-01", "--k", "5", "--format", q.format}
		if q.knownAt != "" {
			args = append(args, "--known-at", q.knownAt)
		}
		if err := run(ctx, args, func(string) string { return "" }, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), answers[q]) {
			t.Errorf("%+v: the command and the server differ:\n%s\n%s", q, out.Bytes(), answers[q])
		}
	}
	if bytes.Equal(answers[asks[0]], answers[asks[2]]) {
		t.Error("the report at the past known_at is the report at the head")
	}
}
