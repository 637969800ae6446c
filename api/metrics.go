package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/caseledger/caseledger/api/identity"
)

// MetricsPath is where Metrics are served, without a token: they hold
// route templates, statuses and reasons, never paths, ids or personal
// data.
const MetricsPath = "/metrics"

// Metrics are the HTTP layer's Prometheus metrics, registered on one
// registry per process; set Config.Metrics to have an API count its
// requests and serve the registry at GET /metrics. A nil *Metrics counts
// nothing.
type Metrics struct {
	handler      http.Handler
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	authFailures *prometheus.CounterVec
	denials      *prometheus.CounterVec
	accessWrites *prometheus.CounterVec
}

// NewMetrics registers the HTTP metrics on reg and serves everything reg
// gathers (other packages' metrics included).
func NewMetrics(reg *prometheus.Registry) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "caseledger_http_requests_total",
			Help: "HTTP requests answered, by method, route template and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "caseledger_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method and route template.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "caseledger_auth_failures_total",
			Help: "Requests refused for want of a valid bearer token, by reason.",
		}, []string{"reason"}),
		denials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "caseledger_access_denials_total",
			Help: "Requests the access policy refused, by reason.",
		}, []string{"reason"}),
		accessWrites: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "caseledger_access_log_writes_total",
			Help: "Access records written to the access log (result recorded) or lost with a refused read (result failed), by decision.",
		}, []string{"decision", "result"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.authFailures, m.denials, m.accessWrites} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	return m, nil
}

// Handler serves the registry the metrics were registered on.
func (m *Metrics) Handler() http.Handler { return m.handler }

func (m *Metrics) observeRequest(method, route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(d.Seconds())
}

// authFailure counts a request refused in authentication; the reason is
// a fixed word, never the error's text.
func (m *Metrics) authFailure(err error) {
	if m == nil {
		return
	}
	reason := "other"
	switch {
	case errors.Is(err, identity.ErrMissingToken):
		reason = "missing_token"
	case errors.Is(err, identity.ErrInvalidToken):
		reason = "invalid_token"
	}
	m.authFailures.WithLabelValues(reason).Inc()
}

func (m *Metrics) denial(reason string) {
	if m == nil {
		return
	}
	if reason == "" {
		reason = "unknown"
	}
	m.denials.WithLabelValues(reason).Inc()
}

func (m *Metrics) accessWritten(decision string, n int, err error) {
	if m == nil {
		return
	}
	result := "recorded"
	if err != nil {
		result = "failed"
	}
	m.accessWrites.WithLabelValues(decision, result).Add(float64(n))
}
