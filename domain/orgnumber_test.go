package domain

import (
	"errors"
	"testing"
	"time"
)

func timeMonth(m int) time.Month { return time.Month(m) }

func TestValidateOrganisationNumber(t *testing.T) {
	valid := []string{
		"974760673", // Brønnøysundregistrene, a public body: a published example
		"310000000", // remainder 0 gives check digit 0
		"310000019",
		"310000027",
	}
	for _, s := range valid {
		if err := ValidateOrganisationNumber(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	invalid := map[string]string{
		"974760674":   CodeCheckDigit,
		"974760670":   CodeCheckDigit,
		"310000010":   CodeCheckDigit,
		"97476067":    CodeFormat,
		"9747606730":  CodeFormat,
		"97476067A":   CodeFormat,
		"974 760 673": CodeFormat,
		"":            CodeFormat,
	}
	for s, code := range invalid {
		err := ValidateOrganisationNumber(s)
		var ie *InvalidError
		if !errors.As(err, &ie) || ie.Code != code {
			t.Errorf("%q: got %v, want code %s", s, err, code)
		}
	}
	// Remainder 1 is never issued: no check digit completes such a base.
	base := "31000004" // weighted sum 76, remainder 10 -> k=1; find one with remainder 1 instead
	for i := range 100 {
		b := base[:6] + string(rune('0'+i/10)) + string(rune('0'+i%10))
		if _, err := CompleteOrganisationNumber(b); err != nil {
			for k := range 10 {
				if ValidateOrganisationNumber(b+string(rune('0'+k))) == nil {
					t.Fatalf("%s%d accepted, but its base has no check digit", b, k)
				}
			}
			return
		}
	}
	t.Fatal("found no base with remainder 1")
}

func TestCompleteOrganisationNumber(t *testing.T) {
	got, err := CompleteOrganisationNumber("97476067")
	if err != nil || got != "974760673" {
		t.Errorf("CompleteOrganisationNumber(97476067) = %s, %v", got, err)
	}
	if _, err := CompleteOrganisationNumber("1234567"); err == nil {
		t.Error("a 7-digit base must be refused")
	}
}

func FuzzValidateOrganisationNumber(f *testing.F) {
	for _, s := range []string{"974760673", "974760674", "", "12345678x", "000000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateOrganisationNumber(s) != nil {
			return
		}
		if len(s) != 9 || !allDigits(s) {
			t.Fatalf("accepted %q, which is not 9 digits", s)
		}
		if again, err := CompleteOrganisationNumber(s[:8]); err != nil || again != s {
			t.Fatalf("accepted %q with a wrong check digit", s)
		}
	})
}
