package verdict

import (
	"slices"
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/rules"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/internal/procfs"
	"github.com/iorca/iorca/report/content"
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
// (no ionice), buffered writes (no ionice, a runtime shim's included), the
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
			[]string{"writes are buffered"}},
		{"overlay-sync-logger", []string{"ionice -c", "io.max", "blkio.throttle"}, []string{"Reload the logger of /var/log/nginx/access.log with buffered writes"}, []string{"scheduler is none", "loop0 copes"}},
		{"throttled-cgroup", []string{"Cap the IO of", "BYTES_PER_S", "Larger writes and fewer syncs"}, nil, []string{"already has an IO limit"}},
		{"fsync-storm", []string{"nginx", "access_log"}, []string{"group commit"}, nil},
		{"failing-disk", []string{"Stop syncing", "Open without", "make each sync cheap"}, nil, nil},
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
// commands: a hand-changed copy of the overlay-slow-disk model (named
// here as such; its loop0 is saturated) whose device uses bfq and whose
// io controller is on cgroup v2.
func TestMitigationsWhereTheyWork(t *testing.T) {
	m := onCgroupV2(t, "overlay-slow-disk")
	for _, b := range m.Blocks {
		b.Scheduler = "bfq"
	}
	th := window.Defaults()
	th.DominantMinBytesPerSec = 0 // its writer moves little, but holds loop0
	ms, _ := allMitigations(Diagnose(m, th))
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
	// Advice by keyword that gives up the WAL's durability, or a web
	// server's directives where no web server runs.
	for _, wrong := range []string{"collector instead of a file", "syslog", "access_log", "nginx"} {
		if strings.Contains(ms, wrong) {
			t.Errorf("fsync-storm mitigations hold %q, advice for another mechanism:\n%s", wrong, ms)
		}
	}
}

// A program is named in advice only where the bundle shows it running:
// the samples whose loggers stand in for nginx (access-logger writing
// /var/log/nginx/..., a container's stdout) get general wording, and no
// tmpfs writer is told to watch dirty or writeback memory (Shmem is never
// written back).
func TestAdviceNamesOnlyProgramsTheBundleShows(t *testing.T) {
	for _, name := range []string{"overlay-slow-disk", "overlay-sync-logger", "nginx-logger-stdout", "xfs-sync-logger"} {
		ms, _ := allMitigations(Diagnose(sampleModel(t, name), window.Defaults()))
		if strings.Contains(ms, "access_log") || strings.Contains(ms, "for nginx") {
			t.Errorf("%s: nginx directives, but no process runs nginx:\n%s", name, ms)
		}
	}
	d := Diagnose(sampleModel(t, "overlay-sync-logger-tmpfs"), window.Defaults())
	for _, f := range d.Findings {
		if f.ID == "tmpfs-filling" && slices.Contains(rules.Of(&f).Watch, rules.WatchMemory) {
			t.Error("tmpfs-filling watches dirty and writeback memory")
		}
	}
}

// Immediate actions fit the service (item 6): a record log synced line by
// line gets "reload the logger buffered" first, and a cap only where the
// device is saturated, in the unit of the load, with its figure, saying
// that it slows a synchronous writer's service. The overlay-slow-disk
// sample (loop0 saturated) as it would be on a node whose io controller
// is on cgroup v2 (hand-changed model, named here as such).
func TestImmediateActionsFitTheService(t *testing.T) {
	m := onCgroupV2(t, "overlay-slow-disk")
	th := window.Defaults()
	th.DominantMinBytesPerSec = 0 // its writer moves little, but holds loop0
	d := Diagnose(m, th)
	var immediate []string
	for _, f := range d.Findings {
		for _, mt := range f.Mitigations {
			if mt.Horizon == content.Immediate && f.Severity >= content.Warning {
				immediate = append(immediate, f.ID+": "+mt.Action+" | "+mt.How+" | "+mt.Effect)
			}
		}
	}
	all := strings.Join(immediate, "\n")
	if len(immediate) == 0 || !strings.Contains(immediate[0], "Reload the logger of /var/log/nginx/access.log with buffered writes") {
		t.Errorf("the first immediate action is not the buffered logger:\n%s", all)
	}
	if strings.Contains(all, "BYTES_PER_S") {
		t.Errorf("a placeholder where the bundle holds the figure:\n%s", all)
	}
	if !strings.Contains(all, `wiops=8"`) || !strings.Contains(all, "the service slows with it") {
		t.Errorf("a cap on small synchronous writes is not in IOPS or hides its cost:\n%s", all)
	}
}

// onCgroupV2 is a private copy of a sample's model changed by hand to
// what it would be on a node whose io controller is on cgroup v2, each
// container in /k8s.io/NAME.
func onCgroupV2(t *testing.T, sample string) *model.Model {
	m := sampletest.Load(t, sampletest.Path(t, sample))
	m.CgroupV1Root, m.CgroupV2Root = "", "/sys/fs/cgroup"
	for _, p := range m.Procs {
		if p.Container != nil {
			p.Cgroups = []procfs.CgroupLine{{HierarchyID: 0, Path: "/k8s.io/" + p.Container.Name}}
		}
	}
	return m
}
