// Package bolt is the embedded default backend of eventstore: one bbolt file
// per store, written by a single group-committing goroutine and read by
// lock-free bbolt read transactions.
//
// Only one Store may have a file open at a time, in this process or any
// other; a second Open fails with ErrLocked instead of waiting.
package bolt

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/caseledger/caseledger/eventstore"
)

// ErrLocked is returned by Open when another process, or another Store in
// this process, holds the data file.
var ErrLocked = errors.New("data file is in use by another store, in this process or another")

// Advice says how the kernel should treat page faults on the mapped file.
// bbolt asks for MADV_RANDOM, which turns readahead off: reading the log of a
// file that is not in the page cache then costs one synchronous disk read
// per page, and replaying a million events after a restart crawls (see
// docs/performance.md). The store replaces that advice when it opens the
// file and whenever bbolt maps it anew.
type Advice int

const (
	// AdviceNormal restores the kernel's default read-around, which also
	// backs off by itself for random access. The default.
	AdviceNormal Advice = iota
	// AdviceSequential asks for aggressive readahead. Replays were no
	// faster than with AdviceNormal in our measurements, and Linux does not
	// count accesses through a sequential mapping as references, so under
	// memory pressure hot index pages would go as early as cold log pages.
	AdviceSequential
	// AdviceRandom keeps bbolt's MADV_RANDOM; for comparisons.
	AdviceRandom
)

func (a Advice) String() string {
	switch a {
	case AdviceSequential:
		return "sequential"
	case AdviceNormal:
		return "normal"
	case AdviceRandom:
		return "random"
	default:
		return "advice(" + strconv.Itoa(int(a)) + ")"
	}
}

// Options configure a Store. The zero value is a sensible production setup.
type Options struct {
	// MaxEventSize bounds data plus metadata of one event; 0 means
	// eventstore.DefaultMaxEventSize.
	MaxEventSize int
	// Clock gives the recorded time of appended events; nil means
	// time.Now. The store converts it to UTC.
	Clock func() time.Time
	// Logger receives the store's few operational messages; nil discards.
	Logger *slog.Logger

	// LockTimeout is how long Open waits for another holder of the file to
	// let go before failing with ErrLocked; 0 means one second.
	LockTimeout time.Duration
	// InitialMmapSize is the size of the first mapping of the file. bbolt
	// must wait for every read transaction to end before it can remap a
	// growing file, so a mapping that outgrows the file for a long time
	// keeps readers and the writer apart. 0 means 2 GiB on 64-bit systems.
	InitialMmapSize int
	// PageSize of a new file; an existing file keeps its own. 0 means
	// 8 KiB, which packs typical 0.5-1 KiB events with less waste at the
	// end of each page than 4 KiB does.
	PageSize int
	// AllocSize is how far bbolt grows the file beyond what it needs at
	// once; 0 means 4 MiB.
	AllocSize int
	// Advice for the mapped file; see Advice.
	Advice Advice

	// MaxBatchEvents bounds the events one group commit takes from the
	// queue; 0 means 16384. A single larger append is still taken whole.
	MaxBatchEvents int
	// ReadChunk is how many events one read transaction covers at most;
	// 0 means 1024. Longer read transactions delay remapping.
	ReadChunk int
}

func (o Options) withDefaults() Options {
	if o.MaxEventSize <= 0 {
		o.MaxEventSize = eventstore.DefaultMaxEventSize
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = time.Second
	}
	if o.InitialMmapSize <= 0 {
		o.InitialMmapSize = 256 << 20
		if strconv.IntSize == 64 {
			o.InitialMmapSize = 2 << 30
		}
	}
	if o.PageSize <= 0 {
		o.PageSize = 8 << 10
	}
	if o.AllocSize <= 0 {
		o.AllocSize = 4 << 20
	}
	if o.MaxBatchEvents <= 0 {
		o.MaxBatchEvents = 16384
	}
	if o.ReadChunk <= 0 {
		o.ReadChunk = 1024
	}
	return o
}

// Store is an eventstore.Store kept in one bbolt file.
type Store struct {
	db   *bbolt.DB
	path string
	opts Options
	log  *slog.Logger

	requests   chan *request
	closing    chan struct{} // closed when Close starts
	writerDone chan struct{}
	closeOnce  sync.Once
	closeErr   error
	closed     atomic.Bool

	// commitMu guards commitCh, which the writer closes and replaces after
	// every commit, so that subscribers at the head can wait for the next
	// one without the writer knowing about them.
	commitMu sync.Mutex
	commitCh chan struct{}

	commits, appends, events atomic.Uint64

	// unsynced is the error of a commit that wrote its header but could
	// not sync it. bbolt then shows the commit to every later transaction,
	// from the page cache, though the disk may never hold it (a file
	// system turned read-only, a failing disk): an append sent again
	// would be answered from it, and lost with it. So once it is set the
	// store answers nothing, reads included, until the file is opened
	// again.
	unsynced atomic.Pointer[error]
	// synced is the id of the last transaction known to be on the disk;
	// only the writer goroutine touches it after Open.
	synced uint64

	streamNames, typeNames *nameCache

	// advised is what the mapping advice last covered; only the writer
	// goroutine touches it after Open, and only it can cause a remap.
	advised mapping
}

