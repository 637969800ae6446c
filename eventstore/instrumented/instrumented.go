// Package instrumented wraps an eventstore.Store with Prometheus metrics:
// appends by result with their latency and batch size, events appended by
// type, reads by kind and result. The store and casework stay free of
// metrics code; a process wraps its store once, on its own registry.
//
//	reg := prometheus.NewRegistry()
//	store, err = instrumented.New(store, reg, instrumented.Options{EventTypes: domain.EventTypes()})
package instrumented

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/caseledger/caseledger/eventstore"
)

// Options configure New.
type Options struct {
	// EventTypes are the event types counted under their own name; any
	// other is counted as "other", so that label values stay a known,
	// small set. Nil counts every event as "other".
	EventTypes []string
}

// Store is an eventstore.Store that counts what passes through it.
type Store struct {
	eventstore.Store
	types        []string
	appends      *prometheus.CounterVec
	appendTime   *prometheus.HistogramVec
	batchSize    prometheus.Histogram
	events       *prometheus.CounterVec
	reads        *prometheus.CounterVec
	readDuration *prometheus.HistogramVec
}

var _ eventstore.Store = (*Store)(nil)

// New wraps store, registering its metrics on reg.
func New(store eventstore.Store, reg prometheus.Registerer, opts Options) (*Store, error) {
	s := &Store{
		Store: store,
		types: slices.Clone(opts.EventTypes),
		appends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "caseledger_eventstore_appends_total",
			Help: "Appends to the event store, by result (ok, conflict, idempotency, invalid, unavailable, closed, canceled, error).",
		}, []string{"result"}),
		appendTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "caseledger_eventstore_append_duration_seconds",
			Help:    "Time an append took until its events were durable (or it failed), by result.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"result"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "caseledger_eventstore_append_batch_size",
			Help:    "Events per append call.",
			Buckets: []float64{1, 2, 3, 5, 8, 13, 21, 50, 100},
		}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "caseledger_eventstore_events_appended_total",
			Help: "Events appended (in appends that succeeded), by event type.",
		}, []string{"type"}),
		reads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "caseledger_eventstore_reads_total",
			Help: "Reads of the event store, by kind (stream, all) and result.",
		}, []string{"kind", "result"}),
		readDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "caseledger_eventstore_read_duration_seconds",
			Help:    "Time a read of the event store took, by kind (stream, all).",
			Buckets: []float64{.0001, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"kind"}),
	}
	for _, c := range []prometheus.Collector{s.appends, s.appendTime, s.batchSize, s.events, s.reads, s.readDuration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Append appends through the wrapped store and counts it.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.Expected, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	start := time.Now()
	res, err := s.Store.Append(ctx, stream, expected, events...)
	result := resultOf(err)
	s.appends.WithLabelValues(result).Inc()
	s.appendTime.WithLabelValues(result).Observe(time.Since(start).Seconds())
	s.batchSize.Observe(float64(len(events)))
	if err == nil {
		for _, e := range events {
			s.events.WithLabelValues(s.typeLabel(e.Type)).Inc()
		}
	}
	return res, err
}

// ReadStream reads through the wrapped store and counts it; a stream
// without events is a result of its own, not an error.
func (s *Store) ReadStream(ctx context.Context, stream string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	start := time.Now()
	evs, err := s.Store.ReadStream(ctx, stream, opts)
	s.observeRead("stream", start, err)
	return evs, err
}

// ReadAll reads through the wrapped store and counts it.
func (s *Store) ReadAll(ctx context.Context, opts eventstore.ReadAllOptions) ([]eventstore.RecordedEvent, error) {
	start := time.Now()
	evs, err := s.Store.ReadAll(ctx, opts)
	s.observeRead("all", start, err)
	return evs, err
}

// Unwrap returns the wrapped store.
func (s *Store) Unwrap() eventstore.Store { return s.Store }

func (s *Store) observeRead(kind string, start time.Time, err error) {
	s.reads.WithLabelValues(kind, resultOf(err)).Inc()
	s.readDuration.WithLabelValues(kind).Observe(time.Since(start).Seconds())
}

func (s *Store) typeLabel(t string) string {
	if slices.Contains(s.types, t) {
		return t
	}
	return "other"
}

// resultOf names an outcome by the store's sentinel errors: a fixed set
// of words, never an error's text.
func resultOf(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, eventstore.ErrConflict):
		return "conflict"
	case errors.Is(err, eventstore.ErrIdempotency):
		return "idempotency"
	case errors.Is(err, eventstore.ErrStreamNotFound):
		return "not_found"
	case errors.Is(err, eventstore.ErrInvalidStream), errors.Is(err, eventstore.ErrInvalidEvent),
		errors.Is(err, eventstore.ErrEventTooLarge), errors.Is(err, eventstore.ErrInvalidExpected),
		errors.Is(err, eventstore.ErrInvalidReadRange):
		return "invalid"
	case errors.Is(err, eventstore.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, eventstore.ErrClosed):
		return "closed"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	}
	return "error"
}
