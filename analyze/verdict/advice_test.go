package verdict

import (
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/internal/procfs"
)

// allMitigations is every mitigation and every "not advised" line of a
// diagnosis, as text.
func allMitigations(d *Diagnosis) (string, string) {
	var ms, not []string
	for _, f := range d.Findings {
		for _, m := range f.Mitigations {
			ms = append(ms, m.Action+" | "+m.How)
		}
		for _, e := range f.Evidence {
			if strings.HasPrefix(e.What, "not advised") {
				not = append(not, e.What)
			}
		}
	}
	return strings.Join(ms, "\n"), strings.Join(not, "\n")
}

// The samples' facts rule levers out: loop devices with the none scheduler
// (no ionice), buffered writes (no ionice), a runtime shim (no ionice), the
// root blkio cgroup (no limit), the io controller on cgroup v1 (a limit
// only with its direct-IO caveat), a container whose own block IO is zero
// (no container limit), container logs already on their own volume.
func TestMitigationsFollowTheNodesFacts(t *testing.T) {
	for _, tc := range []struct {
		sample          string
		absent, present []string
		notAdvised      []string
	}{
		{"fsync-storm", []string{"ionice -c", "io.max"}, nil, []string{"scheduler is none", "root blkio cgroup"}},
		{"bulk-writer", []string{"ionice -c", "io.max"}, []string{"sync_file_range"}, []string{"writes are buffered", "root blkio cgroup"}},
		{"nginx-logger-stdout", []string{"ionice -c", "Limit the container's IO", "Put container logs on their own volume"}, []string{"copytruncate", "binary://", "--log-driver local", "checked every 10 s"},
			[]string{"container runtime component"}},
		{"overlay-sync-logger", []string{"ionice -c", "io.max"}, []string{"blkio.throttle.write_bps_device (cgroup v1: holds for direct and synchronous IO only"}, []string{"scheduler is none"}},
	} {
		t.Run(tc.sample, func(t *testing.T) {
			ms, not := allMitigations(Diagnose(sampleModel(t, tc.sample), window.Defaults()))
			for _, a := range tc.absent {
				if strings.Contains(ms, a) {
					t.Errorf("a mitigation says %q although the bundle rules it out:\n%s", a, ms)
				}
			}
			for _, p := range tc.present {
				if !strings.Contains(ms, p) {
					t.Errorf("no mitigation says %q:\n%s", p, ms)
				}
			}
			for _, n := range tc.notAdvised {
				if !strings.Contains(not, n) {
					t.Errorf("no 'not advised' line says %q:\n%s", n, not)
				}
			}
		})
	}
}

// Where the facts allow it, the levers are advised with this node's
// commands: a hand-changed copy of the overlay-sync-logger model (named
// here as such) whose device uses bfq and whose io controller is on
// cgroup v2.
func TestMitigationsWhereTheyWork(t *testing.T) {
	m := sampletest.Load(t, sampletest.Path(t, "overlay-sync-logger")) // a private copy, changed below
	for _, b := range m.Blocks {
		b.Scheduler = "bfq"
	}
	m.CgroupV1Root, m.CgroupV2Root = "", "/sys/fs/cgroup"
	for _, p := range m.Procs {
		if p.Container != nil {
			p.Cgroups = []procfs.CgroupLine{{HierarchyID: 0, Path: "/k8s.io/" + p.Container.Name}}
		}
	}
	ms, _ := allMitigations(Diagnose(m, window.Defaults()))
	for _, want := range []string{"ionice -c3 -p", "honoured by the bfq scheduler"} {
		if !strings.Contains(ms, want) {
			t.Errorf("no mitigation says %q:\n%s", want, ms)
		}
	}
}

// Cause before symptom: the stalls that synchronous writes cause follow
// them, say so, and the verdict rests on the cause; a limit is a culprit
// of its own kind.
func TestCauseBeforeSymptom(t *testing.T) {
	d := Diagnose(sampleModel(t, "fsync-storm"), window.Defaults())
	if d.Verdict.Primary != "sync-writes" || d.Findings[0].ID != "sync-writes" {
		t.Errorf("primary %s, first finding %s; want sync-writes", d.Verdict.Primary, d.Findings[0].ID)
	}
	last := d.Findings[len(d.Findings)-1]
	if last.ID != "io-stalls" || last.ConsequenceOf != "sync-writes" || !strings.Contains(last.Summary, "It follows from sync-writes") {
		t.Errorf("io-stalls is not listed last as a consequence: %+v", last)
	}
	d = Diagnose(sampleModel(t, "throttled-cgroup"), window.Defaults())
	if c := d.Verdict.Culprit; c == nil || c.Kind != "limit" || !strings.Contains(c.Limit, "/iorca-throttled") {
		t.Errorf("throttled-cgroup culprit %+v, want the limit", c)
	}
}

// A WAL's syncs get the mitigations that make each sync cheap.
func TestWALAdvice(t *testing.T) {
	ms, _ := allMitigations(Diagnose(sampleModel(t, "fsync-storm"), window.Defaults()))
	for _, want := range []string{"preallocated segments", "O_DIRECT|O_DSYNC", "group commit"} {
		if !strings.Contains(ms, want) {
			t.Errorf("fsync-storm mitigations lack %q:\n%s", want, ms)
		}
	}
}
