package stats_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/personaldata"
	"github.com/caseledger/caseledger/personaldata/keystoretest"
	"github.com/caseledger/caseledger/seed"
	"github.com/caseledger/caseledger/stats"
)

// exportWorld is a store written through the command handler, so that
// personal data are sealed and data keys exist as in production.
type exportWorld struct {
	store      eventstore.Store
	svc        *casework.Service
	pseudonyms *personaldata.Pseudonyms
	people     int
	nids       []string // the synthetic national ids given
}

func newExportWorld(t *testing.T) *exportWorld {
	t.Helper()
	dir := t.TempDir()
	store := openStore(t)
	now := time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC)
	svc, err := casework.New(store, casework.Options{Now: func() time.Time { return now }, Keys: keystoretest.Keyring(t, dir)})
	if err != nil {
		t.Fatal(err)
	}
	// Another keyring of the same installation: another process.
	p, err := keystoretest.Keyring(t, dir).Pseudonyms()
	if err != nil {
		t.Fatal(err)
	}
	return &exportWorld{store: store, svc: svc, pseudonyms: p}
}

// write appends events to stream as a caseworker would have them decided,
// and returns the position of the last.
func (w *exportWorld) write(t *testing.T, stream string, evs ...domain.Event) uint64 {
	t.Helper()
	res, err := w.svc.Execute(context.Background(), stream, casework.Request{Actor: domain.Actor{UserID: "u-kari", Role: "caseworker", Office: "oslo"}, CorrelationID: uuid.New()},
		func([]domain.Recorded, domain.Date) ([]domain.Event, error) { return evs, nil })
	if err != nil {
		t.Fatal(err)
	}
	return res.Position
}

// enrol enrols a new participant of office with profile on the day, with
// a synthetic name and national id, and returns their stream.
func (w *exportWorld) enrol(t *testing.T, office string, profile domain.Profile, on string) string {
	t.Helper()
	w.people++
	var nid string
	for n := 100 + 2*w.people; nid == ""; n++ { // about one number in five has no check digits
		nid, _ = domain.SyntheticNationalID(day(t, "1990-04-12"), n)
	}
	w.nids = append(w.nids, nid)
	if profile.BirthYear == 0 {
		profile.BirthYear = 1990
	}
	stream := domain.ParticipantStream(uuid.New())
	w.write(t, stream, domain.ParticipantEnrolled{Episode: 1, Programme: "hope-oslo", Office: office, EnrolledOn: day(t, on),
		ReferralSource: domain.ReferralSelf, Profile: profile,
		Personal: &domain.EnrolmentPersonal{Name: fmt.Sprintf("Test Person %d", w.people), NationalID: nid}})
	return stream
}

func (w *exportWorld) export(t *testing.T, req stats.Request) ([]byte, stats.Export) {
	t.Helper()
	x, err := stats.ExportEpisodes(context.Background(), w.store, w.pseudonyms, req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := x.CSV()
	if err != nil {
		t.Fatal(err)
	}
	return b, x
}

// rowsOf reads an export's body back, keyed by column name.
func rowsOf(t *testing.T, body []byte) []map[string]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 || !slices.Equal(recs[0], stats.ExportColumns()) {
		t.Fatalf("header %v, want %v", recs, stats.ExportColumns())
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, c := range stats.ExportColumns() {
			m[c] = r[i]
		}
		out = append(out, m)
	}
	return out
}

var typical = domain.Profile{Gender: domain.GenderFemale, RegionOfBirth: domain.RegionAfrica, IncomeSource: domain.IncomeSocialAssistance}

func consent(t *testing.T, on string) domain.ConsentGiven {
	return domain.ConsentGiven{Scope: domain.ConsentEvaluation, Date: day(t, on)}
}

