package domain

import (
	"errors"
	"strings"
	"testing"
)

// withCheckDigits completes a 9-digit base with both check digits, written
// independently of the code under test; false when remainder 1 leaves no
// check digit. Every base used below has a synthetic month (+80) or a birth
// date after today, so no number here can belong to a living person.
func withCheckDigits(base string) (string, bool) {
	digit := func(s string, weights []int) (byte, bool) {
		sum := 0
		for i, w := range weights {
			sum += int(s[i]-'0') * w
		}
		switch r := sum % 11; r {
		case 0:
			return '0', true
		case 1:
			return 0, false
		default:
			return byte('0' + 11 - r), true
		}
	}
	k1, ok1 := digit(base, []int{3, 7, 6, 1, 8, 9, 4, 5, 2})
	if !ok1 {
		return "", false
	}
	k2, ok2 := digit(base+string(k1), []int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2})
	if !ok2 {
		return "", false
	}
	return base + string(k1) + string(k2), true
}

func TestParseNationalIDAccepts(t *testing.T) {
	cases := []struct {
		id        string
		birth     string
		dnumber   bool
		synthetic bool
	}{
		{"17909010136", "1990-10-17", false, true},  // synthetic fødselsnummer (month 10 + 80), individual 101
		{"17909010217", "1990-10-17", false, true},  // individual 102
		{"31123950057", "2039-12-31", false, false}, // real layout, birth date after today
		{"71123950040", "2039-12-31", true, false},  // D-number: 31 + 40
		{"71923950006", "2039-12-31", true, true},   // synthetic D-number
		{"01923860041", "2038-12-01", false, true},  // remainder 0 gives check digit 0
	}
	for _, c := range cases {
		got, err := ParseNationalID(c.id)
		if err != nil {
			t.Errorf("%s: %v", c.id, err)
			continue
		}
		if got.Birth != d(c.birth) || got.DNumber != c.dnumber || got.Synthetic != c.synthetic {
			t.Errorf("%s = %+v, want birth %s dnumber %v synthetic %v", c.id, got, c.birth, c.dnumber, c.synthetic)
		}
	}
}

func TestParseNationalIDRejects(t *testing.T) {
	complete := func(base string) string {
		s, ok := withCheckDigits(base)
		if !ok {
			t.Fatalf("base %s has no check digits; choose another", base)
		}
		return s
	}
	cases := []struct {
		name, id, code string
	}{
		{"second check digit wrong", "17909010137", CodeCheckDigit},
		{"first check digit wrong", "17909010126", CodeCheckDigit},
		{"digits swapped", "71909010136", CodeCheckDigit},
		{"ten digits", "1790901013", CodeFormat},
		{"twelve digits", "179090101360", CodeFormat},
		{"a letter", "1790901013A", CodeFormat},
		{"a space", "179090 10136", CodeFormat},
		{"empty", "", CodeFormat},
		{"30 February (synthetic)", complete("308290101"), CodeFormat},
		{"29 February in a common year", complete("298226500"), CodeFormat},
		{"month 13", complete("019339501"), CodeFormat},
		{"help number, month + 40", complete("014539500"), CodeFormat},
		{"D-number day 32", complete("729239500"), CodeFormat},
		{"day 0", complete("008190101"), CodeFormat},
		{"individual 750 in year 45", complete("018145750"), CodeFormat},
		{"individual 500 in year 40", complete("018140500"), CodeFormat},
	}
	for _, c := range cases {
		_, err := ParseNationalID(c.id)
		var ie *InvalidError
		if !errors.As(err, &ie) || ie.Code != c.code {
			t.Errorf("%s (%s): got %v, want code %s", c.name, c.id, err, c.code)
			continue
		}
		if c.id != "" && strings.Contains(err.Error(), c.id) {
			t.Errorf("%s: the error quotes the number", c.name)
		}
	}
	// A base whose first check digit would be 10 has no valid number at all.
	for k := range 100 {
		s := "179090103" + string(rune('0'+k/10)) + string(rune('0'+k%10))
		if ValidNationalID(s) {
			t.Fatalf("%s accepted, but remainder 1 leaves no check digit", s)
		}
	}
}

