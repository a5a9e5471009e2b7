package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/samples/workload"
)

// allText returns every member's content and the manifest, for searching.
func allText(t *testing.T, path string) string {
	t.Helper()
	b := readBundle(t, path)
	var sb strings.Builder
	for _, n := range b.Names() {
		d, _ := b.Member(n)
		sb.Write(d)
	}
	return sb.String()
}

func hasProblem(m *bundle.Manifest, source string, st bundle.Status, what string) bool {
	for _, p := range m.Errors {
		if p.Source == source && p.Status == st && strings.Contains(p.What, what) {
			return true
		}
	}
	return false
}

func TestBundleNeverExceedsBound(t *testing.T) {
	workload.Live(t)
	workload.RequireTool(t, "strace")
	file := filepath.Join(t.TempDir(), "fast.log")
	w := workload.StartWriter(t, "--file", file, "--size", "60", "--max-bytes", "4MiB")
	cfg := testConfig(t)
	cfg.PIDs = []int{w.Process.Pid}
	cfg.MaxBundleBytes = 80 << 10
	cfg.StraceMaxBytes = 8 << 20
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(res.Path)
	if st.Size() > cfg.MaxBundleBytes {
		t.Fatalf("bundle is %d bytes, bound %d", st.Size(), cfg.MaxBundleBytes)
	}
	b := readBundle(t, res.Path)
	var dropped []string
	for _, bd := range b.Manifest.Bounds {
		dropped = append(dropped, bd.Dropped...)
	}
	if !strings.Contains(strings.Join(dropped, " "), "strace/") {
		t.Errorf("nothing of the trace dropped to fit; bounds %+v", b.Manifest.Bounds)
	}
	if !res.Incomplete {
		t.Error("a bundle with dropped members is not reported incomplete")
	}
	tg := findTarget(b.Manifest, w.Process.Pid)
	if tg == nil || tg.Strace == nil || !tg.Strace.Truncated || tg.Strace.Status != bundle.StatusPartial {
		t.Errorf("target strace after drop: %+v", tg)
	}
}

func TestTargetExitsMidCollection(t *testing.T) {
	workload.Live(t)
	workload.RequireTool(t, "strace")
	w := workload.StartWriter(t, "--file", filepath.Join(t.TempDir(), "a.log"), "--size", "60", "--rate", "200", "--for", "2s")
	go w.Wait() // reap it when it exits, as its parent would
	cfg := testConfig(t)
	cfg.PIDs = []int{w.Process.Pid}
	cfg.StraceDuration = 3 * time.Second
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := readBundle(t, res.Path).Manifest
	if !hasProblem(m, "targets", bundle.StatusAbsent, "is gone") {
		t.Errorf("no problem for the exited target: %+v", m.Errors)
	}
	tg := findTarget(m, w.Process.Pid)
	if tg == nil || tg.Strace == nil || tg.Strace.StopReason != "target-exited" {
		t.Errorf("target %+v", tg)
	}
}

func TestStraceMissing(t *testing.T) {
	workload.Live(t)
	w := workload.StartWriter(t, "--file", filepath.Join(t.TempDir(), "a.log"), "--size", "60", "--rate", "200")
	t.Setenv("PATH", t.TempDir())
	cfg := testConfig(t)
	cfg.PIDs = []int{w.Process.Pid}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := readBundle(t, res.Path).Manifest
	if !hasProblem(m, "strace", bundle.StatusAbsent, "not installed") || !res.Incomplete {
		t.Errorf("strace missing not recorded: incomplete=%v errors=%+v", res.Incomplete, m.Errors)
	}
	if tg := findTarget(m, w.Process.Pid); tg == nil || tg.Member == "" {
		t.Errorf("the target was not described without strace: %+v", tg)
	}
}

