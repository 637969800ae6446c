package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/personaldata"
)

// Commands that show what the access log must know of: a participant's
// history (history) and the access log itself (access-log). Like every
// read of the API they record the look before they print anything, as
// the operator who ran them: the --operator flag, CASELEDGER_OPERATOR, or
// the login name. They open the data directory's store, which the
// embedded store allows to one process at a time: stop the server first,
// or ask it over HTTP (GET /v1/participants/{id}/history,
// GET /v1/audit/access).

// operatorRole is the role access records give the operator of a command:
// someone with the data directory in hand, outside the API's roles.
const operatorRole = "operator"

// readerFlags are the flags of a command that records its look.
type readerFlags struct {
	dataDir  string
	store    *string
	purpose  string
	operator string
	master   *masterKeyFlags
}

func addReaderFlags(fs *flagSet) *readerFlags {
	f := &readerFlags{}
	fs.StringVar(&f.dataDir, "data", defaultDataDir, "data directory holding the event store and the data keys")
	fs.StringVar(&f.purpose, "purpose", "", fmt.Sprintf("why you look, recorded in the access log (required, at most %d characters)", domain.MaxPurposeLen))
	fs.StringVar(&f.operator, "operator", "", "your user id, recorded in the access log (default the login name)")
	fs.fromEnv("data", "CASELEDGER_DATA")
	fs.fromEnv("operator", "CASELEDGER_OPERATOR")
	f.master = addMasterKeyFlags(fs)
	f.store = addStoreFlag(fs)
	return f
}

// open opens the data directory as serve does, for a command that reads
// what is there: the existing store (never a new one), the data keys under
// the master key, and the command handler over both. close closes the
// store.
func (f *readerFlags) open(ctx context.Context, e *env, cmd string) (svc *casework.Service, closeStore func() error, err error) {
	d, err := f.openData(ctx, e, cmd)
	if err != nil {
		return nil, nil, err
	}
	return d.svc, d.close, nil
}

// readerData is what a reading command opens: the store, the keyring, the
// command handler over both, and what closes the store.
type readerData struct {
	store eventstore.Store
	keys  *personaldata.Keyring
	svc   *casework.Service
	close func() error
}

// openData opens what open opens, and hands over its parts.
func (f *readerFlags) openData(ctx context.Context, e *env, cmd string) (readerData, error) {
	master, err := f.master.load(e, cmd, nil)
	if err != nil {
		return readerData{}, err
	}
	keys, err := openKeyring(ctx, f.dataDir, master)
	if err != nil {
		return readerData{}, err
	}
	store, err := openExistingStore(ctx, cmd, storeLocation(*f.store, f.dataDir), nil)
	if err != nil {
		return readerData{}, err
	}
	closeStore := func() error {
		if err := store.Close(); err != nil {
			return fmt.Errorf("close event store: %w", err)
		}
		return nil
	}
	svc, err := casework.New(store, casework.Options{Keys: keys})
	if err != nil {
		return readerData{}, errors.Join(err, closeStore())
	}
	return readerData{store: store, keys: keys, svc: svc, close: closeStore}, nil
}

// reader checks the flags and returns who reads and why.
func (f *readerFlags) reader(e *env, fs *flagSet) (domain.Actor, string, error) {
	if err := fs.required("data"); err != nil {
		return domain.Actor{}, "", err
	}
	purpose, err := audit.CleanPurpose(f.purpose)
	switch {
	case errors.Is(err, audit.ErrPurposeRequired):
		return domain.Actor{}, "", usageErrorf(fs.Name(), "missing --purpose: say why you look; it is recorded in the access log")
	case err != nil:
		return domain.Actor{}, "", usageErrorf(fs.Name(), "--purpose: %v", err)
	}
	user := f.operator
	for _, name := range []string{"USER", "LOGNAME"} {
		if user == "" {
			user = e.getenv(name)
		}
	}
	if user == "" || len(user) > domain.MaxIDLen || strings.IndexFunc(user, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return domain.Actor{}, "", usageErrorf(fs.Name(), "--operator: a user id of 1 to %d printable bytes is needed (no login name to default to)", domain.MaxIDLen)
	}
	return domain.Actor{UserID: user, Role: operatorRole}, purpose, nil
}

