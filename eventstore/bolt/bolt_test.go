package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/eventstore/bolt"
	"github.com/caseledger/caseledger/eventstore/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		return openStore(t, filepath.Join(t.TempDir(), "events.db"), bolt.Options{})
	})
}

// TestContractInSmallChunks runs the contract with reads of two events at a
// time, so that every read crosses chunks and every subscription reads
// ahead while its subscriber works, catching up and live.
func TestContractInSmallChunks(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		return openStore(t, filepath.Join(t.TempDir(), "events.db"), bolt.Options{ReadChunk: 2})
	})
}