func TestRedaction(t *testing.T) {
	workload.Live(t)
	workload.RequireTool(t, "strace")
	for _, redactOn := range []bool{true, false} {
		w := workload.StartWriter(t, "--file", filepath.Join(t.TempDir(), "a.log"), "--size", "90", "--rate", "300", "--password=hunter2")
		cfg := testConfig(t)
		cfg.PIDs = []int{w.Process.Pid}
		cfg.Redact = redactOn
		res, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		text := allText(t, res.Path)
		m := readBundle(t, res.Path).Manifest
		if redactOn {
			if strings.Contains(text, "hunter2") {
				t.Error("redaction on: hunter2 is in the bundle")
			}
			found := false
			for _, r := range m.Redaction.Log {
				found = found || (r.PID == w.Process.Pid && r.Key == "--password" && r.Chars == len("hunter2"))
			}
			if !m.Redaction.Enabled || !found || !strings.Contains(m.Redaction.StracePayloads, "-s 0") {
				t.Errorf("redaction record %+v", m.Redaction)
			}
			if !strings.Contains(text, "--password=***") {
				t.Error("the masked argument is not in the process table")
			}
		} else {
			if strings.Count(text, "hunter2") < 2 {
				t.Error("redaction off: hunter2 should be in the command line and the trace prefix")
			}
			if m.Redaction.Enabled || m.Redaction.MaskedArgs != 0 {
				t.Errorf("redaction off but recorded %+v", m.Redaction)
			}
		}
		if m.Redaction.Environment != "never collected" || strings.Contains(text, "PATH=/") {
			t.Error("environment reached the bundle")
		}
	}
}

// A --redact pattern masks what it matches in command lines and strace
// text on a real capture, and the manifest counts it per pattern (never
// what it matched) beside the built-in kinds.
func TestRedactPatternLive(t *testing.T) {
	workload.Live(t)
	workload.RequireTool(t, "strace")
	file := filepath.Join(t.TempDir(), "customer-acme.log")
	w := workload.StartWriter(t, "--file", file, "--size", "90", "--rate", "300", "--password=hunter2")
	cfg := testConfig(t)
	cfg.PIDs = []int{w.Process.Pid}
	cfg.RedactPatterns = []string{`customer-(\w+)`}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := readBundle(t, res.Path)
	m := b.Manifest
	cmdline := fmt.Sprintf("/proc/%d/cmdline", w.Process.Pid)
	for _, member := range []string{bundle.ProcTableMember, bundle.TargetMember(w.Process.Pid)} {
		f, ok := frames(t, b, member)[cmdline]
		if !ok || !strings.Contains(string(f.Data), "customer-***.log") || strings.Contains(string(f.Data), "acme") || !strings.Contains(string(f.Data), "--password=***") {
			t.Errorf("%s: cmdline %q", member, f.Data)
		}
	}
	tg := findTarget(m, w.Process.Pid)
	if tg == nil || tg.Strace == nil || tg.Strace.Member == "" {
		t.Fatalf("no trace of the writer: %+v", tg)
	}
	if st, _ := b.Member(tg.Strace.Member); strings.Contains(string(st), "customer-acme") || !strings.Contains(string(st), "customer-***.log") {
		t.Errorf("strace text not masked by the pattern:\n%.400s", st)
	}
	red := m.Redaction
	if len(red.Patterns) != 1 || red.Patterns[0].Pattern != cfg.RedactPatterns[0] || red.Patterns[0].Masked < 3 ||
		red.Kinds["pattern"] != red.Patterns[0].Masked || red.Kinds["option"] < 2 || red.Rules == "" {
		t.Errorf("redaction record: patterns %+v kinds %v rules %q", red.Patterns, red.Kinds, red.Rules)
	}
	mj, _ := json.Marshal(m)
	if strings.Contains(string(mj), "acme") || strings.Contains(string(mj), "hunter2") {
		t.Error("the manifest holds a masked value")
	}
}

func TestOutputNoRoomStopsBeforeSampling(t *testing.T) {
	dir := workload.Tmpfs(t, "1m")
	fill(t, dir)
	cfg := testConfig(t)
	cfg.Output = filepath.Join(dir, "b.tar.zst")
	start := time.Now()
	_, err := Run(context.Background(), cfg)
	var oe *OutputError
	if !errors.As(err, &oe) || !strings.Contains(err.Error(), "--max-bundle-bytes") || !strings.Contains(err.Error(), "/dev/shm") {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > time.Second {
		t.Error("sampled before refusing")
	}
	onlyFiller(t, dir)
}

func TestOutputReadOnly(t *testing.T) {
	dir := workload.Tmpfs(t, "8m", "ro")
	cfg := testConfig(t)
	cfg.Output = filepath.Join(dir, "b.tar.zst")
	cfg.MaxBundleBytes = 1 << 20
	_, err := Run(context.Background(), cfg)
	if !errors.Is(err, syscall.EROFS) || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("err = %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files left on the read-only fs: %v", ents)
	}
}

