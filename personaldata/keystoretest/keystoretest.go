// Package keystoretest holds the contract every personaldata.KeyStore must
// meet, as a suite any implementation's tests run with Run, an in-memory
// key store, and the keyring that tests of other packages seal with.
package keystoretest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/caseledger/caseledger/personaldata"
	"github.com/caseledger/caseledger/personaldata/keyfile"
)

// Keyring returns a keyring for tests: the file key store in dir/keys and
// the master key in dir/master.key, created on first use. Keyrings of the
// same dir share keys, as the processes of one installation do; one made
// after a store was closed and reopened stands for a restart.
func Keyring(t testing.TB, dir string) *personaldata.Keyring {
	t.Helper()
	master, _, err := personaldata.OpenOrCreateMasterKeyFile(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := keyfile.Open(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := personaldata.NewKeyring(store, master, personaldata.KeyringOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Memory is a key store in memory; its zero value is empty and ready.
type Memory struct {
	mu   sync.Mutex
	keys map[string]personaldata.WrappedKey
}

var _ personaldata.KeyStore = (*Memory)(nil)

// Get returns the key stored under id.
func (m *Memory) Get(ctx context.Context, id string) (personaldata.WrappedKey, error) {
	if err := check(ctx, id); err != nil {
		return personaldata.WrappedKey{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	w, ok := m.keys[id]
	if !ok {
		return personaldata.WrappedKey{}, fmt.Errorf("key %s: %w", id, personaldata.ErrNoKey)
	}
	return personaldata.WrappedKey{Master: w.Master, Ciphertext: bytes.Clone(w.Ciphertext)}, nil
}

// Create stores key under id unless one is there.
func (m *Memory) Create(ctx context.Context, id string, key personaldata.WrappedKey) error {
	if err := check(ctx, id); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.keys[id]; ok {
		return fmt.Errorf("key %s: %w", id, personaldata.ErrKeyExists)
	}
	if m.keys == nil {
		m.keys = map[string]personaldata.WrappedKey{}
	}
	m.keys[id] = personaldata.WrappedKey{Master: key.Master, Ciphertext: bytes.Clone(key.Ciphertext)}
	return nil
}

// Delete forgets the key stored under id.
func (m *Memory) Delete(ctx context.Context, id string) error {
	if err := check(ctx, id); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, id)
	return nil
}

// IDs lists the ids of the stored keys, sorted.
func (m *Memory) IDs() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]string, 0, len(m.keys))
	for id := range m.keys {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func check(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return personaldata.ValidateKeyID(id)
}

// Run runs the contract suite against the stores open returns, a new
// empty one per call. reopen, when not nil, returns a store over what s
// keeps, as after a restart, to check that keys are durable.
func Run(t *testing.T, open func(t *testing.T) personaldata.KeyStore, reopen func(t *testing.T, s personaldata.KeyStore) personaldata.KeyStore) {
	ctx := context.Background()
	wrapped := func(b byte) personaldata.WrappedKey {
		return personaldata.WrappedKey{Master: "mk-test", Ciphertext: bytes.Repeat([]byte{b}, 60)}
	}
	const id = "participant-8d0f5c1e-2b7a-4f3e-9c61-0a4b2e7d9f13"

	t.Run("get of a missing key is ErrNoKey", func(t *testing.T) {
		if _, err := open(t).Get(ctx, id); !errors.Is(err, personaldata.ErrNoKey) {
			t.Fatalf("err = %v, want ErrNoKey", err)
		}
	})
	t.Run("create then get", func(t *testing.T) {
		s := open(t)
		if err := s.Create(ctx, id, wrapped(1)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if want := wrapped(1); got.Master != want.Master || !bytes.Equal(got.Ciphertext, want.Ciphertext) {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	})
	t.Run("a second create is ErrKeyExists and keeps the first key", func(t *testing.T) {
		s := open(t)
		if err := s.Create(ctx, id, wrapped(1)); err != nil {
			t.Fatal(err)
		}
		if err := s.Create(ctx, id, wrapped(2)); !errors.Is(err, personaldata.ErrKeyExists) {
			t.Fatalf("second create: err = %v, want ErrKeyExists", err)
		}
		if got, err := s.Get(ctx, id); err != nil || got.Ciphertext[0] != 1 {
			t.Fatalf("after a refused create: %+v, %v; want the first key", got, err)
		}
	})
	t.Run("racing creators: exactly one wins", func(t *testing.T) {
		s := open(t)
		const n = 8
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs <- s.Create(ctx, id, wrapped(byte(i+1))) })
		}
		wg.Wait()
		close(errs)
		won := 0
		for err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, personaldata.ErrKeyExists):
				t.Fatal(err)
			}
		}
		if won != 1 {
			t.Fatalf("%d creators won, want 1", won)
		}
	})
	t.Run("delete destroys, and is idempotent", func(t *testing.T) {
		s := open(t)
		if err := s.Create(ctx, id, wrapped(1)); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := s.Delete(ctx, id); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(ctx, id); !errors.Is(err, personaldata.ErrNoKey) {
				t.Fatalf("get after delete: err = %v, want ErrNoKey", err)
			}
		}
		if err := s.Delete(ctx, "participant-never-created"); err != nil {
			t.Fatalf("delete of a key never created: %v", err)
		}
	})
	t.Run("keys are apart", func(t *testing.T) {
		s := open(t)
		other := "employer-0b6f5f0e-8c1d-4e0a-b7a4-5d2f9e3c6a81"
		if err := s.Create(ctx, id, wrapped(1)); err != nil {
			t.Fatal(err)
		}
		if err := s.Create(ctx, other, wrapped(2)); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(ctx, other); err != nil || got.Ciphertext[0] != 2 {
			t.Fatalf("the other key after a delete: %+v, %v", got, err)
		}
	})
	t.Run("invalid ids are refused", func(t *testing.T) {
		s := open(t)
		for _, bad := range []string{"", ".hidden", "../escape", "a/b", `a\b`, "spa ce", "nul\x00", string(bytes.Repeat([]byte{'a'}, personaldata.MaxKeyIDLen+1))} {
			if err := s.Create(ctx, bad, wrapped(1)); !errors.Is(err, personaldata.ErrInvalidKeyID) {
				t.Errorf("create %q: err = %v, want ErrInvalidKeyID", bad, err)
			}
			if _, err := s.Get(ctx, bad); !errors.Is(err, personaldata.ErrInvalidKeyID) {
				t.Errorf("get %q: err = %v, want ErrInvalidKeyID", bad, err)
			}
			if err := s.Delete(ctx, bad); !errors.Is(err, personaldata.ErrInvalidKeyID) {
				t.Errorf("delete %q: err = %v, want ErrInvalidKeyID", bad, err)
			}
		}
	})
	t.Run("a cancelled context is refused", func(t *testing.T) {
		s := open(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.Create(cctx, id, wrapped(1)); !errors.Is(err, context.Canceled) {
			t.Fatalf("create: err = %v, want context.Canceled", err)
		}
		if _, err := s.Get(ctx, id); !errors.Is(err, personaldata.ErrNoKey) {
			t.Fatalf("a refused create stored a key: %v", err)
		}
	})
	if reopen != nil {
		t.Run("keys survive a restart, and so does their deletion", func(t *testing.T) {
			s := open(t)
			other := "participant-2c9e1d4a-7b3f-4e8a-a1c6-5d0f9b2e7c84"
			for _, k := range []string{id, other} {
				if err := s.Create(ctx, k, wrapped(3)); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Delete(ctx, other); err != nil {
				t.Fatal(err)
			}
			s = reopen(t, s)
			if got, err := s.Get(ctx, id); err != nil || got.Ciphertext[0] != 3 {
				t.Fatalf("after a restart: %+v, %v", got, err)
			}
			if _, err := s.Get(ctx, other); !errors.Is(err, personaldata.ErrNoKey) {
				t.Fatalf("a deleted key came back after a restart: %v", err)
			}
		})
	}
}
