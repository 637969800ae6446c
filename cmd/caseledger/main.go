// Command caseledger keeps the casework of work-inclusion programmes as an
// immutable, audited event log, and serves it over HTTP.
//
//	caseledger demo                      serve a demo store, with a token to try it
//	caseledger serve                     serve the data directory's store
//	caseledger token --user U --role R   mint a token with the local issuer
//	caseledger seed --participants N     write demo data into ./demo-data
//
// Configuration comes from flags, and from CASELEDGER_* environment
// variables for what a flag does not set; "caseledger CMD -h" lists them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// env is what a subcommand may touch of the world outside it.
type env struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	// listening, when set, learns the address a server listens on; tests
	// serve on port 0 and need to know where to connect.
	listening func(addr string)
}

// command is one subcommand; each lives in a file of its own.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		{"demo", "serve a demo store with demo data, and print a token and a curl line to try it", runDemo},
		{"serve", "serve the event store in the data directory over HTTP", runServe},
		{"token", "mint a bearer token with the data directory's local issuer", runToken},
		{"verify", "check the hash chain of every stream and print a digest of their heads", runVerify},
		{"erase", "erase a participant's personal data: record it and destroy their data key", runErase},
		{"history", "replay a participant's history with its metadata, as an auditor reads it", runHistory},
		{"rebuild", "rebuild every read model from the start of the log, and write their snapshots", runRebuild},
		{"stats", "compute the outcome statistics of a cohort from the store, as GET /v1/stats/outcomes does", runStats},
		{"compare", "compare the rates of two cohorts from the store, as GET /v1/stats/comparison does", runCompare},
		{"export", "write the pseudonymised export of a cohort's consented episodes (recorded in the access log)", runExport},
		{"access-log", "export the access log (who looked at what, and why) as CEF lines or JSON", runAccessLog},
		// demo calls the same code as seed when its store is empty.
		{"seed", "write a realistic, deterministic demo population into a store", runSeed},
	}
}

// run runs the subcommand args name. Its error decides the exit code (see
// exitCode); it prints nothing of the error itself.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runWith(ctx, &env{getenv: getenv, stdout: stdout, stderr: stderr}, args)
}

func runWith(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageErrorf("", "no command given")
	}
	name := args[0]
	if name == "-h" || name == "-help" || name == "--help" || name == "help" {
		printUsage(e.stdout)
		return flag.ErrHelp
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, e, args[1:])
		}
	}
	return usageErrorf("", "unknown command %q", name)
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: caseledger COMMAND [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'caseledger COMMAND -h' for a command's flags.")
}

// usageError is a mistake in how the command was called: exit code 2.
type usageError struct {
	cmd string // the subcommand, "" for caseledger itself
	msg string
}

func (e *usageError) Error() string {
	name := strings.TrimSpace("caseledger " + e.cmd)
	return fmt.Sprintf("%s: %s (see '%s -h')", name, e.msg, name)
}

func usageErrorf(cmd, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

// exitCode reports err on one line of stderr and returns the exit code:
// 0 for success or asked-for help, 2 for a usage mistake, 1 for a failure.
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(stderr, oneLine(ue.Error()))
		return 2
	}
	fmt.Fprintln(stderr, "caseledger:", oneLine(err.Error()))
	return 1
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
