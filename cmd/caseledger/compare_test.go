package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/api"
)

// caseledger compare writes, byte for byte, what GET /v1/stats/comparison
// answers an evaluator for the same request, in JSON and in CSV; a bad
// flag is named.
func TestCompareMatchesAPI(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store := openDataStore(t, dir)
	for i := range 20 {
		enrolled := statsDay(t, "2025-01-06").AddDays(5 * i)
		stream := statsEnrol(t, store, []string{"oslo", "bergen"}[i%2], enrolled)
		if i%3 != 0 {
			statsJob(t, store, stream, enrolled.AddDays(30+i))
		}
	}
	served := httptest.NewServer(nil)
	defer served.Close()
	for _, format := range []string{"json", "csv"} {
		h, token := evaluatorAPI(t, func(a *api.API) { api.RegisterComparison(a, store, api.StatsOptions{}) })
		served.Config.Handler = h
		resp := statsGet(t, served.URL+"/v1/stats/comparison?a.office=oslo&b.office=bergen&as_of=2026-01-01&k=5&format="+format, token)
		if !bytes.Contains(resp, []byte("job_within_183d")) {
			t.Fatalf("%s: %s", format, resp)
		}
		// The embedded store is one process's at a time.
		if err := store.Close(); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := run(ctx, []string{"compare", "--data", dir, "--a.office", "oslo", "--b.office", "bergen", "--as-of", "2026-01-01",
			"--k", "5", "--format", format}, func(string) string { return "" }, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), resp) {
			t.Errorf("%s: the command and the API differ:\n%s\n%s", format, out.Bytes(), resp)
		}
		store = openDataStore(t, dir)
	}
	_ = store.Close()

	err := run(ctx, []string{"compare", "--data", dir, "--a.gender", "x"}, func(string) string { return "" }, io.Discard, io.Discard)
	var ue *usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--a.gender") {
		t.Errorf("a bad --a.gender: %v", err)
	}
}
