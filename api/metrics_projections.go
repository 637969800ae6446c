package api

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/caseledger/caseledger/projections"
)

// ProjectionSource is what the projection metrics read at each scrape;
// *projections.Runner is one.
type ProjectionSource interface {
	Statuses() []projections.Status
	Lag(ctx context.Context) ([]projections.Lag, error)
}

// lagTimeout bounds the reads of the log a scrape makes to measure lag.
const lagTimeout = 2 * time.Second

// NewProjectionCollector returns a collector of the read models' positions
// and lag, read from src when scraped. Register it on the process's
// registry.
func NewProjectionCollector(src ProjectionSource) prometheus.Collector {
	label := []string{"projection"}
	return &projectionCollector{
		src:      src,
		position: prometheus.NewDesc("caseledger_projection_position", "The log position the read model reflects.", label, nil),
		caughtUp: prometheus.NewDesc("caseledger_projection_caught_up", "1 when the read model has caught up with the log and follows it live.", label, nil),
		stopped:  prometheus.NewDesc("caseledger_projection_stopped", "1 when the projection stopped on an event it could not apply.", label, nil),
		applied:  prometheus.NewDesc("caseledger_projection_events_applied_total", "Events the projection applied since the process started.", label, nil),
		failures: prometheus.NewDesc("caseledger_projection_failures_total", "Events the projection could not apply.", label, nil),
		lagPos:   prometheus.NewDesc("caseledger_projection_lag_positions", "Log positions between the read model and the head of the log.", label, nil),
		lagSec:   prometheus.NewDesc("caseledger_projection_lag_seconds", "Seconds between the commit of the head event and of the last event the projection applied.", label, nil),
		lagUp:    prometheus.NewDesc("caseledger_projection_lag_up", "1 when the lag could be measured at this scrape (the log's head could be read).", nil, nil),
	}
}

type projectionCollector struct {
	src                                                                   ProjectionSource
	position, caughtUp, stopped, applied, failures, lagPos, lagSec, lagUp *prometheus.Desc
}

func (c *projectionCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.position, c.caughtUp, c.stopped, c.applied, c.failures, c.lagPos, c.lagSec, c.lagUp} {
		ch <- d
	}
}

func (c *projectionCollector) Collect(ch chan<- prometheus.Metric) {
	// Lag first: measuring it may move a quiet projection's position to
	// the head, which the statuses then show.
	ctx, cancel := context.WithTimeout(context.Background(), lagTimeout)
	defer cancel()
	if lags, err := c.src.Lag(ctx); err != nil {
		// The scrape still answers; the lag is missing, and says so.
		ch <- prometheus.MustNewConstMetric(c.lagUp, prometheus.GaugeValue, 0)
	} else {
		ch <- prometheus.MustNewConstMetric(c.lagUp, prometheus.GaugeValue, 1)
		for _, l := range lags {
			ch <- prometheus.MustNewConstMetric(c.lagPos, prometheus.GaugeValue, float64(l.Positions), l.Name)
			ch <- prometheus.MustNewConstMetric(c.lagSec, prometheus.GaugeValue, l.Seconds, l.Name)
		}
	}
	for _, s := range c.src.Statuses() {
		ch <- prometheus.MustNewConstMetric(c.position, prometheus.GaugeValue, float64(s.Position), s.Name)
		ch <- prometheus.MustNewConstMetric(c.caughtUp, prometheus.GaugeValue, boolValue(s.CaughtUp), s.Name)
		ch <- prometheus.MustNewConstMetric(c.stopped, prometheus.GaugeValue, boolValue(s.Err != nil), s.Name)
		ch <- prometheus.MustNewConstMetric(c.applied, prometheus.CounterValue, float64(s.Applied), s.Name)
		ch <- prometheus.MustNewConstMetric(c.failures, prometheus.CounterValue, float64(s.Failures), s.Name)
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
