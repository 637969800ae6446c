package personaldata_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/personaldata"
)

// keyBytes is a fixed master key for tests: 0x01 0x02 … 0x20.
func keyBytes() []byte {
	b := make([]byte, personaldata.KeySize)
	for i := range b {
		b[i] = byte(i + 1)
	}
	return b
}

func TestParseMasterKey(t *testing.T) {
	raw := keyBytes()
	want, err := personaldata.NewMasterKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		in    string
		valid bool
	}{
		{"standard base64", base64.StdEncoding.EncodeToString(raw), true},
		{"with a newline, as in a file", base64.StdEncoding.EncodeToString(raw) + "\n", true},
		{"unpadded", base64.RawStdEncoding.EncodeToString(raw), true},
		{"URL alphabet", base64.URLEncoding.EncodeToString(raw), true},
		{"empty", "", false},
		{"blank", "  \n", false},
		{"not base64", "this is not a key at all, not even close!!", false},
		{"16 bytes", base64.StdEncoding.EncodeToString(raw[:16]), false},
		{"33 bytes", base64.StdEncoding.EncodeToString(append(raw, 0)), false},
		{"all zeros", base64.StdEncoding.EncodeToString(make([]byte, 32)), false},
		{"hex instead of base64", fmt.Sprintf("%x", raw), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := personaldata.ParseMasterKey(tt.in)
			if !tt.valid {
				if !errors.Is(err, personaldata.ErrInvalidMasterKey) {
					t.Fatalf("err = %v, want ErrInvalidMasterKey", err)
				}
				if in := strings.TrimSpace(tt.in); in != "" && strings.Contains(err.Error(), in) {
					t.Fatalf("the error quotes the input: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.ID() != want.ID() || got.Encode() != want.Encode() {
				t.Fatalf("parsed %s, want %s", got, want)
			}
		})
	}
}

// A master key prints and logs its id, whatever the verb.
func TestMasterKeyNeverPrintsItsBytes(t *testing.T) {
	m, err := personaldata.NewMasterKey(keyBytes())
	if err != nil {
		t.Fatal(err)
	}
	secret := m.Encode()
	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
		fmt.Fprintf(&out, verb+"\n", m)
		fmt.Fprintf(&out, verb+"\n", struct{ Key personaldata.MasterKey }{m})
		fmt.Fprintf(&out, verb+"\n", &m)
	}
	slog.New(slog.NewJSONHandler(&out, nil)).Info("started", "master", m)
	slog.New(slog.NewTextHandler(&out, nil)).Info("started", "master", m)
	s := out.String()
	hexKey := fmt.Sprintf("%x", keyBytes())
	for _, leak := range []string{secret, hexKey, strings.ToUpper(hexKey), "[1 2 3 4", "\\x01\\x02"} {
		if strings.Contains(s, leak) {
			t.Fatalf("key bytes printed:\n%s", s)
		}
	}
	if !strings.Contains(s, m.ID()) {
		t.Fatalf("the key's id is not printed:\n%s", s)
	}
}

func TestMasterKeyIDsDiffer(t *testing.T) {
	a, _ := personaldata.NewMasterKey(keyBytes())
	other := keyBytes()
	other[0] ^= 1
	b, _ := personaldata.NewMasterKey(other)
	if a.ID() == b.ID() || !strings.HasPrefix(a.ID(), "mk-") || len(a.ID()) != 19 {
		t.Fatalf("ids %q and %q", a.ID(), b.ID())
	}
	var zero personaldata.MasterKey
	if !zero.IsZero() || a.IsZero() || zero.Encode() != "" {
		t.Fatal("IsZero or Encode of the zero value")
	}
}

func TestOpenOrCreateMasterKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	m, created, err := personaldata.OpenOrCreateMasterKeyFile(path)
	if err != nil || !created {
		t.Fatalf("first open: created %v, %v", created, err)
	}
	if runtime.GOOS != "windows" {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("key file mode %o, want 600", perm)
		}
	}
	again, created, err := personaldata.OpenOrCreateMasterKeyFile(path)
	if err != nil || created || again.ID() != m.ID() {
		t.Fatalf("second open: %s created %v, %v; want %s kept", again, created, err, m)
	}
	read, err := personaldata.ReadMasterKeyFile(path)
	if err != nil || read.ID() != m.ID() {
		t.Fatalf("ReadMasterKeyFile: %s, %v", read, err)
	}
}

func TestReadMasterKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := personaldata.ReadMasterKeyFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	big := filepath.Join(dir, "big")
	os.WriteFile(big, bytes.Repeat([]byte("A"), 4096), 0o600)
	if _, err := personaldata.ReadMasterKeyFile(big); !errors.Is(err, personaldata.ErrInvalidMasterKey) {
		t.Errorf("large file: %v", err)
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("not a key\n"), 0o600)
	if _, err := personaldata.ReadMasterKeyFile(bad); !errors.Is(err, personaldata.ErrInvalidMasterKey) || strings.Contains(err.Error(), "not a key") {
		t.Errorf("bad file: %v", err)
	}
}
