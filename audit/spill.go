package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/internal/atomicfile"
)

// SpillFile is the name of the spill journal in its directory.
const SpillFile = "access-records.spill"

// ErrSpillDamaged is why a spill journal does not open: a line before its
// last one is not what was written. The records in it cannot be moved to
// the log, and an operator must decide; the error names the line.
var ErrSpillDamaged = errors.New("access spill journal damaged")

// Spill is a journal for access records that the event store refused:
// while the disk under the store is full or read-only, or the cluster
// cannot be reached, looks go on being recorded, durably, in a file on
// another volume, and move to the access log, in order and each once, as
// soon as the store takes writes again (see Log). A Spill is used by one
// Log, which alone writes it; it is locked against other processes.
//
// The journal holds what the access log holds: who looked at which
// participant, when and why, no personal data. It is a file of JSON lines,
// one per batch, each with the SHA-256 of its batch, synced before the
// looks in it are shown.
type Spill struct {
	path string
	f    *os.File

	mu      sync.Mutex
	batches []heldBatch
	// records counts the records held (Len), read without the lock.
	records atomic.Int64
	// torn is how many bytes of a line cut short OpenSpill dropped.
	torn int
	// broken is set once a line that failed could not be cut off again:
	// a line written after it would be read as following a damaged one,
	// so the journal takes no more.
	broken error
}

// heldBatch is access records bound for one day's stream, stamped: the
// Log appends it, or holds it here when the store refuses it.
type heldBatch struct {
	Day     domain.Date  `json:"day"`
	Records []heldRecord `json:"records"`
}

// heldRecord is an access record with what its append stamps it with. Its
// id is fixed before the first attempt, so that appending it again (after
// a failure that wrote it anyway) stores it once.
type heldRecord struct {
	EventID       uuid.UUID             `json:"event_id"`
	At            time.Time             `json:"at"`
	Actor         domain.Actor          `json:"actor"`
	CorrelationID uuid.UUID             `json:"correlation_id"`
	Access        domain.AccessRecorded `json:"access"`
}

// spillLine is a line of the journal.
type spillLine struct {
	Sum   string          `json:"sha256"`
	Batch json.RawMessage `json:"batch"`
}

// OpenSpill opens (or makes) the spill journal in dir, which should be on
// another volume than the event store's data. The records it holds from an
// earlier run are read, to be moved to the log first. A last line cut short
// by a crash is dropped: its looks were never shown, since they are shown
// only once their line is synced. A damaged line before it fails with
// ErrSpillDamaged.
func OpenSpill(dir string) (*Spill, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open access spill journal: %w", err)
	}
	path := filepath.Join(dir, SpillFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open access spill journal: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, fmt.Errorf("open access spill journal %s: another process uses it", path)
		}
		return nil, fmt.Errorf("open access spill journal %s: lock: %w", path, err)
	}
	s := &Spill{path: path, f: f}
	if err := s.load(); err != nil {
		f.Close()
		return nil, err
	}
	// The file's name, and the directory's if it was just made, must be
	// as durable as the lines synced into it.
	if err := errors.Join(atomicfile.SyncDir(dir), atomicfile.SyncDir(filepath.Dir(dir))); err != nil {
		f.Close()
		return nil, fmt.Errorf("open access spill journal %s: %w", path, err)
	}
	return s, nil
}

// load reads the journal's batches and cuts off a torn last line, leaving
// the file positioned at its end.
func (s *Spill) load() error {
	data, err := io.ReadAll(s.f)
	if err != nil {
		return fmt.Errorf("read access spill journal %s: %w", s.path, err)
	}
	batches, good, err := decodeSpill(data)
	if err != nil {
		return fmt.Errorf("read access spill journal %s: %w", s.path, err)
	}
	if good < len(data) {
		s.torn = len(data) - good
		if err := s.f.Truncate(int64(good)); err != nil {
			return fmt.Errorf("cut the torn end of access spill journal %s: %w", s.path, err)
		}
		if err := s.f.Sync(); err != nil {
			return fmt.Errorf("cut the torn end of access spill journal %s: %w", s.path, err)
		}
	}
	if _, err := s.f.Seek(int64(good), io.SeekStart); err != nil {
		return fmt.Errorf("read access spill journal %s: %w", s.path, err)
	}
	s.batches = batches
	s.records.Store(int64(countHeld(batches)))
	return nil
}

