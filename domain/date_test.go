package domain

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	valid := []string{"2026-01-01", "2026-02-28", "2024-02-29", "2000-02-29", "0001-01-01", "9999-12-31"}
	for _, s := range valid {
		got, err := ParseDate(s)
		if err != nil || got.String() != s {
			t.Errorf("ParseDate(%q) = %v, %v; want %s", s, got, err, s)
		}
	}
	invalid := map[string]string{
		"2026-02-30":          "February 2026 has days 1 to 28",
		"2026-02-29":          "February 2026 has days 1 to 28",
		"1900-02-29":          "February 1900 has days 1 to 28",
		"2026-04-31":          "April 2026 has days 1 to 30",
		"2026-13-01":          "month 13 does not exist",
		"2026-00-10":          "month 0 does not exist",
		"2026-01-00":          "has days 1 to 31, not 0",
		"0000-01-01":          "year 0 is outside",
		"2026-1-01":           "YYYY-MM-DD",
		"26-01-01":            "YYYY-MM-DD",
		"2026/01/01":          "YYYY-MM-DD",
		"01.02.2026":          "YYYY-MM-DD",
		"2026-01-01T00:00:00": "YYYY-MM-DD",
		" 2026-01-01":         "YYYY-MM-DD",
		"2026-0a-01":          "digits only",
		"+026-01-01":          "digits only",
		"":                    "YYYY-MM-DD",
	}
	for s, msg := range invalid {
		_, err := ParseDate(s)
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseDate(%q) error = %v; want it to say %q", s, err, msg)
		}
	}
}

func TestDateArithmetic(t *testing.T) {
	cases := []struct {
		from string
		days int
		want string
	}{
		{"2026-01-31", 1, "2026-02-01"},
		{"2026-02-28", 1, "2026-03-01"},
		{"2024-02-28", 1, "2024-02-29"},
		{"2026-12-31", 1, "2027-01-01"},
		{"2026-03-01", -1, "2026-02-28"},
		{"2026-03-28", 183, "2026-09-27"},
		{"2026-03-29", 1, "2026-03-30"}, // DST starts in Oslo: still one day
		{"2026-05-15", 0, "2026-05-15"},
	}
	for _, c := range cases {
		got := d(c.from).AddDays(c.days)
		if got != d(c.want) {
			t.Errorf("%s + %d = %s, want %s", c.from, c.days, got, c.want)
		}
		if n := got.DaysSince(d(c.from)); n != c.days {
			t.Errorf("%s DaysSince %s = %d, want %d", got, c.from, n, c.days)
		}
	}
	if !(Date{}).AddDays(5).IsZero() {
		t.Error("AddDays on the zero Date must stay zero")
	}
}

func TestDateComparison(t *testing.T) {
	a, b := d("2026-03-01"), d("2026-03-02")
	if !a.Before(b) || a.After(b) || !b.After(a) || b.Before(a) {
		t.Error("Before/After wrong for consecutive days")
	}
	if a.Before(a) || a.After(a) || !a.Equal(d("2026-03-01")) || a != d("2026-03-01") {
		t.Error("a date must equal itself and be neither before nor after it")
	}
	if a.Compare(b) != -1 || b.Compare(a) != 1 || a.Compare(a) != 0 {
		t.Error("Compare wrong")
	}
	if d("2025-12-31").Compare(d("2026-01-01")) != -1 || d("2026-02-01").Compare(d("2026-01-31")) != 1 {
		t.Error("Compare must order by year, then month, then day")
	}
	var zero Date
	if !zero.IsZero() || a.IsZero() || !zero.Before(a) {
		t.Error("zero Date: IsZero, and before every date")
	}
}

func TestDateIn(t *testing.T) {
	oslo := time.FixedZone("CEST", 2*60*60) // the caller loads Europe/Oslo; a fixed zone stands in for it
	late := time.Date(2026, 5, 14, 22, 30, 0, 0, time.UTC)
	if got := DateIn(late, oslo); got != d("2026-05-15") {
		t.Errorf("22:30 UTC is %s in Oslo, want 2026-05-15", got)
	}
	if got := DateIn(late, time.UTC); got != d("2026-05-14") {
		t.Errorf("DateIn UTC = %s", got)
	}
	if got := d("2026-05-15").In(oslo); !got.Equal(time.Date(2026, 5, 14, 22, 0, 0, 0, time.UTC)) {
		t.Errorf("In(oslo) = %s", got)
	}
}

