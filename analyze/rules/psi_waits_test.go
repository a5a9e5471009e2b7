package rules

import (
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/window"
)

// Issue 23 item 3: the pressure a sync logger's cgroup shows is said
// from how PSI counts the sleeps its samples caught. On
// overlay-slow-disk the logger slept for the commit (uncounted) and on
// a buffer the commit was writing (do_get_write_access: wait_on_bit_io,
// counted): both are named; on overlay-sync-logger it only waited for
// commits.
func TestPSIWaitsWording(t *testing.T) {
	for _, tc := range []struct {
		sample    string
		want, not []string
	}{
		{"overlay-slow-disk", []string{"jbd2_log_wait_commit (2)", "PSI does not count", "IO sleeps it counts (do_get_write_access (2)"}, []string{"Its own waits are for"}},
		{"overlay-sync-logger", []string{"it waited for journal commits (jbd2_log_wait_commit", "PSI does not count"}, []string{"IO sleeps it counts"}},
	} {
		var summary string
		for _, f := range checkOn(t, ioStalls, tc.sample, window.Defaults()) {
			summary += f.Summary
		}
		for _, w := range tc.want {
			if !strings.Contains(summary, w) {
				t.Errorf("%s: no %q in %s", tc.sample, w, summary)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(summary, w) {
				t.Errorf("%s: %q in %s", tc.sample, w, summary)
			}
		}
	}
}
