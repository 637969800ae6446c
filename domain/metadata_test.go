package domain

import (
	"errors"
	"strings"
	"testing"
)

func TestMetadataPrevDigest(t *testing.T) {
	digest := strings.Repeat("0123456789abcdef", 4)
	tests := []struct {
		name  string
		prev  string
		valid bool
	}{
		{"absent", "", true},
		{"a SHA-256 in lower-case hex", digest, true},
		{"upper case", strings.ToUpper(digest), false},
		{"too short", digest[:63], false},
		{"too long", digest + "0", false},
		{"not hex", digest[:63] + "g", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validMeta()
			m.PrevDigest = tt.prev
			data, err := EncodeMetadata(m)
			if !tt.valid {
				if err == nil {
					t.Fatal("encoded")
				}
				valid := validMeta()
				valid.PrevDigest = digest
				good, _ := EncodeMetadata(valid)
				if _, err := DecodeMetadata([]byte(strings.Replace(string(good), digest, tt.prev, 1))); !errors.Is(err, ErrMalformed) {
					t.Fatalf("decode: err = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.prev == "" && strings.Contains(string(data), "prev_digest") {
				t.Fatalf("an absent link is written: %s", data)
			}
			got, err := DecodeMetadata(data)
			if err != nil || got.PrevDigest != tt.prev {
				t.Fatalf("round trip: %q, %v", got.PrevDigest, err)
			}
		})
	}
}
