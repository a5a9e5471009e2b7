package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chromium finds a headless Chromium, or skips.
func chromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("renders pages in Chromium: -short skips it")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium is not installed (.ci/run installs it)")
	return ""
}

// runChromium runs headless Chromium on a page with args, and returns
// its output.
func runChromium(t *testing.T, bin, page string, args ...string) []byte {
	t.Helper()
	profile := t.TempDir()
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--user-data-dir=" + profile, "--virtual-time-budget=2000"}, args...)
	cmd := exec.Command(bin, append(all, "file://"+page)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
		}
	case <-time.After(90 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("chromium %v did not finish in 90 s", args)
	}
	return out.Bytes()
}

var (
	figureRE   = regexp.MustCompile(`(?s)<figure id="fig-([^"]+)">(.*?)</figure>`)
	svgTitleRE = regexp.MustCompile(`(?s)<svg class="chart"[^>]*>\s*<title>([^<]+)</title>\s*<desc>([^<]+)</desc>`)
	pathRE     = regexp.MustCompile(`<path class="series" d="M[0-9.]+,[0-9.]+ L[^"]+"`)
)

// Issue 15: every sample's HTML report, loaded in a real browser, has its
// charts: each figure holds an SVG with a title and a text alternative and
// at least one drawn series, and the table of contents links it. The page
// is screenshot to PNG (and must not be blank).
func TestHTMLChartsInChromium(t *testing.T) {
	bin := chromium(t)
	samples, _ := filepath.Glob(filepath.Join(samplesDir, "*.tar.zst"))
	dir := t.TempDir()
	for _, s := range samples {
		name := strings.TrimSuffix(filepath.Base(s), ".tar.zst")
		t.Run(name, func(t *testing.T) {
			page := filepath.Join(dir, name+".html")
			var errb bytes.Buffer
			if code := run([]string{"report", "--format", "html", "-o", page, s}, &bytes.Buffer{}, &errb); code != exitOK {
				t.Fatalf("report: %s", errb.String())
			}
			dom := string(runChromium(t, bin, page, "--dump-dom"))
			figs := figureRE.FindAllStringSubmatch(dom, -1)
			if len(figs) < 3 {
				t.Fatalf("the rendered page has %d charts, want the devices' %%util and await and the writers at least", len(figs))
			}
			for _, f := range figs {
				id, body := f[1], f[2]
				tm := svgTitleRE.FindStringSubmatch(body)
				if tm == nil || strings.TrimSpace(tm[1]) == "" || strings.TrimSpace(tm[2]) == "" {
					t.Errorf("chart %s: no SVG with a title and a text alternative", id)
				}
				if !pathRE.MatchString(body) {
					t.Errorf("chart %s: no drawn series (a path with points)", id)
				}
				if !strings.Contains(dom, `href="#fig-`+id+`"`) {
					t.Errorf("chart %s: not in the table of contents", id)
				}
			}
			if !strings.Contains(dom, "<details class=\"finding") && strings.Contains(dom, "finding-1") {
				t.Error("findings are not collapsible")
			}
			png := filepath.Join(dir, name+".png")
			runChromium(t, bin, page, "--screenshot="+png, "--window-size=1280,2400", "--hide-scrollbars")
			st, err := os.Stat(png)
			if err != nil || st.Size() < 20<<10 {
				t.Errorf("screenshot %s: %v, %d bytes", png, err, st.Size())
			}
			if dst := os.Getenv("IORCA_SCREENSHOTS"); dst != "" {
				data, _ := os.ReadFile(png)
				os.WriteFile(filepath.Join(dst, "report-"+name+".png"), data, 0o644)
			}
		})
	}
}
