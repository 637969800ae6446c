// Package esdbtest runs an in-process server that speaks the part of the
// EventStoreDB gRPC protocol the esdb adapter uses, for tests: no
// EventStoreDB can be installed where caseledger is built, and a fake at
// the protocol level lets the adapter be tested through the official Go
// client, with its real connection handling, encoding and error paths.
//
// It is built on the server interfaces generated into the client module
// (protos/streams, protos/serverfeatures) and keeps an in-memory log with
// EventStoreDB's rules where the adapter depends on them:
//
//   - $all positions are byte-offset-like (commit == prepare, > 0, strictly
//     increasing, with gaps); reads and subscriptions refuse a position that
//     is not an event's own or the head.
//   - $all reads are inclusive forwards and exclusive backwards;
//     subscriptions deliver after their start.
//   - Idempotency follows the server's own rules, which are weaker than the
//     port's (see memLog.append); content types are kept only as "JSON or
//     not"; appends are bounded by MaxAppendSize.
//   - The log begins with system events, and a statistics event follows
//     every fifth append, as on a real node, so adapters must filter them.
//   - Subscriptions send the confirmation first, caught-up at the head, and
//     checkpoints when filtered.
//
// Tests simulate failures with Stop and Start (the server going away and
// coming back on the same address, its log intact) and DropSubscriptions.
//
// The package is meant for tests only; nothing in a production build
// imports it.
package esdbtest

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"context"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// DefaultMaxAppendSize is EventStoreDB's default --max-append-size.
const DefaultMaxAppendSize = 1 << 20

// Version is the server version the test server reports.
const Version = "24.10.0"

// Options configure a Server. The zero value behaves like a fresh,
// default-configured EventStoreDB node.
type Options struct {
	// Addr is the address to listen on; "" means a free port on 127.0.0.1.
	// The address, once chosen, is kept across Stop and Start.
	Addr string
	// MaxAppendSize bounds one append, measured as EventStoreDB does (data
	// plus metadata plus two bytes per UTF-16 unit of the type, summed
	// over the events); 0 means DefaultMaxAppendSize.
	MaxAppendSize int
	// NoSystemEvents leaves the log without system events: none at the
	// start, none between appends.
	NoSystemEvents bool
	// NoCaughtUp makes subscriptions never send caught-up, as servers
	// before 23.10 did not.
	NoCaughtUp bool
	// Logger receives the server's debug messages; nil discards them.
	Logger *slog.Logger
}

// Server is an in-process EventStoreDB stand-in. Its methods are safe for
// concurrent use.
type Server struct {
	opts   Options
	log    *memLog
	logger *slog.Logger

	mu      sync.Mutex
	addr    string
	grpc    *grpc.Server
	serving chan struct{} // closed when the current Serve returns
	closed  bool
}

// Start starts a server and returns once it is listening.
func Start(opts Options) (*Server, error) {
	if opts.MaxAppendSize <= 0 {
		opts.MaxAppendSize = DefaultMaxAppendSize
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:   opts,
		log:    newMemLog(opts.MaxAppendSize, !opts.NoSystemEvents),
		logger: logger,
		addr:   opts.Addr,
	}
	if err := s.Start(); err != nil {
		return nil, err
	}
	return s, nil
}

// New starts a server for a test and closes it when the test ends.
func New(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := Start(opts)
	if err != nil {
		tb.Fatalf("start EventStoreDB test server: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Addr is the host:port the server listens on (or will, once restarted).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// ConnectionString is an esdb:// connection string for the server.
func (s *Server) ConnectionString() string {
	return "esdb://" + s.Addr() + "?tls=false"
}

// Start listens again on the server's address after Stop, with the log as
// it was. Starting a running server is an error.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("esdbtest: server is closed")
	}
	if s.grpc != nil {
		return errors.New("esdbtest: server is already running")
	}
	lis, err := listen(s.addr)
	if err != nil {
		return fmt.Errorf("esdbtest: listen on %s: %w", s.addr, err)
	}
	s.addr = lis.Addr().String()
	g := grpc.NewServer(
		// The Go client pings every 10 s, with or without calls in flight.
		// grpc-go's default policy answers pings more frequent than every
		// 5 minutes, or without streams, with GOAWAY, which would drop an
		// idle subscription after three pings.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             time.Second,
			PermitWithoutStream: true,
		}),
		// One event is one message; leave room for large events.
		grpc.MaxRecvMsgSize(64<<20),
	)
	api.RegisterStreamsServer(g, &streamsService{srv: s})
	serverfeatures.RegisterServerFeaturesServer(g, featuresService{})
	serving := make(chan struct{})
	go func() {
		defer close(serving)
		// Serve returns when Stop closes the listener; nothing to report.
		_ = g.Serve(lis)
	}()
	s.grpc, s.serving = g, serving
	s.logger.Debug("EventStoreDB test server listening", "addr", s.addr)
	return nil
}

// listen binds addr, retrying briefly: the port of a server just stopped
// can take a moment to be released.
func listen(addr string) (net.Listener, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		lis, err := net.Listen("tcp", addr)
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			return lis, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop simulates the server going away: it closes the listener and every
// connection at once, failing calls in flight, and refuses connections
// until Start. The log is kept.
func (s *Server) Stop() {
	s.mu.Lock()
	g, serving := s.grpc, s.serving
	s.grpc, s.serving = nil, nil
	s.mu.Unlock()
	if g == nil {
		return
	}
	g.Stop()
	<-serving
	s.logger.Debug("EventStoreDB test server stopped", "addr", s.Addr())
}

// Restart stops the server and starts it again on the same address.
func (s *Server) Restart() error {
	s.Stop()
	return s.Start()
}

// Close stops the server for good.
func (s *Server) Close() {
	s.Stop()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}

// DropSubscriptions ends every live subscription with Unavailable, as a
// node does when it shuts a subscription down; the connection stays up.
func (s *Server) DropSubscriptions() {
	s.log.dropSubscriptions()
}

// Head is the position of the last event in the log, system events
// included; 0 when the log is empty.
func (s *Server) Head() uint64 {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	if len(s.log.records) == 0 {
		return 0
	}
	return s.log.records[len(s.log.records)-1].pos
}

// featuresService answers the client's discovery call. The client treats
// Unimplemented as an old server; any other error, repeated, makes it give
// up and close itself.
type featuresService struct {
	serverfeatures.UnimplementedServerFeaturesServer
}

func (featuresService) GetSupportedMethods(context.Context, *shared.Empty) (*serverfeatures.SupportedMethods, error) {
	const streams = "event_store.client.streams.streams"
	return &serverfeatures.SupportedMethods{
		EventStoreServerVersion: Version,
		Methods: []*serverfeatures.SupportedMethod{
			{ServiceName: streams, MethodName: "read"},
			{ServiceName: streams, MethodName: "append"},
		},
	}, nil
}
