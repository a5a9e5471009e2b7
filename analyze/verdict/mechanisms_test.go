package verdict

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

// findingOf is the diagnosis's finding with the id, failing without one.
func findingOf(t *testing.T, d *Diagnosis, id string) content.Finding {
	t.Helper()
	for _, f := range d.Findings {
		if f.ID == id {
			return f
		}
	}
	t.Fatalf("no %s finding", id)
	return content.Finding{}
}

// A consequence never outranks its cause: on every sample, stalls,
// saturation and victims linked to the primary finding are at most as
// severe as it is.
func TestConsequenceNeverOutranksItsCause(t *testing.T) {
	for _, name := range []string{"overlay-slow-disk", "overlay-sync-logger", "fsync-storm", "dirty-throttled", "throttled-cgroup", "failing-disk", "swap-cgroup-limit", "mmap-msync", "sync-caller"} {
		d := Diagnose(sampleModel(t, name), window.Defaults())
		if !d.Verdict.Problem {
			continue
		}
		primary := findingOf(t, d, d.Verdict.Primary)
		for _, f := range d.Findings {
			if f.ConsequenceOf != "" && f.Severity > primary.Severity {
				t.Errorf("%s: %s (%v) outranks its cause %s (%v)", name, f.ID, f.Severity, primary.ID, primary.Severity)
			}
		}
	}
}

// io-stalls names application tasks, never kernel threads (jbd2 and the
// flushers are busy doing the culprit's IO), quotes the culprit's own
// cgroup pressure beside the node's, and calls the stalls self-inflicted
// when no other task waited: overlay-sync-logger's container waited 3.6 %
// of the time against the node's 44 %, and only jbd2 was in D state.
func TestIOStallsNamesApplicationsAndSelfInflicted(t *testing.T) {
	d := Diagnose(sampleModel(t, "overlay-sync-logger"), window.Defaults())
	f := findingOf(t, d, "io-stalls")
	if f.Severity != content.Info || !strings.Contains(f.Summary, "Self-inflicted: no other task waited") {
		t.Errorf("overlay-sync-logger io-stalls: %v, %q; want info, self-inflicted", f.Severity, f.Summary)
	}
	if !strings.Contains(f.Summary, "waited 3.6 % of the time against the node's 44.1 %") {
		t.Errorf("the container's own io.pressure is not quoted: %q", f.Summary)
	}
	for _, name := range []string{"overlay-sync-logger", "overlay-slow-disk", "dirty-throttled", "fsync-storm"} {
		d := Diagnose(sampleModel(t, name), window.Defaults())
		for _, f := range d.Findings {
			if f.ID != "io-stalls" {
				continue
			}
			for _, pid := range f.Subjects.PIDs {
				if p := d.Window.ByPID[pid]; p != nil && p.Proc.Kernel {
					t.Errorf("%s: io-stalls names the kernel thread %s as stalled", name, p.Proc.Comm)
				}
			}
		}
	}
	// Another task waited (db-walwriter behind the access logger): not
	// self-inflicted.
	d = Diagnose(sampleModel(t, "overlay-slow-disk"), window.Defaults())
	if f := findingOf(t, d, "io-stalls"); strings.Contains(f.Summary, "Self-inflicted") || f.Severity == content.Info {
		t.Errorf("overlay-slow-disk: db-walwriter waited, yet %v %q", f.Severity, f.Summary)
	}
	// fsync-storm: the syncing writer waits for its own commits, no one
	// else does.
	d = Diagnose(sampleModel(t, "fsync-storm"), window.Defaults())
	if f := findingOf(t, d, "io-stalls"); f.Severity != content.Info || !strings.Contains(f.Summary, "Self-inflicted") {
		t.Errorf("fsync-storm io-stalls: %v %q; want info, self-inflicted", f.Severity, f.Summary)
	}
}

// A saturation whose only waiters are the writer holding the device and
// the kernel threads doing its IO is info: the device paces its own load.
func TestSelfInflictedSaturationIsInfo(t *testing.T) {
	d := Diagnose(sampleModel(t, "dirty-throttled"), window.Defaults())
	if f := findingOf(t, d, "device-saturated"); f.Severity != content.Info || !strings.Contains(f.Summary, "Self-inflicted") {
		t.Errorf("dirty-throttled device-saturated: %v %q; want info, self-inflicted", f.Severity, f.Summary)
	}
	d = Diagnose(sampleModel(t, "overlay-slow-disk"), window.Defaults())
	if f := findingOf(t, d, "device-saturated"); f.Severity == content.Info {
		t.Errorf("overlay-slow-disk: db-walwriter waited for loop0, yet the saturation is info")
	}
}

