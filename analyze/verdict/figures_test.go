package verdict

import (
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/window"
)

// One mean per set of calls: in overlay-slow-disk the victim's fsync that
// strace left unfinished at detach is not a 0 µs call (its three that
// returned took 114.7 ms each, not 86.0 ms over four), and the writer's
// synchronous writes show the same mean in every finding that quotes
// them.
func TestUnfinishedCallsAndOneMean(t *testing.T) {
	d := Diagnose(sampleModel(t, "overlay-slow-disk"), window.Defaults())
	means := map[string]bool{}
	for _, f := range d.Findings {
		if f.ID == "io-victims" && (!strings.Contains(f.Summary, "its 3 fsync/fdatasync calls took 114.7 ms each") || !strings.Contains(f.Summary, "1 more was still waiting when the trace ended")) {
			t.Errorf("io-victims: %s", f.Summary)
		}
		for _, e := range f.Evidence {
			if i := strings.Index(e.What, " µs each on average"); i > 0 && strings.Contains(e.What, "/var/log/nginx/access.log") || strings.HasPrefix(e.What, "strace: 31 writes") {
				j := strings.LastIndex(e.What[:i], " ")
				means[e.What[j+1:i]] = true
			}
		}
	}
	if len(means) != 1 {
		t.Errorf("the writer's writes show %d different means: %v", len(means), means)
	}
}
