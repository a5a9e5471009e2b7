package procfs

import (
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/iorca/iorca/collect/bundle"
)

// Every parser on files the collector itself captured on a real machine:
// the committed sample bundles (samples/*.sh reproduced each incident and
// ran iorca-collect). Unlike the shared fixtures, these are in the
// repository, so the parsers are tested on a fresh clone too.
func TestParsersOnCapturedFiles(t *testing.T) {
	bundles, _ := filepath.Glob("../../samples/*.tar.zst")
	if len(bundles) == 0 {
		t.Fatal("no sample bundle in samples/")
	}
	used := map[string]int{}
	for _, path := range bundles {
		b, err := bundle.ReadFile(path, bundle.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		if data, ok := b.Member(bundle.KmsgMember); ok && len(data) > 0 {
			recs := ParseKmsg(data)
			if len(recs) == 0 || recs[len(recs)-1].Seq < recs[0].Seq {
				t.Errorf("%s: kmsg: %d records out of order or none", name, len(recs))
			}
			used["kmsg"]++
		}
		var lastUptime float64
		for _, member := range b.Names() {
			if !strings.HasSuffix(member, ".frames") {
				continue
			}
			data, _ := b.Member(member)
			for f, err := range bundle.Frames(data) {
				if err != nil {
					t.Fatalf("%s %s: %v", name, member, err)
				}
				if f.Status != bundle.StatusOK {
					continue
				}
				kind, err := parseCaptured(f.Path, f.Data, &lastUptime)
				if err != nil {
					t.Errorf("%s %s %s: %v", name, member, f.Path, err)
				}
				if kind != "" {
					used[kind]++
				}
			}
		}
	}
	// Each parser met real data at least once; cgroup v1 limits come from
	// the throttled-cgroup sample. The machine the samples were captured on
	// runs a hybrid hierarchy with blkio on v1, so the v2 io controller's
	// io.stat and io.max cannot be captured there: their parsers are tested
	// on documented lines (TestParseCgroupIOLines), on the shared fixtures
	// (TestParseCgroupIOFixtures) and fuzzed; testdata/README.md says why.
	for _, kind := range []string{"diskstats", "block-stat", "dev", "vmstat", "meminfo", "psi", "proc-stat", "loadavg", "uptime",
		"pid-stat", "pid-io", "pid-status", "pid-cgroup", "mountinfo", "maps", "fdinfo", "kmsg", "blkio-throttle", "blkio-limit"} {
		if used[kind] == 0 {
			t.Errorf("no captured %s in the samples", kind)
		}
	}
	var kinds []string
	for k, n := range used {
		kinds = append(kinds, k+"="+strconv.Itoa(n))
	}
	sort.Strings(kinds)
	t.Logf("parsed: %s", strings.Join(kinds, " "))
}

// parseCaptured parses one captured file by its path and checks what any
// real file of its kind must hold; it returns the kind, "" for a file no
// parser reads.
func parseCaptured(path string, data []byte, lastUptime *float64) (string, error) {
	base := filepath.Base(path)
	pidFile := strings.HasPrefix(path, "/proc/") && len(path) > 6 && path[6] >= '0' && path[6] <= '9'
	check := func(kind string, ok bool, what string, err error) (string, error) {
		if err == nil && !ok {
			err = errorString(what)
		}
		return kind, err
	}
	switch {
	case path == "/proc/diskstats":
		ds, err := ParseDiskstats(data)
		return check("diskstats", len(ds) > 0, "no device", err)
	case strings.HasPrefix(path, "/sys/block/") && base == "stat":
		_, err := ParseBlockStat(filepath.Base(filepath.Dir(path)), data)
		return "block-stat", err
	case strings.HasPrefix(path, "/sys/block/") && base == "dev":
		d, err := ParseDev(strings.TrimSpace(string(data)))
		return check("dev", d.Major > 0 || d.Minor > 0, "0:0", err)
	case path == "/proc/vmstat":
		v, err := ParseVmstat(data)
		_, hasDirty := v["nr_dirty"]
		return check("vmstat", hasDirty, "no nr_dirty", err)
	case path == "/proc/meminfo":
		m, err := ParseMeminfo(data)
		return check("meminfo", m["MemTotal"] > 0, "no MemTotal", err)
	case path == "/proc/pressure/io" || base == "io.pressure":
		p, err := ParsePSI(data)
		return check("psi", p.Some != nil, "no some line", err)
	case path == "/proc/stat":
		s, err := ParseProcStat(data)
		return check("proc-stat", s.CPUs > 0 && s.CPU.User+s.CPU.System+s.CPU.Idle > 0, "no CPU time", err)
	case path == "/proc/loadavg":
		_, err := ParseLoadavg(data)
		return "loadavg", err
	case path == "/proc/uptime":
		u, err := ParseUptime(data)
		ok := u.Seconds >= *lastUptime || *lastUptime == 0 || u.Seconds < 1 // a new bundle starts over
		if u.Seconds > *lastUptime {
			*lastUptime = u.Seconds
		}
		return check("uptime", ok && u.Seconds > 0, "uptime not positive", err)
	case pidFile && strings.Count(path, "/") == 3 && base == "stat":
		s, err := ParsePIDStat(data)
		pid, _ := strconv.Atoi(strings.Split(path, "/")[2])
		return check("pid-stat", s.PID == pid && s.Comm != "", "PID or comm does not match the path", err)
	case pidFile && strings.Contains(path, "/task/") && base == "stat":
		_, err := ParsePIDStat(data)
		return "pid-stat", err
	case pidFile && base == "io":
		_, err := ParsePIDIO(data)
		return "pid-io", err
	case pidFile && base == "status":
		s, err := ParsePIDStatus(data)
		return check("pid-status", s.Name != "", "no Name", err)
	case pidFile && base == "cgroup":
		cg, err := ParsePIDCgroup(data)
		return check("pid-cgroup", len(cg) > 0, "no line", err)
	case base == "mountinfo":
		ms, err := ParseMountinfo(data)
		root := false
		for _, m := range ms {
			root = root || m.MountPoint == "/"
		}
		return check("mountinfo", root, "no / mount", err)
	case pidFile && base == "maps":
		ms, err := ParsePIDMaps(data)
		return check("maps", len(ms) > 0, "no mapping", err)
	case pidFile && strings.Contains(path, "/fdinfo/"):
		_, err := ParseFDInfo(data)
		return "fdinfo", err
	case base == "io.stat":
		_, err := ParseIOStat(data)
		return "io.stat", err
	case base == "io.max":
		_, err := ParseIOMax(data)
		return "io.max", err
	case base == "blkio.throttle.io_service_bytes" || base == "blkio.throttle.io_serviced":
		_, err := ParseBlkioThrottle(data)
		return "blkio-throttle", err
	case strings.HasPrefix(base, "blkio.throttle.") && strings.HasSuffix(base, "_device"):
		_, err := ParseBlkioLimit(data)
		return "blkio-limit", err
	}
	return "", nil
}

type errorString string

func (e errorString) Error() string { return string(e) }
