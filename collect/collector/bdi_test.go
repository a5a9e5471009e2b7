package collector

import (
	"os"
	"strings"
	"testing"

	"github.com/iorca/iorca/collect/bundle"
)

// captureBDIs frames every backing device's dirty-limit files as
// /sys/class/bdi/MAJ:MIN/FILE, raw. It only reads this machine's sysfs;
// without /sys/class/bdi (a container without sysfs) it records the miss
// and adds nothing.
func TestCaptureBDIs(t *testing.T) {
	c := &collection{ledger: newLedger(), sampler: &sampler{}}
	b := c.captureBDIs(nil)
	names, err := os.ReadDir("/sys/class/bdi")
	if err != nil {
		if len(b) != 0 {
			t.Errorf("no /sys/class/bdi, yet %d bytes of frames", len(b))
		}
		t.Skipf("no /sys/class/bdi here: %v", err)
	}
	frames, err := bundle.ParseFrames(b)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range frames {
		if !strings.HasPrefix(f.Path, "/sys/class/bdi/") {
			t.Errorf("frame %s outside /sys/class/bdi", f.Path)
		}
		got[f.Path] = string(f.Data)
	}
	for _, n := range names {
		for _, file := range []string{"max_ratio", "strict_limit"} {
			p := "/sys/class/bdi/" + n.Name() + "/" + file
			want, err := os.ReadFile(p)
			if err != nil {
				continue // absent on this kernel
			}
			if got[p] != string(want) {
				t.Errorf("%s: framed %q, the file holds %q", p, got[p], want)
			}
		}
	}
}
