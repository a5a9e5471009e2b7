package rules

import (
	"fmt"
	"strings"
	"time"

	"github.com/iorca/iorca/collect/bundle"
)

// kernelIOErrors reports kernel log lines that signal IO trouble
// (REFERENCE-IO.md 10.1): block-layer and buffer I/O errors, filesystem
// errors and journal aborts, read-only remounts, and hung tasks. Lines
// logged during or shortly before the capture are serious; older ones are
// reported for context only.
var kernelIOErrors = Rule{ID: "kernel-io-errors", Check: checkKernelIOErrors}

// kmsgPatterns are the substrings that mark a line, with its kind.
var kmsgPatterns = []struct{ sub, kind string }{
	{"I/O error", "io"}, {"Buffer I/O error", "io"}, {"blk_update_request", "io"}, {"critical medium error", "io"},
	{"attempt to access beyond end of device", "io"}, {"timeout error, dev", "io"},
	{"EXT4-fs error", "fs"}, {"Aborting journal", "fs"}, {"Remounting filesystem read-only", "fs"},
	{"metadata I/O error", "fs"}, {"XFS (", "fs"}, {"BTRFS error", "fs"},
	{"blocked for more than", "hung"},
}

// recentWindow: a line this long before the capture's start or later is
// part of the incident.
const recentWindow = time.Hour

func checkKernelIOErrors(c *Context) []Finding {
	startUS := c.Model.Manifest.Start.MonoNS / 1000
	type hit struct {
		line string
		kind string
		age  time.Duration
	}
	byKind := map[string][]hit{}
	for _, r := range c.Model.Kmsg {
		if r.Level > 6 { // debug messages are not errors
			continue
		}
		for _, p := range kmsgPatterns {
			if strings.Contains(r.Text, p.sub) {
				age := time.Duration(startUS-int64(r.Usec)) * time.Microsecond
				line := fmt.Sprintf("[%12.6f] %s", float64(r.Usec)/1e6, strings.ReplaceAll(r.Text, "\n", " | "))
				byKind[p.kind] = append(byKind[p.kind], hit{line, p.kind, age})
				break
			}
		}
	}
	var out []Finding
	for _, kind := range []string{"io", "fs", "hung"} {
		hits := byKind[kind]
		if len(hits) == 0 {
			continue
		}
		recent := 0
		for _, h := range hits {
			if h.age <= recentWindow {
				recent++
			}
		}
		sev := Info
		switch {
		case recent > 0 && kind == "hung":
			sev = Warning
		case recent > 0:
			sev = Critical
		}
		title := map[string]string{"io": "The kernel logged block I/O errors", "fs": "The kernel logged filesystem errors", "hung": "The kernel reported tasks blocked on IO (hung task)"}[kind]
		var lines []string
		for i := len(hits) - 1; i >= 0 && len(lines) < 5; i-- {
			lines = append([]string{hits[i].line}, lines...)
		}
		f := Finding{
			ID: "kernel-io-errors", Severity: sev, Confidence: High, Score: float64(recent),
			Title:    title,
			Summary:  fmt.Sprintf("%d matching kernel log line(s), %d of them within %s before the capture or during it.", len(hits), recent, recentWindow),
			Evidence: []Evidence{{Member: bundle.KmsgMember, What: fmt.Sprintf("%d lines; the last ones (seconds since boot):", len(hits)), Lines: lines, Figures: map[string]float64{"lines": float64(len(hits)), "recent": float64(recent)}}},
			Mitigations: []Mitigation{
				{Horizon: Immediate, Action: "Check the device's health", How: "smartctl -a /dev/DEV or nvme smart-log /dev/nvmeN; for a virtual disk, the hypervisor's storage status", Effect: "Failing hardware is found before it loses data"},
				{Horizon: ShortTerm, Action: "Repair or replace", How: "Unmount and fsck the filesystem; replace the device if errors continue", Effect: "IO errors stop; data is protected"},
			},
		}
		if recent == 0 {
			f.ConfidenceWhy = ""
			f.Summary += " They are older than the incident and may be unrelated."
		}
		out = append(out, f)
	}
	return out
}
