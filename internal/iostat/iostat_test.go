package iostat

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/iorca/iorca/internal/procfs"
)

// The arithmetic on three snapshots of /proc/uptime and /proc/diskstats
// taken one second apart on this project's machine while fio drove loop0
// (testdata/README.md). The expected figures are worked out by hand from
// the counters' differences with the formulas of REFERENCE-IO.md 1.5;
// sysstat's own iostat, run on exactly these files, printed the same
// (testdata/iostat-*.txt).

type sample struct {
	uptimeCS uint64
	disks    map[string]procfs.DiskStat
}

func load(t *testing.T, root int) sample {
	t.Helper()
	dir := filepath.Join("testdata", "root"+strconv.Itoa(root), "proc")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	u, err := procfs.ParseUptime(read("uptime"))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := procfs.ParseDiskstats(read("diskstats"))
	if err != nil {
		t.Fatal(err)
	}
	s := sample{uptimeCS: u.Centiseconds, disks: map[string]procfs.DiskStat{}}
	for _, d := range ds {
		s.disks[d.Name] = d
	}
	return s
}

// near compares with a relative margin for the last bits of a division.
func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*max(1, math.Abs(b)) }

func TestBetweenByHand(t *testing.T) {
	r0, r1, r2 := load(t, 0), load(t, 1), load(t, 2)
	for _, tc := range []struct {
		name       string
		prev, cur  procfs.DiskStat
		itv        uint64
		want       Stat
		wantItvCS  uint64
		checkShort bool
	}{
		{
			// loop0, root1 -> root2: uptime 1681.15 -> 1682.26 s, itv 111 cs.
			// Differences: 164 reads of 5248 sectors in 84 ms; 462 writes
			// of 3480 sectors in 271 ms (27 of them flushes, of no sector);
			// 10 discards of 1280 sectors in 4 ms; 27 flushes in 4 ms;
			// io_ticks 216 ms, time_in_queue 364 ms; no merge.
			name: "loop0 root1-root2", prev: r1.disks["loop0"], cur: r2.disks["loop0"], itv: r2.uptimeCS - r1.uptimeCS, wantItvCS: 111,
			want: Stat{
				RPS: 164 * 100 / 111.0, RkBPS: 5248 / 2 * 100 / 111.0, RAwait: 84 / 164.0, RareqSz: 5248 / 164.0 / 2,
				WPS: 462 * 100 / 111.0, WkBPS: 3480 / 2 * 100 / 111.0, WAwait: 271 / 462.0, WareqSz: 3480 / 462.0 / 2,
				DPS: 10 * 100 / 111.0, DkBPS: 1280 / 2 * 100 / 111.0, DAwait: 4 / 10.0, DareqSz: 1280 / 10.0 / 2,
				FPS: 27 * 100 / 111.0, FAwait: 4 / 27.0,
				AquSz: 364 * 100 / 111.0 / 1000, Util: 216 * 100 / 111.0 / 10,
				TPS: (164 + 462 + 10) * 100 / 111.0, KBPS: (5248 + 3480 + 1280) / 2 * 100 / 111.0,
				Await: (84 + 271 + 4) / 636.0, AreqSz: (5248 + 3480 + 1280) / 636.0 / 2,
			},
		},
		{
			// vda, root1 -> root2: only 3 writes of 256 sectors in 3 ms,
			// after 29 write merges; time_in_queue 3 ms, io_ticks 0.
			name: "vda root1-root2", prev: r1.disks["vda"], cur: r2.disks["vda"], itv: r2.uptimeCS - r1.uptimeCS, wantItvCS: 111,
			want: Stat{
				WPS: 3 * 100 / 111.0, WkBPS: 256 / 2 * 100 / 111.0, WrqmPS: 29 * 100 / 111.0, WrqmPct: 29 / 32.0 * 100,
				WAwait: 3 / 3.0, WareqSz: 256 / 3.0 / 2, AquSz: 3 * 100 / 111.0 / 1000,
				TPS: 3 * 100 / 111.0, KBPS: 256 / 2 * 100 / 111.0, RqmPS: 29 * 100 / 111.0, Await: 1, AreqSz: 256 / 3.0 / 2,
			},
		},
		{
			// loop0, root0 -> root1: itv 104 cs; 159 reads of 5088 sectors
			// in 102 ms, 452 writes of 3400 sectors in 300 ms, 11 discards
			// of 1408 sectors in 5 ms, 27 flushes in 13 ms; io_ticks 228,
			// time_in_queue 420.
			name: "loop0 root0-root1", prev: r0.disks["loop0"], cur: r1.disks["loop0"], itv: r1.uptimeCS - r0.uptimeCS, wantItvCS: 104,
			want: Stat{
				RPS: 159 * 100 / 104.0, RkBPS: 5088 / 2 * 100 / 104.0, RAwait: 102 / 159.0, RareqSz: 16,
				WPS: 452 * 100 / 104.0, WkBPS: 3400 / 2 * 100 / 104.0, WAwait: 300 / 452.0, WareqSz: 3400 / 452.0 / 2,
				DPS: 11 * 100 / 104.0, DkBPS: 1408 / 2 * 100 / 104.0, DAwait: 5 / 11.0, DareqSz: 64,
				FPS: 27 * 100 / 104.0, FAwait: 13 / 27.0,
				AquSz: 420 * 100 / 104.0 / 1000, Util: 228 * 100 / 104.0 / 10,
				TPS: (159 + 452 + 11) * 100 / 104.0, KBPS: (5088 + 3400 + 1408) / 2 * 100 / 104.0,
				Await: (102 + 300 + 5) / 622.0, AreqSz: (5088 + 3400 + 1408) / 622.0 / 2,
			},
		},
		{
			// loop0 since boot (iostat's first report): prev all zero, itv
			// the uptime, 168011 cs. Counters: 2055 reads, 65760 sectors,
			// 312 ms; 5819 writes, 43824 sectors, 814 ms; io_ticks 692,
			// time_in_queue 1157; 138 discards, 17664 sectors, 14 ms; 341
			// flushes, 15 ms.
			name: "loop0 since boot", cur: r0.disks["loop0"], itv: r0.uptimeCS, wantItvCS: 168011,
			want: Stat{
				RPS: 2055 * 100 / 168011.0, RkBPS: 65760 / 2 * 100 / 168011.0, RAwait: 312 / 2055.0, RareqSz: 16,
				WPS: 5819 * 100 / 168011.0, WkBPS: 43824 / 2 * 100 / 168011.0, WAwait: 814 / 5819.0, WareqSz: 43824 / 5819.0 / 2,
				DPS: 138 * 100 / 168011.0, DkBPS: 17664 / 2 * 100 / 168011.0, DAwait: 14 / 138.0, DareqSz: 64,
				FPS: 341 * 100 / 168011.0, FAwait: 15 / 341.0,
				AquSz: 1157 * 100 / 168011.0 / 1000, Util: 692 * 100 / 168011.0 / 10,
				TPS: (2055 + 5819 + 138) * 100 / 168011.0, KBPS: (65760 + 43824 + 17664) / 2 * 100 / 168011.0,
				Await: (312 + 814 + 14) / 8012.0, AreqSz: (65760 + 43824 + 17664) / 8012.0 / 2,
			},
		},
	} {
		if tc.itv != tc.wantItvCS {
			t.Errorf("%s: interval %d cs, want %d", tc.name, tc.itv, tc.wantItvCS)
		}
		got := Between(tc.prev, tc.cur, tc.itv)
		for _, c := range columns {
			if g, w := c.get(got), c.get(tc.want); !near(g, w) {
				t.Errorf("%s: %s = %.6f, by hand %.6f", tc.name, c.name, g, w)
			}
		}
	}
}

