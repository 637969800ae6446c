package personaldata_test

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/personaldata"
	"github.com/caseledger/caseledger/personaldata/keystoretest"
)

// FuzzOpenEvent feeds arbitrary stored data to the decoder of sealed
// members: it never panics, and what StripPersonal returns is a JSON
// object without a personal member.
func FuzzOpenEvent(f *testing.F) {
	ctx := context.Background()
	m, err := personaldata.NewMasterKey(keyBytes())
	if err != nil {
		f.Fatal(err)
	}
	k, err := personaldata.NewKeyring(&keystoretest.Memory{}, m, personaldata.KeyringOptions{})
	if err != nil {
		f.Fatal(err)
	}
	id := uuid.MustParse("0f0e0d0c-0b0a-4908-8706-050403020100")
	for _, ev := range events() {
		plain := encode(f, ev.event)
		f.Add(plain)
		sealed, err := k.SealEvent(ctx, stream, id, plain)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(sealed)
	}
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `{"personal":null}`, `{"personal":{}}`, `{"personal":{"sealed":"","key":""}}`,
		`{"personal":{"sealed":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","key":"` + stream + `"}}`,
		`{"a":1,"a":2}`, `{"personal":{"sealed":"AA==","key":"x","key":"y"}}`, `{"personal":1e400}`, "{\"personal\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = k.OpenEvent(ctx, stream, id, data)
		_, _ = personaldata.HasPersonal(data)
		_ = personaldata.IsSealed(data)
		stripped, err := personaldata.StripPersonal(data)
		if err != nil {
			return
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(stripped, &obj); err != nil {
			t.Fatalf("stripped %q is not a JSON object: %v", stripped, err)
		}
		if _, ok := obj["personal"]; ok && !bytes.Equal(bytes.TrimSpace(obj["personal"]), []byte("null")) {
			t.Fatalf("stripped %q keeps its personal member", stripped)
		}
		// Whatever seals, opens to the same members.
		sealed, err := k.SealEvent(ctx, stream, id, data)
		if err != nil {
			return
		}
		opened, err := k.OpenEvent(ctx, stream, id, sealed)
		if err != nil {
			t.Fatalf("sealed data do not open: %v", err)
		}
		if !reflect.DeepEqual(decode(t, opened), decode(t, data)) {
			t.Fatalf("opened %q, sealed from %q", opened, data)
		}
	})
}

// decode reads JSON with numbers as written, so that any valid input
// decodes.
func decode(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	return v
}
