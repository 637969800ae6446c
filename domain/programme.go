package domain

import (
	"math"
	"strconv"
)

// Programme is the state of one programme stream: its latest definition.
type Programme struct {
	Defined bool
	Slug    string
	Name    string
	Targets []Target
	Version int // how many definitions the stream holds
}

// Target returns the programme's target rate for a measure.
func (p Programme) Target(m MeasureID) (float64, bool) {
	for _, t := range p.Targets {
		if t.Measure == m {
			return t.Rate, true
		}
	}
	return 0, false
}

// FoldProgramme computes a programme's state from its stream.
func FoldProgramme(history []Recorded) Programme {
	var p Programme
	for _, r := range history {
		if ev, ok := deref(r.Event).(ProgrammeDefined); ok {
			p = Programme{Defined: true, Slug: ev.Slug, Name: ev.Name, Targets: ev.Targets, Version: p.Version + 1}
		}
	}
	return p
}

// DefineProgrammeCommand is the body of DefineProgramme.
type DefineProgrammeCommand ProgrammeDefined

// DefineProgramme defines a programme, or redefines it (new name or
// targets) under the same slug.
func DefineProgramme(p Programme, cmd DefineProgrammeCommand) ([]Event, error) {
	v := &validator{}
	v.slug("/slug", cmd.Slug)
	v.line("/name", cmd.Name, MaxNameLen, true)
	if len(cmd.Targets) > MaxTargets {
		v.fail("/targets", CodeTooLong, "must list at most 20 targets")
	}
	seen := map[MeasureID]bool{}
	for i, t := range cmd.Targets {
		ptr := "/targets/" + strconv.Itoa(i)
		v.enum(ptr+"/measure", t.Measure == "", t.Measure.Valid())
		if seen[t.Measure] {
			v.fail(ptr+"/measure", CodeDuplicate, "each measure may have one target")
		}
		seen[t.Measure] = true
		if !(t.Rate > 0 && t.Rate <= 1) || math.IsNaN(t.Rate) {
			v.fail(ptr+"/rate", CodeOutOfRange, "must be above 0 and at most 1")
		}
	}
	if err := v.result(); err != nil {
		return nil, err
	}
	if p.Defined && p.Slug != cmd.Slug {
		return nil, rejected("/slug", CodeSlugMismatch, "must be the slug the programme was defined with")
	}
	return []Event{ProgrammeDefined(cmd)}, nil
}
