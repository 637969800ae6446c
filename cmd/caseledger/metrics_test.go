package main

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// metricsOutEnv names a file the scrape of TestMetricsScrape is written
// to, for CI to check with promtool (.ci/run).
const metricsOutEnv = "CASELEDGER_METRICS_OUT"

// TestMetricsScrape serves, makes requests that move every kind of metric,
// and scrapes GET /metrics: the metrics are there, labelled by route
// template, and no raw path or id leaks into them.
func TestMetricsScrape(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, "serve", "--data", dir, "--access-spill", t.TempDir())
	base := "http://" + s.addr
	token := func(user, role, office string) string {
		t.Helper()
		args := []string{"token", "--data", dir, "--user", user, "--role", role}
		if office != "" {
			args = append(args, "--office", office)
		}
		code, tok, errOut := invoke(t, nil, args...)
		if code != 0 {
			t.Fatalf("token: %s", errOut)
		}
		return strings.TrimSpace(tok)
	}
	admin, caseworker := token("u-adm", "admin", ""), token("u-kari", "caseworker", "oslo")

	if code, _ := get(t, base+"/v1/me", ""); code != http.StatusUnauthorized {
		t.Errorf("me without a token: %d", code)
	}
	if code, _ := get(t, base+"/v1/me", "garbage"); code != http.StatusUnauthorized {
		t.Errorf("me with a bad token: %d", code)
	}
	if code, body := postJSON(t, base+"/v1/programmes", admin, `{"slug":"metrics-test","name":"Metrics test"}`); code != http.StatusCreated {
		t.Fatalf("define a programme: %d %s", code, body)
	}
	stranger := uuid.NewString()
	if code, _ := get(t, base+"/v1/participants/"+stranger, caseworker); code != http.StatusNotFound {
		t.Errorf("an unknown participant: %d", code)
	}
	if code, _ := get(t, base+"/v1/audit/access", caseworker); code != http.StatusForbidden {
		t.Errorf("the access log as a caseworker: %d", code)
	}

	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	scrape := string(raw)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`caseledger_http_requests_total{method="GET",route="/v1/participants/{id}",status="404"} 1`,
		`caseledger_http_requests_total{method="POST",route="/v1/programmes",status="201"} 1`,
		`caseledger_http_request_duration_seconds_bucket{method="GET",route="/v1/me",le="+Inf"} 2`,
		`caseledger_auth_failures_total{reason="missing_token"} 1`,
		`caseledger_auth_failures_total{reason="invalid_token"} 1`,
		`caseledger_access_denials_total{reason="unknown_participant"} 1`,
		`caseledger_access_denials_total{reason="role"} 1`,
		`caseledger_access_log_writes_total{decision="deny",result="recorded"} 2`,
		`caseledger_eventstore_appends_total{result="ok"}`,
		`caseledger_eventstore_append_duration_seconds_bucket{result="ok",le="+Inf"}`,
		`caseledger_eventstore_append_batch_size_count`,
		`caseledger_eventstore_events_appended_total{type="ProgrammeDefined"} 1`,
		`caseledger_eventstore_events_appended_total{type="AccessRecorded"} 2`,
		`caseledger_projection_position{projection="caseload"}`,
		`caseledger_projection_lag_positions{projection="caseload"}`,
		`caseledger_projection_lag_up 1`,
		`caseledger_access_records_held 0`,
		`caseledger_eventstore_subscription_reconnects_total 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(scrape, want) {
			t.Errorf("the scrape lacks %s", want)
		}
	}
	if strings.Contains(scrape, stranger) || strings.Contains(scrape, "u-kari") {
		t.Error("the scrape holds a participant id or a user id")
	}
	if out := os.Getenv(metricsOutEnv); out != "" {
		if err := os.WriteFile(out, []byte(scrape), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func postJSON(t *testing.T, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
