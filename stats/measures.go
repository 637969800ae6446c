package stats

import (
	"github.com/caseledger/caseledger/domain"
)

// Windows of measures.md, in days.
const (
	jobWindowDays     = 183
	maxJobGapDays     = 14
	weekDays          = 7
	retentionShortDay = 90
	retentionLongDay  = 180
)

// survivalTimes are the days S(t) is reported at.
var survivalTimes = [...]int{90, 183, 365}

// Measures are the figures of one report, in the order of measures.md.
type Measures struct {
	Enrolled                  Enrolled          `json:"enrolled"`
	JobWithin183d             Rate              `json:"job_within_183d"`
	WorkOrEducationAtExit     Rate              `json:"work_or_education_at_exit"`
	TimeToFirstJob            TimeToJob         `json:"time_to_first_job"`
	Retention90d              Rate              `json:"retention_90d"`
	Retention180d             Rate              `json:"retention_180d"`
	IndexChange               []DimensionChange `json:"index_change"`
	OffSocialAssistanceAtExit Rate              `json:"off_social_assistance_at_exit"`
	ContactIntensity          ContactIntensity  `json:"contact_intensity"`
}

// Enrolled counts the cohort's episodes.
type Enrolled struct {
	Episodes     Count      `json:"episodes"`
	ByStatus     []Category `json:"by_status"`
	ByExitReason []Category `json:"by_exit_reason"`
}

// Category is one count of a breakdown.
type Category struct {
	Key   string `json:"key"`
	Count Count  `json:"count"`
}

// Rate is a proportion with its Wilson interval.
type Rate struct {
	Numerator   Count `json:"numerator"`
	Denominator Count `json:"denominator"`
	Rate        Value `json:"rate"`
	Lower       Value `json:"lower"`
	Upper       Value `json:"upper"`
	// Target is the programme's target for the measure (null without one,
	// or for a cohort of several programmes); MeetsTarget whether the point
	// estimate reaches it.
	Target      *Value `json:"target,omitempty"`
	MeetsTarget *Flag  `json:"meets_target,omitempty"`
}

// rate builds a Rate of x out of n under the disclosure rule. A suppressed
// rate hides its numerator too, which with the denominator would give it
// away.
func rate(x, n, k int) Rate {
	r := Rate{Numerator: count(x, k), Denominator: count(n, k)}
	if n == 0 {
		return r
	}
	hide := rateSuppressed(x, n, k)
	lo, hi := Wilson(x, n)
	r.Rate = value(float64(x) / float64(n)).suppress(hide)
	r.Lower, r.Upper = value(lo).suppress(hide), value(hi).suppress(hide)
	if hide {
		r.Numerator = Count{Suppressed: true}
	}
	return r
}

// withTarget adds a target to a rate measure that has one.
func (r Rate) withTarget(targets []domain.Target, id domain.MeasureID, x, n, k int) Rate {
	r.Target, r.MeetsTarget = nil, nil
	for _, t := range targets {
		if t.Measure != id {
			continue
		}
		tv := value(t.Rate)
		r.Target = &tv
		f := Flag{}
		switch {
		case n > 0 && rateSuppressed(x, n, k):
			f.Suppressed = true
		case n > 0:
			f.B, f.Defined = float64(x)/float64(n) >= t.Rate, true
		}
		r.MeetsTarget = &f
	}
	return r
}

// Measure computes every measure over a cohort's episodes.
func Measure(eps []Episode, asOf domain.Date, targets []domain.Target, k int) Measures {
	var m Measures
	m.Enrolled = enrolled(eps, k)

	x, n := jobWithin183d(eps, asOf)
	m.JobWithin183d = rate(x, n, k).withTarget(targets, domain.MeasureJobWithin183d, x, n, k)
	x, n = workOrEducationAtExit(eps)
	m.WorkOrEducationAtExit = rate(x, n, k).withTarget(targets, domain.MeasureWorkOrEducationAtExit, x, n, k)
	m.TimeToFirstJob = timeToFirstJob(eps, asOf, k)
	x, n = retention(eps, asOf, retentionShortDay)
	m.Retention90d = rate(x, n, k).withTarget(targets, domain.MeasureRetention90d, x, n, k)
	x, n = retention(eps, asOf, retentionLongDay)
	m.Retention180d = rate(x, n, k).withTarget(targets, domain.MeasureRetention180d, x, n, k)
	m.IndexChange = indexChange(eps, k)
	x, n = offSocialAssistance(eps)
	m.OffSocialAssistanceAtExit = rate(x, n, k).withTarget(targets, domain.MeasureOffSocialAssistanceAtExit, x, n, k)
	m.ContactIntensity = contactIntensity(eps, asOf, k)
	return m
}

