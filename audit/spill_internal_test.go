package audit

import (
	"errors"
	"reflect"
	"testing"
)

// FuzzDecodeSpill: whatever a journal holds, its decoder either refuses it
// as damaged or keeps a prefix of whole lines, which decodes again as the
// same batches, each of which the log would take.
func FuzzDecodeSpill(f *testing.F) {
	line := JournalLine("permit")
	f.Add(line)
	f.Add(append(append([]byte(nil), line...), line...))
	f.Add(append(append([]byte(nil), line...), line[:10]...))
	f.Add(JournalLine("maybe"))
	f.Add([]byte("{}\n"))
	f.Add([]byte("\n\n"))
	f.Fuzz(func(t *testing.T, journal []byte) {
		batches, good, err := decodeSpill(journal)
		if err != nil {
			if !errors.Is(err, ErrSpillDamaged) {
				t.Fatalf("decodeSpill = %v, want ErrSpillDamaged", err)
			}
			return
		}
		if good < 0 || good > len(journal) || good > 0 && journal[good-1] != '\n' {
			t.Fatalf("kept %d of %d bytes: not a prefix of whole lines", good, len(journal))
		}
		for i, b := range batches {
			if err := b.validate(); err != nil {
				t.Fatalf("batch %d kept although invalid: %v", i, err)
			}
		}
		again, good2, err := decodeSpill(journal[:good])
		if err != nil || good2 != good || !reflect.DeepEqual(again, batches) {
			t.Fatalf("the kept prefix decodes as %d batches, %d bytes, %v; want %d batches, %d bytes", len(again), good2, err, len(batches), good)
		}
	})
}