var _ eventstore.Store = (*Store)(nil)

// Open opens or creates the store file at path.
func Open(path string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	s := &Store{
		path:       path,
		opts:       opts,
		log:        opts.Logger.With("store", path),
		requests:   make(chan *request),
		closing:    make(chan struct{}),
		writerDone: make(chan struct{}),
		commitCh:   make(chan struct{}),
		// Names are short: 64 Ki stream names take a few MiB and cover the
		// streams a replay meets in any stretch of the log.
		streamNames: newNameCache(1 << 16),
		typeNames:   newNameCache(1 << 12),
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout:         opts.LockTimeout,
		InitialMmapSize: opts.InitialMmapSize,
		PageSize:        opts.PageSize,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open event store %s: %w (waited %s for its lock)", path, ErrLocked, opts.LockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("open event store %s: %w", path, err)
	}
	db.AllocSize = opts.AllocSize
	s.db = db
	if err := s.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open event store %s: %w", path, err)
	}
	s.synced = s.shownTx()
	s.adviseMapping()
	go s.writeLoop()
	s.log.Info("event store opened", "page_size", db.Info().PageSize, "advice", opts.Advice.String())
	return s, nil
}

// init creates the buckets of a new file and refuses a file of another
// format, before anything is written to it.
func (s *Store) init() error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta != nil {
			if got := string(meta.Get(keyFormat)); got != formatVersion {
				return fmt.Errorf("file format %q, this build reads %q", got, formatVersion)
			}
			return nil
		}
		if tx.Bucket(bucketLog) != nil {
			return errors.New("file has no format marker")
		}
		for _, name := range allBuckets {
			if _, err := tx.CreateBucket(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return tx.Bucket(bucketMeta).Put(keyFormat, []byte(formatVersion))
	})
}

// Close waits for the appends already taken into a commit, fails the ones
// still queued, and releases the file. Subscriptions fail with ErrClosed.
func (s *Store) Close() error {
	first := false
	s.closeOnce.Do(func() {
		first = true
		s.closed.Store(true)
		close(s.closing)
		<-s.writerDone
		// bbolt's Close waits for read transactions in flight; ours are
		// short, so this does not hang on a slow consumer.
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("close event store %s: %w", s.path, err)
		}
		s.log.Info("event store closed")
	})
	if !first {
		return fmt.Errorf("close event store %s: %w", s.path, eventstore.ErrClosed)
	}
	return s.closeErr
}

// Stats count what the writer has done since Open.
type Stats struct {
	// Commits is the number of fsynced transactions that wrote events.
	Commits uint64
	// Appends is the number of Append calls those commits wrote;
	// Appends/Commits is how well group commit is sharing fsyncs.
	Appends uint64
	// Events is the number of events those appends wrote.
	Events uint64
}

// Stats returns the writer's counters.
func (s *Store) Stats() Stats {
	return Stats{Commits: s.commits.Load(), Appends: s.appends.Load(), Events: s.events.Load()}
}

// Path is the file the store keeps its data in.
func (s *Store) Path() string { return s.path }

// commitSignal returns a channel that is closed by the next commit.
func (s *Store) commitSignal() <-chan struct{} {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	return s.commitCh
}

func (s *Store) signalCommit() {
	s.commitMu.Lock()
	close(s.commitCh)
	s.commitCh = make(chan struct{})
	s.commitMu.Unlock()
}

// view runs fn in a read transaction, turning bbolt's "not open" after a
// concurrent Close into ErrClosed.
func (s *Store) view(fn func(*bbolt.Tx) error) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	if err := s.unsyncedErr(); err != nil {
		return err
	}
	err := s.db.View(fn)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return eventstore.ErrClosed
	}
	return err
}

// shownTx is the id of the last transaction bbolt shows, 0 if it shows
// none.
func (s *Store) shownTx() uint64 {
	var id uint64
	if err := s.db.View(func(tx *bbolt.Tx) error { id = uint64(tx.ID()); return nil }); err != nil {
		return 0
	}
	return id
}

// unsyncedErr is the error every read and append fails with once a commit
// that bbolt shows could not be synced (see Store.unsynced); nil before.
func (s *Store) unsyncedErr() error {
	p := s.unsynced.Load()
	if p == nil {
		return nil
	}
	return fmt.Errorf("%w: a commit was not synced, though the file shows it; open the store again once the disk is fixed: %w", eventstore.ErrUnavailable, *p)
}
