package domain

import (
	"fmt"
	"time"
)

// NationalID is what an 11-digit Norwegian national id number tells: a
// fødselsnummer or a D-number, real or synthetic (from the national test
// data register, where 80 is added to the month).
type NationalID struct {
	Birth      Date
	DNumber    bool // the first digit had 4 added: a D-number for people without a fødselsnummer
	Synthetic  bool // the month had 80 added: a test number that cannot belong to a real person
	Individual int  // digits 7 to 9
}

// The weights of the two check digits, as functions so that the package
// holds no mutable state.
func nationalIDWeights1() []int { return []int{3, 7, 6, 1, 8, 9, 4, 5, 2} }
func nationalIDWeights2() []int { return []int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2} }

// ParseNationalID checks an 11-digit national id number: both mod-11 check
// digits, a real birth date (a D-number adds 4 to the first digit, a
// synthetic number 80 to the month) and an individual number that fits the
// century. Its error is an *InvalidError without a pointer and never
// contains the number.
func ParseNationalID(s string) (NationalID, error) {
	if len(s) != 11 || !allDigits(s) {
		return NationalID{}, invalid("", CodeFormat, "a national id number has exactly 11 digits")
	}
	var d [11]int
	for i := range d {
		d[i] = int(s[i] - '0')
	}
	k1, ok1 := mod11(d[:9], nationalIDWeights1())
	k2, ok2 := mod11(d[:10], nationalIDWeights2())
	if !ok1 || !ok2 || k1 != d[9] || k2 != d[10] {
		return NationalID{}, invalid("", CodeCheckDigit, "the check digits of the national id number do not match")
	}
	id := NationalID{Individual: d[6]*100 + d[7]*10 + d[8]}
	day := d[0]*10 + d[1]
	month := d[2]*10 + d[3]
	yy := d[4]*10 + d[5]
	if day > 40 {
		id.DNumber = true
		day -= 40
	}
	if month > 80 {
		id.Synthetic = true
		month -= 80
	}
	century, ok := centuryOf(id.Individual, yy)
	if !ok {
		return NationalID{}, invalid("", CodeFormat, "the individual number of the national id number does not fit its year")
	}
	birth, err := NewDate(century+yy, time.Month(month), day)
	if err != nil {
		return NationalID{}, invalid("", CodeFormat, "the date part of the national id number is not a real date")
	}
	id.Birth = birth
	return id, nil
}

// ValidNationalID reports whether s passes ParseNationalID.
func ValidNationalID(s string) bool {
	_, err := ParseNationalID(s)
	return err == nil
}

// centuryOf follows the ranges the population register assigns individual
// numbers from.
func centuryOf(individual, yy int) (int, bool) {
	switch {
	case individual <= 499:
		return 1900, true
	case individual <= 749 && yy >= 54:
		return 1800, true
	case individual >= 500 && yy <= 39:
		return 2000, true
	case individual >= 900 && yy >= 40:
		return 1900, true
	}
	return 0, false
}

// mod11 is the check digit for digits under weights: 11 minus the weighted
// sum modulo 11, where 11 becomes 0 and 10 has no check digit (false).
func mod11(digits, weights []int) (int, bool) {
	sum := 0
	for i, w := range weights {
		sum += digits[i] * w
	}
	k := 11 - sum%11
	switch k {
	case 11:
		return 0, true
	case 10:
		return 0, false
	}
	return k, true
}

// SyntheticNationalID builds the synthetic national id number (month + 80)
// for a birth date and an individual number (0 to 999, in the range that
// fits the birth year). About one individual number in five has no valid
// check digits; that is an error, and the caller tries the next one. Use it
// for fixtures and demo data, which must never hold a real person's number.
func SyntheticNationalID(birth Date, individual int) (string, error) {
	if birth.IsZero() {
		return "", fmt.Errorf("synthetic national id: a birth date is required")
	}
	if individual < 0 || individual > 999 {
		return "", fmt.Errorf("synthetic national id: individual number must be 0 to 999")
	}
	yy := birth.Year() % 100
	if c, ok := centuryOf(individual, yy); !ok || c+yy != birth.Year() {
		return "", fmt.Errorf("synthetic national id: individual number %d does not fit birth year %d", individual, birth.Year())
	}
	s := fmt.Sprintf("%02d%02d%02d%03d", birth.Day(), int(birth.Month())+80, yy, individual)
	var d [11]int
	for i := range 9 {
		d[i] = int(s[i] - '0')
	}
	k1, ok1 := mod11(d[:9], nationalIDWeights1())
	d[9] = k1
	k2, ok2 := mod11(d[:10], nationalIDWeights2())
	if !ok1 || !ok2 {
		return "", fmt.Errorf("synthetic national id: individual number %d gives no valid check digit for this date", individual)
	}
	return fmt.Sprintf("%s%d%d", s, k1, k2), nil
}
