// Package personaldata seals the personal data of events before they are
// appended and opens them when they are read.
//
// Every event keeps its personal data and free text in one JSON member,
// "personal". Sealing replaces that member by
//
//	{"sealed": "<base64 of nonce || ciphertext || tag>", "key": "<key id>"}
//
// encrypted with AES-256-GCM under the data key of the stream (KeyID) and
// bound, through GCM's additional data, to the stream and the event id, so
// that a sealed member moved to another event does not open. The other
// members stay in clear: statistics need them.
//
// Data keys are random, one per stream, created with the stream's first
// personal member. A KeyStore keeps them wrapped (AES-256-GCM) under the
// master key, which only the process holds. Destroying a data key erases
// what it sealed for good while the events, their public members and the
// hash chain over their stored bytes stay as they are.
//
// A Keyring ties a master key to a key store and caches unwrapped data
// keys, so that a process unwraps a key once, not once per event.
package personaldata

import (
	"container/list"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"
)

// KeyringOptions tune a Keyring; the zero value works.
type KeyringOptions struct {
	// CacheSize bounds how many unwrapped data keys are kept, least
	// recently used first out; 10,000 when 0.
	CacheSize int
	// Rand is the source of data keys and nonces; crypto/rand when nil.
	Rand io.Reader
}

// Keyring seals and opens personal members with data keys it keeps in a
// KeyStore, wrapped under a master key. It is safe for concurrent use.
type Keyring struct {
	store  KeyStore
	master MasterKey
	wrap   cipher.AEAD
	rand   io.Reader

	mu         sync.Mutex
	max        int
	order      *list.List // of *cached, most recently used first
	index      map[string]*list.Element
	loading    map[string]*load
	generation uint64 // counts Forget calls; a load that overlapped one does not cache
}

type cached struct {
	id   string
	aead cipher.AEAD
}

// load is one fetch of a data key from the store, which concurrent callers
// of the same id wait for instead of unwrapping it again.
type load struct {
	done chan struct{}
	aead cipher.AEAD
	err  error
}

// NewKeyring returns a keyring over store, wrapping under master.
func NewKeyring(store KeyStore, master MasterKey, opts KeyringOptions) (*Keyring, error) {
	if store == nil {
		return nil, errors.New("new keyring: no key store")
	}
	if master.IsZero() {
		return nil, errors.New("new keyring: no master key")
	}
	wrap, err := newAEAD(master.key[:])
	if err != nil {
		return nil, fmt.Errorf("new keyring: %w", err)
	}
	k := &Keyring{
		store: store, master: master, wrap: wrap, rand: opts.Rand, max: opts.CacheSize,
		order: list.New(), index: map[string]*list.Element{}, loading: map[string]*load{},
	}
	if k.rand == nil {
		k.rand = rand.Reader
	}
	if k.max <= 0 {
		k.max = 10_000
	}
	return k, nil
}

// MasterID is the id of the keyring's master key.
func (k *Keyring) MasterID() string { return k.master.ID() }

// Destroy deletes the data key id from the store and from the cache: what
// it sealed can no longer be opened, by this process or any other.
// Destroying a key that is not there is not an error.
func (k *Keyring) Destroy(ctx context.Context, id string) error {
	if err := ValidateKeyID(id); err != nil {
		return fmt.Errorf("destroy data key: %w", err)
	}
	k.Forget(id)
	if err := k.store.Delete(ctx, id); err != nil {
		return fmt.Errorf("destroy data key of %s: %w", id, err)
	}
	// A load that began before the delete may have cached it again.
	k.Forget(id)
	return nil
}

// Forget drops the data key id from the cache, as when another process
// destroyed it.
func (k *Keyring) Forget(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.generation++
	if el, ok := k.index[id]; ok {
		k.order.Remove(el)
		delete(k.index, id)
	}
}