// columns names each figure as iostat -x and -x -s head it.
var columns = []struct {
	name string
	get  func(Stat) float64
}{
	{"r/s", func(s Stat) float64 { return s.RPS }}, {"rkB/s", func(s Stat) float64 { return s.RkBPS }},
	{"rrqm/s", func(s Stat) float64 { return s.RrqmPS }}, {"%rrqm", func(s Stat) float64 { return s.RrqmPct }},
	{"r_await", func(s Stat) float64 { return s.RAwait }}, {"rareq-sz", func(s Stat) float64 { return s.RareqSz }},
	{"w/s", func(s Stat) float64 { return s.WPS }}, {"wkB/s", func(s Stat) float64 { return s.WkBPS }},
	{"wrqm/s", func(s Stat) float64 { return s.WrqmPS }}, {"%wrqm", func(s Stat) float64 { return s.WrqmPct }},
	{"w_await", func(s Stat) float64 { return s.WAwait }}, {"wareq-sz", func(s Stat) float64 { return s.WareqSz }},
	{"d/s", func(s Stat) float64 { return s.DPS }}, {"dkB/s", func(s Stat) float64 { return s.DkBPS }},
	{"drqm/s", func(s Stat) float64 { return s.DrqmPS }}, {"%drqm", func(s Stat) float64 { return s.DrqmPct }},
	{"d_await", func(s Stat) float64 { return s.DAwait }}, {"dareq-sz", func(s Stat) float64 { return s.DareqSz }},
	{"f/s", func(s Stat) float64 { return s.FPS }}, {"f_await", func(s Stat) float64 { return s.FAwait }},
	{"aqu-sz", func(s Stat) float64 { return s.AquSz }}, {"%util", func(s Stat) float64 { return s.Util }},
	{"tps", func(s Stat) float64 { return s.TPS }}, {"kB/s", func(s Stat) float64 { return s.KBPS }},
	{"rqm/s", func(s Stat) float64 { return s.RqmPS }}, {"await", func(s Stat) float64 { return s.Await }},
	{"areq-sz", func(s Stat) float64 { return s.AreqSz }},
}

