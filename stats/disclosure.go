package stats

import (
	"math"
	"strconv"
)

// DefaultK is the disclosure threshold when none is given.
const DefaultK = 5

// suppressedJSON is how every suppressed figure reads in JSON.
const suppressedJSON = `{"suppressed":true}`

// SuppressedCSV is how a suppressed figure reads in CSV.
const SuppressedCSV = "suppressed"

// decimals is the fixed number of decimals of every non-integer figure.
const decimals = 6

// Count is a count as shown: its value, or suppressed.
type Count struct {
	N          int
	Suppressed bool
}

// count applies the rule for counts: 1 to k-1 is suppressed.
func count(n, k int) Count { return Count{N: n, Suppressed: smallCell(n, k)} }

// protect hides a second cell of a group whose total is shown elsewhere
// when exactly one of its cells is hidden: the total less the cells shown
// would tell the hidden one. The smallest cell shown that is not 0 goes
// with it.
func protect(cells []Category) {
	hidden, smallest := 0, -1
	for i, c := range cells {
		switch {
		case c.Count.Suppressed:
			hidden++
		case c.Count.N > 0 && (smallest < 0 || c.Count.N < cells[smallest].Count.N):
			smallest = i
		}
	}
	if hidden == 1 && smallest >= 0 {
		cells[smallest].Count.Suppressed = true
	}
}

// smallCell reports whether n is between 1 and k-1.
func smallCell(n, k int) bool { return n >= 1 && n < k }

// MarshalJSON writes the count or {"suppressed":true}.
func (c Count) MarshalJSON() ([]byte, error) {
	if c.Suppressed {
		return []byte(suppressedJSON), nil
	}
	return strconv.AppendInt(nil, int64(c.N), 10), nil
}

// String is the count as CSV shows it.
func (c Count) String() string {
	if c.Suppressed {
		return SuppressedCSV
	}
	return strconv.Itoa(c.N)
}

// Value is a non-integer figure as shown: its value with six decimals (six
// significant digits for a probability, see significant), suppressed, or
// null where it is not defined (no episodes, no variance).
type Value struct {
	V          float64
	Defined    bool
	Suppressed bool
	// Significant writes six significant digits instead of six decimals.
	Significant bool
}

// significant is a value whose size matters more than its decimals, such as
// a p-value: six decimals would show a p of 1e-9 as 0, which no test can
// give.
func significant(v float64) Value {
	out := value(v)
	out.Significant = true
	return out
}

func value(v float64) Value {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Value{}
	}
	return Value{V: v, Defined: true}
}

// suppress marks v suppressed when hide is true.
func (v Value) suppress(hide bool) Value {
	if hide {
		return Value{Suppressed: true}
	}
	return v
}

// MarshalJSON writes the value, {"suppressed":true}, or null.
func (v Value) MarshalJSON() ([]byte, error) {
	switch {
	case v.Suppressed:
		return []byte(suppressedJSON), nil
	case !v.Defined:
		return []byte("null"), nil
	}
	return []byte(v.String()), nil
}

// String is the value as CSV shows it: "" where undefined.
func (v Value) String() string {
	switch {
	case v.Suppressed:
		return SuppressedCSV
	case !v.Defined:
		return ""
	}
	x := v.V
	if x == 0 {
		x = 0 // no "-0.000000"
	}
	if v.Significant {
		return strconv.FormatFloat(x, 'g', decimals, 64)
	}
	s := strconv.FormatFloat(x, 'f', decimals, 64)
	if s == "-0.000000" {
		s = "0.000000"
	}
	return s
}

// Flag is a yes/no figure that can be suppressed or undefined.
type Flag struct {
	B          bool
	Defined    bool
	Suppressed bool
}

// MarshalJSON writes true, false, {"suppressed":true} or null.
func (f Flag) MarshalJSON() ([]byte, error) {
	switch {
	case f.Suppressed:
		return []byte(suppressedJSON), nil
	case !f.Defined:
		return []byte("null"), nil
	}
	return []byte(strconv.FormatBool(f.B)), nil
}

// String is the flag as CSV shows it.
func (f Flag) String() string {
	switch {
	case f.Suppressed:
		return SuppressedCSV
	case !f.Defined:
		return ""
	}
	return strconv.FormatBool(f.B)
}

// rateSuppressed is the rule for rates: suppressed when the numerator, the
// denominator or their difference is between 1 and k-1.
func rateSuppressed(x, n, k int) bool {
	return smallCell(x, k) || smallCell(n, k) || smallCell(n-x, k)
}
