// Package stats computes the outcome measures of measures.md (definitions
// v1) from the event log: episodes are built from the participant streams
// as they were known at a point of the log, corrections and voids applied,
// then measured, and every figure shown passes disclosure control.
//
// The package reads only public members: personal sections are stripped
// before events are decoded, so no key is needed and none is opened.
package stats

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/audit"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/personaldata"
)

// LogReader is the part of an event store statistics need: the log, and
// the participant streams a correction or void is folded again from.
type LogReader interface {
	ReadAll(ctx context.Context, opts eventstore.ReadAllOptions) ([]eventstore.RecordedEvent, error)
	StreamReader
}

// pageSize is how many events one ReadAll page holds.
const pageSize = 1000

// Placement is a placement as the measures see it. End is zero while it is
// open (or when it ended after as_of); the end date is the last day of the
// placement.
type Placement struct {
	Kind  domain.PlacementKind
	Start domain.Date
	End   domain.Date
}

// Exit is how an episode ended.
type Exit struct {
	Date        domain.Date
	Reason      domain.ExitReason
	Destination domain.Destination
}

// Period is a span of days from From; To is the first day after it, zero
// while it lasts.
type Period struct {
	From, To domain.Date
}

// IncomeSource is a main income source from a date on.
type IncomeSource struct {
	From   domain.Date
	Source domain.IncomeSource
}

// Episode is one enrolment with exactly the facts the measures use, as of
// a business date: nothing dated after it is kept, and an exit after it
// leaves the episode open.
type Episode struct {
	// Stream is the participant stream; Number the episode's number in it.
	Stream      string
	Number      int
	EnrolmentID uuid.UUID
	Programme   string
	Office      string
	EnrolledOn  domain.Date
	Profile     domain.Profile
	Exit        *Exit // nil while open on as_of
	Paused      bool  // paused on as_of
	Placements  []Placement
	// IncomeSources starts with the source at intake, then each change, in
	// recorded order.
	IncomeSources []IncomeSource
	Pauses        []Period
	Meetings      []domain.Date // sorted
	// Baseline is the episode's baseline score (the last recorded), End
	// its last end score by date; nil when there is none.
	Baseline, End *domain.Scores
}

// Status is active, paused or exited on as_of.
func (e Episode) Status() domain.Status {
	switch {
	case e.Exit != nil:
		return domain.StatusExited
	case e.Paused:
		return domain.StatusPaused
	}
	return domain.StatusActive
}

// Log is what was read of the event log up to a point.
type Log struct {
	// Position is the position of the last event read (0 for an empty log).
	Position uint64
	// EventsRead counts the events read, of every stream, up to the point.
	EventsRead int
	// Participants holds each participant stream's events, in stream order.
	Participants map[string][]domain.Recorded
	// Programmes holds each programme's latest definition as read, with
	// the id of the event that made it.
	Programmes map[string]ProgrammeDefinition
}

// ProgrammeDefinition is a programme's latest definition.
type ProgrammeDefinition struct {
	EventID uuid.UUID
	domain.ProgrammeDefined
}

// ReadLog reads the global log forwards, in pages, up to known (the zero
// KnownAt reads to the head), and keeps the participant and programme
// streams, decoded without their personal sections.
func ReadLog(ctx context.Context, store LogReader, known audit.KnownAt) (Log, error) {
	out := Log{Participants: map[string][]domain.Recorded{}, Programmes: map[string]ProgrammeDefinition{}}
	var from uint64
	for {
		page, err := store.ReadAll(ctx, eventstore.ReadAllOptions{From: from, Limit: pageSize})
		if err != nil {
			return Log{}, fmt.Errorf("statistics: read the log after position %d: %w", from, err)
		}
		for _, ev := range page {
			if known.Position != 0 && ev.Position > known.Position {
				return out, nil
			}
			participant := strings.HasPrefix(ev.Stream, domain.ParticipantStreamPrefix)
			programme := strings.HasPrefix(ev.Stream, domain.ProgrammeStreamPrefix)
			if !known.Time.IsZero() {
				meta, err := domain.DecodeMetadata(ev.Metadata)
				if err != nil {
					return Log{}, fmt.Errorf("statistics: event at position %d: %w", ev.Position, err)
				}
				if meta.RecordedAt.After(known.Time) {
					return out, nil
				}
			}
			var r domain.Recorded
			if participant || programme {
				if r, err = decode(ev); err != nil {
					return Log{}, err
				}
			}
			out.Position, from = ev.Position, ev.Position
			out.EventsRead++
			switch {
			case participant:
				out.Participants[ev.Stream] = append(out.Participants[ev.Stream], r)
			case programme:
				if def, ok := r.Event.(domain.ProgrammeDefined); ok {
					out.Programmes[def.Slug] = ProgrammeDefinition{EventID: r.ID, ProgrammeDefined: def}
				}
			}
		}
		if len(page) < pageSize {
			return out, nil
		}
	}
}

