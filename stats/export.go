package stats

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/personaldata"
)

// The pseudonymised export (access.md, measures.md): one row per episode
// of a cohort, with exactly what the cohort filter and the measures use,
// for the episodes of participants whose evaluation consent is in force.
// An episode is named by a keyed hash (personaldata.Pseudonyms), never by
// the participant id; no name, national id or free text is read, since
// statistics never open a personal member.
//
// Row-level data are disclosed more easily than figures, so the export
// keeps to the cohort filter's programme, office and enrolment range (a
// profile filter would pick out the very rows whose profile is
// suppressed), leaves out what neither the filter nor the measures use
// (birth year, language, education, children), and suppresses the
// profile of rare combinations: see profileClass.

// ExportParams lists the parameters of an export: a report's, without
// the profile filters and the format.
func ExportParams() []string {
	return []string{ParamProgramme, ParamOffice, ParamEnrolledFrom, ParamEnrolledTo, ParamAsOf, ParamKnownAt, ParamK}
}

// ParseExport reads an export request from parameter values; parameters
// not in ExportParams are not read. Errors are *ParamError.
func ParseExport(get func(string) string, today domain.Date) (Request, error) {
	return ParseRequest(func(p string) string {
		if slices.Contains(ExportParams(), p) {
			return get(p)
		}
		return ""
	}, today)
}

// Pseudonymiser computes pseudonyms; *personaldata.Pseudonyms is one. Of
// fails with an error matching personaldata.ErrNoKey for a stream whose
// data key was destroyed.
type Pseudonymiser interface {
	Of(ctx context.Context, keyID string, subject []byte) ([]byte, error)
}

// ExportColumns lists the export's columns, in order; docs/evaluation.md
// has the codebook.
func ExportColumns() []string {
	return []string{
		"pseudonym", "programme", "office", "gender", "region_of_birth", "income_source_at_intake",
		"enrolled_on", "status", "exit_on", "exit_reason", "exit_destination", "income_source_at_exit",
		"work_or_education_at_exit", "first_job_on", "employed_90d_after_first_job", "employed_180d_after_first_job",
		"baseline_hope", "baseline_well_being", "baseline_network", "baseline_work_attachment",
		"end_hope", "end_well_being", "end_network", "end_work_attachment",
		"weeks_counted", "weeks_with_meeting", "days_between_meetings",
	}
}

// Export is an export's rows and what was read to make them.
type Export struct {
	// Rows are in the order of the body: by programme, office, enrolment
	// date and pseudonym.
	Rows [][]string
	// LogPosition is the position of the last event read; the access
	// record of the export names it.
	LogPosition uint64
}

// ExportEpisodes reads the log up to req.KnownAt and makes the export of
// req's cohort as of req.AsOf. A participant's episodes are exported only
// when their evaluation consent, as the log knew it at req.KnownAt, was
// given on or before req.AsOf and not withdrawn, and when it is still in
// force at the head of the log: a withdrawal recorded since takes them
// out of every later export, however far back it asks.
func ExportEpisodes(ctx context.Context, store LogReader, pseudonyms Pseudonymiser, req Request) (Export, error) {
	req, err := req.checked()
	if err != nil {
		return Export{}, err
	}
	if err := knownAtInLog(ctx, store, req.KnownAt); err != nil {
		return Export{}, err
	}
	known, err := ReadLog(ctx, store, req.KnownAt)
	if err != nil {
		return Export{}, err
	}
	head := known
	if !req.KnownAt.IsZero() {
		if head, err = ReadLog(ctx, store, audit.KnownAt{}); err != nil {
			return Export{}, err
		}
	}

	// The population: every consented episode, whatever the cohort, so
	// that whether a row's profile is suppressed does not depend on the
	// range asked for (two overlapping exports would tell it otherwise).
	var population []Episode
	for _, s := range slices.Sorted(maps.Keys(known.Participants)) {
		p := domain.FoldParticipant(known.Participants[s])
		if !p.ConsentInForce(domain.ConsentEvaluation, req.AsOf) {
			continue
		}
		if !req.KnownAt.IsZero() && !domain.FoldParticipant(head.Participants[s]).Consents[domain.ConsentEvaluation].InForce {
			continue
		}
		population = append(population, EpisodesOf(s, p, req.AsOf)...)
	}
	// People, not episodes, are what a small class would pick out.
	classes := map[profileClass]map[string]bool{}
	for _, e := range population {
		c := classOf(e)
		if classes[c] == nil {
			classes[c] = map[string]bool{}
		}
		classes[c][e.Stream] = true
	}

	type keyed struct {
		e         Episode
		pseudonym string
	}
	var rows []keyed
	for _, e := range population {
		if !req.Cohort.Includes(e) {
			continue
		}
		ps, err := pseudonymOf(ctx, pseudonyms, e)
		if err != nil {
			return Export{}, err
		}
		rows = append(rows, keyed{e, ps})
	}
	slices.SortFunc(rows, func(a, b keyed) int {
		return cmp.Or(cmp.Compare(a.e.Programme, b.e.Programme), cmp.Compare(a.e.Office, b.e.Office),
			a.e.EnrolledOn.Compare(b.e.EnrolledOn), cmp.Compare(a.pseudonym, b.pseudonym),
			// Erased rows share the empty pseudonym; the stream orders them.
			cmp.Compare(a.e.Stream, b.e.Stream), cmp.Compare(a.e.Number, b.e.Number))
	})
	out := Export{Rows: make([][]string, 0, len(rows)), LogPosition: known.Position}
	for _, r := range rows {
		out.Rows = append(out.Rows, exportRow(r.e, r.pseudonym, req.AsOf, smallCell(len(classes[classOf(r.e)]), req.K)))
	}
	return out, nil
}