func runHistory(ctx context.Context, e *env, args []string) (err error) {
	fs := newFlagSet("history", "caseledger history ID --purpose TEXT [--data DIR] [--format table|json] [--known-at POSITION|TIME] [--operator USER] [--master-key-file FILE]")
	rf := addReaderFlags(fs)
	var format, knownAt string
	fs.StringVar(&format, "format", "table", "output: table (for people) or json (for machines)")
	fs.StringVar(&knownAt, "known-at", "", "show the history as known at a log position (a whole number) or an RFC 3339 UTC time")
	operands, err := parseWithOperands(fs, e, args)
	if err != nil {
		return err
	}
	if len(operands) != 1 {
		return usageErrorf(fs.Name(), "want one participant id, got %d arguments", len(operands))
	}
	id, err := uuid.Parse(operands[0])
	if err != nil || id == uuid.Nil || id.String() != operands[0] {
		return usageErrorf(fs.Name(), "%q is not a participant id (a UUID in lower-case canonical form)", operands[0])
	}
	if format != "table" && format != "json" {
		return usageErrorf(fs.Name(), "--format %q: want table or json", format)
	}
	k, err := audit.ParseKnownAt(knownAt)
	if err != nil {
		return usageErrorf(fs.Name(), "--known-at: %s", paramDetail(err))
	}
	reader, purpose, err := rf.reader(e, fs)
	if err != nil {
		return err
	}

	svc, closeStore, err := rf.open(ctx, e, fs.Name())
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeStore()) }()
	log := audit.New(svc, audit.Options{})
	rec := domain.AccessRecorded{ParticipantID: id, View: domain.ViewHistory, Purpose: purpose, Via: "caseledger history", KnownAt: k.String()}

	h, _, err := svc.Load(ctx, domain.ParticipantStream(id))
	if errors.Is(err, casework.ErrNotFound) {
		rec.Decision, rec.Reason = domain.AccessDenied, domain.DenyUnknownParticipant
		if err := log.Record(ctx, audit.Access{Reader: reader, Record: rec}); err != nil {
			return err
		}
		return fmt.Errorf("history: the store in %s holds no participant %s", rf.dataDir, id)
	}
	if err != nil {
		return err
	}
	hist, err := audit.Replay(id, h, k, true)
	if err != nil {
		return err
	}
	rec.Decision, rec.PersonalData = domain.AccessPermitted, hist.ShowsPersonal()
	if err := log.Record(ctx, audit.Access{Reader: reader, Record: rec}); err != nil {
		return err // nothing is shown that is not recorded
	}
	if format == "json" {
		return writeJSON(e.stdout, hist)
	}
	return writeHistoryTable(e.stdout, hist)
}

// writeHistoryTable writes a history for people: a table of one row per
// event, its payload, personal part and links on indented lines beneath.
func writeHistoryTable(w io.Writer, h audit.History) error {
	var b strings.Builder
	fmt.Fprintf(&b, "participant %s, %d events", h.ParticipantID, len(h.Events))
	if h.KnownAt != "" {
		fmt.Fprintf(&b, ", as known at %s", h.KnownAt)
	}
	if h.Erased {
		b.WriteString(", personal data erased")
	}
	b.WriteString("\n\n")

	rows := [][]string{{"REV", "POS", "RECORDED (UTC)", "OCCURRED", "TYPE", "BY", "CORRELATION", "EVENT"}}
	for _, ev := range h.Events {
		by := printable(ev.Actor.UserID) + " " + printable(ev.Actor.Role)
		if ev.Actor.Office != "" {
			by += " " + printable(ev.Actor.Office)
		}
		rows = append(rows, []string{strconv.FormatUint(ev.Revision, 10), strconv.FormatUint(ev.Position, 10),
			ev.RecordedAt.UTC().Format(time.DateTime), ev.OccurredOn.String(), ev.Type, by, ev.CorrelationID.String(), ev.EventID.String()})
	}
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	writeRow := func(row []string) {
		for i, cell := range row {
			if i == len(row)-1 {
				b.WriteString(cell + "\n")
				break
			}
			b.WriteString(cell + strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)+2))
		}
	}
	indent := strings.Repeat(" ", widths[0]+2)
	detail := func(label string, v any) { fmt.Fprintf(&b, "%s%-12s  %v\n", indent, label, v) }
	writeRow(rows[0])
	for i, ev := range h.Events {
		writeRow(rows[i+1])
		if ev.Corrects != uuid.Nil {
			detail("corrects", ev.Corrects)
		}
		if ev.Voids != uuid.Nil {
			detail("voids", ev.Voids)
		}
		for _, id := range ev.CorrectedBy {
			detail("corrected by", id)
		}
		for _, id := range ev.VoidedBy {
			detail("voided by", id)
		}
		detail("data", string(ev.Data))
		if ev.Personal != nil {
			detail("personal", string(ev.Personal))
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	return nil
}

// printable replaces what could steer a terminal (escape sequences, line
// breaks) in text from a token's claims.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, s)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// paramDetail is what an *audit.ParamError says, without the parameter
// name that a flag spells differently.
func paramDetail(err error) string {
	var pe *audit.ParamError
	if errors.As(err, &pe) {
		return pe.Detail
	}
	return err.Error()
}

// parseWithOperands parses flags and operands in any order, as in
// "history ID --data DIR" and "history --data DIR ID", and returns the
// operands. Everything after "--" is an operand.
func parseWithOperands(fs *flagSet, e *env, args []string) ([]string, error) {
	var flags, operands []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			operands = append(operands, args[i+1:]...)
			return operands, fs.parse(e, flags)
		case a == "-" || !strings.HasPrefix(a, "-"):
			operands = append(operands, a)
			continue
		}
		flags = append(flags, a)
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if f := fs.Lookup(name); f != nil && !hasValue && !isBoolFlag(f) && i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	return operands, fs.parse(e, flags)
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}