// decode decodes one stored event without its personal member, which is
// sealed and not needed: statistics never open it.
func decode(ev eventstore.RecordedEvent) (domain.Recorded, error) {
	data, err := personaldata.StripPersonal(ev.Data)
	if err != nil {
		return domain.Recorded{}, fmt.Errorf("statistics: event at position %d: %w", ev.Position, err)
	}
	// A correction's replacement keeps its personal section inside the
	// correction's own personal member, so it goes with it.
	r, err := domain.DecodeRecorded(ev.ID, ev.Stream, ev.Revision, ev.Position, ev.Type, data, ev.Metadata)
	if err != nil {
		return domain.Recorded{}, fmt.Errorf("statistics: %w", err)
	}
	return r, nil
}

// Episodes folds each participant stream (corrections and voids applied)
// and returns its episodes as of asOf, in stream-name order, then episode
// order, with the streams each came from.
func (l Log) Episodes(asOf domain.Date) []Episode {
	streams := make([]string, 0, len(l.Participants))
	for s := range l.Participants {
		streams = append(streams, s)
	}
	slices.Sort(streams)
	var out []Episode
	for _, s := range streams {
		out = append(out, EpisodesOf(s, domain.FoldParticipant(l.Participants[s]), asOf)...)
	}
	return out
}

// EpisodesOf returns a folded participant's episodes as of asOf: an
// episode enrolled after asOf is left out, and every fact dated after it
// is ignored.
func EpisodesOf(stream string, p domain.Participant, asOf domain.Date) []Episode {
	var out []Episode
	for _, ep := range p.Episodes {
		if ep.EnrolledOn.After(asOf) {
			continue
		}
		e := Episode{
			Stream: stream, Number: ep.Number, EnrolmentID: ep.EnrolmentID, Programme: ep.Programme,
			Office: ep.Office, EnrolledOn: ep.EnrolledOn, Profile: ep.Profile,
		}
		if ep.Exit != nil && !ep.Exit.Date.After(asOf) {
			e.Exit = &Exit{Date: ep.Exit.Date, Reason: ep.Exit.Reason, Destination: ep.Exit.Destination}
		}
		for _, pl := range p.Placements {
			if pl.Episode != ep.Number || pl.StartedOn.After(asOf) {
				continue
			}
			x := Placement{Kind: pl.Kind, Start: pl.StartedOn}
			if !pl.EndedOn.IsZero() && !pl.EndedOn.After(asOf) {
				x.End = pl.EndedOn
			}
			e.Placements = append(e.Placements, x)
		}
		for _, s := range p.IncomeSources {
			if s.Episode == ep.Number && !s.From.After(asOf) {
				e.IncomeSources = append(e.IncomeSources, IncomeSource{From: s.From, Source: s.Source})
			}
		}
		for _, ps := range p.Pauses {
			if ps.Episode != ep.Number || ps.From.After(asOf) {
				continue
			}
			x := Period{From: ps.From}
			if !ps.To.IsZero() && !ps.To.After(asOf) {
				x.To = ps.To
			}
			e.Pauses = append(e.Pauses, x)
		}
		if e.Exit == nil && len(e.Pauses) > 0 && e.Pauses[len(e.Pauses)-1].To.IsZero() {
			e.Paused = true
		}
		for _, m := range p.Meetings {
			if m.Episode == ep.Number && !m.Date.After(asOf) {
				e.Meetings = append(e.Meetings, m.Date)
			}
		}
		slices.SortStableFunc(e.Meetings, domain.Date.Compare)
		var endOn domain.Date
		for _, s := range p.Scores {
			if s.Episode != ep.Number || s.Date.After(asOf) ||
				s.Instrument != domain.InstrumentIndicatorIndex || s.InstrumentVersion != domain.IndicatorIndexVersion {
				continue
			}
			sc := s.Scores
			switch s.Timepoint {
			case domain.TimepointBaseline:
				e.Baseline = &sc
			case domain.TimepointEnd:
				if e.End == nil || !s.Date.Before(endOn) {
					e.End, endOn = &sc, s.Date
				}
			}
		}
		out = append(out, e)
	}
	return out
}
