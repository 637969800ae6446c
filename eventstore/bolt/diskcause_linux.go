package bolt

import (
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// diskCause is what the file system under path says of a commit that failed
// without an errno: bbolt reports a failure to grow its file as text ("file
// resize error: ..."), which loses the errno that tells a read-only or full
// disk, for an operator to fix, from a fault. nil when it says neither.
func diskCause(path string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(filepath.Dir(path), &st); err != nil {
		return nil
	}
	switch {
	case st.Flags&unix.ST_RDONLY != 0:
		return syscall.EROFS
	case st.Bavail == 0 && (os.Geteuid() != 0 || st.Bfree == 0):
		// Root may still write into the blocks kept for it.
		return syscall.ENOSPC
	}
	return nil
}