// iostatReports reads the device reports of a plain iostat output:
// report -> device -> column -> printed value.
func iostatReports(text string) []map[string]map[string]string {
	var reps []map[string]map[string]string
	var cols []string
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 0:
			cols = nil
		case f[0] == "Device":
			cols = f[1:]
			reps = append(reps, map[string]map[string]string{})
		case cols != nil && len(f) == len(cols)+1:
			row := map[string]string{}
			for i, c := range cols {
				row[c] = f[i+1]
			}
			reps[len(reps)-1][f[0]] = row
		}
	}
	return reps
}

// sysstat 12.6.1's iostat -x -k -p ALL 1 3 and iostat -x -s -k -p ALL 1 3,
// replayed on root0, root1 and root2 (testdata/README.md): the first
// report since boot, then one per interval. Every figure it printed, for
// every device, is Between's to two decimals.
func TestBetweenMatchesSysstatIostat(t *testing.T) {
	for _, file := range []string{"iostat-x-p-ALL.txt", "iostat-xs-p-ALL.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		// -x prints 22 columns, -x -s 7, for 10 devices in 3 reports.
		compareWithIostat(t, file, string(b), map[string]int{"iostat-x-p-ALL.txt": 22 * 30, "iostat-xs-p-ALL.txt": 7 * 30}[file])
	}
}

// compareWithIostat checks every figure of an iostat output on root0,
// root1 and root2 (since boot, then each interval) against Between.
func compareWithIostat(t *testing.T, name, text string, figures int) {
	t.Helper()
	roots := []sample{load(t, 0), load(t, 1), load(t, 2)}
	reps := iostatReports(text)
	if len(reps) != 3 {
		t.Fatalf("%s: %d reports, want 3:\n%s", name, len(reps), text)
	}
	checked := 0
	for k, rep := range reps {
		cur := roots[k]
		var prev sample
		if k > 0 {
			prev = roots[k-1]
		}
		if len(rep) != len(cur.disks) {
			t.Errorf("%s report %d: %d devices, diskstats has %d", name, k+1, len(rep), len(cur.disks))
		}
		for dev, row := range rep {
			x := Between(prev.disks[dev], cur.disks[dev], cur.uptimeCS-prev.uptimeCS)
			for _, c := range columns {
				want, ok := row[c.name]
				if !ok {
					continue
				}
				if got := strconv.FormatFloat(c.get(x), 'f', 2, 64); got != want {
					t.Errorf("%s report %d %s %s = %s, iostat printed %s", name, k+1, dev, c.name, got, want)
				}
				checked++
			}
		}
	}
	if checked != figures {
		t.Errorf("%s: %d figures checked, want %d", name, checked, figures)
	}
}

// replayScript runs iostat on the three snapshots: in the private mount
// namespace unshare gives it, /proc/uptime and /proc/diskstats are
// bind-mounted over by files that hold root0's content, then root1's and
// root2's, swapped half-way between iostat's one-second samples.
const replayScript = `set -e
td=$1 work=$2; shift 2
mount --make-rprivate /
for f in uptime diskstats; do cat "$td/root0/proc/$f" > "$work/$f"; mount --bind "$work/$f" "/proc/$f"; done
"$@" > "$work/out" &
p=$!
for n in 1 2; do
  if [ $n = 1 ]; then sleep 0.5; else sleep 1; fi
  for f in uptime diskstats; do cat "$td/root$n/proc/$f" > "$work/$f"; done
done
wait $p
cat "$work/out"
`

// The same check on sysstat's iostat run now, on the committed snapshots:
// the figures the committed outputs hold are what this machine's iostat
// computes from these files. Live: it needs root, unshare and sysstat.
func TestBetweenMatchesIostatReplayed(t *testing.T) {
	if testing.Short() {
		t.Skip("runs sysstat's iostat for 2 s: -short skips it")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: unshare -m and bind mounts")
	}
	for _, tool := range []string{"iostat", "unshare", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (.ci/run installs sysstat)", tool)
		}
	}
	td, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args    []string
		figures int
	}{
		{[]string{"iostat", "-d", "-x", "-k", "-p", "ALL", "1", "3"}, 22 * 30},
		{[]string{"iostat", "-d", "-x", "-s", "-k", "-p", "ALL", "1", "3"}, 7 * 30},
	} {
		args := append([]string{"-m", "bash", "-c", replayScript, "_", td, t.TempDir()}, tc.args...)
		out, err := exec.Command("unshare", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("unshare %v: %v\n%s", tc.args, err, out)
		}
		compareWithIostat(t, strings.Join(tc.args, " "), string(out), tc.figures)
	}
}
