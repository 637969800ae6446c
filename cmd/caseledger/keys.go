package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/caseledger/caseledger/personaldata"
	"github.com/caseledger/caseledger/personaldata/keyfile"
)

// Where the embedded backend keeps what sealing needs, in the data
// directory: the data keys, one file each, wrapped by the master key.
const keysDir = "keys"

// demoMasterKeyFile is the demo's master key, in its own data directory.
// A real installation keeps its master key apart from the data, in the
// environment or a file on another volume.
const demoMasterKeyFile = "master.key"

// envMasterKey holds the master key in base64. The key is never a flag:
// command lines are visible to every user of the machine.
const envMasterKey = "CASELEDGER_MASTER_KEY"

// masterKeyFlags say where the master key comes from.
type masterKeyFlags struct {
	file string
}

// load returns the master key given in the environment or in the key
// file; without one the command does not run, since it would have to
// write personal data in clear or could not read them.
func (f *masterKeyFlags) load(e *env, cmd string, log *slog.Logger) (personaldata.MasterKey, error) {
	inEnv := e.getenv(envMasterKey)
	switch {
	case inEnv != "" && f.file != "":
		return personaldata.MasterKey{}, usageErrorf(cmd, "the master key is given twice, in %s and --master-key-file; give one", envMasterKey)
	case inEnv != "":
		m, err := personaldata.ParseMasterKey(inEnv)
		if err != nil {
			return personaldata.MasterKey{}, usageErrorf(cmd, "%s: %v", envMasterKey, err)
		}
		return m, nil
	case f.file != "":
		m, err := personaldata.ReadMasterKeyFile(f.file)
		if err != nil {
			return personaldata.MasterKey{}, err
		}
		warnIfShared(f.file, log)
		return m, nil
	}
	return personaldata.MasterKey{}, usageErrorf(cmd,
		"no master key: set %s to the base64 of 32 random bytes, or give --master-key-file; personal data are never stored in clear", envMasterKey)
}

// warnIfShared warns when others than the key file's owner may read it.
func warnIfShared(path string, log *slog.Logger) {
	if runtime.GOOS == "windows" || log == nil {
		return
	}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
		log.Warn("the master key file may be read by others than its owner; chmod 600 it", "path", path, "mode", fmt.Sprintf("%#o", info.Mode().Perm()))
	}
}

// openKeyring opens the data keys of dataDir under master, and refuses a
// master key that did not wrap them: it could read none of the personal
// data already stored, and would wrap new keys that the right master key
// could not read.
func openKeyring(ctx context.Context, dataDir string, master personaldata.MasterKey) (*personaldata.Keyring, error) {
	dir := filepath.Join(dataDir, keysDir)
	store, err := keyfile.Open(dir)
	if err != nil {
		return nil, err
	}
	ids, err := store.MasterIDs(ctx, 16)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if id != master.ID() {
			return nil, fmt.Errorf("the master key given (%s) did not wrap the data keys in %s (%s wrapped them): give this installation's master key",
				master.ID(), dir, strings.Join(ids, ", "))
		}
	}
	return personaldata.NewKeyring(store, master, personaldata.KeyringOptions{})
}

// openDemoMasterKey returns the demo's master key, made on its first start.
func openDemoMasterKey(dataDir string) (m personaldata.MasterKey, created bool, err error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return personaldata.MasterKey{}, false, fmt.Errorf("create data directory: %w", err)
	}
	m, created, err = personaldata.OpenOrCreateMasterKeyFile(filepath.Join(dataDir, demoMasterKeyFile))
	if err != nil {
		return personaldata.MasterKey{}, false, fmt.Errorf("demo master key: %w", err)
	}
	return m, created, nil
}