func TestDateJSON(t *testing.T) {
	type body struct {
		On   Date `json:"on"`
		Next Date `json:"next,omitzero"`
	}
	out, err := json.Marshal(body{On: d("2026-03-02")})
	if err != nil || string(out) != `{"on":"2026-03-02"}` {
		t.Fatalf("marshal = %s, %v", out, err)
	}
	var b body
	if err := json.Unmarshal([]byte(`{"on":"2026-03-02","next":null}`), &b); err != nil || b.On != d("2026-03-02") || !b.Next.IsZero() {
		t.Fatalf("unmarshal = %+v, %v", b, err)
	}
	if out, _ := json.Marshal(struct{ D Date }{}); string(out) != `{"D":null}` {
		t.Errorf("zero Date marshals as %s, want null", out)
	}
	for _, in := range []string{`{"on":"2026-02-30"}`, `{"on":"30.01.2026"}`, `{"on":20260101}`, `{"on":""}`} {
		if err := json.Unmarshal([]byte(in), &b); err == nil {
			t.Errorf("%s: want an error", in)
		}
	}
	var text Date
	if err := text.UnmarshalText([]byte("2026-03-02")); err != nil || text != d("2026-03-02") {
		t.Errorf("UnmarshalText = %v, %v", text, err)
	}
}

func TestDateErrorPointsAtField(t *testing.T) {
	var cmd RecordMeetingCommand
	err := DecodeCommand([]byte(`{"date":"2026-02-30","kind":"guidance"}`), &cmd)
	wantErr(t, err, "invalid", "/date", CodeType)
	if !strings.Contains(err.Error(), "February 2026 has days 1 to 28") {
		t.Errorf("error should say why: %v", err)
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-02-28", "2026-02-30", "0000-00-00", "9999-12-31", "2026-1-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseDate(s)
		if err != nil {
			return
		}
		if got.String() != s {
			t.Fatalf("ParseDate(%q) round-trips to %q", s, got)
		}
		if back := got.AddDays(1).AddDays(-1); back != got {
			t.Fatalf("AddDays(1).AddDays(-1) of %s = %s", got, back)
		}
	})
}

func TestUnixDay(t *testing.T) {
	for _, tc := range []struct {
		date string
		n    int
	}{
		{"1970-01-01", 0}, {"1969-12-31", -1}, {"2000-02-29", 11016}, {"2000-03-01", 11017},
		{"2026-05-15", 20588}, {"1900-03-01", -25508}, {"0001-01-01", -719162}, {"9999-12-31", 2932896},
	} {
		d, err := ParseDate(tc.date)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.UnixDay(); got != tc.n {
			t.Errorf("%s.UnixDay() = %d, want %d", tc.date, got, tc.n)
		}
	}
	// The zero Date is the day DaysSince counts it as.
	if got, want := (Date{}).UnixDay(), int((Date{}).midnightUTC().Unix()/86400); got != want {
		t.Errorf("Date{}.UnixDay() = %d, want %d", got, want)
	}
	// Every day of four centuries, against the standard library.
	start := time.Date(1899, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 146097 + 800 {
		tm := start.AddDate(0, 0, i)
		want := int(tm.Unix() / 86400)
		date := DateIn(tm, time.UTC)
		if got := date.UnixDay(); got != want {
			t.Fatalf("%s.UnixDay() = %d, want %d", date, got, want)
		}
		back, err := DateOfUnixDay(want)
		if err != nil || back != date {
			t.Fatalf("DateOfUnixDay(%d) = %s, %v; want %s", want, back, err, date)
		}
	}
	for _, n := range []int{-719162 - 1, 2932896 + 1, -1 << 40, 1 << 40} {
		if d, err := DateOfUnixDay(n); err == nil {
			t.Errorf("DateOfUnixDay(%d) = %s, want an error", n, d)
		}
	}
}

// daysIn agrees with package time on every month a Date can be in.
func TestDaysInIsTheCalendars(t *testing.T) {
	for y := 1; y <= 9999; y++ {
		for m := time.January; m <= time.December; m++ {
			if got, want := daysIn(y, m), time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day(); got != want {
				t.Fatalf("%s %04d: %d days, want %d", m, y, got, want)
			}
		}
	}
}

// TestDateStringIsTimesLayout holds the hand-written formatting to Go's
// own for the first and last day of every month of years 1 to 9999, and
// MarshalJSON to the quoted string.
func TestDateStringIsTimesLayout(t *testing.T) {
	for y := 1; y <= 9999; y++ {
		for m := time.January; m <= time.December; m++ {
			for _, day := range []int{1, daysIn(y, m)} {
				d, err := NewDate(y, m, day)
				if err != nil {
					t.Fatal(err)
				}
				want := time.Date(y, m, day, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
				if got := d.String(); got != want {
					t.Fatalf("String = %q, want %q", got, want)
				}
				if b, _ := d.MarshalJSON(); string(b) != `"`+want+`"` {
					t.Fatalf("MarshalJSON = %s, want %q", b, want)
				}
			}
		}
	}
}
