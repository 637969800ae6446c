package projections

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/caseledger/caseledger/internal/atomicfile"
)

// A snapshot file is a header, the projection's own bytes, and a CRC-32C
// trailer over both:
//
//	magic "CLSNAP1\n" | name length u16 | name | schema version u32 |
//	position u64 | last recorded (unix nanoseconds) i64 | body … | crc u32
//
// It is written to a temporary file in the same directory, synced and
// renamed over the old one, and the directory synced, so that a crash
// leaves the old snapshot or the new one, never a mix.
const snapshotMagic = "CLSNAP1\n"

// errNoSnapshot: there is no snapshot to restore.
var errNoSnapshot = errors.New("no snapshot")

// snapshotPath is where projection name keeps its snapshot in dir.
func snapshotPath(dir, name string) string {
	return filepath.Join(dir, name+".snapshot")
}

type snapshotHeader struct {
	name         string
	version      int
	position     uint64
	lastRecorded time.Time
}

// writeSnapshot writes p's state at position atomically and durably.
func writeSnapshot(dir string, p Projection, h snapshotHeader) (err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("snapshot %s: %w", h.name, err)
	}
	tmp, err := os.CreateTemp(dir, h.name+".snapshot.tmp-*")
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", h.name, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	crc := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	bw := bufio.NewWriterSize(io.MultiWriter(tmp, crc), 1<<20)
	var hdr []byte
	hdr = append(hdr, snapshotMagic...)
	hdr = binary.BigEndian.AppendUint16(hdr, uint16(len(h.name)))
	hdr = append(hdr, h.name...)
	hdr = binary.BigEndian.AppendUint32(hdr, uint32(h.version))
	hdr = binary.BigEndian.AppendUint64(hdr, h.position)
	var nanos int64
	if !h.lastRecorded.IsZero() {
		nanos = h.lastRecorded.UnixNano()
	}
	hdr = binary.BigEndian.AppendUint64(hdr, uint64(nanos))
	if _, err := bw.Write(hdr); err != nil {
		return fmt.Errorf("snapshot %s: %w", h.name, err)
	}
	if err := p.Snapshot(bw); err != nil {
		return fmt.Errorf("snapshot %s: %w", h.name, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("snapshot %s: %w", h.name, err)
	}
	if _, err := tmp.Write(binary.BigEndian.AppendUint32(nil, crc.Sum32())); err != nil {
		return fmt.Errorf("snapshot %s: %w", h.name, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("snapshot %s: sync: %w", h.name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("snapshot %s: %w", h.name, err)
	}
	if err := os.Rename(tmp.Name(), snapshotPath(dir, h.name)); err != nil {
		return fmt.Errorf("snapshot %s: %w", h.name, err)
	}
	return atomicfile.SyncDir(dir)
}

// readSnapshot restores p from its snapshot in dir and returns the
// snapshot's header. errNoSnapshot: there is none. Any other error: the
// snapshot is unusable (another schema version, damaged) and p is in an
// undefined state; the caller resets it.
func readSnapshot(dir string, p Projection) (snapshotHeader, error) {
	path := snapshotPath(dir, p.Name())
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return snapshotHeader{}, errNoSnapshot
	}
	if err != nil {
		return snapshotHeader{}, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return snapshotHeader{}, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	if fi.Size() < int64(len(snapshotMagic))+4 {
		return snapshotHeader{}, fmt.Errorf("read snapshot %s: too short", path)
	}
	// The body is checked against the trailer as it is read; the trailer
	// is outside what the projection reads.
	crc := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	body := bufio.NewReaderSize(io.TeeReader(io.LimitReader(f, fi.Size()-4), crc), 1<<20)
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(body, magic); err != nil || string(magic) != snapshotMagic {
		return snapshotHeader{}, fmt.Errorf("read snapshot %s: not a snapshot file", path)
	}
	var n uint16
	if err := binary.Read(body, binary.BigEndian, &n); err != nil {
		return snapshotHeader{}, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	name := make([]byte, n)
	if _, err := io.ReadFull(body, name); err != nil {
		return snapshotHeader{}, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	var fixed struct {
		Version  uint32
		Position uint64
		Nanos    int64
	}
	if err := binary.Read(body, binary.BigEndian, &fixed); err != nil {
		return snapshotHeader{}, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	h := snapshotHeader{name: string(name), version: int(fixed.Version), position: fixed.Position}
	if fixed.Nanos != 0 {
		h.lastRecorded = time.Unix(0, fixed.Nanos).UTC()
	}
	switch {
	case h.name != p.Name():
		return h, fmt.Errorf("read snapshot %s: it is of projection %q", path, h.name)
	case h.version != p.SchemaVersion():
		return h, fmt.Errorf("read snapshot %s: schema version %d, this build reads %d", path, h.version, p.SchemaVersion())
	}
	if err := p.Restore(body); err != nil {
		return h, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	if _, err := io.Copy(io.Discard, body); err != nil {
		return h, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	var sum uint32
	if err := binary.Read(f, binary.BigEndian, &sum); err != nil {
		return h, fmt.Errorf("read snapshot %s: trailer: %w", path, err)
	}
	if sum != crc.Sum32() {
		return h, fmt.Errorf("read snapshot %s: checksum mismatch", path)
	}
	return h, nil
}