// TestDiskFillsDuringCollection: the output filesystem has room at the
// start and none at the end. The bundle goes to the fallback directory;
// without one, the run fails and leaves nothing on the full filesystem.
func TestDiskFillsDuringCollection(t *testing.T) {
	for _, withFallback := range []bool{true, false} {
		dir := workload.Tmpfs(t, "4m")
		cfg := testConfig(t)
		cfg.Strace = false
		cfg.Duration = 3 * time.Second
		cfg.Output = filepath.Join(dir, "b.tar.zst")
		cfg.MaxBundleBytes = 1 << 20
		cfg.FallbackDir = ""
		if withFallback {
			cfg.FallbackDir = t.TempDir()
		}
		time.AfterFunc(time.Second, func() { fill(t, dir) })
		res, err := Run(context.Background(), cfg)
		if withFallback {
			if err != nil {
				t.Fatalf("with fallback: %v", err)
			}
			if !res.FellBack || filepath.Dir(res.Path) != cfg.FallbackDir || !res.Incomplete {
				t.Errorf("result %+v", res)
			}
			readBundle(t, res.Path)
		} else if !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("without fallback: err = %v, want ENOSPC", err)
		}
		onlyFiller(t, dir)
	}
}

// fill writes a file until the filesystem is full.
func fill(t *testing.T, dir string) {
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			return
		}
	}
}

func onlyFiller(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != "filler" {
			t.Errorf("left behind on the full filesystem: %s", e.Name())
		}
	}
}

// TestOutputFailsOtherwise (issue 22, item 5): the output was fine at the
// start and fails at the end for reasons other than room — its directory
// removed, or its path taken meanwhile. Either way the bundle goes to the
// fallback directory and the result says why the output failed; the
// file that took the path is left as it was.
func TestOutputFailsOtherwise(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(dir, out string)
		why   error
	}{
		{"directory removed", func(dir, _ string) { os.RemoveAll(dir) }, os.ErrNotExist},
		{"path taken", func(_, out string) { os.WriteFile(out, []byte("someone else's\n"), 0o644) }, os.ErrExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			cfg := testConfig(t)
			cfg.Strace = false
			cfg.Duration = 2 * time.Second
			cfg.Output = filepath.Join(dir, "b.tar.zst")
			cfg.FallbackDir = t.TempDir()
			time.AfterFunc(500*time.Millisecond, func() { tc.spoil(dir, cfg.Output) })
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if !res.FellBack || filepath.Dir(res.Path) != cfg.FallbackDir || !errors.Is(res.OutputErr, tc.why) {
				t.Errorf("fell back %v to %s, output error %v; want %v", res.FellBack, res.Path, res.OutputErr, tc.why)
			}
			readBundle(t, res.Path)
			if b, err := os.ReadFile(cfg.Output); tc.name == "path taken" && (err != nil || string(b) != "someone else's\n") {
				t.Errorf("the file that took the path was changed: %q, %v", b, err)
			}
		})
	}
}

// TestForceOntoADevice (issue 22, item 9, for the collector): --force -o
// onto a device node writes the bundle into the device and leaves the
// node as it was — never a regular file renamed over it. The node is the
// test's own (the null device, made with mknod in its directory), so a
// regression cannot break the machine's /dev/null.
func TestForceOntoADevice(t *testing.T) {
	workload.Live(t)
	null := filepath.Join(t.TempDir(), "null")
	if err := syscall.Mknod(null, syscall.S_IFCHR|0o666, nullDev); err != nil {
		t.Skipf("mknod: %v (needs root)", err)
	}
	cfg := testConfig(t)
	cfg.Strace = false
	cfg.BlockTrace = false
	cfg.Duration = time.Second
	cfg.Output, cfg.Force, cfg.FallbackDir = null, true, ""
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatalf("run: %v", err)
	}
	st, err := os.Lstat(null)
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("the device node is now %v (%v)", st.Mode(), err)
	}
}

// nullDev is the device number of the null device: major 1, minor 3.
const nullDev = 1<<8 | 3