func TestCenturyFromIndividualNumber(t *testing.T) {
	cases := []struct {
		base  string // synthetic month (+80) throughout
		birth string
	}{
		{"018190000", "1990-01-01"}, // 000-499: 1900s
		{"018190490", "1990-01-01"},
		{"018160500", "1860-01-01"}, // 500-749 with year >= 54: 1800s
		{"018154740", "1854-01-01"},
		{"018100500", "2000-01-01"}, // 500-999 with year <= 39: 2000s
		{"018139990", "2039-01-01"},
		{"018140900", "1940-01-01"}, // 900-999 with year >= 40: 1900s
	}
	for _, c := range cases {
		for indiv := 0; ; indiv++ { // vary the last individual digit until check digits exist
			base := c.base[:8] + string(rune(c.base[8]+byte(indiv)))
			if indiv > 0 && c.base[8]+byte(indiv) > '9' {
				t.Fatalf("%s: no valid check digits", c.base)
			}
			id, ok := withCheckDigits(base)
			if !ok {
				continue
			}
			got, err := ParseNationalID(id)
			if err != nil || got.Birth != d(c.birth) {
				t.Errorf("%s: %+v, %v; want birth %s", id, got, err, c.birth)
			}
			break
		}
	}
}

func TestSyntheticNationalID(t *testing.T) {
	made := 0
	for indiv := range 500 {
		s, err := SyntheticNationalID(d("1985-07-09"), indiv)
		if err != nil {
			continue
		}
		made++
		id, err := ParseNationalID(s)
		if err != nil || !id.Synthetic || id.DNumber || id.Birth != d("1985-07-09") || id.Individual != indiv {
			t.Fatalf("SyntheticNationalID(1985-07-09, %d) = %s, parsed %+v, %v", indiv, s, id, err)
		}
	}
	if made < 350 {
		t.Errorf("only %d of 500 individual numbers gave a synthetic id", made)
	}
	if _, err := SyntheticNationalID(d("1985-07-09"), 600); err == nil {
		t.Error("individual 600 does not fit 1985 and must be refused")
	}
	if _, err := SyntheticNationalID(d("2045-01-01"), 600); err == nil {
		t.Error("2045 has no individual number range and must be refused")
	}
	if _, err := SyntheticNationalID(Date{}, 1); err == nil {
		t.Error("the zero Date must be refused")
	}
	if s, err := SyntheticNationalID(d("2005-03-01"), 500); err == nil && !ValidNationalID(s) {
		t.Errorf("2000s synthetic id %s not valid", s)
	}
}

func FuzzParseNationalID(f *testing.F) {
	for _, s := range []string{"17909010136", "71923950006", "31123950057", "17909010137", "", "0000000000a", "99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseNationalID(s)
		if err != nil {
			if strings.Contains(err.Error(), s) && len(s) >= 4 {
				t.Fatalf("error quotes the input: %v", err)
			}
			return
		}
		if len(s) != 11 || !allDigits(s) {
			t.Fatalf("accepted %q, which is not 11 digits", s)
		}
		if id.Birth.IsZero() {
			t.Fatalf("accepted %q without a birth date", s)
		}
		if again, ok := withCheckDigits(s[:9]); !ok || again != s {
			t.Fatalf("accepted %q with wrong check digits", s)
		}
	})
}

func FuzzSyntheticNationalID(f *testing.F) {
	f.Add(1990, 10, 17, 101)
	f.Add(2039, 12, 31, 999)
	f.Fuzz(func(t *testing.T, y, m, day, indiv int) {
		birth, err := NewDate(y, timeMonth(m), day)
		if err != nil {
			return
		}
		s, err := SyntheticNationalID(birth, indiv)
		if err != nil {
			return
		}
		id, err := ParseNationalID(s)
		if err != nil || !id.Synthetic || id.Birth != birth {
			t.Fatalf("SyntheticNationalID(%s, %d) = %s: %+v, %v", birth, indiv, s, id, err)
		}
	})
}