// failing-disk: the errors of today's loop0 begin +2.0 s into the capture
// (the earlier ones are about a loop0 detached since); the onset is that
// moment, the first IO error, and the verdict names who wrote after it.
// Its lost writes are sync ones: their callers got EIO, nothing was
// silently dropped.
func TestFailingDiskOnsetIsTheFirstError(t *testing.T) {
	d := Diagnose(sampleModel(t, "failing-disk"), window.Defaults())
	o := d.Verdict.Onset
	if o == nil || o.Tick != 2 || math.Abs(o.Seconds-2.0) > 0.05 || !strings.Contains(o.Event, "first IO error") {
		t.Fatalf("onset %+v; want tick 2, +2.0 s, the first IO error", o)
	}
	if !strings.Contains(o.Event, "attached again 2.3 s before the capture") {
		t.Errorf("the onset does not say the earlier errors were another loop0's: %q", o.Event)
	}
	s := d.Verdict.Summary
	for _, want := range []string{"edge of the data-loss window", "order-service", "lost sync page writes (a buffer the kernel wrote and waited for, such as the superblock or other filesystem metadata, failed)"} {
		if !strings.Contains(s, want) {
			t.Errorf("verdict lacks %q: %s", want, s)
		}
	}
	if strings.Contains(s, "lost async") || strings.Contains(s, "could not write and dropped") {
		t.Errorf("verdict says sync lost writes were dropped silently: %s", s)
	}
}

// overlay-slow-disk: two O_SYNC/fdatasync writers and no buffered one.
// Every request is what it is — their own, the journal's (jbd2's and the
// commit blocks kblockd re-issues with M/F flags), a cache flush — and
// none is "writeback of pages it dirtied".
func TestSyncWritersHaveNoWritebackShare(t *testing.T) {
	c := window.New(sampleModel(t, "overlay-slow-disk"), window.Defaults())
	dt := c.DeviceTimes["loop0"]
	if dt == nil {
		t.Fatal("no device time for loop0")
	}
	for _, s := range dt.Shares {
		if s.WritebackNS > 0 {
			t.Errorf("%s has %.0f ms of writeback on loop0", c.ShareName("loop0", s), s.WritebackNS/1e6)
		}
	}
	if s := dt.Find(7932); s == nil || s.JournalNS <= 0 || s.DirectNS <= 0 {
		t.Errorf("the access logger's share %+v: want its own requests and the journal commits its syncs forced", s)
	}
}

// Issue 24: the verdict says how the process holding the device's time
// makes it wait. On every sample whose device has a holder, the primary
// is about that holder and is no effect (stalls, victims, a saturation);
// the mapped journal's is its msyncs, the snapshot agent's its sync()
// calls.
func TestPrimaryIsTheHoldersMechanism(t *testing.T) {
	want := map[string][2]string{"mmap-msync": {"mmap-msync", "mapped-journal"}, "sync-caller": {"sync-caller", "snapshot-agent"}}
	for _, name := range []string{"mmap-msync", "sync-caller", "overlay-slow-disk", "overlay-sync-logger", "fsync-storm", "dirty-throttled", "throttled-cgroup", "swap-cgroup-limit"} {
		d := Diagnose(sampleModel(t, name), window.Defaults())
		if _, s, ok := d.Window.DeviceHolder(); ok && d.Verdict.Culprit != nil && d.Verdict.Culprit.Kind == "process" {
			primary := findingOf(t, d, d.Verdict.Primary)
			if primary.Role.Effect() {
				t.Errorf("%s: the holder %s's primary is %s, an effect", name, s.Task.Comm, primary.ID)
			}
		}
		if w, ok := want[name]; ok {
			cp := d.Verdict.Culprit
			if d.Verdict.Primary != w[0] || cp == nil || cp.Comm != w[1] {
				t.Errorf("%s: primary %s, culprit %+v; want %s and %s", name, d.Verdict.Primary, cp, w[0], w[1])
			}
		}
	}
}

// Stalls whose only waiter is the load itself follow the same rules on
// every sample: info, self-inflicted, the load named as the task that
// waited, no victims to protect; and a sync() caller whose forced
// writeback no other writer waited for (sync-caller) is such a case.
func TestSelfInflictedStallsEverywhere(t *testing.T) {
	selfInflicted := map[string]bool{}
	for _, name := range allSamples(t) {
		d := Diagnose(sampleModel(t, name), window.Defaults())
		for _, f := range d.Findings {
			if f.ID != "io-stalls" || !strings.Contains(f.Summary, "Self-inflicted") {
				continue
			}
			selfInflicted[name] = true
			if f.Severity != content.Info || len(f.Subjects.PIDs) == 0 {
				t.Errorf("%s: self-inflicted stalls %v, subjects %v; want info naming the load", name, f.Severity, f.Subjects.PIDs)
			}
			for _, m := range f.Mitigations {
				// Protecting or isolating latency-sensitive work
				// is for victims; there are none.
				if m.Horizon == content.LongTerm || strings.Contains(m.Action, "latency-sensitive") {
					t.Errorf("%s: self-inflicted stalls, yet %q", name, m.Action)
				}
			}
			for _, g := range d.Findings {
				if g.ID == "io-victims" {
					t.Errorf("%s: self-inflicted stalls beside victims: %s", name, g.Title)
				}
			}
		}
	}
	if !selfInflicted["sync-caller"] {
		t.Error("sync-caller: no other writer waited for its sync passes, yet its stalls are not self-inflicted")
	}
}

