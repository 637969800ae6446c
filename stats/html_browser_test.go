package stats_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore"
	"github.com/caseledger/caseledger/personaldata/keystoretest"
	"github.com/caseledger/caseledger/seed"
	"github.com/caseledger/caseledger/stats"
)

// chromiumInstall is how to get the browser the HTML report is checked in.
const chromiumInstall = "apt-get install -y --no-install-recommends chromium fonts-dejavu-core"

// chromium is the headless browser's path. Without one the test is
// skipped, except under CI, where it fails.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("chromium is not installed, and under CI the HTML report must be checked in a browser: %s", chromiumInstall)
	}
	t.Skipf("chromium is not installed, so the HTML report is not checked in a browser; install it with: %s", chromiumInstall)
	return ""
}

// seededStore holds a population seeded as the demo has it, as of
// 2026-11-20.
func seededStore(t *testing.T, participants int) eventstore.Store {
	t.Helper()
	store := openStore(t)
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	svc, err := casework.New(store, casework.Options{Now: func() time.Time { return now },
		Keys: keystoretest.Keyring(t, t.TempDir())})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Run(context.Background(), svc, seed.Config{Participants: participants, Seed: 7}, io.Discard); err != nil {
		t.Fatal(err)
	}
	return store
}

// screenshot renders page in headless Chromium at 1200 by 2400 CSS pixels
// and returns the screenshot and where it was written.
func screenshot(t *testing.T, browser string, page []byte, name string) (image.Image, string) {
	t.Helper()
	dir := t.TempDir()
	htmlPath := filepath.Join(dir, name+".html")
	if err := os.WriteFile(htmlPath, page, 0o600); err != nil {
		t.Fatal(err)
	}
	pngPath := filepath.Join(dir, name+".png")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--force-color-profile=srgb", "--force-device-scale-factor=1",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--window-size=1200,2400",
		"--screenshot="+pngPath, "file://"+htmlPath)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode the screenshot: %v", err)
	}
	t.Logf("screenshot of the %s report: %s", name, pngPath)
	if out := os.Getenv("CASELEDGER_SCREENSHOT_DIR"); out != "" {
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(pngPath)
		if err != nil {
			t.Fatal(err)
		}
		kept := filepath.Join(out, "stats-"+name+".png")
		if err := os.WriteFile(kept, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, "stats-"+name+".html"), page, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("kept as %s", kept)
	}
	return img, pngPath
}

// pixels counts the pixels of img within 3 of colour ("#rrggbb") in each
// channel.
func pixels(t *testing.T, img image.Image, colour string) int {
	t.Helper()
	var want [3]uint8
	if _, err := fmt.Sscanf(colour, "#%02x%02x%02x", &want[0], &want[1], &want[2]); err != nil {
		t.Fatalf("colour %q: %v", colour, err)
	}
	near := func(a uint32, b uint8) bool {
		d := int(a>>8) - int(b)
		return d >= -3 && d <= 3
	}
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r, want[0]) && near(g, want[1]) && near(bl, want[2]) {
				n++
			}
		}
	}
	return n
}

// inked counts the pixels that are not white.
func inked(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA); c.R < 240 || c.G < 240 || c.B < 240 {
				n++
			}
		}
	}
	return n
}

// The HTML report of a seeded cohort renders in a real browser with its
// charts: the Kaplan-Meier curve and its band, the rate bars, the
// programme's target marks and the index changes are in the screenshot's
// pixels. The same cohort with every figure suppressed draws none of
// them.
func TestHTMLReportInBrowser(t *testing.T) {
	// Seeding waits mostly on the disk and the browser on itself: the
	// rest of the package runs meanwhile.
	t.Parallel()
	browser := chromium(t)
	// The hope programme has the most indicator scores of the seeded
	// ones; it is given a target for every rate, some met and some not.
	store := seededStore(t, 100)
	const programme = "hope"
	appendEvent(t, store, domain.ProgrammeStream(programme), domain.ProgrammeDefined{Slug: programme, Name: "Hope",
		Targets: []domain.Target{
			{Measure: domain.MeasureJobWithin183d, Rate: 0.5}, {Measure: domain.MeasureWorkOrEducationAtExit, Rate: 0.55},
			{Measure: domain.MeasureRetention90d, Rate: 0.8}, {Measure: domain.MeasureRetention180d, Rate: 0.7},
			{Measure: domain.MeasureOffSocialAssistanceAtExit, Rate: 0.4},
		}})
	// The smallest number of pixels each part covers when drawn: the
	// curve is a 3-unit line hundreds long, the band and the bars are
	// areas, a target mark is 5 by 32 (its legend swatch, 5 by 20, alone
	// is not enough), an index change a 12-unit square and its whisker.
	drawn := map[string]struct {
		colour string
		min    int
	}{
		"curve":  {stats.ColourCurve, 600},
		"band":   {stats.ColourBand, 2000},
		"bars":   {stats.ColourBar, 2000},
		"target": {stats.ColourTarget, 150},
		"change": {stats.ColourChange, 300},
	}
	for _, tt := range []struct {
		name string
		k    int
		// drawn tells whether the chart parts must be drawn, or must not.
		drawn bool
	}{
		{"seeded", 5, true},
		{"suppressed", 1000, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := stats.Request{Cohort: stats.Cohort{Programme: programme}, AsOf: day(t, "2026-11-20"), K: tt.k}
			page := htmlOf(t, store, req)
			img, path := screenshot(t, browser, page, tt.name)
			if n := inked(img); n < 20000 {
				t.Errorf("the page is nearly blank: %d pixels not white (%s)", n, path)
			}
			for what, part := range drawn {
				n := pixels(t, img, part.colour)
				switch {
				case tt.drawn && n < part.min:
					t.Errorf("%s (%s): %d pixels, so not drawn (%s)", what, part.colour, n, path)
				case !tt.drawn && n > 0:
					t.Errorf("%s (%s): %d pixels, drawn from suppressed figures (%s)", what, part.colour, n, path)
				}
			}
		})
	}
}
