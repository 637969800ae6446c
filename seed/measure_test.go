package seed

import (
	"fmt"
	"math"
	"slices"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
)

// dryRun carries out a plan in memory, deciding each step exactly as
// writePlan has the service decide it, but without a store.
func dryRun(pl Plan, today domain.Date) ([]domain.Recorded, error) {
	var h []domain.Recorded
	ids := map[string][]uuid.UUID{}
	for _, st := range pl.Steps {
		evs, err := decideStep(h, st.Commands, today, ids)
		if err != nil {
			return h, fmt.Errorf("participant %d, step %s on %s: %w", pl.Number, st.Name, st.On, err)
		}
		var got []uuid.UUID
		for _, ev := range evs {
			id := uuid.NewSHA1(plannedNamespace, fmt.Appendf(nil, "dry/%d/%d", pl.Number, len(h)))
			h = append(h, domain.Recorded{ID: id, Stream: pl.Stream(), Revision: uint64(len(h)), Event: ev})
			got = append(got, id)
		}
		ids[st.Name] = got
	}
	return h, nil
}

// figures are rough versions of the measures of measures.md, enough to
// tell whether the population gives each of them something to show.
type figures struct {
	participants, episodes, reEnrolled, exited, events int
	// Jobs within a year of enrolment, among episodes at least a year old.
	yearEligible, jobInYear int
	// By programme: job within 183 days and work or education at exit.
	job183     map[string][2]int
	workOrEdu  map[string][2]int
	offSA      [2]int // exited episodes that came on social assistance
	retention  [2]int // first jobs 90+ days before as_of: employed on day 90
	timeToJob  []int  // days to the first job, for its median
	indexPairs int
	hopeChange []float64
	netChange  []float64
	// Weeks counted for contact intensity, and those with a meeting.
	weeks, weeksMet                                          int
	corrected, voided, paused, droppedOut, erased, protected int
	byExit                                                   map[domain.ExitReason]int
}

func newFigures() *figures {
	return &figures{job183: map[string][2]int{}, workOrEdu: map[string][2]int{}, byExit: map[domain.ExitReason]int{}}
}

func (f *figures) add(h []domain.Recorded, today domain.Date) {
	p := domain.FoldParticipant(h)
	f.participants++
	f.events += len(h)
	f.episodes += len(p.Episodes)
	if len(p.Episodes) > 1 {
		f.reEnrolled++
	}
	if p.AddressProtection {
		f.protected++
	}
	if p.Erased {
		f.erased++
	}
	for _, r := range h {
		switch r.Event.(type) {
		case domain.EntryCorrected:
			f.corrected++
		case domain.EntryVoided:
			f.voided++
		}
	}
	for _, ep := range p.Episodes {
		end := today
		if ep.Exit != nil {
			end = ep.Exit.Date
			f.exited++
			f.byExit[ep.Exit.Reason]++
			if ep.Exit.Reason == domain.ExitDroppedOut {
				f.droppedOut++
			}
		}
		var jobs []domain.Placement
		open := map[domain.PlacementKind]bool{}
		for _, pl := range p.Placements {
			if pl.Episode != ep.Number {
				continue
			}
			if pl.Kind == domain.PlacementOrdinaryJob && !pl.StartedOn.After(end) {
				jobs = append(jobs, pl)
			}
			if ep.Exit != nil && !pl.StartedOn.After(ep.Exit.Date) && (pl.EndedOn.IsZero() || pl.EndedOn.After(ep.Exit.Date)) {
				open[pl.Kind] = true
			}
		}
		slices.SortFunc(jobs, func(a, b domain.Placement) int { return a.StartedOn.Compare(b.StartedOn) })
		first := -1
		if len(jobs) > 0 {
			first = jobs[0].StartedOn.DaysSince(ep.EnrolledOn)
			f.timeToJob = append(f.timeToJob, first)
		}
		if today.DaysSince(ep.EnrolledOn) >= 365 {
			f.yearEligible++
			if first >= 0 && first <= 365 {
				f.jobInYear++
			}
		}
		if today.DaysSince(ep.EnrolledOn) >= 183 {
			c := f.job183[ep.Programme]
			c[1]++
			if first >= 0 && first <= 183 {
				c[0]++
			}
			f.job183[ep.Programme] = c
		}
		if ep.Exit != nil {
			c := f.workOrEdu[ep.Programme]
			c[1]++
			if ep.Exit.Destination == domain.DestinationOrdinaryJob || ep.Exit.Destination == domain.DestinationEducation ||
				open[domain.PlacementOrdinaryJob] || open[domain.PlacementEducation] {
				c[0]++
			}
			f.workOrEdu[ep.Programme] = c
			if ep.Profile.IncomeSource == domain.IncomeSocialAssistance {
				f.offSA[1]++
				if sourceAtExit(p, ep) != domain.IncomeSocialAssistance {
					f.offSA[0]++
				}
			}
		}
		if first >= 0 && today.DaysSince(jobs[0].StartedOn) >= 90 {
			f.retention[1]++
			if employedOn(jobs, jobs[0].StartedOn.AddDays(90)) {
				f.retention[0]++
			}
		}
		var base, last *domain.Score
		for i := range p.Scores {
			s := &p.Scores[i]
			if s.Episode != ep.Number {
				continue
			}
			switch s.Timepoint {
			case domain.TimepointBaseline:
				base = s
			case domain.TimepointEnd:
				last = s
			}
		}
		if base != nil && last != nil {
			f.indexPairs++
			f.hopeChange = append(f.hopeChange, float64(last.Scores.Hope-base.Scores.Hope))
			f.netChange = append(f.netChange, float64(last.Scores.Network-base.Scores.Network))
		}
		var met []domain.Date
		for _, m := range p.Meetings {
			if m.Episode == ep.Number {
				met = append(met, m.Date)
			}
		}
		for w := ep.EnrolledOn; !w.AddDays(7).After(end); w = w.AddDays(7) {
			pausedWeek := false
			for _, ps := range p.Pauses {
				to := ps.To
				if to.IsZero() {
					to = today
				}
				if ps.Episode == ep.Number && ps.From.Before(w.AddDays(7)) && !to.Before(w) {
					pausedWeek = true
				}
			}
			if pausedWeek {
				continue
			}
			f.weeks++
			for _, d := range met {
				if !d.Before(w) && d.Before(w.AddDays(7)) {
					f.weeksMet++
					break
				}
			}
		}
	}
	f.paused += len(p.Pauses)
}

