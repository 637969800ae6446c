package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/api/identity"
)

// flagSet is a subcommand's flags, each of which may also come from an
// environment variable; a flag on the command line wins.
type flagSet struct {
	*flag.FlagSet
	usage string            // the synopsis line
	envs  map[string]string // flag name -> environment variable
}

func newFlagSet(name, usage string) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), usage: usage, envs: map[string]string{}}
	// Errors are reported by exitCode, in one line; usage only on -h.
	fs.SetOutput(io.Discard)
	return fs
}

// fromEnv lets environment variable name set flag flagName.
func (fs *flagSet) fromEnv(flagName, name string) {
	fs.envs[flagName] = name
	f := fs.Lookup(flagName)
	f.Usage += " (env " + name + ")"
}

// parse applies the environment, then the arguments; it allows no
// positional arguments.
func (fs *flagSet) parse(e *env, args []string) error {
	for flagName, name := range fs.envs {
		if v := e.getenv(name); v != "" {
			if err := fs.Set(flagName, v); err != nil {
				return usageErrorf(fs.Name(), "%s=%q: %v", name, v, err)
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.printUsage(e.stdout)
			return flag.ErrHelp
		}
		return usageErrorf(fs.Name(), "%v", err)
	}
	if fs.NArg() > 0 {
		return usageErrorf(fs.Name(), "unexpected argument %q", fs.Arg(0))
	}
	return nil
}

func (fs *flagSet) printUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: %s\n\nflags:\n", fs.usage)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// required reports the first of the named flags left empty.
func (fs *flagSet) required(names ...string) error {
	for _, n := range names {
		if fs.Lookup(n).Value.String() == "" {
			return usageErrorf(fs.Name(), "missing --%s", n)
		}
	}
	return nil
}

// Defaults of the configuration every subcommand shares.
const (
	defaultDataDir = "./data"
	defaultAddr    = "127.0.0.1:8080"
)

// identityFlags configure the local issuer: where its key is and what its
// tokens say. serve and token must agree on them, so both take them.
type identityFlags struct {
	dataDir  string
	issuer   string
	audience string
	claims   identity.ClaimNames
	// oidc is set by serve only: tokens from an OpenID Connect issuer
	// instead of the local one.
	oidc oidcFlags
}

// oidcFlags choose production identity: an OpenID Connect issuer whose
// published keys verify the tokens.
type oidcFlags struct {
	issuer   string
	audience string
	algs     string
}

// addOIDCFlags adds the OpenID Connect settings; only serve takes them,
// since the other subcommands rely on the local issuer.
func (f *identityFlags) addOIDCFlags(fs *flagSet) {
	fs.StringVar(&f.oidc.issuer, "oidc-issuer", "", "OpenID Connect issuer URL; when set, tokens are verified against its published keys instead of the local issuer")
	fs.StringVar(&f.oidc.audience, "oidc-audience", "", "audience (aud) the issuer's tokens must name; required with --oidc-issuer")
	fs.StringVar(&f.oidc.algs, "oidc-algs", "", "comma-separated signing algorithms accepted from the issuer (default RS256,ES256)")
	fs.fromEnv("oidc-issuer", "CASELEDGER_OIDC_ISSUER")
	fs.fromEnv("oidc-audience", "CASELEDGER_OIDC_AUDIENCE")
	fs.fromEnv("oidc-algs", "CASELEDGER_OIDC_ALGS")
}

// oidcConfig is the verifier configuration of production identity.
func (f *identityFlags) oidcConfig() identity.Config {
	cfg := identity.Config{Audience: f.oidc.audience, Claims: f.claims}
	for _, alg := range strings.Split(f.oidc.algs, ",") {
		if alg = strings.TrimSpace(alg); alg != "" {
			cfg.SigningAlgs = append(cfg.SigningAlgs, alg)
		}
	}
	return cfg
}

func addIdentityFlags(fs *flagSet, defaultData string, dataFromEnv bool) *identityFlags {
	f := &identityFlags{}
	def := identity.DefaultClaimNames()
	fs.StringVar(&f.dataDir, "data", defaultData, "data directory: the event store and the local issuer's key")
	fs.StringVar(&f.issuer, "issuer", identity.DefaultIssuer, "issuer (iss) of bearer tokens")
	fs.StringVar(&f.audience, "audience", identity.DefaultAudience, "audience (aud) bearer tokens must name")
	fs.StringVar(&f.claims.UserID, "claim-user", def.UserID, "claim holding the user id (a dotted path steps into nested claims)")
	fs.StringVar(&f.claims.Role, "claim-role", def.Role, "claim holding the role: a string, or a list holding exactly one product role (e.g. realm_access.roles)")
	fs.StringVar(&f.claims.Office, "claim-office", def.Office, "claim holding the office")
	if dataFromEnv {
		fs.fromEnv("data", "CASELEDGER_DATA")
	}
	fs.fromEnv("issuer", "CASELEDGER_ISSUER")
	fs.fromEnv("audience", "CASELEDGER_AUDIENCE")
	fs.fromEnv("claim-user", "CASELEDGER_CLAIM_USER")
	fs.fromEnv("claim-role", "CASELEDGER_CLAIM_ROLE")
	fs.fromEnv("claim-office", "CASELEDGER_CLAIM_OFFICE")
	return f
}

func (f *identityFlags) config() identity.Config {
	return identity.Config{Issuer: f.issuer, Audience: f.audience, Claims: f.claims}
}

func (f *identityFlags) check(fs *flagSet) error {
	if f.oidc.issuer != "" && f.oidc.audience == "" {
		return usageErrorf(fs.Name(), "--oidc-issuer needs --oidc-audience")
	}
	return fs.required("data", "issuer", "audience", "claim-user", "claim-role", "claim-office")
}

// levelFlag is a slog level given by name.
type levelFlag struct{ level slog.Level }

func (l *levelFlag) String() string { return strings.ToLower(l.level.String()) }
func (l *levelFlag) Set(s string) error {
	if err := l.level.UnmarshalText([]byte(s)); err != nil {
		return errors.New("want debug, info, warn or error")
	}
	return nil
}

// serverFlags configure the HTTP server.
type serverFlags struct {
	// store is the event store's connection string; serve only (the demo
	// always runs on its own embedded file), "" for the embedded file.
	store        string
	addr         string
	logLevel     levelFlag
	maxBodyBytes int64
	limits       *httpLimits
	// pprof is where Go's profiler listens, on a listener of its own; ""
	// (the default) serves none. serve only.
	pprof string
	// accessSpill is the directory of the access records' spill journal
	// (audit.Spill); "" holds none. serve only.
	accessSpill string
}

func addServerFlags(fs *flagSet) *serverFlags {
	f := &serverFlags{}
	fs.StringVar(&f.addr, "addr", defaultAddr, "address to listen on")
	fs.Var(&f.logLevel, "log-level", "log level: debug, info, warn or error")
	fs.Int64Var(&f.maxBodyBytes, "max-body-bytes", api.DefaultMaxBodyBytes, "largest request body accepted, in bytes")
	f.limits = addHTTPLimitFlags(fs)
	fs.fromEnv("addr", "CASELEDGER_ADDR")
	fs.fromEnv("log-level", "CASELEDGER_LOG_LEVEL")
	fs.fromEnv("max-body-bytes", "CASELEDGER_MAX_BODY_BYTES")
	return f
}

func (f *serverFlags) check(fs *flagSet) error {
	if err := fs.required("addr"); err != nil {
		return err
	}
	if f.maxBodyBytes <= 0 {
		return usageErrorf(fs.Name(), "--max-body-bytes must be positive")
	}
	return f.limits.check(fs)
}

// addMasterKeyFlags adds where the master key comes from: a key file, or
// CASELEDGER_MASTER_KEY, which is read when the key is needed (see
// masterKeyFlags.load) and never set from a flag.
func addMasterKeyFlags(fs *flagSet) *masterKeyFlags {
	f := &masterKeyFlags{}
	fs.StringVar(&f.file, "master-key-file", "", "file holding the master key that wraps the data keys of personal data, in base64 (32 bytes); or put the key itself in "+envMasterKey)
	fs.fromEnv("master-key-file", "CASELEDGER_MASTER_KEY_FILE")
	return f
}
