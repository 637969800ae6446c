package stats

import "testing"

// A p-value of 1e-9 must not print as 0: probabilities keep six
// significant digits, other figures six decimals.
func TestValueFormatting(t *testing.T) {
	for _, tt := range []struct {
		name string
		v    Value
		want string
	}{
		{"rate", value(0.5), "0.500000"},
		{"negative zero", value(-0.0000001), "0.000000"},
		{"tiny p-value", significant(1.23456789e-9), "1.23457e-09"},
		{"ordinary p-value", significant(0.0110558), "0.0110558"},
		{"p of one", significant(1), "1"},
		{"suppressed p", significant(0.2).suppress(true), SuppressedCSV},
	} {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