// dataKey returns the cipher of data key id: cached, unwrapped from the
// store, or, when create is set and the store holds none, a new key.
func (k *Keyring) dataKey(ctx context.Context, id string, create bool) (cipher.AEAD, error) {
	for {
		k.mu.Lock()
		if el, ok := k.index[id]; ok {
			k.order.MoveToFront(el)
			aead := el.Value.(*cached).aead
			k.mu.Unlock()
			return aead, nil
		}
		if l, ok := k.loading[id]; ok {
			k.mu.Unlock()
			select {
			case <-l.done:
			case <-ctx.Done():
				return nil, fmt.Errorf("data key of %s: %w", id, ctx.Err())
			}
			if l.err == nil {
				return l.aead, nil
			}
			if create && errors.Is(l.err, ErrNoKey) {
				continue // that caller only read; this one creates
			}
			if errors.Is(l.err, context.Canceled) || errors.Is(l.err, context.DeadlineExceeded) {
				// The loader's request ended, not this one's: load again.
				continue
			}
			return nil, l.err
		}
		l := &load{done: make(chan struct{})}
		k.loading[id] = l
		gen := k.generation
		k.mu.Unlock()

		l.aead, l.err = k.fetch(ctx, id, create)

		k.mu.Lock()
		delete(k.loading, id)
		if l.err == nil && gen == k.generation {
			k.put(id, l.aead)
		}
		k.mu.Unlock()
		close(l.done)
		return l.aead, l.err
	}
}

// put caches a data key; k.mu is held.
func (k *Keyring) put(id string, aead cipher.AEAD) {
	if el, ok := k.index[id]; ok {
		el.Value.(*cached).aead = aead
		k.order.MoveToFront(el)
		return
	}
	k.index[id] = k.order.PushFront(&cached{id: id, aead: aead})
	if k.order.Len() > k.max {
		oldest := k.order.Back()
		k.order.Remove(oldest)
		delete(k.index, oldest.Value.(*cached).id)
	}
}

// fetch reads and unwraps data key id, creating it first if asked to and
// the store holds none.
func (k *Keyring) fetch(ctx context.Context, id string, create bool) (cipher.AEAD, error) {
	w, err := k.store.Get(ctx, id)
	if errors.Is(err, ErrNoKey) && create {
		aead, cerr := k.create(ctx, id)
		if !errors.Is(cerr, ErrKeyExists) {
			return aead, cerr
		}
		w, err = k.store.Get(ctx, id) // another writer created it first
	}
	if err != nil {
		return nil, fmt.Errorf("data key of %s: %w", id, err)
	}
	return k.unwrap(id, w)
}

func (k *Keyring) create(ctx context.Context, id string) (cipher.AEAD, error) {
	key := make([]byte, KeySize)
	if _, err := io.ReadFull(k.rand, key); err != nil {
		return nil, fmt.Errorf("create data key of %s: %w", id, err)
	}
	nonce := make([]byte, k.wrap.NonceSize(), k.wrap.NonceSize()+KeySize+k.wrap.Overhead())
	if _, err := io.ReadFull(k.rand, nonce); err != nil {
		return nil, fmt.Errorf("create data key of %s: %w", id, err)
	}
	w := WrappedKey{Master: k.master.ID(), Ciphertext: k.wrap.Seal(nonce, nonce, key, wrapAD(id))}
	if err := k.store.Create(ctx, id, w); err != nil {
		if errors.Is(err, ErrKeyExists) {
			return nil, err
		}
		return nil, fmt.Errorf("create data key of %s: %w", id, err)
	}
	return newAEAD(key)
}

// ErrWrongMasterKey: a data key was wrapped under another master key, or
// its wrapping was altered.
var ErrWrongMasterKey = errors.New("data key does not unwrap under this master key")

func (k *Keyring) unwrap(id string, w WrappedKey) (cipher.AEAD, error) {
	key, err := k.unwrapKey(id, w)
	if err != nil {
		return nil, err
	}
	return newAEAD(key)
}

// unwrapKey returns the bytes of the wrapped data key id.
func (k *Keyring) unwrapKey(id string, w WrappedKey) ([]byte, error) {
	if w.Master != k.master.ID() {
		return nil, fmt.Errorf("data key of %s: %w: it was wrapped by master key %s, this is %s", id, ErrWrongMasterKey, w.Master, k.master.ID())
	}
	ns := k.wrap.NonceSize()
	if len(w.Ciphertext) != ns+KeySize+k.wrap.Overhead() {
		return nil, fmt.Errorf("data key of %s: %w: wrapped key is %d bytes", id, ErrWrongMasterKey, len(w.Ciphertext))
	}
	key, err := k.wrap.Open(nil, w.Ciphertext[:ns], w.Ciphertext[ns:], wrapAD(id))
	if err != nil {
		return nil, fmt.Errorf("data key of %s: %w: authentication failed", id, ErrWrongMasterKey)
	}
	return key, nil
}

// wrapAD binds a wrapped data key to its id: a key file copied to another
// participant's name does not unwrap.
func wrapAD(id string) []byte {
	return append([]byte("caseledger data key v1\x00"), id...)
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
