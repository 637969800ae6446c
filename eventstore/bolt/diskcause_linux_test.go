package bolt

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestDiskCause: a commit that failed without an errno is put down to the
// disk only when its file system is read-only or full.
func TestDiskCause(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags uintptr
		fill  bool
		want  error
	}{
		{"writable, with room", 0, false, nil},
		{"read-only", syscall.MS_RDONLY, false, syscall.EROFS},
		{"full", 0, true, syscall.ENOSPC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := syscall.Mount("tmpfs", dir, "tmpfs", tc.flags, "size=1m"); err != nil {
				if os.Getenv("CI") == "true" {
					t.Fatalf("mount a tmpfs: %v", err)
				}
				t.Skipf("mounting a tmpfs needs root or CAP_SYS_ADMIN: %v", err)
			}
			t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
			if tc.fill {
				f, err := os.Create(filepath.Join(dir, "ballast"))
				if err != nil {
					t.Fatal(err)
				}
				for err == nil {
					_, err = f.Write(make([]byte, 64<<10))
				}
				f.Close()
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("filling the tmpfs: %v", err)
				}
			}
			if got := diskCause(filepath.Join(dir, "events.db")); !errors.Is(got, tc.want) || (got == nil) != (tc.want == nil) {
				t.Errorf("diskCause = %v, want %v", got, tc.want)
			}
		})
	}
}
