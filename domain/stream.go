package domain

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Stream name prefixes, also usable as subscription filters.
const (
	ParticipantStreamPrefix = "participant-"
	EmployerStreamPrefix    = "employer-"
	ProgrammeStreamPrefix   = "programme-"
)

// ParticipantStream is the stream of one participant: "participant-<uuid>".
func ParticipantStream(id uuid.UUID) string { return ParticipantStreamPrefix + id.String() }

// EmployerStream is the stream of one employer: "employer-<uuid>".
func EmployerStream(id uuid.UUID) string { return EmployerStreamPrefix + id.String() }

// ProgrammeStream is the stream of one programme: "programme-<slug>". The
// slug should pass ValidSlug; ParseProgrammeStream refuses one that does
// not.
func ProgrammeStream(slug string) string { return ProgrammeStreamPrefix + slug }

// ParseParticipantStream returns the participant id of a participant
// stream name.
func ParseParticipantStream(name string) (uuid.UUID, error) {
	return parseUUIDStream(name, ParticipantStreamPrefix)
}

// ParseEmployerStream returns the employer id of an employer stream name.
func ParseEmployerStream(name string) (uuid.UUID, error) {
	return parseUUIDStream(name, EmployerStreamPrefix)
}

// ParseProgrammeStream returns the slug of a programme stream name.
func ParseProgrammeStream(name string) (string, error) {
	slug, ok := strings.CutPrefix(name, ProgrammeStreamPrefix)
	if !ok || !ValidSlug(slug) {
		return "", fmt.Errorf("not a programme stream name: want %s<slug>", ProgrammeStreamPrefix)
	}
	return slug, nil
}

// parseUUIDStream accepts only the canonical lower-case form, so that one
// id has exactly one stream name.
func parseUUIDStream(name, prefix string) (uuid.UUID, error) {
	s, ok := strings.CutPrefix(name, prefix)
	if ok {
		// Only the canonical form names a stream: 36 characters (uuid.Parse
		// takes others too), lower-case hex, which is what String writes,
		// checked without writing it: every event a read model applies
		// comes here.
		if id, err := uuid.Parse(s); err == nil && id != uuid.Nil && len(s) == 36 && !strings.ContainsAny(s, "ABCDEF") {
			return id, nil
		}
	}
	return uuid.Nil, fmt.Errorf("not a stream name of the form %s<uuid>", prefix)
}

// StreamKindOfName is the kind of a stream name, or "" when it is none of
// the domain's.
func StreamKindOfName(name string) StreamKind {
	if _, err := ParseParticipantStream(name); err == nil {
		return StreamParticipant
	}
	if _, err := ParseEmployerStream(name); err == nil {
		return StreamEmployer
	}
	if _, err := ParseProgrammeStream(name); err == nil {
		return StreamProgramme
	}
	return ""
}
