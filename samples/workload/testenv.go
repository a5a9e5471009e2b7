package workload

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Live marks a test that runs real workloads on this machine: it skips
// under -short, and unless root (loop devices, mounts, ptrace need it; CI
// runs as root), and it holds a machine-wide lock for the rest of the
// test. A collector picks the node's busiest processes, so two live tests
// at once (go test runs packages in parallel) would trace each other's
// writers.
func Live(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("live test: -short skips it")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (loop devices, mounts, ptrace); CI runs as root")
	}
	Exclusive(t)
}

// Exclusive holds the machine-wide lock of live tests for the rest of the
// test, without needing root: a test that itself does heavy disk IO (a go
// build) takes it so as not to run in the middle of a live scenario. It
// skips under -short, as live tests do.
func Exclusive(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("live test: -short skips it")
	}
	liveMu.Lock()
	defer liveMu.Unlock()
	if liveHeld > 0 {
		liveHeld++
		t.Cleanup(func() { liveMu.Lock(); liveHeld--; liveMu.Unlock() })
		return
	}
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "iorca-live-tests.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	liveHeld = 1
	WaitQuiet(t)
	t.Cleanup(func() {
		liveMu.Lock()
		defer liveMu.Unlock()
		if liveHeld--; liveHeld == 0 {
			syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
			f.Close()
		}
	})
}

var (
	liveMu   sync.Mutex
	liveHeld int
)

// buildTools are the processes of "go test ./..." building other packages
// while a live test runs: their writes to the build cache would count in
// the node's IO and skew what a scenario measures.
var buildTools = map[string]bool{"compile": true, "link": true, "asm": true, "cgo": true, "vet": true, "go": true}

// WaitQuiet waits, at most 30 s, until the go test run this test belongs
// to has had no build tool running for a second: go test builds and vets
// other packages while the first live tests start. It only reads /proc;
// builds of anyone else are the busy machine a scenario must hold up
// against anyway.
func WaitQuiet(t testing.TB) {
	deadline := time.Now().Add(30 * time.Second)
	quietSince := time.Now()
	for time.Now().Before(deadline) {
		if ownBuildRunning() {
			quietSince = time.Now()
		} else if time.Since(quietSince) >= time.Second {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Log("go test's own builds still running after 30 s; going on")
}

// OwnBuild reports whether a process is go test's own build work: the go
// command that runs this test binary (its parent), or a build tool it
// started.
func OwnBuild(pid, ppid int, comm string) bool {
	driver := os.Getppid()
	return pid == driver || (ppid == driver && buildTools[comm])
}

// ownBuildRunning reports whether the go command running this test has a
// build tool running.
func ownBuildRunning() bool {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		f := strings.Fields(s[end+1:])
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		if comm := s[open+1 : end]; comm != "go" && OwnBuild(pid, ppid, comm) {
			return true
		}
	}
	return false
}

// RequireTool skips t when a program is missing; .ci/run installs them.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (.ci/run installs it)", name)
	}
	return p
}