// Only the episodes of participants whose evaluation consent is in force
// are exported: not one without it, one with another scope only, one who
// withdrew it, one who gave it after as_of, nor, at an earlier known_at,
// one who has withdrawn it since. No row names a person.
func TestExportCarriesOnlyConsentedEpisodes(t *testing.T) {
	t.Parallel()
	w := newExportWorld(t)
	in := w.enrol(t, "oslo", typical, "2026-01-05")
	w.write(t, in, consent(t, "2026-01-05"))
	w.enrol(t, "oslo", typical, "2026-01-06") // no consent
	other := w.enrol(t, "oslo", typical, "2026-01-07")
	w.write(t, other, domain.ConsentGiven{Scope: domain.ConsentProcessing, Date: day(t, "2026-01-07")})
	withdrawn := w.enrol(t, "oslo", typical, "2026-01-08")
	w.write(t, withdrawn, consent(t, "2026-01-08"))
	w.write(t, withdrawn, domain.ConsentWithdrawn{Scope: domain.ConsentEvaluation, Date: day(t, "2026-02-01")})
	late := w.enrol(t, "oslo", typical, "2026-01-09")
	w.write(t, late, consent(t, "2026-04-20"))
	since := w.enrol(t, "oslo", typical, "2026-01-12")
	published := w.write(t, since, consent(t, "2026-01-12"))

	req := stats.Request{AsOf: day(t, "2026-04-01"), K: 1}
	body, x := w.export(t, req)
	rows := rowsOf(t, body)
	if len(rows) != 2 || len(x.Rows) != 2 || rows[0]["enrolled_on"] != "2026-01-05" || rows[1]["enrolled_on"] != "2026-01-12" {
		t.Fatalf("want the consented episodes of 2026-01-05 and 2026-01-12:\n%s", body)
	}
	if x.LogPosition != published {
		t.Errorf("log position %d, want %d", x.LogPosition, published)
	}

	// Withdrawn after the export was first made: gone from it, also at the
	// knowledge cut-off it was made at.
	w.write(t, since, domain.ConsentWithdrawn{Scope: domain.ConsentEvaluation, Date: day(t, "2026-05-01")})
	for _, k := range []audit.KnownAt{{}, {Position: published}} {
		req.KnownAt = k
		body, _ := w.export(t, req)
		if rows := rowsOf(t, body); len(rows) != 1 || rows[0]["enrolled_on"] != "2026-01-05" {
			t.Errorf("known_at %q: want only the episode of 2026-01-05:\n%s", k, body)
		}
	}

	hexRE := regexp.MustCompile(`^[0-9a-f]{64}$`)
	for _, r := range rows {
		if !hexRE.MatchString(r["pseudonym"]) {
			t.Errorf("pseudonym %q is not 64 hex digits", r["pseudonym"])
		}
	}
	for _, s := range append([]string{strings.TrimPrefix(in, domain.ParticipantStreamPrefix),
		strings.TrimPrefix(since, domain.ParticipantStreamPrefix), "Test Person"}, w.nids...) {
		if bytes.Contains(body, []byte(s)) {
			t.Errorf("the export holds %q:\n%s", s, body)
		}
	}
}

// Erasure leaves the episode's row, as the statistics survive it, but its
// pseudonym can no longer be computed by anyone: the row is exported
// without one, the old pseudonym appears nowhere, and nobody's else
// changes.
func TestExportAfterErasureIsUnlinkable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newExportWorld(t)
	gone := w.enrol(t, "oslo", typical, "2026-01-05")
	w.write(t, gone, consent(t, "2026-01-05"))
	kept := w.enrol(t, "oslo", typical, "2026-01-06")
	w.write(t, kept, consent(t, "2026-01-06"))
	req := stats.Request{AsOf: day(t, "2026-04-01"), K: 1}
	before, _ := w.export(t, req)
	rows := rowsOf(t, before)
	if len(rows) != 2 || rows[0]["pseudonym"] == "" {
		t.Fatalf("before the erasure:\n%s", before)
	}
	old := rows[0]["pseudonym"]

	w.write(t, gone, domain.PersonalDataErased{Date: day(t, "2026-05-15"), LegalBasis: domain.ErasureBases()[0],
		RequestedBy: domain.Requesters()[0]})
	after, _ := w.export(t, req)
	again := rowsOf(t, after)
	if len(again) != 2 {
		t.Fatalf("after the erasure the row is gone:\n%s", after)
	}
	if again[0]["pseudonym"] != "" || bytes.Contains(after, []byte(old)) {
		t.Errorf("after the erasure the row still has a pseudonym:\n%s", after)
	}
	if again[1]["pseudonym"] != rows[1]["pseudonym"] {
		t.Errorf("another participant's pseudonym changed: %s, then %s", rows[1]["pseudonym"], again[1]["pseudonym"])
	}
	for _, col := range stats.ExportColumns()[1:] {
		if again[0][col] != rows[0][col] {
			t.Errorf("%s: %q before the erasure, %q after", col, rows[0][col], again[0][col])
		}
	}
	// Not even the installation can compute it again.
	id, _ := domain.ParseParticipantStream(gone)
	if _, err := w.pseudonyms.Of(ctx, personaldata.KeyID(gone), append(id[:], 0, 0, 0, 1)); !errors.Is(err, personaldata.ErrNoKey) {
		t.Errorf("the pseudonym of an erased participant: %v, want ErrNoKey", err)
	}
}