func enrolled(eps []Episode, k int) Enrolled {
	out := Enrolled{Episodes: count(len(eps), k)}
	for _, st := range []domain.Status{domain.StatusActive, domain.StatusPaused, domain.StatusExited} {
		n := 0
		for _, e := range eps {
			if e.Status() == st {
				n++
			}
		}
		out.ByStatus = append(out.ByStatus, Category{Key: string(st), Count: count(n, k)})
	}
	for _, r := range domain.ExitReasons() {
		n := 0
		for _, e := range eps {
			if e.Exit != nil && e.Exit.Reason == r {
				n++
			}
		}
		out.ByExitReason = append(out.ByExitReason, Category{Key: string(r), Count: count(n, k)})
	}
	return out
}

// firstJob is the start of the episode's first ordinary job, started on or
// after enrolment and not after exit.
func firstJob(e Episode) (domain.Date, bool) {
	var first domain.Date
	found := false
	for _, p := range e.Placements {
		if p.Kind != domain.PlacementOrdinaryJob || p.Start.Before(e.EnrolledOn) ||
			(e.Exit != nil && p.Start.After(e.Exit.Date)) {
			continue
		}
		if !found || p.Start.Before(first) {
			first, found = p.Start, true
		}
	}
	return first, found
}

func jobWithin183d(eps []Episode, asOf domain.Date) (x, n int) {
	last := asOf.AddDays(-jobWindowDays)
	for _, e := range eps {
		if e.EnrolledOn.After(last) {
			continue
		}
		n++
		if start, ok := firstJob(e); ok && !start.After(e.EnrolledOn.AddDays(jobWindowDays)) {
			x++
		}
	}
	return x, n
}

func workOrEducationAtExit(eps []Episode) (x, n int) {
	for _, e := range eps {
		if e.Exit == nil {
			continue
		}
		n++
		if e.Exit.Destination == domain.DestinationOrdinaryJob || e.Exit.Destination == domain.DestinationEducation {
			x++
			continue
		}
		for _, p := range e.Placements {
			if (p.Kind == domain.PlacementOrdinaryJob || p.Kind == domain.PlacementEducation) && p.openOn(e.Exit.Date) {
				x++
				break
			}
		}
	}
	return x, n
}

// jobObservation is an episode's time to its first ordinary job, or to
// its censoring at exit or as_of.
func jobObservation(e Episode, asOf domain.Date) Observation {
	if start, ok := firstJob(e); ok {
		return Observation{Time: start.DaysSince(e.EnrolledOn), Event: true}
	}
	end := asOf
	if e.Exit != nil {
		end = e.Exit.Date
	}
	return Observation{Time: end.DaysSince(e.EnrolledOn)}
}

// employedOn reports whether day d is inside an ordinary job of e, or in a
// gap of at most 14 days (the days strictly between the one job's last day
// and the next one's first) between two ordinary jobs.
func employedOn(e Episode, d domain.Date) bool {
	var jobs []Placement
	for _, p := range e.Placements {
		if p.Kind == domain.PlacementOrdinaryJob {
			jobs = append(jobs, p)
		}
	}
	for _, p := range jobs {
		if p.openOn(d) {
			return true
		}
	}
	for _, a := range jobs {
		if a.End.IsZero() || !a.End.Before(d) {
			continue
		}
		for _, b := range jobs {
			if b.Start.After(d) && b.Start.DaysSince(a.End)-1 <= maxJobGapDays {
				return true
			}
		}
	}
	return false
}

func retention(eps []Episode, asOf domain.Date, days int) (x, n int) {
	for _, e := range eps {
		start, ok := firstJob(e)
		if !ok || start.After(asOf.AddDays(-days)) {
			continue
		}
		n++
		if employedOn(e, start.AddDays(days)) {
			x++
		}
	}
	return x, n
}

func offSocialAssistance(eps []Episode) (x, n int) {
	for _, e := range eps {
		if e.Exit == nil || e.Profile.IncomeSource != domain.IncomeSocialAssistance {
			continue
		}
		n++
		src := e.Profile.IncomeSource
		var best domain.Date
		for _, s := range e.IncomeSources {
			// The last change dated on or before the exit, in recorded
			// order among changes of the same date.
			if !s.From.After(e.Exit.Date) && !s.From.Before(best) {
				src, best = s.Source, s.From
			}
		}
		if src != domain.IncomeSocialAssistance {
			x++
		}
	}
	return x, n
}