// MustRun runs a command and fails t with its output if it fails.
func MustRun(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// LoopDevice attaches a sparse image of sizeMiB to a free loop device and
// returns /dev/loopN; it is detached when the test ends, even if it fails.
func LoopDevice(t testing.TB, sizeMiB int) string {
	t.Helper()
	Live(t)
	dev := MustRun(t, "losetup", "--find", "--show", sparseImage(t, sizeMiB))
	t.Cleanup(func() { exec.Command("losetup", "-d", dev).Run() })
	return dev
}

// sparseImage makes a sparse file of sizeMiB in the test's temporary
// directory, to put under a loop device.
func sparseImage(t testing.TB, sizeMiB int) string {
	t.Helper()
	img := filepath.Join(t.TempDir(), "disk.img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(int64(sizeMiB) << 20); err != nil {
		t.Fatal(err)
	}
	return img
}

// LoopExt4 makes a real ext4 filesystem of sizeMiB on a loop device and
// mounts it. It returns the mount point and the device (/dev/loopN); both
// are torn down when the test ends, even if it fails.
func LoopExt4(t testing.TB, sizeMiB int) (mnt, dev string) {
	t.Helper()
	dev = LoopDevice(t, sizeMiB)
	// No lazy init: ext4lazyinit would go on zeroing inode tables into
	// the host disk for minutes after the test, under other tests.
	MustRun(t, "mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", dev)
	mnt = filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(mnt, 0o755)
	MustRun(t, "mount", dev, mnt)
	t.Cleanup(func() { unmount(mnt) })
	return mnt, dev
}

// OverlayAccessLog mounts an overlayfs whose layers live on a fresh
// loop-device ext4 of sizeMiB, the filesystem that takes the writes, as
// a container's root does. It returns var/log/nginx/access.log in the
// merged tree (its directory comes from the lower layer, as from an
// nginx image; the file does not exist yet) and the upper directory.
// Everything is torn down when the test ends, even if it fails.
func OverlayAccessLog(t testing.TB, sizeMiB int) (logFile, upper string) {
	t.Helper()
	base, _ := LoopExt4(t, sizeMiB)
	return OverlayAccessLogOn(t, base)
}

// OverlayAccessLogOn is OverlayAccessLog with the layers on the mounted
// filesystem base (a slow disk, say).
func OverlayAccessLogOn(t testing.TB, base string) (logFile, upper string) {
	t.Helper()
	lower := filepath.Join(base, "lower")
	upper = filepath.Join(base, "upper")
	work := filepath.Join(base, "work")
	merged := filepath.Join(base, "merged")
	for _, d := range []string{lower, upper, work, merged, filepath.Join(lower, "var/log/nginx")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	MustRun(t, "mount", "-t", "overlay", "overlay", "-o",
		fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work), merged)
	t.Cleanup(func() { unmount(merged) })
	return filepath.Join(merged, "var/log/nginx/access.log"), upper
}

// Tmpfs mounts a tmpfs of the given size with extra options ("ro").
func Tmpfs(t testing.TB, size string, opts ...string) string {
	t.Helper()
	Live(t)
	dir := filepath.Join(t.TempDir(), "tmpfs")
	os.Mkdir(dir, 0o755)
	o := append([]string{"size=" + size}, opts...)
	MustRun(t, "mount", "-t", "tmpfs", "-o", strings.Join(o, ","), "tmpfs", dir)
	t.Cleanup(func() { unmount(dir) })
	return dir
}

// unmount retries briefly: a process killed a moment ago may still hold
// the mount busy.
func unmount(dir string) {
	for i := 0; i < 50; i++ {
		if exec.Command("umount", dir).Run() == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	exec.Command("umount", "-l", dir).Run()
}

// Start starts a command and, when the test ends, kills it with every
// descendant: fio, for one, forks its jobs into their own sessions, so
// neither killing the parent nor its process group would reach them.
// A test binary killed past go test's timeout runs no cleanup: the
// kernel kills the command then (Pdeathsig), so that no workload outlives
// it to hold a device or the live-test lock.
func Start(t testing.TB, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, pid := range descendants(cmd.Process.Pid) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	return cmd
}

// descendants lists pid's children, grandchildren and so on.
func descendants(pid int) []int {
	parent := map[int]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		if i := strings.LastIndexByte(string(b), ')'); i > 0 {
			f := strings.Fields(string(b[i+1:]))
			if len(f) > 1 {
				parent[p], _ = strconv.Atoi(f[1])
			}
		}
	}
	var out []int
	frontier := []int{pid}
	for len(frontier) > 0 {
		next := []int{}
		for p, pp := range parent {
			for _, f := range frontier {
				if pp == f {
					out = append(out, p)
					next = append(next, p)
				}
			}
		}
		frontier = next
	}
	return out
}

// StartWriter starts the workload binary with args, and kills it when the
// test ends.
func StartWriter(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	return Start(t, Build(t), args...)
}

// StartProgram starts the workload binary under another program name
// (a copy called name, so its comm is name), and kills it when the test
// ends. Two writers a scenario means as different programs — a log
// writer and a database — must differ as they would on a node: the same
// binary started twice by one parent is one application's processes.
func StartProgram(t testing.TB, name string, args ...string) *exec.Cmd {
	t.Helper()
	data, err := os.ReadFile(Build(t))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return Start(t, path, args...)
}

// SlowDisk makes a real slow block device (REFERENCE-IO.md 13): an nbdkit
// memory disk of sizeMiB behind filter (e.g. "delay", "wdelay=15ms"; several
// filters are comma-separated, the outermost first: "noparallel,delay"),
// served as a file by nbdfuse and put under a loop device, so that every
// request pays what the filter says at the block layer. It returns
// /dev/loopN; the loop device, the FUSE mount and nbdkit are torn down
// when the test ends, even if it fails. The test skips when nbdkit or
// nbdfuse is missing (.ci/run installs them).
func SlowDisk(t testing.TB, sizeMiB int, filter string, args ...string) string {
	t.Helper()
	Live(t)
	RequireTool(t, "nbdkit")
	nbdfuse := RequireTool(t, "nbdfuse")
	dir := filepath.Join(t.TempDir(), "nbd")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "disk")
	cmdArgs := []string{file, "--command", "nbdkit", "-s"}
	for _, f := range strings.Split(filter, ",") {
		cmdArgs = append(cmdArgs, "--filter="+f)
	}
	cmdArgs = append(append(cmdArgs, "memory", fmt.Sprintf("%dM", sizeMiB)), args...)
	srv := exec.Command(nbdfuse, cmdArgs...)
	srv.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM} // as Start's
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command("fusermount3", "-u", dir).Run()
		exec.Command("umount", "-l", dir).Run()
		srv.Process.Kill()
		srv.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if st, err := os.Stat(file); err == nil && st.Size() == int64(sizeMiB)<<20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nbdfuse did not serve %s within 10 s", file)
		}
		time.Sleep(50 * time.Millisecond)
	}
	dev := MustRun(t, "losetup", "--find", "--show", file)
	t.Cleanup(func() { exec.Command("losetup", "-d", dev).Run() })
	return dev
}

