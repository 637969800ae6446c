//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ext4Disk is an ext4 file system in an image file, mounted through a
// loop device with errors=remount-ro, that a test can make the kernel
// turn read-only under a process writing to it, and repair as an
// operator would: the one way a disk turns read-only under a server that
// holds a file open for writing (an ordinary remount is refused with
// EBUSY).
type ext4Disk struct {
	image string // the image file, outside the mount
	dir   string // the mount point
	loop  string // the loop device's name while mounted ("loop3"), "" when not
}

// mountExt4 makes an ext4 image of size bytes and mounts it on a new
// directory, unmounted (and its loop device released) when the test ends.
// Without the privileges or tools it needs, the test is skipped, except in
// CI (CI=true), where it fails.
func mountExt4(t *testing.T, size int64) *ext4Disk {
	t.Helper()
	d := &ext4Disk{image: filepath.Join(t.TempDir(), "disk.img"), dir: t.TempDir()}
	mkfs, err := sbinTool("mkfs.ext4")
	if err == nil {
		_, err = sbinTool("e2fsck")
	}
	if err != nil {
		unprivileged(t, fmt.Sprintf("the read-only disk test makes and repairs an ext4 image with mkfs.ext4 and e2fsck (Debian: e2fsprogs): %v", err))
	}
	if err := os.WriteFile(d.image, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(d.image, size); err != nil {
		t.Fatal(err)
	}
	// The inode tables and the journal written now, not by the kernel's
	// lazy-init thread while the test runs.
	if out, err := exec.Command(mkfs, "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", d.image).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v\n%s", err, out)
	}
	if err := d.mount(); err != nil {
		unprivileged(t, fmt.Sprintf("the read-only disk test mounts an ext4 image on a loop device, which needs root or CAP_SYS_ADMIN: %v", err))
	}
	// Registered after the t.TempDirs' removal and before any server's
	// kill, so it runs after the kill and before the removal.
	t.Cleanup(func() {
		if err := d.unmount(); err != nil {
			t.Errorf("unmount the ext4 image: %v", err)
		}
	})
	if _, err := os.Stat(d.trigger()); err != nil {
		unprivileged(t, fmt.Sprintf("the read-only disk test needs ext4's trigger_fs_error in sysfs: %v", err))
	}
	return d
}

// unprivileged skips the test for want of a privilege or a tool that a
// fault test needs, except in CI (CI=true), where it fails: CI runs as
// root with the tools installed, and a skip there would hide the test.
func unprivileged(t *testing.T, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(reason)
	}
	t.Skip(reason)
}

// sbinTool finds a system administration command, which a PATH without
// the sbin directories (an ordinary user's) does not find.
func sbinTool(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err == nil {
		return path, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if p := filepath.Join(dir, name); isExecutable(p) {
			return p, nil
		}
	}
	return "", err
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// mount attaches the image to a free loop device and mounts it. The loop
// device clears itself once the file system on it is unmounted.
func (d *ext4Disk) mount() error {
	dev, n, err := attachLoop(d.image)
	if err != nil {
		return err
	}
	// dev is closed only after the mount holds the device, or the
	// device would clear itself at once.
	defer dev.Close()
	if err := syscall.Mount(dev.Name(), d.dir, "ext4", syscall.MS_NOSUID|syscall.MS_NODEV, "errors=remount-ro"); err != nil {
		return fmt.Errorf("mount %s: %w", dev.Name(), err)
	}
	d.loop = fmt.Sprintf("loop%d", n)
	return nil
}

// attachLoop binds image to a free loop device and returns the device,
// open. Another process may take the same free device meanwhile; then
// the next free one is tried.
func attachLoop(image string) (*os.File, int, error) {
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR, 0)
	if err != nil {
		return nil, 0, err
	}
	defer ctl.Close()
	img, err := os.OpenFile(image, os.O_RDWR, 0)
	if err != nil {
		return nil, 0, err
	}
	defer img.Close() // the loop device holds a reference of its own
	for range 20 {
		n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
		if err != nil {
			return nil, 0, fmt.Errorf("find a free loop device: %w", err)
		}
		dev, err := os.OpenFile(fmt.Sprintf("/dev/loop%d", n), os.O_RDWR, 0)
		if err != nil {
			return nil, 0, err
		}
		cfg := unix.LoopConfig{Fd: uint32(img.Fd()), Info: unix.LoopInfo64{Flags: unix.LO_FLAGS_AUTOCLEAR}}
		err = unix.IoctlLoopConfigure(int(dev.Fd()), &cfg)
		if err == nil {
			return dev, n, nil
		}
		dev.Close()
		if !errors.Is(err, syscall.EBUSY) {
			return nil, 0, fmt.Errorf("attach %s to loop%d: %w", image, n, err)
		}
	}
	return nil, 0, errors.New("every free loop device was taken by another process first")
}

// unmount unmounts the file system, if it is mounted; a process that has
// just ended may hold it for a moment. As a last resort it is detached,
// so that nothing stays mounted.
func (d *ext4Disk) unmount() error {
	if d.loop == "" {
		return nil
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := syscall.Unmount(d.dir, 0)
		if err == nil {
			d.loop = ""
			return nil
		}
		if !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline) {
			if derr := syscall.Unmount(d.dir, syscall.MNT_DETACH); derr != nil {
				return fmt.Errorf("unmount %s: %w, then %w", d.dir, err, derr)
			}
			d.loop = ""
			return fmt.Errorf("unmount %s: %w (detached instead)", d.dir, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// trigger is the sysfs file that makes ext4 report an error on the file
// system, as it does when it finds its metadata corrupt or a write to
// the device fails.
func (d *ext4Disk) trigger() string {
	return filepath.Join("/sys/fs/ext4", d.loop, "trigger_fs_error")
}

// fail makes the kernel find an error on the file system: it aborts the
// journal and, under errors=remount-ro, turns the file system read-only
// under every open file. It returns once a new file cannot be made.
func (d *ext4Disk) fail(t *testing.T) {
	t.Helper()
	if err := os.WriteFile(d.trigger(), []byte("caseledger fault test\n"), 0); err != nil {
		t.Fatalf("trigger an ext4 error: %v", err)
	}
	f, err := os.CreateTemp(d.dir, "probe-*")
	if err == nil {
		f.Close()
		t.Fatalf("a file was made on the ext4 file system after its error: it did not turn read-only")
	}
	if !errors.Is(err, syscall.EROFS) {
		t.Fatalf("a file made after the ext4 error: %v, want EROFS", err)
	}
}

// repair is what an operator does: unmount the file system (its journal
// is aborted, so a remount read-write is refused), check it with
// e2fsck -fy, which replays the journal and clears the error, and mount
// it again.
func (d *ext4Disk) repair(t *testing.T) {
	t.Helper()
	if err := d.unmount(); err != nil {
		t.Fatal(err)
	}
	fsck, err := sbinTool("e2fsck")
	if err != nil {
		t.Fatalf("e2fsck (Debian: e2fsprogs): %v", err)
	}
	out, err := exec.Command(fsck, "-f", "-y", d.image).CombinedOutput()
	// Exit status 1: errors were found and corrected, as after any
	// error the kernel recorded.
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		t.Fatalf("e2fsck -fy: %v\n%s", err, out)
	}
	t.Logf("e2fsck -fy: %v\n%s", err, out)
	if err := d.mount(); err != nil {
		t.Fatalf("mount the repaired ext4 image: %v", err)
	}
}
