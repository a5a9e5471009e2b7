package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/hostile"
	"github.com/iorca/iorca/collect/bundle"
)

// hostileRSS bounds the peak RSS of the analyzer on any hostile bundle
// below: it reads a manifest, refuses, and exits.
const hostileRSS = 256 << 20

// straceLines are real lines of the fsync-storm sample's trace.
var straceLines = []string{
	`9592  03:36:48.895742 write(5</srv/iorca-sample/fsync-storm/data/wal-000001.log>, ""..., 120) = 120 <0.000034>`,
	`9592  03:36:48.895924 fdatasync(5</srv/iorca-sample/fsync-storm/data/wal-000001.log>) = 0 <0.000775>`,
}

// adversarialBundles writes the hostile bundles into dir, each a few
// hundred KiB on disk, and returns their paths by case name. Each adds
// gigabytes to the fsync-storm sample, whose target 9588 was traced.
func adversarialBundles(t *testing.T, dir string) map[string]string {
	t.Helper()
	base, err := bundle.ReadFile(filepath.Join(samplesDir, "fsync-storm.tar.zst"), bundle.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	moreTargets := tracedCopies(1, 2)
	cases := map[string]struct {
		edit    func(*bundle.Manifest)
		members []hostile.Member
	}{
		"gigabyte of zeros": {nil, []hostile.Member{hostile.Zeros(bundle.KmsgMember, 1024)}},
		"three gigabyte traces": {moreTargets, []hostile.Member{
			hostile.Zeros(bundle.TraceMember(9588), 1024), hostile.Zeros(bundle.TraceMember(1), 1024), hostile.Zeros(bundle.TraceMember(2), 1024)}},
		"gigabyte of valid strace": {func(m *bundle.Manifest) { m.Options.StraceMaxBytes = 2 << 30 },
			[]hostile.Member{hostile.Lines(bundle.TraceMember(9588), 1024, straceLines...)}},
	}
	out := map[string]string{}
	for name, c := range cases {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".tar.zst")
		if err := hostile.Write(p, base, c.edit, c.members...); err != nil {
			t.Fatal(err)
		}
		out[name] = p
	}
	return out
}

// tracedCopies edits a manifest: targets pids become traced copies of
// the first, and the manifest claims a cap on traces of 2 GiB.
func tracedCopies(pids ...int) func(*bundle.Manifest) {
	return func(m *bundle.Manifest) {
		m.Options.StraceMaxBytes = 2 << 30
		for _, pid := range pids {
			tg := m.Targets[0]
			tr := *tg.Strace
			tg.PID, tr.Member = pid, bundle.TraceMember(pid)
			tg.Strace = &tr
			m.Targets = append(m.Targets, tg)
		}
	}
}

// runMain runs this test binary as iorca (TestMain) with args, and returns
// its stderr, exit code and peak RSS.
func runMain(t *testing.T, args ...string) (string, int, int64, time.Duration) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = nil, &stderr
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return stderr.String(), code, ru.Maxrss << 10, took
}

// Adversarial bundles of a few hundred KiB that decompress to gigabytes
// are refused, each with one line naming the member, its size and its
// bound, in well under a second and under hostileRSS of memory.
func TestAdversarialBundles(t *testing.T) {
	dir := t.TempDir()
	paths := adversarialBundles(t, dir)
	want := map[string]string{
		"gigabyte of zeros":        `member "static/kmsg": 1073741824 bytes, over its bound of 16777216`,
		"three gigabyte traces":    `member "strace/1.txt": 1073741824 bytes, over its bound of 67108864 (the reader's bound on one trace)`,
		"gigabyte of valid strace": `member "strace/9588.txt": `,
	}
	for name, p := range paths {
		st, _ := os.Stat(p)
		stderr, code, rss, took := runMain(t, "report", p)
		t.Logf("%s (%d KiB): exit %d, peak RSS %d MiB, %v: %s", name, st.Size()>>10, code, rss>>20, took.Round(time.Millisecond), strings.TrimSpace(stderr))
		if code != exitBadInput || !strings.Contains(stderr, want[name]) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and one line saying %q", name, code, stderr, exitBadInput, want[name])
		}
		if rss > hostileRSS {
			t.Errorf("%s: peak RSS %d MiB, over %d MiB", name, rss>>20, hostileRSS>>20)
		}
	}
	stderr, code, rss, took := runMain(t, "fleet", "-q", dir)
	t.Logf("fleet of %d: exit %d, peak RSS %d MiB, %v", len(paths), code, rss>>20, took.Round(time.Millisecond))
	if rss > hostileRSS {
		t.Errorf("fleet: peak RSS %d MiB, over %d MiB", rss>>20, hostileRSS>>20)
	}
	if code == exitOK {
		t.Errorf("fleet of unreadable bundles: exit 0, stderr %q", stderr)
	}
}

// withinRSS bounds the peak RSS of the analyzer on the largest traces
// the default bounds accept (README, Hostile bundles): measured 250-570
// MiB, with one to fifteen traces, as the collector of garbage runs.
const withinRSS = 768 << 20

// Adversarial bundles just within the default bounds are analysed, and
// memory does not grow with their number of traces: four valid traces of
// 63 MiB each (a manifest that claims a 2 GiB cap gets the reader's own
// 64 MiB bound) cost what one does, since each is parsed, summarised and
// let go as it arrives.
func TestAdversarialTracesWithinBounds(t *testing.T) {
	if testing.Short() {
		t.Skip("parses 250 MiB of strace")
	}
	base, err := bundle.ReadFile(filepath.Join(samplesDir, "fsync-storm.tar.zst"), bundle.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	pids := []int{1, 2, 3}
	edit := tracedCopies(pids...)
	members := []hostile.Member{hostile.Lines(bundle.TraceMember(9588), 63, straceLines...)}
	for _, pid := range pids {
		members = append(members, hostile.Lines(bundle.TraceMember(pid), 63, straceLines...))
	}
	p := filepath.Join(t.TempDir(), "four-traces.tar.zst")
	if err := hostile.Write(p, base, edit, members...); err != nil {
		t.Fatal(err)
	}
	stderr, code, rss, took := runMain(t, "report", p)
	t.Logf("four 63 MiB traces: exit %d, peak RSS %d MiB, %v", code, rss>>20, took.Round(time.Millisecond))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if rss > withinRSS {
		t.Errorf("peak RSS %d MiB, over %d MiB", rss>>20, withinRSS>>20)
	}
}
