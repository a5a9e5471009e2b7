package window

import (
	"fmt"
	"slices"
	"sort"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/collect/bundle"
)

// Who holds a device's time: each process, or each application whose
// processes share the load, and how to say it.

// DeviceShare is the fraction (0 to 1) of dev's time a process holds,
// with the other processes of its application when several of them
// share the load (one application, one culprit).
func (c *Window) DeviceShare(pid int, dev string) float64 {
	dt := c.DeviceTimes[dev]
	if dt == nil {
		return 0
	}
	if s := c.ShareOf(pid, dev); s != nil {
		return dt.Fraction(s)
	}
	return 0
}

// ShareOf is the share of dev's time that holds pid: its application's
// when several of its processes load the device, else its own; nil when
// it has none.
func (c *Window) ShareOf(pid int, dev string) *model.Share {
	return c.appSharesOf(dev).byPID[pid]
}

// appShares is a device's time by cause: a user process's share, or,
// when several processes of one application hold some of it, their
// shares summed under the application's main process; kernel threads as
// they are. Largest first.
type appShares struct {
	list  []*model.Share
	byPID map[int]*model.Share
	// members counts the processes behind an application's share.
	members map[*model.Share]int
}

func (c *Window) appSharesOf(dev string) *appShares {
	if a := c.shareCache[dev]; a != nil {
		return a
	}
	out := &appShares{byPID: map[int]*model.Share{}, members: map[*model.Share]int{}}
	if c.shareCache == nil {
		c.shareCache = map[string]*appShares{}
	}
	c.shareCache[dev] = out
	dt := c.DeviceTimes[dev]
	if dt == nil {
		return out
	}
	apps := c.Apps()
	// How many of each application's processes hold some of the time.
	holders := map[*model.App]int{}
	appOf := func(s *model.Share) *model.App {
		if s.Kernel || s.Process == nil || s.NS() <= 0 {
			return nil
		}
		if a := apps[s.Process.PID]; a != nil && len(a.Members) > 1 {
			return a
		}
		return nil
	}
	for _, s := range dt.Shares {
		if a := appOf(s); a != nil {
			holders[a]++
		}
	}
	group := map[*model.App]*model.Share{}
	for _, s := range dt.Shares {
		a := appOf(s)
		if a == nil || holders[a] < 2 {
			out.list = append(out.list, s)
			if !s.Kernel {
				out.byPID[s.Task.PID] = s
			}
			continue
		}
		g := group[a]
		if g == nil {
			g = &model.Share{Task: model.Task{PID: a.Main.PID, Comm: a.Main.Comm}, Process: a.Main}
			group[a] = g
			out.list = append(out.list, g)
			out.members[g] = holders[a]
			for _, m := range a.Members {
				out.byPID[m.PID] = g
			}
		}
		g.DirectNS += s.DirectNS
		g.WritebackNS += s.WritebackNS
		g.JournalNS += s.JournalNS
		g.FlushNS += s.FlushNS
		g.StackedNS += s.StackedNS
		for _, d := range s.Through {
			if !slices.Contains(g.Through, d) {
				g.Through = append(g.Through, d)
			}
		}
		g.WaitNS += s.WaitNS
		g.Requests += s.Requests
		g.Bytes += s.Bytes
		g.CausedRequests += s.CausedRequests
		g.CausedBytes += s.CausedBytes
		for i, n := range s.Latency.Buckets {
			g.Latency.Buckets[i] += n
		}
		g.Latency.Count += s.Latency.Count
		g.Latency.SumNS += s.Latency.SumNS
	}
	sort.SliceStable(out.list, func(i, j int) bool {
		if out.list[i].NS() != out.list[j].NS() {
			return out.list[i].NS() > out.list[j].NS()
		}
		return out.list[i].Task.PID < out.list[j].Task.PID
	})
	return out
}

// SameApp reports whether two processes belong to one application.
func (c *Window) SameApp(a, b int) bool {
	if a == b {
		return true
	}
	apps := c.Apps()
	x, y := apps[a], apps[b]
	return x != nil && x == y && len(x.Members) > 1
}

// DeviceHolder is the user process (or application) holding the largest
// share of the time of the device that hurts (Hurting), when that share
// reaches DeviceSharePct: the device, and its share.
func (c *Window) DeviceHolder() (string, *model.Share, bool) {
	for _, dev := range c.Hurting() {
		top := c.Contributors(dev, 1)
		if len(top) == 0 || c.ByPID[top[0].Task.PID] == nil {
			continue
		}
		if c.DeviceTimes[dev].Fraction(top[0])*100 >= c.Thresholds.DeviceSharePct {
			return dev, top[0], true
		}
	}
	return "", nil, false
}

