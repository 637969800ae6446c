// Package atomicfile writes and destroys small secret files so that a crash
// never leaves half of one behind: a file is written under a temporary name,
// synced, and linked into place only if its name is free; removing one
// overwrites it, unlinks it and syncs the directory.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// TempPrefix starts the names of files being written. A crash can leave
// one behind; RemoveTemps clears them.
const TempPrefix = ".tmp-"

// CreateExclusive writes data to dir/name with mode perm, durably, unless
// a file of that name exists: then it writes nothing and returns an error
// matching fs.ErrExist. Readers never see the file partly written.
func CreateExclusive(dir, name string, data []byte, perm fs.FileMode) error {
	tmp, err := os.CreateTemp(dir, TempPrefix+"*")
	if err != nil {
		return fmt.Errorf("create temporary file in %s: %w", dir, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // after the link, only the temporary name goes
	if err := tmp.Chmod(perm); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return fmt.Errorf("set mode of %s: %w", tmpName, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmpName, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmpName, err)
	}
	// link, unlike rename, fails when the target exists: of two writers of
	// the same name, exactly one wins and the other learns so.
	if err := os.Link(tmpName, filepath.Join(dir, name)); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create %s: %w", name, fs.ErrExist)
		}
		return fmt.Errorf("create %s in %s: %w", name, dir, err)
	}
	if err := os.Remove(tmpName); err != nil {
		return fmt.Errorf("remove %s: %w", tmpName, err)
	}
	return SyncDir(dir)
}

// Shred overwrites dir/name with zeros, syncs it, unlinks it and syncs the
// directory. A missing file is not an error. The overwrite is best effort:
// on copy-on-write file systems and flash storage old blocks may survive,
// which is why what these files hold is itself encrypted.
func Shred(dir, name string) error {
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open %s to destroy it: %w", path, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat %s: %w", path, err)
	}
	if _, err := f.WriteAt(make([]byte, info.Size()), 0); err != nil {
		f.Close()
		return fmt.Errorf("overwrite %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return SyncDir(dir)
}

// RemoveTemps removes what crashed writers left in dir.
func RemoveTemps(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), TempPrefix) && e.Type().IsRegular() {
			if err := Shred(dir, e.Name()); err != nil {
				return err
			}
		}
	}
	return nil
}

// SyncDir makes the directory's entries durable: a file linked or removed
// is there, or gone, after a crash.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be synced there; NTFS journals entries
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