// Ext4On makes an ext4 filesystem on dev and mounts it; it is unmounted
// when the test ends.
func Ext4On(t testing.TB, dev string) string {
	t.Helper()
	MustRun(t, "mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", dev)
	mnt := filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(mnt, 0o755)
	MustRun(t, "mount", dev, mnt)
	t.Cleanup(func() { unmount(mnt) })
	return mnt
}

// LimitDirty bounds the dirty page cache of the test's own device dev to
// maxBytes (/sys/class/bdi/MAJ:MIN/max_bytes with strict_limit), so that
// a buffered writer is written back, and throttled, during a capture of a
// few seconds rather than after dirty_expire. Only that device's bdi is
// touched; it goes away with the device.
func LimitDirty(t testing.TB, dev string, maxBytes int64) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/sys/class/block", filepath.Base(dev), "dev"))
	if err != nil {
		t.Fatal(err)
	}
	bdi := filepath.Join("/sys/class/bdi", strings.TrimSpace(string(b)))
	if _, err := os.Stat(filepath.Join(bdi, "max_bytes")); err != nil {
		t.Skipf("this kernel has no per-device dirty limit (%s/max_bytes)", bdi)
	}
	// A bdi outlives its loop device: the next device attached as loopN
	// gets the same one. Put its caps back as they were.
	ratio, _ := os.ReadFile(filepath.Join(bdi, "max_ratio"))
	strict, _ := os.ReadFile(filepath.Join(bdi, "strict_limit"))
	t.Cleanup(func() {
		os.WriteFile(filepath.Join(bdi, "strict_limit"), bytes.TrimSpace(strict), 0o644)
		os.WriteFile(filepath.Join(bdi, "max_ratio"), bytes.TrimSpace(ratio), 0o644)
	})
	for _, kv := range [][2]string{{"max_bytes", fmt.Sprint(maxBytes)}, {"strict_limit", "1"}} {
		if err := os.WriteFile(filepath.Join(bdi, kv[0]), []byte(kv[1]), 0o644); err != nil {
			t.Fatalf("%s/%s: %v", bdi, kv[0], err)
		}
	}
}

// WritebackDisk is a slow disk (every write request waits wdelay) with
// requests of at most 64 KiB and its dirty pages bounded to 32 MiB, so
// that a buffered writer's pages are written back during a capture: the
// device and its ext4 mount.
func WritebackDisk(t testing.TB, wdelay string) (dev, mnt string) {
	t.Helper()
	dev = SlowDisk(t, 512, "delay", "wdelay="+wdelay)
	if err := os.WriteFile(filepath.Join("/sys/block", filepath.Base(dev), "queue/max_sectors_kb"), []byte("64"), 0o644); err != nil {
		t.Fatal(err)
	}
	mnt = Ext4On(t, dev)
	LimitDirty(t, dev, 32<<20)
	return dev, mnt
}
