package domain

import "fmt"

func orgNumberWeights() []int { return []int{3, 2, 7, 6, 5, 4, 3, 2} }

// ValidateOrganisationNumber checks a 9-digit organisation number and its
// mod-11 check digit (weights 3,2,7,6,5,4,3,2; remainder 1 is never
// issued). Its error is an *InvalidError without a pointer.
func ValidateOrganisationNumber(s string) error {
	if len(s) != 9 || !allDigits(s) {
		return invalid("", CodeFormat, "an organisation number has exactly 9 digits")
	}
	var d [9]int
	for i := range d {
		d[i] = int(s[i] - '0')
	}
	k, ok := mod11(d[:8], orgNumberWeights())
	if !ok || k != d[8] {
		return invalid("", CodeCheckDigit, "the check digit of the organisation number does not match")
	}
	return nil
}

// CompleteOrganisationNumber appends the check digit to an 8-digit base,
// for fixtures and demo data. Real organisation numbers start with 8 or 9;
// a base starting with 3 cannot collide with one.
func CompleteOrganisationNumber(base string) (string, error) {
	if len(base) != 8 || !allDigits(base) {
		return "", fmt.Errorf("organisation number base must be 8 digits")
	}
	var d [8]int
	for i := range d {
		d[i] = int(base[i] - '0')
	}
	k, ok := mod11(d[:], orgNumberWeights())
	if !ok {
		return "", fmt.Errorf("organisation number base %s has no valid check digit", base)
	}
	return fmt.Sprintf("%s%d", base, k), nil
}