// A row's profile is suppressed when fewer than k participants of its
// programme and office share it, at k-1 and not at k, counted over every
// consented episode whatever range the export asks for.
func TestExportSuppressesRareProfiles(t *testing.T) {
	t.Parallel()
	const k = 3
	w := newExportWorld(t)
	rare := domain.Profile{Gender: domain.GenderMale, RegionOfBirth: domain.RegionNorthAmericaOceania, IncomeSource: domain.IncomeWork}
	for i := range k - 1 {
		s := w.enrol(t, "oslo", rare, "2026-01-0"+strconv.Itoa(i+1))
		w.write(t, s, consent(t, "2026-01-10"))
		if i == 0 {
			// Exited with no change of income source since intake: the
			// income at exit is the intake's, hidden as well.
			w.write(t, s, domain.ParticipantExited{Date: day(t, "2026-03-01"), Reason: domain.ExitReasons()[0],
				Destination: domain.Destinations()[0]})
		}
	}
	for i := range k {
		s := w.enrol(t, "oslo", typical, "2026-02-0"+strconv.Itoa(i+1))
		w.write(t, s, consent(t, "2026-02-10"))
	}
	// The same profile as the rare ones, but another office, and one
	// without consent: neither makes the rare class k.
	s := w.enrol(t, "bergen", rare, "2026-01-05")
	w.write(t, s, consent(t, "2026-01-10"))
	w.enrol(t, "oslo", rare, "2026-01-06")

	check := func(req stats.Request, want map[string]bool) {
		t.Helper()
		body, _ := w.export(t, req)
		rows := rowsOf(t, body)
		if len(rows) != len(want) {
			t.Fatalf("%d rows, want %d:\n%s", len(rows), len(want), body)
		}
		for _, r := range rows {
			hide, ok := want[r["enrolled_on"]]
			if !ok {
				t.Errorf("unexpected row %v", r)
				continue
			}
			for _, col := range []string{"gender", "region_of_birth", "income_source_at_intake", "income_source_at_exit"} {
				if col == "income_source_at_exit" && r["exit_on"] == "" {
					continue // open: no income at exit to show
				}
				if (r[col] == stats.SuppressedCSV) != hide {
					t.Errorf("%s, %s: %q, want suppressed %v", r["enrolled_on"], col, r[col], hide)
				}
			}
			if r["office"] == stats.SuppressedCSV || r["enrolled_on"] == stats.SuppressedCSV {
				t.Errorf("more than the profile suppressed: %v", r)
			}
		}
	}
	check(stats.Request{Cohort: stats.Cohort{Office: "oslo"}, AsOf: day(t, "2026-04-01"), K: k}, map[string]bool{
		"2026-01-01": true, "2026-01-02": true, "2026-02-01": false, "2026-02-02": false, "2026-02-03": false})
	// A range with one typical episode: its class is still k.
	check(stats.Request{Cohort: stats.Cohort{Office: "oslo", EnrolledFrom: day(t, "2026-02-02"), EnrolledTo: day(t, "2026-02-02")},
		AsOf: day(t, "2026-04-01"), K: k}, map[string]bool{"2026-02-02": false})
	// At k-1 the rare class is shown.
	check(stats.Request{Cohort: stats.Cohort{Office: "oslo"}, AsOf: day(t, "2026-04-01"), K: k - 1}, map[string]bool{
		"2026-01-01": false, "2026-01-02": false, "2026-02-01": false, "2026-02-02": false, "2026-02-03": false})
}

