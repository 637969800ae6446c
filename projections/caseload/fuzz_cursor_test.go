package caseload

import (
	"encoding/base64"
	"errors"
	"testing"

	"github.com/google/uuid"
)

// FuzzDecodeCursor: a cursor is the client's to send back, so any text may
// come: decodeCursor answers a cursor or ErrBadCursor, never a panic, and
// a cursor it accepts encodes to one that decodes to the same.
func FuzzDecodeCursor(f *testing.F) {
	for _, c := range []cursor{
		{},
		{sort: SortLastContact, desc: true, present: true, key: 20_000, id: uuid.MustParse("0b6f5f0e-8c1d-4e0a-b7a4-5d2f9e3c6a81")},
		{sort: SortFlags, key: -1},
		{sort: Sort(make([]byte, 255)), present: true, key: 1 << 62},
	} {
		f.Add(c.encode())
	}
	for _, s := range []string{"", "AQ", "AA", "AQA", "====", "AQ==", "not a cursor", "AQ-_", base64.RawURLEncoding.EncodeToString([]byte{1, 200})} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s)
		if err != nil {
			if !errors.Is(err, ErrBadCursor) {
				t.Fatalf("decodeCursor(%q): %v, want ErrBadCursor", s, err)
			}
			return
		}
		again, err := decodeCursor(c.encode())
		if err != nil || again != c {
			t.Fatalf("decodeCursor(%q) = %+v, which encodes to %q and decodes as %+v, %v", s, c, c.encode(), again, err)
		}
	})
}
