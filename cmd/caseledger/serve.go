package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/api/identity"
	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/instrumented"
	"github.com/caseledger/caseledger/personaldata"
	"github.com/caseledger/caseledger/projections"
)

// shutdownTimeout bounds how long in-flight requests may take to finish
// once a signal has come. The HTTP server's own limits are flags
// (timeouts.go).
const shutdownTimeout = 30 * time.Second

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("serve", "caseledger serve [--data DIR] [--addr HOST:PORT] [flags]")
	idf := addIdentityFlags(fs, defaultDataDir, true)
	idf.addOIDCFlags(fs)
	srvf := addServerFlags(fs)
	fs.StringVar(&srvf.pprof, "pprof", "", "address (HOST:PORT) to serve Go's profiler on, apart from the API; none when empty. It shows no personal data, but keep it on loopback")
	fs.StringVar(&srvf.accessSpill, "access-spill", "", "directory, on another volume than --data, that keeps access records while the event store refuses writes (its disk full or read-only, its cluster unreachable), so that reads of personal data go on; without it they answer 503 until the store is back")
	fs.fromEnv("access-spill", "CASELEDGER_ACCESS_SPILL")
	storeFlag := addStoreFlag(fs)
	mkf := addMasterKeyFlags(fs)
	if err := fs.parse(e, args); err != nil {
		return err
	}
	if err := idf.check(fs); err != nil {
		return err
	}
	if err := srvf.check(fs); err != nil {
		return err
	}
	srvf.store = *storeFlag
	keys := func(ctx context.Context, log *slog.Logger) (*personaldata.Keyring, error) {
		master, err := mkf.load(e, "serve", log)
		if err != nil {
			return nil, err
		}
		return openKeyring(ctx, idf.dataDir, master)
	}
	return serve(ctx, e, idf, srvf, keys, nil)
}

// spillRetry is how often held access records are offered to the store.
const spillRetry = 2 * time.Second

// openSpill opens the access records' spill journal in dir, if one is
// configured, and says what it holds from an earlier run.
func openSpill(dir, dataDir string, log *slog.Logger) (*audit.Spill, error) {
	if dir == "" {
		return nil, nil
	}
	spill, err := audit.OpenSpill(dir)
	if err != nil {
		return nil, err
	}
	if sameFileSystem(dir, dataDir) {
		log.Warn("the access spill journal is on the data directory's file system: when that disk is full or read-only, so is the journal, and reads of personal data stop", "journal", spill.Path())
	}
	if n := spill.Torn(); n > 0 {
		log.Warn("access spill journal: dropped the end of a line cut short by a crash; its looks were not shown", "journal", spill.Path(), "bytes", n)
	}
	log.Info("access spill journal", "journal", spill.Path(), "held", spill.Len())
	return spill, nil
}

// serveGCPercent is the collector's setting for a server when GOGC is not
// set.
const serveGCPercent = 200

// gcPercent is the collector's setting serve runs with, for its log.
func gcPercent(e *env) string {
	if e.getenv("GOGC") != "" {
		return "as GOGC sets it"
	}
	return strconv.Itoa(serveGCPercent)
}

// keySource opens the keyring that seals personal data, or says why there
// is none; serve and demo find their master keys in different places.
type keySource func(ctx context.Context, log *slog.Logger) (*personaldata.Keyring, error)

// started is what a server has opened, for whoever starts one (demo) to
// use before requests come.
type started struct {
	addr   string // where it listens, host:port
	store  eventstore.Store
	svc    *casework.Service // writes to store, sealing personal data
	issuer *identity.LocalIssuer
	log    *slog.Logger
}

