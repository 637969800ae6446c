//go:build unix

package audit

import (
	"errors"
	"os"
	"syscall"
)

// errLocked is why lockFile fails when another process holds the lock.
var errLocked = errors.New("locked by another process")

// lockFile takes an exclusive lock on f, released when f is closed.
func lockFile(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errLocked
	}
	return err
}
