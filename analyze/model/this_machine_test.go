package model

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/iorca/iorca/internal/procfs"
)

// The model's arithmetic and its container and mount helpers on files
// this project captured on its own machine (testdata/README.md): three
// snapshots one second apart under fio, with the reports sysstat's iostat
// and pidstat printed on exactly those files, and a Docker container's
// /proc files with what Docker said of it.

func readTestdata(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// capturedRoot reads testdata/sysstat/rootN as loadRoot reads a sysstat
// test root.
func capturedRoot(t *testing.T, n int) *sysstatRoot {
	t.Helper()
	dir := fmt.Sprintf("sysstat/root%d/proc/", n)
	r := &sysstatRoot{diskstats: map[string]procfs.DiskStat{}, pids: map[int]Counters{}}
	u, err := procfs.ParseUptime(readTestdata(t, dir+"uptime"))
	if err != nil {
		t.Fatal(err)
	}
	r.uptimeCS = u.Centiseconds
	ds, err := procfs.ParseDiskstats(readTestdata(t, dir+"diskstats"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		r.diskstats[d.Name] = d
	}
	io, err := procfs.ParsePIDIO(readTestdata(t, dir+"21537/io"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := procfs.ParsePIDStat(readTestdata(t, dir+"21537/stat"))
	if err != nil {
		t.Fatal(err)
	}
	r.pids[21537] = Counters{IO: io, HasIO: true, BlkioTicks: st.DelayAcctBlkioTicks, MajFlt: st.MajFlt}
	return r
}

// sysstat 12.6.1's iostat -x -k -p ALL 1 3 and iostat -x -s -k -p ALL 1 3
// on root0..root2: since boot, then each interval. Every figure agrees to
// the printed precision.
func TestIostatMatchesSysstatOnThisMachine(t *testing.T) {
	roots := []*sysstatRoot{capturedRoot(t, 0), capturedRoot(t, 1), capturedRoot(t, 2)}
	for _, file := range []string{"iostat-x-p-ALL.txt", "iostat-xs-p-ALL.txt"} {
		reports := parseIostatOutput(t, string(readTestdata(t, "sysstat/"+file)))
		if len(reports) != 3 {
			t.Fatalf("%s: %d reports, want 3", file, len(reports))
		}
		checked := 0
		for k, rep := range reports {
			cur, prev := roots[k], &sysstatRoot{}
			if k > 0 {
				prev = roots[k-1]
			}
			for dev, cols := range rep {
				c, ok := cur.diskstats[dev]
				if !ok {
					t.Errorf("%s report %d: device %s not in root%d", file, k+1, dev, k)
					continue
				}
				x := IostatBetween(prev.diskstats[dev], c, cur.uptimeCS-prev.uptimeCS)
				for col, want := range cols {
					v, ok := column(x, col)
					if !ok {
						continue
					}
					if got := strconv.FormatFloat(v, 'f', 2, 64); got != want {
						t.Errorf("%s report %d %s %s = %s, iostat printed %s", file, k+1, dev, col, got, want)
					}
					checked++
				}
			}
		}
		if want := map[string]int{"iostat-x-p-ALL.txt": 22 * 30, "iostat-xs-p-ALL.txt": 7 * 30}[file]; checked != want {
			t.Errorf("%s: %d figures checked, want %d", file, checked, want)
		}
	}
}

// sysstat 12.6.1's pidstat -d -p 21537 1 2 on the same roots: fio read
// 2,703,360 bytes (165 x 16 KiB) and wrote 1,814,528 in the first 1.04 s,
// 2,588,672 and 1,720,320 in the next 1.11 s. kernel.task_delayacct was
// off, so iodelay is 0.
func TestPidstatDMatchesSysstatOnThisMachine(t *testing.T) {
	roots := []*sysstatRoot{capturedRoot(t, 0), capturedRoot(t, 1), capturedRoot(t, 2)}
	reps, avg := pidstatRows(string(readTestdata(t, "sysstat/pidstat-d.txt")))
	if len(reps) != 2 || avg == nil {
		t.Fatalf("%d interval reports, average %v", len(reps), avg)
	}
	check := func(where string, d PidstatD, want map[string]string) {
		t.Helper()
		if want == nil {
			t.Errorf("%s: PID 21537 not printed", where)
			return
		}
		for col, v := range map[string]float64{"kB_rd/s": d.KBRdPS, "kB_wr/s": d.KBWrPS, "kB_ccwr/s": d.KBCcwrPS} {
			if got := strconv.FormatFloat(v, 'f', 2, 64); got != want[col] {
				t.Errorf("%s %s = %s, pidstat printed %s", where, col, got, want[col])
			}
		}
		if got := strconv.FormatUint(d.IODelay, 10); got != want["iodelay"] {
			t.Errorf("%s iodelay = %s, pidstat printed %s", where, got, want["iodelay"])
		}
	}
	for k, rep := range reps {
		prev, cur := roots[k], roots[k+1]
		d := PidstatDBetween(prev.pids[21537], cur.pids[21537], cur.uptimeCS-prev.uptimeCS)
		if !d.Active() {
			t.Errorf("report %d: fio not active", k+1)
		}
		check(fmt.Sprintf("report %d", k+1), d, rep["21537"])
	}
	check("Average", PidstatDBetween(roots[0].pids[21537], roots[2].pids[21537], roots[2].uptimeCS-roots[0].uptimeCS), avg["21537"])
	// By hand: (11882496 - 9179136) / 1024 / 1.04 = 2538.46 kB/s.
	if d := PidstatDBetween(roots[0].pids[21537], roots[1].pids[21537], 104); strconv.FormatFloat(d.KBRdPS, 'f', 2, 64) != "2538.46" {
		t.Errorf("kB_rd/s = %.4f", d.KBRdPS)
	}
}

// pidstatRows reads the output of pidstat -d -p PID: one header, then a
// row per interval (its first field the time), then the Average row.
func pidstatRows(text string) (reps []report, avg report) {
	inD := false
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		switch {
		case strings.Contains(l, "kB_rd/s"):
			inD = true
		case inD && len(f) >= 8:
			r := report{f[2]: {"kB_rd/s": f[3], "kB_wr/s": f[4], "kB_ccwr/s": f[5], "iodelay": f[6]}}
			if f[0] == "Average:" {
				avg = r
			} else {
				reps = append(reps, r)
			}
		}
	}
	return reps, avg
}

type dockerInspect struct {
	ID          string `json:"Id"`
	GraphDriver struct {
		Data struct{ UpperDir string }
	}
}

func readDockerCapture(t *testing.T) (dockerInspect, []procfs.CgroupLine, []procfs.Mount) {
	t.Helper()
	var in dockerInspect
	if err := json.Unmarshal(readTestdata(t, "docker/docker-inspect.json"), &in); err != nil {
		t.Fatal(err)
	}
	cg, err := procfs.ParsePIDCgroup(readTestdata(t, "docker/proc/26447/cgroup"))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := procfs.ParseMountinfo(readTestdata(t, "docker/proc/26447/mountinfo"))
	if err != nil {
		t.Fatal(err)
	}
	return in, cg, ms
}

// Docker's cgroupfs driver names a container's cgroup /docker/ID: the id
// is Docker's own. (The runtime is not told by a bare id.)
func TestIdentifyDockerContainerOfThisMachine(t *testing.T) {
	in, cg, _ := readDockerCapture(t)
	seen := map[string]bool{}
	for _, l := range cg {
		id, ok := IdentifyContainer(l.Path)
		if !ok || id != (ContainerIdentity{ContainerID: in.ID}) {
			t.Errorf("IdentifyContainer(%s) = %+v %v, want id %s", l.Path, id, ok, in.ID)
		}
		seen[l.Path] = true
	}
	if len(seen) != 1 {
		t.Errorf("the container's hierarchies name %d paths", len(seen))
	}
	// The host's own processes, in the same capture's machine, are in no
	// container.
	for _, p := range []string{"/", "/docker"} {
		if id, ok := IdentifyContainer(p); ok {
			t.Errorf("IdentifyContainer(%q) = %+v", p, id)
		}
	}
}

// The container's log file is on its overlay root, whose upper directory
// is the one Docker reports; /etc/hosts is a bind mount of a file of
// Docker's data root on the host's ext4, not on the overlay.
func TestMountForDockerContainerOfThisMachine(t *testing.T) {
	in, _, ms := readDockerCapture(t)
	const log = "/var/log/nginx/access.log"
	root, ok := MountFor(ms, log)
	if !ok || root.MountPoint != "/" || root.FSType != "overlay" {
		t.Fatalf("MountFor(%s) = %+v %v", log, root, ok)
	}
	if up, ok := UpperPath(root, log); !ok || up != in.GraphDriver.Data.UpperDir+log {
		t.Errorf("UpperPath = %q %v, want %q", up, ok, in.GraphDriver.Data.UpperDir+log)
	}
	hosts, ok := MountFor(ms, "/etc/hosts")
	if !ok || hosts.MountPoint != "/etc/hosts" || hosts.FSType != "ext4" || !strings.HasSuffix(hosts.Root, "/containers/"+in.ID+"/hosts") {
		t.Errorf("MountFor(/etc/hosts) = %+v %v", hosts, ok)
	}
	if up, ok := UpperPath(hosts, "/etc/hosts"); ok {
		t.Errorf("UpperPath of a bind mount = %q", up)
	}
	// /proc/sys is a read-only bind of the container's /proc: the longest
	// mount point wins.
	if m, _ := MountFor(ms, "/proc/sys/vm/dirty_ratio"); m.MountPoint != "/proc/sys" {
		t.Errorf("MountFor(/proc/sys/vm/dirty_ratio) = %s", m.MountPoint)
	}
	var points []string
	for _, m := range ms {
		points = append(points, m.MountPoint)
	}
	sort.Strings(points)
	if len(points) != 28 || points[0] != "/" {
		t.Errorf("%d mounts: %q", len(points), points)
	}
}
