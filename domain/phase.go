package domain

// Phase is a participant's step in Supported Employment's five-step model.
// It is derived from events, never recorded: see Participant.Phase.
type Phase int

// Phases; PhaseNone is a participant never enrolled.
const (
	PhaseNone               Phase = 0
	PhaseEngagement         Phase = 1 // enrolled, no plan yet
	PhaseVocationalProfile  Phase = 2 // a goal set or a baseline score recorded
	PhaseJobFinding         Phase = 3 // a work goal set or an employer contacted
	PhaseEmployerEngagement Phase = 4 // a placement running
	PhaseOngoingSupport     Phase = 5 // an ordinary or subsidised job running
)

// String is the phase's name in snake case, e.g. "job_finding".
func (ph Phase) String() string {
	switch ph {
	case PhaseEngagement:
		return "engagement"
	case PhaseVocationalProfile:
		return "vocational_profile"
	case PhaseJobFinding:
		return "job_finding"
	case PhaseEmployerEngagement:
		return "employer_engagement"
	case PhaseOngoingSupport:
		return "ongoing_support"
	}
	return "none"
}

// MarshalText writes the phase's name.
func (ph Phase) MarshalText() ([]byte, error) { return []byte(ph.String()), nil }

// Phase is the highest step the current episode's effective events reach.
// It can fall back: when a job ends, the participant is in job finding
// again. Only the current episode counts, so a re-enrolment starts at
// engagement. After exit it is the phase at exit; Status tells exited and
// paused apart.
func (p Participant) Phase() Phase {
	ep, ok := p.CurrentEpisode()
	if !ok {
		return PhaseNone
	}
	phase := PhaseEngagement
	raise := func(to Phase) {
		if to > phase {
			phase = to
		}
	}
	for _, pl := range p.Placements {
		if pl.Episode == ep.Number && pl.Open() {
			raise(PhaseEmployerEngagement)
			if pl.Kind.IsJob() {
				raise(PhaseOngoingSupport)
			}
		}
	}
	for _, g := range p.Goals {
		if g.Episode == ep.Number {
			raise(PhaseVocationalProfile)
			if g.Area == AreaWork {
				raise(PhaseJobFinding)
			}
		}
	}
	for _, c := range p.Contacts {
		if c.Episode == ep.Number {
			raise(PhaseJobFinding)
		}
	}
	for _, s := range p.Scores {
		if s.Episode == ep.Number && s.Timepoint == TimepointBaseline {
			raise(PhaseVocationalProfile)
		}
	}
	return phase
}
