package personaldata_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/personaldata"
	"github.com/caseledger/caseledger/personaldata/keystoretest"
)

// withDataKey gives stream its data key, as its first personal member
// does.
func withDataKey(t *testing.T, k *personaldata.Keyring, stream string) {
	t.Helper()
	plain := encode(t, domain.MeetingHeld{Date: date("2026-03-09"), Kind: domain.MeetingKinds()[0],
		Personal: &domain.MeetingPersonal{Minutes: "marker minutes"}})
	if _, err := k.SealEvent(context.Background(), stream, uuid.New(), plain); err != nil {
		t.Fatal(err)
	}
}

func pseudonym(t *testing.T, k *personaldata.Keyring, stream string, subject []byte) []byte {
	t.Helper()
	p, err := k.Pseudonyms()
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Of(context.Background(), personaldata.KeyID(stream), subject)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A pseudonym is the same for every keyring of the deployment (its master
// key and key store) and differs for another subject, another stream, and
// another master key over the very same data key.
func TestPseudonymsStableWithinDeploymentOnly(t *testing.T) {
	t.Parallel()
	store := &keystoretest.Memory{}
	k := newKeyring(t, store, personaldata.KeyringOptions{})
	withDataKey(t, k, stream)
	withDataKey(t, k, otherStream)
	subject := []byte("episode 1")
	first := pseudonym(t, k, stream, subject)
	if len(first) != 32 {
		t.Fatalf("pseudonym of %d bytes, want 32 (HMAC-SHA-256)", len(first))
	}
	// Another process of the deployment: a new keyring on the same keys.
	if again := pseudonym(t, newKeyring(t, store, personaldata.KeyringOptions{}), stream, subject); !bytes.Equal(again, first) {
		t.Errorf("another keyring of the deployment gives %x, the first %x", again, first)
	}
	if other := pseudonym(t, k, stream, []byte("episode 2")); bytes.Equal(other, first) {
		t.Error("two subjects of one stream share a pseudonym")
	}
	if other := pseudonym(t, k, otherStream, subject); bytes.Equal(other, first) {
		t.Error("one subject of two streams shares a pseudonym")
	}

	// Two deployments whose data keys happen to be the same bytes: only the
	// master keys differ, and so must the pseudonyms.
	random := func() personaldata.KeyringOptions {
		return personaldata.KeyringOptions{Rand: bytes.NewReader(bytes.Repeat([]byte{7}, 1024))}
	}
	a := newKeyring(t, &keystoretest.Memory{}, random())
	otherMaster, err := personaldata.NewMasterKey(bytes.Repeat([]byte{9}, personaldata.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	b, err := personaldata.NewKeyring(&keystoretest.Memory{}, otherMaster, random())
	if err != nil {
		t.Fatal(err)
	}
	withDataKey(t, a, stream)
	withDataKey(t, b, stream)
	if bytes.Equal(pseudonym(t, a, stream, subject), pseudonym(t, b, stream, subject)) {
		t.Error("two deployments with the same data key but different master keys give the same pseudonym")
	}
}

// A stream without a data key has no pseudonym, and asking for one
// creates no key; once the key is destroyed (an erasure) the pseudonym
// can no longer be computed.
func TestPseudonymDiesWithTheDataKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := &keystoretest.Memory{}
	k := newKeyring(t, store, personaldata.KeyringOptions{})
	p, err := k.Pseudonyms()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Of(ctx, personaldata.KeyID(stream), []byte("s")); !errors.Is(err, personaldata.ErrNoKey) {
		t.Fatalf("no data key yet: %v, want ErrNoKey", err)
	}
	if _, err := store.Get(ctx, personaldata.KeyID(stream)); !errors.Is(err, personaldata.ErrNoKey) {
		t.Fatalf("asking for a pseudonym created a data key: %v", err)
	}
	withDataKey(t, k, stream)
	if _, err := p.Of(ctx, personaldata.KeyID(stream), []byte("s")); err != nil {
		t.Fatal(err)
	}
	if err := k.Destroy(ctx, personaldata.KeyID(stream)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Of(ctx, personaldata.KeyID(stream), []byte("s")); !errors.Is(err, personaldata.ErrNoKey) {
		t.Fatalf("after the erasure: %v, want ErrNoKey", err)
	}
	if _, err := p.Of(ctx, "../escape", []byte("s")); !errors.Is(err, personaldata.ErrInvalidKeyID) {
		t.Fatalf("a key id that names no key: %v, want ErrInvalidKeyID", err)
	}
}
