package keyfile_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/personaldata"
	"github.com/caseledger/caseledger/personaldata/keyfile"
	"github.com/caseledger/caseledger/personaldata/keystoretest"
)

const id = "participant-8d0f5c1e-2b7a-4f3e-9c61-0a4b2e7d9f13"

func open(t *testing.T, dir string) *keyfile.Store {
	t.Helper()
	s, err := keyfile.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	keystoretest.Run(t,
		func(t *testing.T) personaldata.KeyStore { return open(t, filepath.Join(t.TempDir(), "keys")) },
		func(t *testing.T, s personaldata.KeyStore) personaldata.KeyStore {
			return open(t, s.(*keyfile.Store).Dir())
		})
}

func TestMemoryMeetsTheContract(t *testing.T) {
	keystoretest.Run(t, func(*testing.T) personaldata.KeyStore { return &keystoretest.Memory{} }, nil)
}

func wrapped() personaldata.WrappedKey {
	return personaldata.WrappedKey{Master: "mk-0123456789abcdef", Ciphertext: bytes.Repeat([]byte{0xa5}, 60)}
}

func TestFilesArePrivateAndOneLineOfJSON(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	dir := filepath.Join(t.TempDir(), "keys")
	s := open(t, dir)
	if err := s.Create(context.Background(), id, wrapped()); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("directory mode %o, want 700", perm)
	}
	path := filepath.Join(dir, id+".key")
	info, err = os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %o, want 600", perm)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"format":"caseledger-data-key-1","key":"` + id + `","master":"mk-0123456789abcdef","wrapped":"` +
		strings.Repeat("paWl", 20) + `"}` + "\n"
	if string(b) != want {
		t.Errorf("key file:\n%s\nwant\n%s", b, want)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want the key file only", len(entries))
	}
}

// Deleting overwrites the file before unlinking it: a second name for the
// same file (a hard link) sees zeros afterwards.
func TestDeleteOverwritesBeforeUnlinking(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	s := open(t, dir)
	ctx := context.Background()
	if err := s.Create(ctx, id, wrapped()); err != nil {
		t.Fatal(err)
	}
	witness := filepath.Join(t.TempDir(), "witness")
	if err := os.Link(filepath.Join(dir, id+".key"), witness); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	if err := s.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(witness)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 || !bytes.Equal(b, make([]byte, len(b))) {
		t.Fatalf("the key file's bytes survive the delete: %q", b)
	}
	if _, err := os.Stat(filepath.Join(dir, id+".key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("key file still there: %v", err)
	}
}

func TestCorruptOrMisplacedFilesAreRefused(t *testing.T) {
	ctx := context.Background()
	good := `{"format":"caseledger-data-key-1","key":"` + id + `","master":"mk-1","wrapped":"AAAA"}`
	tests := []struct {
		name, content string
	}{
		{"empty", ""},
		{"not JSON", "key"},
		{"another key's file", strings.Replace(good, id, "participant-other", 1)},
		{"unknown format", strings.Replace(good, "caseledger-data-key-1", "caseledger-data-key-9", 1)},
		{"unknown member", strings.Replace(good, `"master"`, `"extra":1,"master"`, 1)},
		{"no master id", strings.Replace(good, "mk-1", "", 1)},
		{"wrapped not base64", strings.Replace(good, "AAAA", "A*A=", 1)},
		{"two objects", good + good},
		{"too large", good + strings.Repeat(" ", 5000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir)
			if err := os.WriteFile(filepath.Join(dir, id+".key"), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := s.Get(ctx, id)
			if err == nil || errors.Is(err, personaldata.ErrNoKey) || !strings.Contains(err.Error(), "corrupt") {
				t.Fatalf("err = %v, want a corrupt key file", err)
			}
		})
	}
}

func TestOpenRemovesWhatACrashLeft(t *testing.T) {
	dir := t.TempDir()
	left := filepath.Join(dir, ".tmp-123")
	if err := os.WriteFile(left, []byte("half a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	open(t, dir)
	if _, err := os.Stat(left); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary file still there: %v", err)
	}
}

func TestMasterIDs(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	if ids, err := s.MasterIDs(ctx, 0); err != nil || len(ids) != 0 {
		t.Fatalf("empty store: %v, %v", ids, err)
	}
	w := wrapped()
	if err := s.Create(ctx, id, w); err != nil {
		t.Fatal(err)
	}
	w.Master = "mk-other"
	if err := s.Create(ctx, "employer-1", w); err != nil {
		t.Fatal(err)
	}
	ids, err := s.MasterIDs(ctx, 0)
	if err != nil || len(ids) != 2 {
		t.Fatalf("MasterIDs = %v, %v; want two ids", ids, err)
	}
	if ids, err := s.MasterIDs(ctx, 1); err != nil || len(ids) != 1 {
		t.Fatalf("MasterIDs(1) = %v, %v; want one id", ids, err)
	}
}

// A key store whose directory cannot be used (here: gone, and a file in
// its place, as when a shared volume is lost) fails with
// ErrKeyStoreUnavailable, which callers answer with "try again later",
// never with ErrNoKey, which would read as an erased participant.
func TestBrokenDirectoryIsUnavailable(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix file system errors")
	}
	ctx := context.Background()
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		call   func(s *keyfile.Store) error
	}{
		{"create, directory replaced by a file", replaceByFile, func(s *keyfile.Store) error { return s.Create(ctx, id, wrapped()) }},
		{"get, directory replaced by a file", replaceByFile, func(s *keyfile.Store) error { _, err := s.Get(ctx, id); return err }},
		{"delete, directory replaced by a file", replaceByFile, func(s *keyfile.Store) error { return s.Delete(ctx, id) }},
		{"get, key file is a directory", func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Join(dir, id+".key"), 0o700); err != nil {
				t.Fatal(err)
			}
		}, func(s *keyfile.Store) error { _, err := s.Get(ctx, id); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "keys")
			s := open(t, dir)
			tt.damage(t, dir)
			err := tt.call(s)
			if !errors.Is(err, personaldata.ErrKeyStoreUnavailable) || errors.Is(err, personaldata.ErrNoKey) {
				t.Fatalf("err = %v, want ErrKeyStoreUnavailable", err)
			}
		})
	}
}

func replaceByFile(t *testing.T, dir string) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
}