func sourceAtExit(p domain.Participant, ep domain.Episode) domain.IncomeSource {
	src := ep.Profile.IncomeSource
	var best domain.Date
	for _, s := range p.IncomeSources {
		if s.Episode == ep.Number && !s.From.After(ep.Exit.Date) && !s.From.Before(best) {
			src, best = s.Source, s.From
		}
	}
	return src
}

// employedOn: inside an ordinary job, or in a gap of at most 14 days
// between one and the next.
func employedOn(jobs []domain.Placement, d domain.Date) bool {
	for i, j := range jobs {
		if !j.StartedOn.After(d) && (j.EndedOn.IsZero() || j.EndedOn.After(d)) {
			return true
		}
		if !j.EndedOn.IsZero() && j.EndedOn.Before(d) && i+1 < len(jobs) && jobs[i+1].StartedOn.After(d) &&
			jobs[i+1].StartedOn.DaysSince(j.EndedOn) <= 14 {
			return true
		}
	}
	return false
}

func rate(c [2]int) float64 { return float64(c[0]) / math.Max(1, float64(c[1])) }

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / math.Max(1, float64(len(xs)))
}

func sd(xs []float64) float64 {
	m := mean(xs)
	s := 0.0
	for _, x := range xs {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / math.Max(1, float64(len(xs)-1)))
}

func median(xs []int) int {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	return s[len(s)/2]
}

func (f *figures) report() string {
	s := fmt.Sprintf("participants %d, events %d, episodes %d (re-enrolled %d), exited %d (%v)\n", f.participants, f.events, f.episodes, f.reEnrolled, f.exited, f.byExit)
	s += fmt.Sprintf("job within a year %.2f of %d; median days to first job %d; retention 90d %.2f of %d\n",
		float64(f.jobInYear)/math.Max(1, float64(f.yearEligible)), f.yearEligible, median(f.timeToJob), rate(f.retention), f.retention[1])
	for _, pr := range programmes() {
		s += fmt.Sprintf("  %-28s job_within_183d %.2f of %5d   work_or_education_at_exit %.2f of %5d\n",
			pr.slug, rate(f.job183[pr.slug]), f.job183[pr.slug][1], rate(f.workOrEdu[pr.slug]), f.workOrEdu[pr.slug][1])
	}
	s += fmt.Sprintf("off social assistance at exit %.2f of %d\n", rate(f.offSA), f.offSA[1])
	s += fmt.Sprintf("index pairs %d: hope change %.2f (sd %.2f), network change %.2f (sd %.2f)\n",
		f.indexPairs, mean(f.hopeChange), sd(f.hopeChange), mean(f.netChange), sd(f.netChange))
	s += fmt.Sprintf("weeks with a meeting %.2f of %d\n", float64(f.weeksMet)/math.Max(1, float64(f.weeks)), f.weeks)
	s += fmt.Sprintf("corrected %d, voided %d, pauses %d, dropped out %d, erased %d, address protection %d\n",
		f.corrected, f.voided, f.paused, f.droppedOut, f.erased, f.protected)
	return s
}
