package rules

import (
	"fmt"
	"strings"

	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

// costly reports whether a process's writes to path hold a large share
// (DeviceSharePct) of a saturated device's time — a cause there however
// few writes a second it manages — with the evidence that says so.
func costly(c *window.Window, tv *window.TargetView, path string) (content.Evidence, bool) {
	p := tv.Target.Process
	if p == nil {
		return content.Evidence{}, false
	}
	dev, frac, ok := c.HoldsSaturated(p.PID)
	if !ok {
		return content.Evidence{}, false
	}
	if pl, ok := c.Place(tv, path); !ok || pl.Device != dev {
		return content.Evidence{}, false
	}
	x := c.Devices[dev]
	who := window.Name(p)
	if s := c.ShareOf(p.PID, dev); s != nil && c.AppProcesses(dev, s) > 1 {
		who = strings.TrimSuffix(c.ShareName(dev, s), ")") + fmt.Sprintf(", PID %d among them)", p.PID)
	}
	return content.Evidence{Member: c.DeviceTimeSource(), Ticks: c.TickSpan(),
		What: fmt.Sprintf("%s holds %.0f %% of the time of %s, which is saturated (%%util %.0f, await %.1f ms): on a slow device each write waits, so the rate stays low while the cost is high",
			who, frac*100, dev, x.Util, x.Await),
		Figures: map[string]float64{FigDeviceSharePct: frac * 100}}, true
}
