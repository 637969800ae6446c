package caseload

import (
	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
)

// FlagsOf is the caseload's flags of a participant's folded state on
// today, for a view that holds the state rather than a row (the
// participant overview): the row the state folds to, flagged by the same
// code as the list. None for a participant never enrolled, whom the list
// does not show either.
func FlagsOf(p domain.Participant, today domain.Date) []Flag {
	if _, ok := p.CurrentEpisode(); !ok {
		return []Flag{}
	}
	return rowOf(uuid.Nil, p).view(dayOf(today)).Flags
}
