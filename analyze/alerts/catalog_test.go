package alerts

import (
	"strings"
	"testing"
	"time"
)

// node_exporter's default device-exclude drops loop, ram and zram
// devices: a rule on one says so; a rule on a disk says nothing.
func TestDeviceNoteForExcludedDevices(t *testing.T) {
	for dev, excluded := range map[string]bool{"loop0": true, "loop12": true, "zram0": true, "ram1": true, "sda": false, "nvme0n1": false, "vda": false, "loop": false, "loopy0": false} {
		note := DeviceSaturated(dev, 80, 10, 2*time.Second, time.Second).Note
		if got := strings.Contains(note, "device-exclude"); got != excluded {
			t.Errorf("%s: note %q", dev, note)
		}
		if got := SyncStorm(dev, 2*time.Second, time.Second).Note != ""; got != excluded {
			t.Errorf("%s: sync-storm note present %v", dev, got)
		}
	}
}
