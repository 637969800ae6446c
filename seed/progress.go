package seed

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// meter shows how far a run is: participants done of the total, events
// per second and the time left. On a terminal it redraws one line a few
// times a second; anywhere else (a CI log, a file) it writes a plain line
// every few seconds, so that a log holds a readable history rather than
// carriage returns.
type meter struct {
	w     io.Writer // nil: nothing is shown, counting still works
	tty   bool
	total int
	every time.Duration

	done   atomic.Int64 // participants written
	events atomic.Int64 // events written or found

	began time.Time
}

const (
	ttyEvery   = 250 * time.Millisecond
	plainEvery = 10 * time.Second
)

func newMeter(w io.Writer, total int) *meter {
	m := &meter{w: w, total: total, tty: isTerminal(w), every: plainEvery}
	if m.tty {
		m.every = ttyEvery
	}
	return m
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// start shows progress until the returned stop is called, which draws the
// final state and returns once nothing more will be written.
func (m *meter) start() (stop func()) {
	m.began = time.Now()
	if m.w == nil {
		return func() {}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(m.every)
		defer t.Stop()
		rate := rateWindow{}
		rate.add(time.Now(), 0)
		for {
			select {
			case <-quit:
				m.draw(m.line(time.Now(), &rate, true))
				return
			case now := <-t.C:
				m.draw(m.line(now, &rate, false))
			}
		}
	})
	return func() {
		close(quit)
		wg.Wait()
	}
}

func (m *meter) draw(line string) {
	if m.tty {
		// Return to the line's start and clear what a longer line left.
		fmt.Fprintf(m.w, "\r%s\x1b[K", line)
		return
	}
	fmt.Fprintln(m.w, line)
}

// line is the state at now. The event rate is over the last few seconds
// on a terminal, so that it follows changes; the time left is from the
// average so far, which is steadier.
func (m *meter) line(now time.Time, rate *rateWindow, final bool) string {
	done, events := int(m.done.Load()), m.events.Load()
	rate.add(now, events)
	elapsed := now.Sub(m.began)
	pct := 100 * float64(done) / float64(max(1, m.total))
	s := fmt.Sprintf("seed: %s/%s participants (%3.0f%%)  %s events  %s events/s",
		thousands(int64(done)), thousands(int64(m.total)), pct, thousands(events), thousands(int64(rate.perSecond())))
	switch {
	case final:
		s += fmt.Sprintf("  took %s", elapsed.Round(time.Second))
		if m.tty {
			s += "\n"
		}
	case done > 0:
		left := time.Duration(float64(elapsed) / float64(done) * float64(m.total-done))
		s += fmt.Sprintf("  ETA %s", left.Round(time.Second))
	default:
		s += "  ETA --"
	}
	return s
}

// rateWindow keeps the last few samples of a counter to give its recent
// rate.
type rateWindow struct {
	at     [12]time.Time
	counts [12]int64
	n      int
}

func (r *rateWindow) add(t time.Time, count int64) {
	i := r.n % len(r.at)
	r.at[i], r.counts[i] = t, count
	r.n++
}

func (r *rateWindow) perSecond() float64 {
	if r.n < 2 {
		return 0
	}
	newest := (r.n - 1) % len(r.at)
	oldest := 0
	if r.n > len(r.at) {
		oldest = r.n % len(r.at)
	}
	dt := r.at[newest].Sub(r.at[oldest]).Seconds()
	if dt <= 0 {
		return 0
	}
	return float64(r.counts[newest]-r.counts[oldest]) / dt
}

// thousands writes n with separators: 1,234,567.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + thousands(-n)
	}
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
