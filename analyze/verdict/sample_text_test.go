package verdict

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

// allSamples names every shipped sample bundle.
func allSamples(t *testing.T) []string {
	paths, err := filepath.Glob(filepath.Join(sampletest.Dir(t), "*.tar.zst"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	var out []string
	for _, p := range paths {
		out = append(out, strings.TrimSuffix(filepath.Base(p), ".tar.zst"))
	}
	return out
}

// TestSeverityOrdersFindingsAndCause: on every sample the findings are
// listed most severe first, and the verdict's cause is never less severe
// than another finding that could be the cause (a warning about the
// syscalls that fill a tmpfs does not lead a critical filling).
func TestSeverityOrdersFindingsAndCause(t *testing.T) {
	for _, s := range allSamples(t) {
		d := Diagnose(sampleModel(t, s), window.Defaults())
		var primary *content.Finding
		for i := range d.Findings {
			f := &d.Findings[i]
			if i > 0 && f.Severity > d.Findings[i-1].Severity {
				t.Errorf("%s: %s %s listed below %s %s", s, f.Severity, f.ID, d.Findings[i-1].Severity, d.Findings[i-1].ID)
			}
			if f.ID == d.Verdict.Primary && primary == nil {
				primary = f
			}
		}
		if primary == nil {
			continue
		}
		for _, f := range d.Findings {
			if mayLead(&f) && f.Severity > primary.Severity {
				t.Errorf("%s: the cause %s is %s, below %s %s", s, primary.ID, primary.Severity, f.Severity, f.ID)
			}
		}
	}
}

// TestDeviceNamesKeepTheirCase: device names are case-sensitive; no
// title, summary or verdict on any sample writes one capitalised at a
// sentence's start ("Loop0 is saturated").
func TestDeviceNamesKeepTheirCase(t *testing.T) {
	for _, s := range allSamples(t) {
		m := sampleModel(t, s)
		d := Diagnose(m, window.Defaults())
		texts := []string{d.Verdict.Summary}
		for _, f := range d.Findings {
			texts = append(texts, f.Title, f.Summary)
		}
		for dev := range d.Window.Devices {
			if dev == "" || dev[0] < 'a' || dev[0] > 'z' {
				continue
			}
			capital := strings.ToUpper(dev[:1]) + dev[1:]
			for _, x := range texts {
				if containsWord(x, capital) {
					t.Errorf("%s: %q capitalised: %.200s", s, dev, x)
				}
			}
		}
	}
}

// containsWord reports whether w occurs in s as a whole word.
func containsWord(s, w string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return false
		}
		at := i + j
		end := at + len(w)
		before := at == 0 || !isWordByte(s[at-1])
		after := end == len(s) || !isWordByte(s[end])
		if before && after {
			return true
		}
		i = at + 1
	}
}

func isWordByte(b byte) bool {
	return b == '_' || b == '-' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// bareCgroup finds a cgroup named by its path alone: "cgroup /x" or
// "cgroup (/x)" with no hierarchy before it (group 1 empty) and no mount
// point in it (group 2: a path under /sys/fs/cgroup/blkio names its
// hierarchy).
var bareCgroup = regexp.MustCompile(`(v1 [a-z,_]+ |v2 )?[Cc]group \(?/(sys/fs/cgroup/)?`)

// TestCgroupsNameTheirHierarchy: a cgroup path in prose says which
// hierarchy it is in (v1 blkio, v1 memory, v2), in every title, summary,
// evidence line and verdict of every sample.
func TestCgroupsNameTheirHierarchy(t *testing.T) {
	for _, s := range allSamples(t) {
		d := Diagnose(sampleModel(t, s), window.Defaults())
		texts := []string{d.Verdict.Summary}
		for _, f := range d.Findings {
			texts = append(texts, f.Title, f.Summary)
			for _, e := range f.Evidence {
				texts = append(texts, e.What)
			}
		}
		for _, x := range texts {
			for _, m := range bareCgroup.FindAllStringSubmatch(x, -1) {
				if m[1] == "" && m[2] == "" {
					t.Errorf("%s: a cgroup without its hierarchy: %.200s", s, x)
				}
			}
		}
	}
}
