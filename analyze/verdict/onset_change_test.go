package verdict

import (
	"os"
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/window"
)

// What changed at an onset on a device is said of an application that
// held that device's time (by the block trace), not of whichever
// application's IO rose most on the node: on a machine where a build
// sped up on the root disk as a writer started on a slow data disk, the
// writer is what changed on the data disk.
func TestAppChangeFollowsTheDevice(t *testing.T) {
	entries, err := os.ReadDir(sampletest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	differs := 0
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".tar.zst")
		if !ok {
			continue
		}
		m := sampleModel(t, name)
		d := &Diagnosis{Window: window.New(m, window.Defaults())}
		last := len(m.Ticks) - 1
		if last < 4 {
			continue
		}
		base := last / 2
		anywhere := d.appChange(base, last, "")
		for dev, dt := range d.Window.DeviceTimes {
			got := d.appChange(base, last, dev)
			if d.Window.DeviceTimesEstimated {
				if got != anywhere {
					t.Errorf("%s, %s: without a block trace the node-wide rise stands (%q), got %q", name, dev, anywhere, got)
				}
				continue
			}
			var holders []string
			ok := false
			for _, sh := range d.Window.Shares(dev) {
				if sh.Process == nil || dt.Fraction(sh) < minOnsetShare {
					continue
				}
				name := window.Name(d.Window.Apps()[sh.Process.PID].Main)
				holders = append(holders, name)
				ok = ok || strings.HasPrefix(got, name)
			}
			switch {
			case got == "":
			case !ok:
				t.Errorf("%s, %s: %q names none of the device's holders %q", name, dev, got, holders)
			case got != anywhere:
				differs++
				t.Logf("%s, %s: %q; node-wide it would be %q", name, dev, got, anywhere)
			}
		}
	}
	if differs == 0 {
		t.Error("no sample's device named another application than the node-wide rise: the test shows nothing")
	}
}
