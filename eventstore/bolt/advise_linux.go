package bolt

import (
	"golang.org/x/sys/unix"

	bbolt "go.etcd.io/bbolt"
)

// bbolt maps the file with MADV_RANDOM, which turns off readahead for page
// faults on the mapping. For a log read front to back from a file that is
// not in the page cache, every 4 KiB page then costs one synchronous disk
// read, and a cold replay crawls. The advice belongs to the mapping, so it
// is applied again whenever bbolt remaps the growing file, and widened as
// the file grows into the part of the mapping that was not yet in use.

// mapping is the range of the bbolt mapping the advice last covered.
type mapping struct {
	addr uintptr
	size int64
}

// readviseStep is how far the file may grow past the advised range before
// the advice is widened; the unadvised tail was just written, so it is in
// the page cache anyway.
const readviseStep = 64 << 20

func (s *Store) madvice() (int, bool) {
	switch s.opts.Advice {
	case AdviceSequential:
		return unix.MADV_SEQUENTIAL, true
	case AdviceNormal:
		return unix.MADV_NORMAL, true
	default:
		return 0, false
	}
}

// adviseMapping applies the advice to the part of the mapping that holds
// pages. It must run where no remap can happen concurrently: in Open before
// the writer starts, or on the writer goroutine, the only one that remaps.
func (s *Store) adviseMapping() {
	advice, ok := s.madvice()
	if !ok {
		return
	}
	var size int64
	if err := s.db.View(func(tx *bbolt.Tx) error { size = tx.Size(); return nil }); err != nil {
		return
	}
	addr := s.db.Info().Data
	// Every page below tx.Size() is inside the mapping, so this range never
	// reaches memory that is not bbolt's.
	if _, _, errno := unix.Syscall(unix.SYS_MADVISE, addr, uintptr(size), uintptr(advice)); errno != 0 {
		s.log.Warn("madvise on event store mapping failed; cold reads will be slow", "err", errno)
	}
	s.advised = mapping{addr: addr, size: size}
}

// readviseIfMoved runs on the writer goroutine after each commit.
func (s *Store) readviseIfMoved() {
	if _, ok := s.madvice(); !ok {
		return
	}
	if s.db.Info().Data == s.advised.addr {
		var size int64
		if err := s.db.View(func(tx *bbolt.Tx) error { size = tx.Size(); return nil }); err != nil || size < s.advised.size+readviseStep {
			return
		}
	}
	s.adviseMapping()
}
