// Package keyfile is the key store of the embedded backend: one small file
// per data key in a directory of the data directory (<data>/keys), written
// atomically and durably, and overwritten before it is unlinked when the
// key is destroyed.
//
// A key file is one line of JSON:
//
//	{"format":"caseledger-data-key-1","key":"participant-<uuid>","master":"mk-<hex>","wrapped":"<base64>"}
//
// where wrapped is nonce || AES-256-GCM(master key, data key) || tag, and
// master names the master key that wrapped it (personaldata.MasterKey.ID).
// Several processes may share the directory: creation is exclusive (of two
// creators of a key exactly one wins), reads never see half a file.
package keyfile

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/caseledger/caseledger/internal/atomicfile"
	"github.com/caseledger/caseledger/personaldata"
)

// format names the layout of a key file; it changes when the layout does.
const format = "caseledger-data-key-1"

// suffix ends every key file's name.
const suffix = ".key"

// maxFile bounds what Get reads of a key file.
const maxFile = 4 << 10

// Store keeps wrapped data keys in files of one directory. It is safe for
// concurrent use by several goroutines and processes.
type Store struct {
	dir string
}

var _ personaldata.KeyStore = (*Store)(nil)

// Open returns the store in dir, creating the directory (mode 0700) if
// needed, and removes temporary files a crash left behind.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open key store: %w", err)
	}
	if err := atomicfile.RemoveTemps(dir); err != nil {
		return nil, fmt.Errorf("open key store: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Dir is the directory the store keeps its files in.
func (s *Store) Dir() string { return s.dir }

type keyFile struct {
	Format  string `json:"format"`
	Key     string `json:"key"`
	Master  string `json:"master"`
	Wrapped string `json:"wrapped"`
}

func fileName(id string) string { return id + suffix }

// Get reads the key stored under id.
func (s *Store) Get(ctx context.Context, id string) (personaldata.WrappedKey, error) {
	if err := check(ctx, "read", id); err != nil {
		return personaldata.WrappedKey{}, err
	}
	f, err := os.Open(filepath.Join(s.dir, fileName(id)))
	if errors.Is(err, fs.ErrNotExist) {
		return personaldata.WrappedKey{}, fmt.Errorf("read key %s: %w", id, personaldata.ErrNoKey)
	}
	if err != nil {
		return personaldata.WrappedKey{}, unavailable("read key "+id, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return personaldata.WrappedKey{}, unavailable("read key "+id, err)
	}
	return parse(id, b)
}

func parse(id string, b []byte) (personaldata.WrappedKey, error) {
	bad := func(what string) error {
		return fmt.Errorf("read key %s: key file is corrupt: %s", id, what)
	}
	if len(b) > maxFile {
		return personaldata.WrappedKey{}, bad("too large")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var kf keyFile
	if err := dec.Decode(&kf); err != nil {
		return personaldata.WrappedKey{}, bad("not the expected JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return personaldata.WrappedKey{}, bad("data after the key")
	}
	switch {
	case kf.Format != format:
		return personaldata.WrappedKey{}, bad("unknown format")
	case kf.Key != id:
		// A file copied or renamed to another key's name; the wrapping is
		// bound to the id too, so it would not unwrap either.
		return personaldata.WrappedKey{}, bad("it holds the key of another id")
	case kf.Master == "":
		return personaldata.WrappedKey{}, bad("no master key id")
	}
	wrapped, err := base64.StdEncoding.Strict().DecodeString(kf.Wrapped)
	if err != nil || len(wrapped) == 0 {
		return personaldata.WrappedKey{}, bad("wrapped key is not base64")
	}
	return personaldata.WrappedKey{Master: kf.Master, Ciphertext: wrapped}, nil
}

// Create writes key under id unless a key is stored there already.
func (s *Store) Create(ctx context.Context, id string, key personaldata.WrappedKey) error {
	if err := check(ctx, "create", id); err != nil {
		return err
	}
	if key.Master == "" || len(key.Ciphertext) == 0 {
		return fmt.Errorf("create key %s: empty wrapped key", id)
	}
	b, err := json.Marshal(keyFile{Format: format, Key: id, Master: key.Master, Wrapped: base64.StdEncoding.EncodeToString(key.Ciphertext)})
	if err != nil {
		return fmt.Errorf("create key %s: %w", id, err)
	}
	err = atomicfile.CreateExclusive(s.dir, fileName(id), append(b, '\n'), 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create key %s: %w", id, personaldata.ErrKeyExists)
	}
	if err != nil {
		return unavailable("create key "+id, err)
	}
	return nil
}

// Delete overwrites the key file of id, unlinks it and syncs the directory.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := check(ctx, "delete", id); err != nil {
		return err
	}
	if err := atomicfile.Shred(s.dir, fileName(id)); err != nil {
		return unavailable("delete key "+id, err)
	}
	return nil
}

// MasterIDs returns the ids of the master keys that wrapped the store's
// keys, reading at most limit files (all when limit <= 0), so that a
// process can refuse to start with a master key that unwraps none of them.
func (s *Store) MasterIDs(ctx context.Context, limit int) ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list key store %s: %w", s.dir, err)
	}
	seen := map[string]bool{}
	var ids []string
	read := 0
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), suffix)
		if !ok || !e.Type().IsRegular() || personaldata.ValidateKeyID(id) != nil {
			continue
		}
		if limit > 0 && read >= limit {
			break
		}
		read++
		w, err := s.Get(ctx, id)
		if errors.Is(err, personaldata.ErrNoKey) {
			continue // destroyed meanwhile
		}
		if err != nil {
			return nil, err
		}
		if !seen[w.Master] {
			seen[w.Master] = true
			ids = append(ids, w.Master)
		}
	}
	return ids, nil
}

// unavailable wraps a failure of the directory's file system (full,
// read-only, failing, gone) as personaldata.ErrKeyStoreUnavailable, so
// that a caller can tell it from a bad key and answer "try again later";
// the underlying error stays in the chain.
func unavailable(what string, err error) error {
	return fmt.Errorf("%s: %w: %w", what, personaldata.ErrKeyStoreUnavailable, err)
}

func check(ctx context.Context, op, id string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s key %s: %w", op, id, err)
	}
	if err := personaldata.ValidateKeyID(id); err != nil {
		return fmt.Errorf("%s key: %w", op, err)
	}
	return nil
}