// pseudonymOf is the episode's pseudonym in hex: of its participant id (16
// bytes) and episode number (4 bytes, big-endian); "" once the
// participant's data key is destroyed, when nobody can compute it.
func pseudonymOf(ctx context.Context, pseudonyms Pseudonymiser, e Episode) (string, error) {
	id, err := domain.ParseParticipantStream(e.Stream)
	if err != nil {
		return "", fmt.Errorf("export: %w", err)
	}
	subject := binary.BigEndian.AppendUint32(id[:], uint32(e.Number))
	ps, err := pseudonyms.Of(ctx, personaldata.KeyID(e.Stream), subject)
	switch {
	case errors.Is(err, personaldata.ErrNoKey):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("export: %w", err)
	}
	return hex.EncodeToString(ps), nil
}

// profileClass is what a row shows of a person beyond its dates: with few
// others sharing it, it may pick them out.
type profileClass struct {
	programme, office string
	gender            domain.Gender
	region            domain.RegionOfBirth
	income            domain.IncomeSource
}

func classOf(e Episode) profileClass {
	return profileClass{e.Programme, e.Office, e.Profile.Gender, e.Profile.RegionOfBirth, e.Profile.IncomeSource}
}

// exportRow is the episode's row, in the order of ExportColumns; hide
// suppresses its profile.
func exportRow(e Episode, pseudonym string, asOf domain.Date, hide bool) []string {
	profile := func(s string) string {
		if hide {
			return SuppressedCSV
		}
		return s
	}
	date := func(d domain.Date) string {
		if d.IsZero() {
			return ""
		}
		return d.String()
	}
	flag := func(b, defined bool) string {
		if !defined {
			return ""
		}
		return strconv.FormatBool(b)
	}
	var exitOn domain.Date
	var reason, destination, incomeAtExit, workOrEducation string
	if e.Exit != nil {
		exitOn, reason, destination = e.Exit.Date, string(e.Exit.Reason), string(e.Exit.Destination)
		// Without a change since intake it is the intake's income
		// source: hidden with the profile, or it would tell it.
		incomeAtExit = profile(string(incomeSourceOn(e, e.Exit.Date)))
		workOrEducation = flag(workOrEducationOnExit(e), true)
	}
	var firstJobOn domain.Date
	if start, ok := firstJob(e); ok {
		firstJobOn = start
	}
	employed90 := flag(retainedAfter(e, asOf, retentionShortDay))
	employed180 := flag(retainedAfter(e, asOf, retentionLongDay))
	row := []string{
		pseudonym, e.Programme, e.Office,
		profile(string(e.Profile.Gender)), profile(string(e.Profile.RegionOfBirth)), profile(string(e.Profile.IncomeSource)),
		e.EnrolledOn.String(), string(e.Status()), date(exitOn), reason, destination, incomeAtExit,
		workOrEducation, date(firstJobOn), employed90, employed180,
	}
	for _, scores := range []*domain.Scores{e.Baseline, e.End} {
		for _, dim := range dimensions {
			if scores == nil {
				row = append(row, "")
				continue
			}
			row = append(row, strconv.Itoa(dim.of(*scores)))
		}
	}
	counted, met := weeks(e, asOf)
	gaps := make([]string, 0, len(e.Meetings))
	for i := 1; i < len(e.Meetings); i++ {
		gaps = append(gaps, strconv.Itoa(e.Meetings[i].DaysSince(e.Meetings[i-1])))
	}
	return append(row, strconv.Itoa(counted), strconv.Itoa(met), strings.Join(gaps, " "))
}

// CSV is the export's body: a header of ExportColumns, then one line per
// row. The same export always gives the same bytes.
func (x Export) CSV() ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(ExportColumns()); err != nil {
		return nil, fmt.Errorf("export as CSV: %w", err)
	}
	if err := w.WriteAll(x.Rows); err != nil {
		return nil, fmt.Errorf("export as CSV: %w", err)
	}
	return buf.Bytes(), nil
}

// AccessRecord is what the access log keeps of the export of req, made
// through via for purpose: the cohort asked for, the point of the log read
// (as a position, whatever req.KnownAt was given as) and the rows given.
func (x Export) AccessRecord(req Request, via, purpose string) domain.AccessRecorded {
	rows := len(x.Rows)
	rec := domain.AccessRecorded{View: domain.ViewExport, Purpose: purpose, Decision: domain.AccessPermitted,
		Via: via, Cohort: exportCohort(req), Rows: &rows}
	if x.LogPosition != 0 {
		rec.KnownAt = strconv.FormatUint(x.LogPosition, 10)
	}
	return rec
}

// exportCohort is the request's parameters as a query string, in a fixed
// order, with known_at left to the record's own member.
func exportCohort(req Request) string {
	v := scopeQuery(req.Cohort)
	setParam(v, ParamAsOf, req.AsOf.String())
	setParam(v, ParamK, strconv.Itoa(cmp.Or(req.K, DefaultK)))
	return v.Encode()
}