// HoldsSaturated reports the saturated device of which a process holds at
// least DeviceSharePct of the time, and that share (0 to 1).
func (c *Window) HoldsSaturated(pid int) (string, float64, bool) {
	for _, d := range c.Saturated() {
		if f := c.DeviceShare(pid, d); f*100 >= c.Thresholds.DeviceSharePct {
			return d, f, true
		}
	}
	return "", 0, false
}

// Contributors are the user processes (or applications, appShares)
// holding a device's time, largest first, at most n.
func (c *Window) Contributors(dev string, n int) []*model.Share {
	dt := c.DeviceTimes[dev]
	if dt == nil {
		return nil
	}
	var out []*model.Share
	for _, s := range c.appSharesOf(dev).list {
		if len(out) == n {
			break
		}
		// The collector's own processes (strace writing its output) are
		// not the node's IO.
		if !s.Kernel && s.NS() > 0 && (s.Process == nil || !s.Process.Collector) {
			out = append(out, s)
		}
	}
	return out
}

// ShareText says what part of a device a share holds and how.
func (c *Window) ShareText(dev string, s *model.Share) string {
	dt := c.DeviceTimes[dev]
	return fmt.Sprintf("%s %.0f %%", c.ShareName(dev, s), dt.Fraction(s)*100) + ShareHow(dt, s)
}

// ShareHow splits a share into its own requests, writeback, journal,
// flushes and stacked time, as " (...)", or "" when it is all its own
// requests. A part under half a percent of the device is left out: it
// would print as 0 %.
func ShareHow(dt *model.DeviceTime, s *model.Share) string {
	type part struct {
		ns   float64
		what string
	}
	parts := []part{
		{s.DirectNS, "its own requests"},
		{s.StackedNS, "through " + prose.JoinAnd(s.Through)}, // the loop driver's and flushers' requests for what it sent above
		{s.WritebackNS - s.OpenedNS, "writeback of pages it dirtied"},
		// Pages dirtied before the trace: the evidence is that it held
		// the file open for writing, not a traced write.
		{s.OpenedNS, "writeback of files it held open for writing, dirtied before the trace began"},
		{s.JournalNS, model.JournalOf(dt.FSType).Commits + " its syncs forced"},
		{s.FlushNS, "cache flushes that wrote out its data"},
		{s.ForcedNS, "writeback of others' dirty pages its sync() calls forced out"},
	}
	var how []string
	for i, p := range parts {
		if pct := p.ns / dt.BusyNS * 100; dt.BusyNS > 0 && pct >= 0.5 {
			how = append(how, fmt.Sprintf("%.0f %% %s", pct, p.what))
		} else if i == 0 {
			how = append(how, "") // placeholder: own requests too small to name
		}
	}
	if how[0] == "" {
		how = how[1:]
	} else if len(how) == 1 {
		return "" // all its own requests
	}
	if len(how) == 0 {
		return ""
	}
	return " (" + prose.JoinAnd(how) + ")"
}

// ShareName names a share's holder: a process, a kernel thread, or an
// application by its main process and how many of its processes hold
// the time.
func (c *Window) ShareName(dev string, s *model.Share) string {
	if n := c.appSharesOf(dev).members[s]; n > 1 {
		app := c.Apps()[s.Task.PID]
		return fmt.Sprintf("the application %s (main PID %d; %d of its %d processes)", s.Task.Comm, s.Task.PID, n, len(app.Members))
	}
	return TaskName(s)
}

func TaskName(s *model.Share) string {
	if s.Kernel {
		return s.Task.Comm + " (kernel)"
	}
	if s.Process != nil {
		return Name(s.Process)
	}
	return fmt.Sprintf("PID %d (%s)", s.Task.PID, s.Task.Comm)
}

// DeviceTimeSource names where device-time figures come from.
func (c *Window) DeviceTimeSource() string {
	if c.DeviceTimesEstimated {
		return "estimate: targets' files, fd flags and sync counts × w_await (no block trace)"
	}
	return bundle.BlockTraceMember
}

// Shares is a device's time by cause, largest first: a user process's
// share, an application's (its processes' shares summed under its main
// process, see AppProcesses), or a kernel thread's.
func (c *Window) Shares(dev string) []*model.Share { return c.appSharesOf(dev).list }

// AppProcesses is how many processes of one application stand behind a
// share of dev's time: more than one for an application's summed share.
func (c *Window) AppProcesses(dev string, s *model.Share) int {
	return c.appSharesOf(dev).members[s]
}
