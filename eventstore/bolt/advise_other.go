//go:build !linux

package bolt

// mapping is unused where the mapping advice is not implemented.
type mapping struct{}

func (s *Store) adviseMapping()   {}
func (s *Store) readviseIfMoved() {}

// diskCause names nothing where statfs is not asked.
func diskCause(string) error { return nil }
