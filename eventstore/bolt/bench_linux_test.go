package bolt_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/bolt"
)

// fileSizes returns a file's size and the bytes it occupies on disk, which
// are fewer when bbolt's preallocated tail is still a hole.
func fileSizes(b *testing.B, path string) (size, disk int64) {
	b.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fi.Size(), fi.Size()
	}
	return fi.Size(), st.Blocks * 512
}

// evict drops the file's pages from the page cache; POSIX_FADV_DONTNEED
// needs no privileges, unlike drop_caches. It reports the fraction of the
// file still resident afterwards, as mincore sees it.
func evict(b *testing.B, path string) float64 {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil { // only clean pages can be dropped
		b.Fatal(err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		b.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Munmap(m)
	vec := make([]byte, (len(m)+os.Getpagesize()-1)/os.Getpagesize())
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		b.Fatal(errno)
	}
	resident := 0
	for _, v := range vec {
		resident += int(v & 1)
	}
	return float64(resident) / float64(len(vec))
}

// BenchmarkReadAllCold reads the 1,000,000-event fixture right after
// evicting it from the page cache and reopening it, with bbolt's
// MADV_RANDOM kept (advice=random) and with the store's fix.
func BenchmarkReadAllCold(b *testing.B) {
	path, _ := readAllFixture(b)
	for _, advice := range []bolt.Advice{bolt.AdviceRandom, bolt.AdviceNormal, bolt.AdviceSequential} {
		b.Run("advice="+advice.String(), func(b *testing.B) {
			var total time.Duration
			resident := 0.0
			for range b.N {
				resident = max(resident, evict(b, path))
				start := time.Now()
				s := openStore(b, path, bolt.Options{Advice: advice})
				if n := readEverything(b, s); n != readAllEvents {
					b.Fatalf("read %d events", n)
				}
				total += time.Since(start)
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*readAllEvents)/total.Seconds(), "events/s")
			b.ReportMetric(total.Seconds()/float64(b.N), "s/read")
			b.ReportMetric(resident, "resident-after-evict")
		})
	}
}

// BenchmarkReadStreamCold reads 1,000 random streams of the fixture right
// after evicting it and reopening it: the access pattern of loading
// aggregates, which the mapping advice must not make worse.
func BenchmarkReadStreamCold(b *testing.B) {
	path, streams := readAllFixture(b)
	for _, advice := range []bolt.Advice{bolt.AdviceRandom, bolt.AdviceNormal, bolt.AdviceSequential} {
		b.Run("advice="+advice.String(), func(b *testing.B) {
			const reads = 1000
			rng := rand.New(rand.NewPCG(5, 5))
			var total time.Duration
			for range b.N {
				evict(b, path)
				start := time.Now()
				s := openStore(b, path, bolt.Options{Advice: advice})
				for range reads {
					if _, err := s.ReadStream(context.Background(), streams[rng.IntN(len(streams))], eventstore.ReadStreamOptions{}); err != nil {
						b.Fatal(err)
					}
				}
				total += time.Since(start)
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*reads)/total.Seconds(), "streams/s")
		})
	}
}

// BenchmarkStorage measures the file size per event of a store grown the
// way the service grows one: 200,000 events of 500 bytes data and 150 of
// metadata, in 10,000 participant streams, appended 1-3 events at a time by
// 64 concurrent writers. Each iteration builds a new store.
func BenchmarkStorage(b *testing.B) {
	const n = 200_000
	for range b.N {
		path := filepath.Join(b.TempDir(), "events.db")
		if _, err := writeRealistic(path, bolt.Options{}, n, 10_000, 64, 1, 3); err != nil {
			b.Fatal(err)
		}
		size, disk := fileSizes(b, path)
		b.ReportMetric(float64(size)/n, "bytes/event")
		b.ReportMetric(float64(disk)/n, "disk-bytes/event")
		os.Remove(path)
	}
}
