package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiskProbe(t *testing.T) {
	tests := []struct {
		name    string
		dir     func(t *testing.T) string
		wantErr bool
	}{
		{"a writable directory", func(t *testing.T) string { return t.TempDir() }, false},
		{"a directory that is gone", func(t *testing.T) string { return filepath.Join(t.TempDir(), "gone") }, true},
		{"a file where the directory should be", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "file")
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return path
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.dir(t)
			p := &diskProbe{dir: dir}
			err := p.check(context.Background())
			if (err != nil) != tt.wantErr {
				t.Fatalf("check: %v, want an error: %v", err, tt.wantErr)
			}
			if err != nil && (!strings.Contains(err.Error(), "cannot be written") || strings.Contains(err.Error(), dir)) {
				t.Errorf("error %q: want one that says the directory cannot be written, without its path", err)
			}
			if !tt.wantErr {
				if left, _ := os.ReadDir(dir); len(left) != 0 {
					t.Errorf("the probe left %d files behind", len(left))
				}
				// A second check probes again rather than keeping the
				// first answer.
				if err := p.check(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
