package verdict

import (
	"fmt"
	"strings"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/rules"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

// One application, one finding. A server's workers (PostgreSQL's
// backends, nginx's workers) share its load: the same finding about each
// of them is one finding about the application, naming its main process
// and listing the others, not seven copies with one backend picked as the
// culprit.

// mergeApps makes one finding per application and cause of the findings
// of rules that merge per application (Rule.PerApp).
func mergeApps(c *window.Window, fs []content.Finding) []content.Finding {
	apps := c.Apps()
	// One finding per application and cause: its processes may write
	// different files (a WAL segment each, a log each).
	type key struct {
		id   string
		main int
	}
	index := map[key]int{}
	var out []content.Finding
	var members [][]content.Finding
	for _, f := range fs {
		if !rules.Of(&f).PerApp || len(f.Subjects.PIDs) != 1 {
			out = append(out, f)
			members = append(members, nil)
			continue
		}
		a := apps[f.Subjects.PIDs[0]]
		if a == nil || len(a.Members) < 2 {
			out = append(out, f)
			members = append(members, nil)
			continue
		}
		k := key{f.ID, a.Main.PID}
		if i, ok := index[k]; ok {
			members[i] = append(members[i], f)
			continue
		}
		index[k] = len(out)
		out = append(out, f)
		members = append(members, []content.Finding{f})
	}
	for i := range out {
		if len(members[i]) < 2 {
			continue
		}
		out[i] = merged(c, members[i])
	}
	return out
}

// merged is one finding for an application's processes: the strongest
// one's evidence, every PID, the scores summed.
func merged(c *window.Window, fs []content.Finding) content.Finding {
	best := 0
	for i, f := range fs {
		if f.Score > fs[best].Score {
			best = i
		}
	}
	m := fs[best]
	p := c.ByPID[m.Subjects.PIDs[0]]
	app := c.Apps()[m.Subjects.PIDs[0]]
	pids := []int{m.Subjects.PIDs[0]}
	var score float64
	var others []string
	for _, f := range fs {
		if f.Subjects.PIDs[0] != m.Subjects.PIDs[0] {
			pids = append(pids, f.Subjects.PIDs[0])
		}
		score += f.Score
		if f.Subjects.PIDs[0] != m.Subjects.PIDs[0] {
			others = append(others, fmt.Sprintf("PID %d", f.Subjects.PIDs[0]))
		}
	}
	m.Subjects.PIDs = pids
	m.Score = score
	if p != nil {
		name := fmt.Sprintf("the application %s (main PID %d, %d processes; PID %d shown)", p.Proc.Comm, app.Main.PID, len(app.Members), p.Proc.PID)
		m.Title = strings.Replace(m.Title, window.Name(p.Proc), name, 1)
	}
	m.Summary += fmt.Sprintf(" The same holds for %s: %d processes of one application (main PID %d, %d processes in all) share the load, and this is one finding about the application.",
		prose.JoinAnd(others), len(fs), app.Main.PID, len(app.Members))
	files := map[string]bool{}
	for _, f := range fs {
		if f.Subjects.Path != "" {
			files[f.Subjects.Path] = true
		}
	}
	what := fmt.Sprintf("the processes with the same finding, grouped by program, parent and cgroup: PID %s", prose.JoinInts(pids))
	if len(files) > 1 {
		what += fmt.Sprintf("; they write %d files like it", len(files))
	}
	group := content.Evidence{Member: c.TicksMembers() + " (/proc/PID/stat)", Ticks: c.TickSpan(), What: what}
	// The traced calls the finding rests on are all its processes'.
	if tc := rules.Of(&m).Traced; tc != nil {
		var total float64
		for i := range fs {
			if n, ok := fs[i].Figure(tc.Figure); ok {
				total += n
			}
		}
		group.Figures = map[string]float64{tc.Figure: total}
	}
	m.Evidence = append(m.Evidence, group)
	return m
}
