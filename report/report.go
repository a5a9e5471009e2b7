package report

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/iorca/iorca/internal/units"

	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/rules"
	"github.com/iorca/iorca/internal/table"
)

// Schema names the JSON report format.
const Schema = "iorca.report/v1"

// Report is everything a rendering needs.
type Report struct {
	// Bundle is the bundle's file name (no directory: reports leave the
	// machine they were made on).
	Bundle string
	D      *rules.Diagnosis
	M      *model.Model
}

// New prepares a report of a diagnosis.
func New(bundlePath string, d *rules.Diagnosis) *Report {
	return &Report{Bundle: filepath.Base(bundlePath), D: d, M: d.Context.M}
}

func (r *Report) span() (time.Time, time.Time) { return r.M.Span() }

// Title is the report's title line.
func (r *Report) Title() string {
	a, b := r.span()
	return fmt.Sprintf("IO report: %s, %s to %s UTC", r.M.Manifest.Host.Hostname, a.UTC().Format("2006-01-02 15:04:05"), b.UTC().Format("15:04:05"))
}

func esc(s string) string { return table.MarkdownEscape(s) }

// code quotes text as inline code, safe for any content.
func code(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	n := 1
	for strings.Contains(s, strings.Repeat("`", n)) {
		n++
	}
	fence := strings.Repeat("`", n)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// topProcesses returns the busiest processes over the window by disk
// bytes, user processes first.
func (r *Report) topProcesses(n int) []model.ProcIO {
	ps := append([]model.ProcIO(nil), r.D.Context.Procs...)
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i].DiskBytes()+ps[i].Delta.IO.WChar/1024, ps[j].DiskBytes()+ps[j].Delta.IO.WChar/1024
		if a != b {
			return a > b
		}
		return ps[i].Proc.PID < ps[j].Proc.PID
	})
	var out []model.ProcIO
	for _, p := range ps {
		if len(out) == n {
			break
		}
		if p.DiskBytes() == 0 && p.Delta.IO.WChar == 0 {
			continue
		}
		out = append(out, p)
	}
	return out
}

// human formats a byte count for people ("1.5 MiB").
func human(b float64) string { return units.FormatBytes(int64(b)) }
