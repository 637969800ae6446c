package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
)

// diskProbe tells whether the data directory's file system takes writes
// now, for the readiness check: it writes, syncs and removes a one-byte
// file, which fails on a disk that is full, read-only or failing. One
// probe runs at a time and every check waiting meanwhile shares its
// answer, so a hung disk holds one goroutine, not one per check.
type diskProbe struct {
	dir string

	mu  sync.Mutex
	run *probeRun // the probe in flight; nil when none
}

type probeRun struct {
	done chan struct{} // closed when err is set
	err  error
}

// check answers whether the directory took a write, or gives up when ctx
// ends first (the probe goes on, and the next check shares it).
func (p *diskProbe) check(ctx context.Context) error {
	p.mu.Lock()
	run := p.run
	if run == nil {
		run = &probeRun{done: make(chan struct{})}
		p.run = run
		go func() {
			run.err = probeWrite(p.dir)
			p.mu.Lock()
			p.run = nil
			p.mu.Unlock()
			close(run.done)
		}()
	}
	p.mu.Unlock()
	select {
	case <-run.done:
		return run.err
	case <-ctx.Done():
		return fmt.Errorf("storage: the data directory did not take a write in time: %w", ctx.Err())
	}
}

// probeWrite writes one byte to a new file in dir, syncs it and removes
// it. Its error names the failure, not the path, since /readyz shows it.
func probeWrite(dir string) error {
	f, err := os.CreateTemp(dir, ".write-probe-*")
	if err != nil {
		return probeError(err)
	}
	name := f.Name()
	_, werr := f.Write([]byte{0})
	serr := f.Sync()
	cerr := f.Close()
	rerr := os.Remove(name)
	if err := errors.Join(werr, serr, cerr, rerr); err != nil {
		return probeError(err)
	}
	return nil
}

func probeError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("storage: the data directory cannot be written: %w", err)
}