// serve opens the store and the local issuer in the data directory, serves
// the API until ctx ends, then shuts down in order: stop accepting, let
// in-flight requests finish, close the store. onStart, when set, runs once
// the server listens and before it accepts a request.
func serve(ctx context.Context, e *env, idf *identityFlags, srvf *serverFlags, openKeys keySource, onStart func(context.Context, started) error) (err error) {
	log := newLogger(e.stderr, srvf.logLevel.level)

	// Without its keys the server would have to write personal data in
	// clear: it does not start, and says why before anything else.
	keys, err := openKeys(ctx, log)
	if err != nil {
		return err
	}
	verifier, issuer, err := openIdentity(ctx, idf, log)
	if err != nil {
		return err
	}
	log.Info("personal data: sealed", "master_key", keys.MasterID(), "keys", filepath.Join(idf.dataDir, keysDir))
	store, err := openStore(ctx, storeLocation(srvf.store, idf.dataDir), log)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := store.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close event store: %w", cerr))
		}
	}()

	// Read models: caught up from their snapshots, then following the log;
	// stopped (and their snapshots flushed) before the store closes.
	models, runner, err := newProjections(store, idf.dataDir, projections.Options{Logger: log})
	if err != nil {
		return err
	}
	pctx, stopProjections := context.WithCancel(context.WithoutCancel(ctx))
	projectionsDone := make(chan struct{})
	go func() { defer close(projectionsDone); runner.Run(pctx) }()
	defer func() { stopProjections(); <-projectionsDone }()

	spill, err := openSpill(srvf.accessSpill, idf.dataDir, log)
	if err != nil {
		return err
	}
	if spill != nil {
		defer spill.Close()
	}

	// Metrics (Prometheus): one registry for this process, no global
	// default. From here on store is the instrumented store, which counts
	// appends and reads and closes the store underneath.
	metrics, store, err := newMetrics(store, runner, spill)
	if err != nil {
		return err
	}

	var stopping atomic.Bool
	disk := &diskProbe{dir: idf.dataDir}
	a, err := api.New(api.Config{
		Logger:   log,
		Verifier: verifier,
		Ready: func(ctx context.Context) error {
			if err := ready(ctx, &stopping, store); err != nil {
				return err
			}
			// A full or read-only data directory refuses every new
			// participant (their key) and, with the embedded store,
			// every write: the process is not ready for writes.
			if err := disk.check(ctx); err != nil {
				return err
			}
			return runner.Ready(ctx)
		},
		MaxBodyBytes: srvf.maxBodyBytes,
		Metrics:      metrics,
		AccessSpill:  spill,
	})
	if err != nil {
		return err
	}
	svc, err := casework.New(store, casework.Options{Keys: keys})
	if err != nil {
		return err
	}
	api.RegisterCasework(a, svc)
	api.RegisterOverview(a, svc, models.overview, api.OverviewOptions{Waiter: runner, Today: svc.Today})
	api.RegisterErasure(a, svc)
	api.RegisterCaseload(a, models.caseload, api.CaseloadOptions{Waiter: runner, Names: api.CaseloadNames(svc), Today: svc.Today})

	// Outcome statistics (measures.md): at the head of the log from their
	// read model, at a past known_at from the log itself.
	api.RegisterStats(a, store, api.StatsOptions{Today: svc.Today, Model: models.outcomes, Waiter: runner})
	api.RegisterComparison(a, store, api.StatsOptions{Today: svc.Today})
	pseudonyms, err := keys.Pseudonyms()
	if err != nil {
		return err
	}
	api.RegisterExport(a, store, pseudonyms, api.StatsOptions{Today: svc.Today})
	if spill != nil {
		// Held access records move to the log once it takes writes, even
		// if no look comes to move them; stopped before the store closes.
		rctx, stopRetry := context.WithCancel(context.WithoutCancel(ctx))
		retryDone := make(chan struct{})
		go func() { defer close(retryDone); a.AccessLog().RetryHeld(rctx, spillRetry) }()
		defer func() { stopRetry(); <-retryDone }()
	}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", srvf.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", srvf.addr, err)
	}
	srv := newHTTPServer(a, log, srvf.limits)
	addr := ln.Addr().String()
	if onStart != nil {
		if err := onStart(ctx, started{addr: addr, store: store, svc: svc, issuer: issuer, log: log}); err != nil {
			ln.Close()
			return err
		}
	}

	if srvf.pprof != "" {
		stopProfiler, err := serveProfiler(ctx, srvf.pprof, log)
		if err != nil {
			ln.Close()
			return err
		}
		defer stopProfiler()
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if e.getenv("GOGC") == "" {
		// The server keeps its read models and the histories it read
		// last, and allocates for every request: letting the heap grow to
		// three times what is live rather than two before collecting made
		// durable writes about a tenth faster (docs/performance.md,
		// "Load"). GOGC overrides it; GOMEMLIMIT bounds the heap.
		defer debug.SetGCPercent(debug.SetGCPercent(serveGCPercent))
	}
	log.Info("serving", "addr", addr, "data", idf.dataDir, "gogc", gcPercent(e))
	if e.listening != nil {
		e.listening(addr)
	}

	select {
	case err := <-served:
		return fmt.Errorf("serve on %s: %w", addr, err)
	case <-ctx.Done():
	}

	// Readiness fails first, so that a balancer stops sending; Shutdown
	// then closes the listener and waits for in-flight requests.
	stopping.Store(true)
	log.Info("shutting down", "timeout", shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("requests still running at the shutdown deadline; closing their connections", "error", err.Error())
		srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve on %s: %w", addr, err)
	}
	log.Info("stopped")
	return nil
}

