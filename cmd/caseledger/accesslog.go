package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/domain"
)

// runAccessLog exports the access log, as CEF lines for a SIEM or as JSON:
// the records that match the query, which is itself recorded first.
func runAccessLog(ctx context.Context, e *env, args []string) (err error) {
	fs := newFlagSet("access-log", "caseledger access-log --purpose TEXT [--data DIR] [--participant ID] [--user ID] [--from TIME] [--to TIME] [--limit N] [--format cef|json] [--operator USER] [--master-key-file FILE]")
	rf := addReaderFlags(fs)
	params := map[string]*string{}
	for _, p := range []struct{ name, usage string }{
		{audit.ParamParticipant, "only the looks at this participant"},
		{audit.ParamUser, "only the looks of this user id"},
		{audit.ParamFrom, "only the looks recorded at or after this RFC 3339 UTC time (default a month before --to)"},
		{audit.ParamTo, "only the looks recorded at or before this RFC 3339 UTC time (default now)"},
		{audit.ParamLimit, fmt.Sprintf("at most this many records, 1 to %d (default %d)", audit.MaxLimit, audit.DefaultLimit)},
	} {
		params[p.name] = fs.String(p.name, "", p.usage)
	}
	var format string
	fs.StringVar(&format, "format", "cef", "output: cef (ArcSight Common Event Format, one line per record, or per participant of a caseload page) or json")
	if err := fs.parse(e, args); err != nil {
		return err
	}
	if format != "cef" && format != "json" {
		return usageErrorf(fs.Name(), "--format %q: want cef or json", format)
	}
	reader, purpose, err := rf.reader(e, fs)
	if err != nil {
		return err
	}

	today, err := businessToday()
	if err != nil {
		return err
	}
	q, err := audit.ParseQuery(func(name string) string { return *params[name] }, today)
	if err != nil {
		var pe *audit.ParamError
		if errors.As(err, &pe) {
			return usageErrorf(fs.Name(), "--%s: %s", pe.Name, pe.Detail)
		}
		return err
	}

	svc, closeStore, err := rf.open(ctx, e, fs.Name())
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeStore()) }()
	log := audit.New(svc, audit.Options{})
	if err := log.Record(ctx, audit.Access{Reader: reader, Record: domain.AccessRecorded{
		ParticipantID: q.Participant, SubjectUser: q.User, View: domain.ViewAccessLog,
		Purpose: purpose, Decision: domain.AccessPermitted, Via: "caseledger access-log",
	}}); err != nil {
		return err
	}
	page, err := log.Query(ctx, q)
	if err != nil {
		return err
	}
	if format == "json" {
		return writeJSON(e.stdout, page)
	}
	if err := audit.WriteCEF(e.stdout, audit.Version(), page.Records); err != nil {
		return err
	}
	if page.Truncated {
		fmt.Fprintf(e.stderr, "caseledger access-log: more records matched than the limit of %d; narrow the period with --from and --to\n", len(page.Records))
	}
	return nil
}

// businessToday is today's date in Europe/Oslo, as the command handler
// counts it.
func businessToday() (domain.Date, error) {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		return domain.Date{}, fmt.Errorf("load business time zone: %w", err)
	}
	return domain.DateIn(time.Now(), loc), nil
}
