package window

import (
	"fmt"

	"github.com/iorca/iorca/analyze/model"
)

// Apps is the model's applications by PID, grouped once per context.
func (c *Window) Apps() map[int]*model.App {
	if c.apps == nil {
		c.apps = c.Model.Apps()
	}
	return c.apps
}

// AppLabel names a process's application for a chart's legend or a
// comparison: its container (a runtime's shim serves one, and is not in
// it), else its main process — "PID comm" with withPID, the command alone
// where PIDs differ (two captures).
func (c *Window) AppLabel(p *model.Process, withPID bool) string {
	if app := c.Apps()[p.PID]; app != nil {
		p = app.Main
	}
	if p.Container != nil && p.Container.Name != "" && p.Serves() == nil {
		return "container " + p.Container.Name
	}
	if withPID {
		return fmt.Sprintf("%d %s", p.PID, p.Comm)
	}
	return p.Comm
}

// TicksRange formats a tick range for evidence ("3-9").
func TicksRange(from, to int) string { return fmt.Sprintf("%d-%d", from, to) }