// discoveryTimeout bounds reading the OpenID Connect issuer's discovery
// document at start.
const discoveryTimeout = 15 * time.Second

// openIdentity returns the token verifier: the OpenID Connect issuer's when
// one is configured, else the local issuer's, whose key lives in the data
// directory (the issuer is nil in the first case).
func openIdentity(ctx context.Context, idf *identityFlags, log *slog.Logger) (api.TokenVerifier, *identity.LocalIssuer, error) {
	if idf.oidc.issuer == "" {
		issuer, err := identity.OpenLocalIssuer(ctx, idf.dataDir, idf.config())
		if err != nil {
			return nil, nil, err
		}
		log.Info("identity: local issuer", "issuer", idf.issuer, "audience", idf.audience)
		return issuer.Verifier(), issuer, nil
	}
	dctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	v, err := identity.NewOIDCVerifier(dctx, idf.oidc.issuer, idf.oidcConfig())
	if errors.Is(err, identity.ErrInvalidConfig) {
		return nil, nil, usageErrorf("serve", "%v", err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("OpenID Connect issuer %s: %w", idf.oidc.issuer, err)
	}
	log.Info("identity: OpenID Connect", "issuer", idf.oidc.issuer, "audience", idf.oidc.audience)
	return v, nil, nil
}

func newHTTPServer(h http.Handler, log *slog.Logger, limits *httpLimits) *http.Server {
	srv := &http.Server{
		Handler:  h,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	limits.apply(srv)
	return srv
}

// ready passes while the server is not stopping and the store answers a
// read of the log's head.
func ready(ctx context.Context, stopping *atomic.Bool, store eventstore.Store) error {
	if stopping.Load() {
		return errors.New("shutting down")
	}
	if _, err := store.ReadAll(ctx, eventstore.ReadAllOptions{Backwards: true, From: eventstore.End, Limit: 1}); err != nil {
		return fmt.Errorf("event store: %w", err)
	}
	return nil
}

// newLogger logs JSON lines to w; records logged with a request's context
// carry its correlation id.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(api.CorrelationHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})))
}

// newMetrics makes the process's Prometheus registry, served at GET
// /metrics: the Go runtime and the process, the HTTP layer (api.Metrics:
// requests by route template and status, authentication failures,
// denials, access-log writes), the event store (instrumented: appends,
// their latency and batch size, events by type, reads), and the read
// models' positions and lag, read from runner at each scrape. It returns
// the HTTP metrics for api.Config and store wrapped to count.
func newMetrics(store eventstore.Store, runner *projections.Runner, spill *audit.Spill) (*api.Metrics, eventstore.Store, error) {
	reg := prometheus.NewRegistry()
	if err := errors.Join(
		reg.Register(collectors.NewGoCollector()),
		reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})),
		reg.Register(api.NewProjectionCollector(runner)),
	); err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	// An embedded store's subscriptions are in-process and never drop:
	// its counter stays 0, so a dashboard reads the same on either store.
	resubscriptions := func() float64 { return 0 }
	if r, ok := store.(eventstore.Resubscriber); ok {
		resubscriptions = func() float64 { return float64(r.Resubscriptions()) }
	}
	if err := reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "caseledger_eventstore_subscription_reconnects_total",
		Help: "Subscriptions to the event store resumed after its server dropped them or could not be reached.",
	}, resubscriptions)); err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	if spill != nil {
		held := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "caseledger_access_records_held",
			Help: "Access records held in the spill journal until the event store takes writes again.",
		}, func() float64 { return float64(spill.Len()) })
		if err := reg.Register(held); err != nil {
			return nil, nil, fmt.Errorf("metrics: %w", err)
		}
	}
	counted, err := instrumented.New(store, reg, instrumented.Options{EventTypes: domain.EventTypes()})
	if err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	m, err := api.NewMetrics(reg)
	if err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	return m, counted, nil
}