// decodeSpill reads the journal's lines. good is the length of the lines
// that are whole; only the last line may fail to be (a write cut short).
func decodeSpill(data []byte) (batches []heldBatch, good int, err error) {
	for line := 1; good < len(data); line++ {
		rest := data[good:]
		end := bytes.IndexByte(rest, '\n')
		b, lineErr := decodeSpillLine(rest, end)
		if lineErr != nil {
			if end < 0 || end == len(rest)-1 {
				return batches, good, nil // the last line: torn
			}
			return nil, 0, fmt.Errorf("%w: line %d: %v", ErrSpillDamaged, line, lineErr)
		}
		batches = append(batches, b)
		good += end + 1
	}
	return batches, good, nil
}

func decodeSpillLine(rest []byte, end int) (heldBatch, error) {
	if end < 0 {
		return heldBatch{}, errors.New("no end of line")
	}
	var l spillLine
	if err := json.Unmarshal(rest[:end], &l); err != nil {
		return heldBatch{}, fmt.Errorf("not a journal line: %v", err)
	}
	sum := sha256.Sum256(l.Batch)
	if l.Sum != hex.EncodeToString(sum[:]) {
		return heldBatch{}, errors.New("its checksum does not match")
	}
	var b heldBatch
	if err := json.Unmarshal(l.Batch, &b); err != nil {
		return heldBatch{}, fmt.Errorf("not a batch: %v", err)
	}
	if err := b.validate(); err != nil {
		return heldBatch{}, err
	}
	return b, nil
}

func (b heldBatch) validate() error {
	if b.Day.IsZero() || len(b.Records) == 0 {
		return errors.New("a batch names its day and holds records")
	}
	for i, r := range b.Records {
		if r.EventID == uuid.Nil || r.CorrelationID == uuid.Nil || r.At.IsZero() || r.Actor.UserID == "" || r.Actor.Role == "" {
			return fmt.Errorf("record %d: id, time, actor and correlation id are required", i)
		}
		if err := r.Access.Validate(); err != nil {
			return fmt.Errorf("record %d: %v", i, err)
		}
	}
	return nil
}

// size is about how many bytes the batch takes in an append.
func (b heldBatch) size() int {
	n := 0
	for _, r := range b.Records {
		n += recordSize(r.Access)
	}
	return n
}

func countHeld(batches []heldBatch) int {
	n := 0
	for _, b := range batches {
		n += len(b.Records)
	}
	return n
}

// Len is the number of records held.
func (s *Spill) Len() int { return int(s.records.Load()) }

// Torn is how many bytes of a last line cut short by a crash OpenSpill
// dropped: a batch whose looks were never shown. It is for the log.
func (s *Spill) Torn() int { return s.torn }

// Path is the journal's file.
func (s *Spill) Path() string { return s.path }

// hold appends b to the journal and returns once it is synced.
func (s *Spill) hold(b heldBatch) error {
	raw, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("hold access records: %w", err)
	}
	sum := sha256.Sum256(raw)
	line, err := json.Marshal(spillLine{Sum: hex.EncodeToString(sum[:]), Batch: raw})
	if err != nil {
		return fmt.Errorf("hold access records: %w", err)
	}
	line = append(line, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken != nil {
		return fmt.Errorf("hold access records in %s: %w", s.path, s.broken)
	}
	end, err := s.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("hold access records in %s: %w", s.path, err)
	}
	_, err = s.f.Write(line)
	if err == nil {
		err = s.f.Sync()
	}
	if err != nil {
		// The line is not known to be whole or durable, and its looks are
		// not shown: cut it, so that the next line is not read after a
		// damaged one.
		if terr := s.f.Truncate(end); terr != nil {
			s.broken = fmt.Errorf("a failed line could not be cut off: %w", terr)
		} else if _, serr := s.f.Seek(end, io.SeekStart); serr != nil {
			s.broken = fmt.Errorf("a failed line could not be cut off: %w", serr)
		}
		return fmt.Errorf("hold access records in %s: %w", s.path, err)
	}
	s.batches = append(s.batches, b)
	s.records.Add(int64(len(b.Records)))
	return nil
}

// held returns the batches held, oldest first. The caller must not change
// them.
func (s *Spill) held() []heldBatch {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.batches[:len(s.batches):len(s.batches)]
}

// release empties the journal: the log holds what it held. Only the
// writer that holds batches releases them, so none came in meanwhile.
func (s *Spill) release() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.f.Truncate(0); err != nil {
		return fmt.Errorf("empty access spill journal %s: %w", s.path, err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("empty access spill journal %s: %w", s.path, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("empty access spill journal %s: %w", s.path, err)
	}
	s.batches = nil
	s.records.Store(0)
	s.broken = nil // whatever could not be cut off is gone with the rest
	return nil
}

// Close releases the journal and its lock; what it holds stays for the
// next run.
func (s *Spill) Close() error {
	if err := s.f.Close(); err != nil {
		return fmt.Errorf("close access spill journal %s: %w", s.path, err)
	}
	return nil
}