// The codebook holds: the measures recomputed from the export's rows, as
// docs/evaluation.md says to, are the report's over the same episodes.
func TestExportRecomputesTheMeasures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newExportWorld(t)
	if _, err := seed.Run(ctx, w.svc, seed.Config{Participants: 80, Seed: 11}, io.Discard); err != nil {
		t.Fatal(err)
	}
	asOf := w.svc.Today()
	body, _ := w.export(t, stats.Request{AsOf: asOf, K: 1})
	rows := rowsOf(t, body)

	// The report over the same episodes: the consented participants'.
	log, err := stats.ReadLog(ctx, w.store, audit.KnownAt{})
	if err != nil {
		t.Fatal(err)
	}
	for s, evs := range log.Participants {
		if !domain.FoldParticipant(evs).ConsentInForce(domain.ConsentEvaluation, asOf) {
			delete(log.Participants, s)
		}
	}
	m := stats.FromLog(log, stats.Request{AsOf: asOf, K: 1}).Measures
	if len(rows) < 20 || len(rows) != m.Enrolled.Episodes.N {
		t.Fatalf("%d rows, the report has %d episodes", len(rows), m.Enrolled.Episodes.N)
	}

	date := func(s string) domain.Date {
		if s == "" {
			return domain.Date{}
		}
		return day(t, s)
	}
	type counts struct{ x, n int }
	var job, workEdu, ret90, ret180, offSA, weeks counts
	pairs := 0
	for _, r := range rows {
		enrolled, first := date(r["enrolled_on"]), date(r["first_job_on"])
		if !enrolled.After(asOf.AddDays(-183)) {
			job.n++
			if !first.IsZero() && !first.After(enrolled.AddDays(183)) {
				job.x++
			}
		}
		add := func(c *counts, flag string) {
			if flag != "" {
				c.n++
				if flag == "true" {
					c.x++
				}
			}
		}
		add(&workEdu, r["work_or_education_at_exit"])
		add(&ret90, r["employed_90d_after_first_job"])
		add(&ret180, r["employed_180d_after_first_job"])
		if r["exit_on"] != "" && r["income_source_at_intake"] == string(domain.IncomeSocialAssistance) {
			offSA.n++
			if r["income_source_at_exit"] != string(domain.IncomeSocialAssistance) {
				offSA.x++
			}
		}
		c, _ := strconv.Atoi(r["weeks_counted"])
		met, _ := strconv.Atoi(r["weeks_with_meeting"])
		weeks.n += c
		weeks.x += met
		if r["baseline_hope"] != "" && r["end_hope"] != "" {
			pairs++
		}
	}
	for _, c := range []struct {
		name string
		got  counts
		want stats.Rate
	}{
		{"job_within_183d", job, m.JobWithin183d},
		{"work_or_education_at_exit", workEdu, m.WorkOrEducationAtExit},
		{"retention_90d", ret90, m.Retention90d},
		{"retention_180d", ret180, m.Retention180d},
		{"off_social_assistance_at_exit", offSA, m.OffSocialAssistanceAtExit},
		{"weeks_with_meeting", weeks, m.ContactIntensity.Weeks},
	} {
		if c.got.x != c.want.Numerator.N || c.got.n != c.want.Denominator.N {
			t.Errorf("%s from the rows: %d/%d, the report %d/%d", c.name, c.got.x, c.got.n, c.want.Numerator.N, c.want.Denominator.N)
		}
		if c.got.n == 0 {
			t.Errorf("%s: the seeded population gives nothing to compare", c.name)
		}
	}
	if pairs != m.IndexChange[0].Pairs.N {
		t.Errorf("hope pairs from the rows: %d, the report %d", pairs, m.IndexChange[0].Pairs.N)
	}
}
