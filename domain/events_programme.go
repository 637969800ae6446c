package domain

// ProgrammeDefined defines, or redefines, a programme and its targets; the
// latest definition holds.
type ProgrammeDefined struct {
	Slug    string   `json:"slug"`
	Name    string   `json:"name"`
	Targets []Target `json:"targets,omitempty"`
}

// Target is a programme's stated aim for one rate measure of measures.md,
// e.g. {"measure": "job_within_183d", "rate": 0.60}.
type Target struct {
	Measure MeasureID `json:"measure"`
	Rate    float64   `json:"rate"` // in (0, 1]
}

// EventType names the event.
func (ProgrammeDefined) EventType() string { return TypeProgrammeDefined }
