package bolt_test

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/bolt"
)

// mappingFlags returns the VmFlags of this process's mapping of the start of
// path, as /proc/self/smaps lists them ("rr" is MADV_RANDOM, "sr"
// MADV_SEQUENTIAL).
func mappingFlags(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no smaps: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	inFile := false
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 6 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			// A mapping's header: range, perms, offset, dev, inode, path.
			inFile = fields[5] == path && strings.Trim(fields[2], "0") == ""
			continue
		}
		if inFile && len(fields) > 0 && fields[0] == "VmFlags:" {
			return fields[1:]
		}
	}
	t.Fatalf("no mapping of %s at offset 0 in /proc/self/smaps", path)
	return nil
}

func TestMappingAdviceSurvivesRemap(t *testing.T) {
	for _, c := range []struct {
		advice bolt.Advice
		want   string // flag that must be present, "" for none of rr/sr
	}{{bolt.AdviceNormal, ""}, {bolt.AdviceSequential, "sr"}, {bolt.AdviceRandom, "rr"}} {
		t.Run(c.advice.String(), func(t *testing.T) {
			path, err := filepath.EvalSymlinks(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			path = filepath.Join(path, "events.db")
			// A small first mapping, so that the appends below make bbolt
			// map the file anew.
			s := openStore(t, path, bolt.Options{Advice: c.advice, InitialMmapSize: 1 << 20})
			check := func(when string) {
				t.Helper()
				flags := mappingFlags(t, path)
				for _, f := range []string{"rr", "sr"} {
					if has := slices.Contains(flags, f); has != (f == c.want) {
						t.Fatalf("%s: mapping flags %v, want %q among rr/sr", when, flags, c.want)
					}
				}
			}
			check("after open")
			big := make([]byte, 60_000)
			for range 40 { // 2.4 MB: past the first 1 MiB mapping and its first doubling
				mustAppend(t, s, "case-1", eventstore.Any, eventstore.EventData{ID: newEvents(1)[0].ID, Type: "Big", Data: big})
			}
			check("after remap")
		})
	}
}