// A device half busy with slow requests is not "mostly idle" when the
// block trace shows its busy time in bursts with requests queued in them:
// sync-caller's loop0 was 52 % busy at 136 ms a request against a 10 ms
// disk, every sync's writeback queued at once. The verdict says so.
func TestSlowInBurstsIsNotIdle(t *testing.T) {
	s := Diagnose(sampleModel(t, "sync-caller"), window.Defaults()).Verdict.Summary
	if strings.Contains(s, "mostly idle") || !strings.Contains(s, "came in bursts") {
		t.Errorf("verdict: %s", s)
	}
}

// The compressor half of a rotation, made by hand from copytruncate-rotation:
// the rotation job's process now reads the rotated copy app.log.1 and writes
// app.log.1.gz (its trace and descriptors renamed; nothing else changes, so
// it holds the saturated disk as the copy did) under a name that says
// nothing (nightly-job). It is the culprit, by device time, and the
// verdict's finding is the compression of a rotated log, recognised from
// what it reads and writes; a process that reads the rotated copy into
// an archive of another name is not its compressor.
func TestRotationCompressorIsTheCulprit(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		compress  bool
	}{
		{"compressor", ".1.gz", true},
		{"archiver, adversarial", ".1-archive.tar.gz", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := sampletest.Load(t, sampletest.Path(t, "copytruncate-rotation"))
			pid := renameCopier(t, m, tc.out)
			d := Diagnose(m, window.Defaults())
			var found *content.Finding
			for i, f := range d.Findings {
				if f.ID == "log-rotation" && strings.Contains(f.Title, "compresses the rotated log") {
					found = &d.Findings[i]
				}
			}
			if !tc.compress {
				if found != nil {
					t.Errorf("an archive of another name taken for the compressed copy: %s", found.Title)
				}
				return
			}
			if found == nil || found.Severity != content.Warning || found.Subjects.Device != "loop0" {
				t.Fatalf("no compression finding about loop0 at warning: %+v", found)
			}
			if c := d.Verdict.Culprit; c == nil || c.PID != pid || d.Verdict.Primary != "log-rotation" {
				t.Errorf("culprit %+v, primary %q; want PID %d and log-rotation", d.Verdict.Culprit, d.Verdict.Primary, pid)
			}
			if !strings.Contains(d.Verdict.Summary, "reads the rotated log") || !strings.Contains(d.Verdict.Summary, "writes it compressed") {
				t.Errorf("verdict: %s", d.Verdict.Summary)
			}
			var later, idle bool
			for _, mt := range found.Mitigations {
				later = later || strings.Contains(mt.How, "delaycompress")
				idle = idle || strings.Contains(mt.How, fmt.Sprintf("ionice -c3 -p %d", pid))
			}
			if !later || !idle {
				t.Errorf("mitigations: delaycompress %v, ionice %v", later, idle)
			}
		})
	}
}

// renameCopier turns the target that copies app.log into app.log.1 into
// one that reads app.log.1 and writes app.log+out, and renames its
// program; it returns its PID.
func renameCopier(t *testing.T, m *model.Model, out string) int {
	t.Helper()
	for _, tg := range m.Targets {
		s := tg.Summary()
		if tg.Process == nil || s == nil {
			continue
		}
		var live string
		for _, f := range s.Files {
			if strings.HasSuffix(f.Path, "/app.log") && f.Reads > 0 {
				live = f.Path
			}
		}
		if live == "" {
			continue
		}
		rename := func(p string) string {
			switch p {
			case live:
				return live + ".1"
			case live + ".1":
				return live + out
			}
			return p
		}
		for i := range s.Files {
			s.Files[i].Path = rename(s.Files[i].Path)
		}
		s.Truncated = nil
		for i := range tg.FDs {
			tg.FDs[i].Path = rename(tg.FDs[i].Path)
		}
		tg.Process.Comm = "nightly-job"
		return tg.Process.PID
	}
	t.Fatal("no target copies app.log")
	return 0
}
