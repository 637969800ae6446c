package domain

import (
	"testing"

	"github.com/google/uuid"
)

func TestStreamNames(t *testing.T) {
	id := testID(0xd0, 1)
	if s := ParticipantStream(id); s != "participant-d0000000-0000-4000-8000-000000000001" {
		t.Errorf("ParticipantStream = %s", s)
	}
	if got, err := ParseParticipantStream(ParticipantStream(id)); err != nil || got != id {
		t.Errorf("ParseParticipantStream = %s, %v", got, err)
	}
	if got, err := ParseEmployerStream(EmployerStream(id)); err != nil || got != id {
		t.Errorf("ParseEmployerStream = %s, %v", got, err)
	}
	if got, err := ParseProgrammeStream(ProgrammeStream("hope-bergen")); err != nil || got != "hope-bergen" {
		t.Errorf("ParseProgrammeStream = %s, %v", got, err)
	}
	bad := []string{
		"participant-D0000000-0000-4000-8000-000000000001", // not canonical
		"participant-{d0000000-0000-4000-8000-000000000001}",
		"participant-urn:uuid:d0000000-0000-4000-8000-000000000001",
		"participant-d00000000000400080000000000000001",
		"participant-d0000000-0000-4000-8000-00000000000A",
		"participant-" + uuid.Nil.String(),
		"participant-",
		"employer-d0000000-0000-4000-8000-000000000001",
		"Participant-d0000000-0000-4000-8000-000000000001",
	}
	for _, s := range bad {
		if _, err := ParseParticipantStream(s); err == nil {
			t.Errorf("ParseParticipantStream(%q) accepted", s)
		}
	}
	for _, s := range []string{"programme-", "programme-Hope", "programme-a/b", "participant-x"} {
		if _, err := ParseProgrammeStream(s); err == nil {
			t.Errorf("ParseProgrammeStream(%q) accepted", s)
		}
	}
	kinds := map[string]StreamKind{
		ParticipantStream(id):   StreamParticipant,
		EmployerStream(id):      StreamEmployer,
		ProgrammeStream("hope"): StreamProgramme,
		"$all":                  "",
		"audit-2026":            "",
	}
	for name, want := range kinds {
		if got := StreamKindOfName(name); got != want {
			t.Errorf("StreamKindOfName(%q) = %q, want %q", name, got, want)
		}
	}
}
