package procfs

import (
	"reflect"
	"strings"
	"testing"

	"github.com/iorca/iorca/internal/fixture"
)

// Source: prometheus/procfs testdata/fixtures/proc/diskstats and
// sys/block/*/stat, values from procfs blockdevice/stats_test.go.
func TestParseDiskstatsProcfs(t *testing.T) {
	ds, err := ParseDiskstats(fixture.Read(t, "procfs/testdata/fixtures/proc/diskstats"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 52 {
		t.Fatalf("%d devices, want 52", len(ds))
	}
	if ds[0].Name != "ram0" || ds[1].Stats != 11 {
		t.Errorf("ram0/ram1 = %+v %+v", ds[0], ds[1])
	}
	if ds[24].Name != "sda" || ds[24].WriteIOs != 28444756 {
		t.Errorf("sda = %+v", ds[24])
	}
	if ds[48].Name != "sdb2" || ds[48].Stats != 15 || ds[48].DiscardTicks != 11130 {
		t.Errorf("sdb2 = %+v", ds[48])
	}
	if ds[49].Name != "sdc" || ds[49].Stats != 17 || ds[49].FlushIOs != 127 || ds[49].FlushTicks != 182 {
		t.Errorf("sdc = %+v", ds[49])
	}
	dm, err := ParseBlockStat("dm-0", fixture.Read(t, "procfs/testdata/fixtures/sys/block/dm-0/stat"))
	if err != nil || dm.Stats != 11 || dm.ReadIOs != 6447303 || dm.TimeInQueue != 6088971 {
		t.Errorf("dm-0 = %+v %v", dm, err)
	}
	sda, err := ParseBlockStat("sda", fixture.Read(t, "procfs/testdata/fixtures/sys/block/sda/stat"))
	if err != nil || sda.Stats != 15 || sda.WriteSectors != 286915323 || sda.DiscardTicks != 12 {
		t.Errorf("sda = %+v %v", sda, err)
	}
}

// Source: sysstat tests/root*/proc/diskstats and sys/block/*/stat (11, 14,
// 15 and 17 statistics per line, deliberately), and percona-toolkit
// t/pt-diskstats/samples (real servers).
func TestParseDiskstatsSysstatAndPercona(t *testing.T) {
	for _, f := range fixture.Glob(t, "sysstat/tests/root*/proc/diskstats") {
		ds, err := ParseDiskstats(fixture.Read(t, f))
		if err != nil || len(ds) == 0 {
			t.Errorf("%s: %d devices, %v", f, len(ds), err)
		}
	}
	for _, f := range fixture.Glob(t, "sysstat/tests/root*/sys/block/*/stat") {
		if _, err := ParseBlockStat("x", fixture.Read(t, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	// pt-diskstats samples are diskstats snapshots separated by "TS" lines.
	for _, f := range fixture.Glob(t, "percona-toolkit/t/pt-diskstats/samples/*.txt") {
		var body []string
		for _, l := range strings.Split(string(fixture.Read(t, f)), "\n") {
			if !strings.HasPrefix(l, "TS ") {
				body = append(body, l)
			}
		}
		ds, err := ParseDiskstats([]byte(strings.Join(body, "\n")))
		if err != nil || len(ds) == 0 {
			t.Errorf("%s: %d lines, %v", f, len(ds), err)
		}
	}
}

func TestParseDiskstatsForms(t *testing.T) {
	// Captured on this kernel (6.18): 20 fields.
	line := " 254       0 vda 8684 5668 709618 2224 4229 3760 1061936 1918 0 2884 4345 3343 36 122152 176 774 25\n"
	ds, err := ParseDiskstats([]byte(line))
	if err != nil || ds[0].Major != 254 || ds[0].FlushIOs != 774 || ds[0].DiscardSectors != 122152 || ds[0].TimeInQueue != 4345 {
		t.Errorf("6.18 line: %+v %v", ds, err)
	}
	old := "   8    1 sda1 51 4216 3 24\n"
	ds, err = ParseDiskstats([]byte(old))
	if err != nil || ds[0].Stats != 4 || ds[0].ReadSectors != 4216 || ds[0].WriteSectors != 24 {
		t.Errorf("2.6 partition line: %+v %v", ds, err)
	}
	for _, bad := range []string{"8 0 sda 1 2 3\n", "8 0 sda 1 2 3 4 5 6 7 8 9 x 11\n", "x 0 sda 1 2 3 4\n", "8 0\n"} {
		if _, err := ParseDiskstats([]byte(bad)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("ParseDiskstats(%q) err = %v", bad, err)
		}
	}
}

func TestParseUptime(t *testing.T) {
	for in, want := range map[string]uint64{"7192.55 29212.05\n": 719255, "647.18 1.0": 64718, "12.5 1": 1250, "3 1": 300} {
		u, err := ParseUptime([]byte(in))
		if err != nil || u.Centiseconds != want {
			t.Errorf("ParseUptime(%q) = %+v %v, want %d cs", in, u, err, want)
		}
	}
}

// Source: sysstat tests/root*/proc/uptime.
func TestParseUptimeSysstatFixtures(t *testing.T) {
	for _, f := range fixture.Glob(t, "sysstat/tests/root*/proc/uptime") {
		if _, err := ParseUptime(fixture.Read(t, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// Source: prometheus/procfs proc/26231/status and 26235/status
// (proc_status_test.go).
func TestParsePIDStatusFixtures(t *testing.T) {
	s, err := ParsePIDStatus(fixture.Read(t, "procfs/testdata/fixtures/proc/26231/status"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "prometheus" || s.PID != 26231 || s.Tgid != 26231 || s.UID != [4]int{1000, 1000, 1000, 0} ||
		s.VmRSSkB != 6716 || s.VmSwapkB != 660 || s.VoluntaryCtxtSwitches != 4742839 || !reflect.DeepEqual(s.NSpid, []int{1}) {
		t.Errorf("26231 = %+v", s)
	}
	s, err = ParsePIDStatus(fixture.Read(t, "procfs/testdata/fixtures/proc/26235/status"))
	if err != nil || s.Name != "kube-proxy" || !reflect.DeepEqual(s.NSpid, []int{26235, 1}) {
		t.Errorf("26235 = %+v %v", s, err)
	}
	for _, f := range fixture.Glob(t, "sysstat/tests/root1/proc/[0-9]*/status") {
		if _, err := ParsePIDStatus(fixture.Read(t, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// Source: prometheus/procfs proc/26231/fdinfo/* (proc_fdinfo_test.go).
func TestParseFDInfoProcfsFixtures(t *testing.T) {
	fi, err := ParseFDInfo(fixture.Read(t, "procfs/testdata/fixtures/proc/26231/fdinfo/0"))
	if err != nil || fi.Pos != 0 || fi.Flags != 02004000 || fi.MntID != 13 {
		t.Errorf("fd 0 = %+v %v", fi, err)
	}
	fi, err = ParseFDInfo(fixture.Read(t, "procfs/testdata/fixtures/proc/26231/fdinfo/10"))
	if err != nil || fi.Flags != 02004002 || fi.MntID != 9 {
		t.Errorf("fd 10 = %+v %v", fi, err)
	}
}

// Flags captured on this kernel (REFERENCE-IO.md 4.1).
func TestOpenFlags(t *testing.T) {
	for _, tc := range []struct {
		flags                        OpenFlags
		sync, dsync, direct, app, wr bool
		names                        string
	}{
		{0100001, false, false, false, false, true, "O_WRONLY"},
		{0102001, false, false, false, true, true, "O_WRONLY|O_APPEND"},
		{0110001, false, true, false, false, true, "O_WRONLY|O_DSYNC"},
		{04110001, true, false, false, false, true, "O_WRONLY|O_SYNC"},
		{0140002, false, false, true, false, true, "O_RDWR|O_DIRECT"},
		{02100000, false, false, false, false, false, "O_RDONLY"},
	} {
		f := tc.flags
		if f.Sync() != tc.sync || f.DSync() != tc.dsync || f.Direct("x86_64") != tc.direct || f.Append() != tc.app || f.Writable() != tc.wr || f.Names("x86_64") != tc.names {
			t.Errorf("%#o: sync %v dsync %v direct %v append %v writable %v names %q", f, f.Sync(), f.DSync(), f.Direct("x86_64"), f.Append(), f.Writable(), f.Names("x86_64"))
		}
	}
	if !OpenFlags(0200001).Direct("aarch64") || OpenFlags(0200001).Direct("x86_64") {
		t.Error("O_DIRECT differs between x86_64 and arm64")
	}
	if _, err := ParseFDInfo([]byte("pos: 0\nflags: 9\n")); err == nil {
		t.Error("non-octal flags accepted")
	}
}

// Source: prometheus/procfs proc/pressure/io (proc_psi_test.go),
// opencontainers/cgroups fs2/psi_test.
func TestParsePSIFixtures(t *testing.T) {
	p, err := ParsePSI(fixture.Read(t, "procfs/testdata/fixtures/proc/pressure/io"))
	if err != nil || p.Some == nil || p.Full == nil || p.Some.Avg60 != 2.00 || p.Full.Avg300 != 4.95 || p.Full.TotalUS != 25 {
		t.Errorf("procfs io = %+v %v", p, err)
	}
	p, err = ParsePSI(fixture.Read(t, "opencontainers-cgroups/fs2/psi_test/examplePSIData.txt"))
	if err != nil || p.Some.Avg10 != 1.71 || p.Full.TotalUS != 157622356 {
		t.Errorf("cgroup psi = %+v %v", p, err)
	}
	p, err = ParsePSI(fixture.Read(t, "procfs/testdata/fixtures/proc/pressure/cpu"))
	if err != nil || p.Full != nil {
		t.Errorf("cpu psi has no full line: %+v %v", p, err)
	}
}

func TestParsePSIBadLines(t *testing.T) {
	for _, bad := range []string{"some avg10=0.00 total=oops\n", "some avg300=teddy\n", "full avg10\n"} {
		if _, err := ParsePSI([]byte(bad)); err == nil {
			t.Errorf("ParsePSI(%q) accepted it", bad)
		}
	}
	if _, err := ParsePSI([]byte("nonsense haha test=fake\n")); err != nil {
		t.Errorf("unknown line not ignored: %v", err)
	}
}

// Source: prometheus/procfs proc/meminfo and proc/stat (meminfo_test.go,
// stat_test.go); node_exporter collector/fixtures/proc/vmstat.
func TestParseMeminfoVmstatStat(t *testing.T) {
	m, err := ParseMeminfo(fixture.Read(t, "procfs/testdata/fixtures/proc/meminfo"))
	if err != nil || m["MemTotal"] != 15666184 || m["Dirty"] != 768 || m["HugePages_Total"] != 0 || m["Hugepagesize"] != 2048 {
		t.Errorf("meminfo %v", err)
	}
	v, err := ParseVmstat(fixture.Read(t, "node_exporter/collector/fixtures/proc/vmstat"))
	if err != nil || v["nr_free_pages"] != 977769 {
		t.Errorf("vmstat %v", err)
	}
	for _, f := range fixture.Glob(t, "sysstat/tests/root*/proc/vmstat") {
		if _, err := ParseVmstat(fixture.Read(t, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	s, err := ParseProcStat(fixture.Read(t, "procfs/testdata/fixtures/proc/stat"))
	if err != nil || s.CPU.User != 301854 || s.BootTime != 1418183276 || s.ProcsRunning != 2 || s.ProcsBlocked != 1 || s.ContextSwitch != 38014093 {
		t.Errorf("stat = %+v %v", s, err)
	}
	la, err := ParseLoadavg(fixture.Read(t, "procfs/testdata/fixtures/proc/loadavg"))
	if err != nil || la.Load1 != 0.02 || la.Load15 != 0.05 {
		t.Errorf("loadavg = %+v %v", la, err)
	}
}

// Source: opencontainers/cgroups fs2/io_test/exampleIoStatData.txt and
// exampleIoCostDebugData.txt (io_test.go).
func TestParseCgroupIOFixtures(t *testing.T) {
	st, err := ParseIOStat(fixture.Read(t, "opencontainers-cgroups/fs2/io_test/exampleIoStatData.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if s := st[Dev{254, 1}]; s.RBytes != 6901432320 || s.WBytes != 14245535744 || s.RIOs != 263278 || s.WIOs != 248603 {
		t.Errorf("254:1 = %+v", s)
	}
	if s := st[Dev{259, 0}]; s.WIOs != 244914 || s.DBytes != 530485248 {
		t.Errorf("259:0 = %+v", s)
	}
	cost, err := ParseIOStat(fixture.Read(t, "opencontainers-cgroups/fs2/io_test/exampleIoCostDebugData.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if s := cost[Dev{259, 0}]; s.Extra["cost.usage"] != "1532009788" || s.WIOs != 40358485 {
		t.Errorf("io.cost keys not kept: %+v", s)
	}
}

// An io.max line as cgroup-v2.rst writes it; v1 lines of this kernel.
func TestParseCgroupIOLines(t *testing.T) {
	mx, err := ParseIOMax([]byte("8:16 rbps=2097152 wbps=max riops=max wiops=120\n"))
	if m := mx[Dev{8, 16}]; err != nil || m.RBPS != 2097152 || m.WBPS != Unlimited || m.WIOPS != 120 || !m.Limited() {
		t.Errorf("io.max = %+v %v", mx, err)
	}
	// REFERENCE-IO.md 5.3, read on this kernel.
	v1 := "7:0 Read 6144\n7:0 Write 16784384\n7:0 Sync 16790528\n7:0 Async 0\n7:0 Discard 0\n7:0 Total 16790528\nTotal 16790528\n"
	b, err := ParseBlkioThrottle([]byte(v1))
	if s := b[Dev{7, 0}]; err != nil || s.Read != 6144 || s.Write != 16784384 || s.Total != 16790528 {
		t.Errorf("blkio = %+v %v", b, err)
	}
	lim, err := ParseBlkioLimit([]byte("7:0 1048576\n"))
	if err != nil || lim[Dev{7, 0}] != 1048576 {
		t.Errorf("blkio limit = %v %v", lim, err)
	}
}

// Source: prometheus/procfs proc_cgroup_test.go (inline lines).
func TestParsePIDCgroup(t *testing.T) {
	cg, err := ParsePIDCgroup([]byte("10:rdma:/\n3:cpu,cpuacct:/user.slice/user-1000.slice/session-10.scope\n0::/some/long/path:foobar\n"))
	if err != nil || len(cg) != 3 || !reflect.DeepEqual(cg[1].Controllers, []string{"cpu", "cpuacct"}) || cg[2].Path != "/some/long/path:foobar" || cg[2].Controllers != nil {
		t.Errorf("cgroup = %+v %v", cg, err)
	}
	if _, err := ParsePIDCgroup([]byte("a:cpu:/\n")); err == nil {
		t.Error("non-numeric hierarchy accepted")
	}
}

// Source: insights-core test_init_process_cgroup/CGROUP_CONTAINER.txt.
func TestParsePIDCgroupInsightsFixture(t *testing.T) {
	docker, err := ParsePIDCgroup(fixture.Read(t, "insights-core/test_init_process_cgroup/CGROUP_CONTAINER.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(docker) == 0 || !strings.Contains(docker[0].Path, "docker") {
		t.Errorf("docker = %+v", docker)
	}
}

// REFERENCE-IO.md 10.2: records read from /dev/kmsg on this kernel.
func TestParseKmsg(t *testing.T) {
	in := "6,363,717412926,-;md5sum: attempt to access beyond end of device\\x0aloop0: rw=0, sector=30722, nr_sectors = 2048 limit=32768\n" +
		"3,365,717420069,-;Buffer I/O error on dev loop0, logical block 16385, lost sync page write\n" +
		" SUBSYSTEM=block\n DEVICE=b7:0\n" +
		"garbage without a prefix\n"
	recs := ParseKmsg([]byte(in))
	if len(recs) != 2 {
		t.Fatalf("%d records: %+v", len(recs), recs)
	}
	if recs[0].Level != 6 || recs[0].Seq != 363 || !strings.Contains(recs[0].Text, "device\nloop0") {
		t.Errorf("record 0 = %+v", recs[0])
	}
	if recs[1].Level != 3 || recs[1].Usec != 717420069 || recs[1].Dict["DEVICE"] != "b7:0" {
		t.Errorf("record 1 = %+v", recs[1])
	}
}

// The fuzz targets prove that no input panics a parser and that what a
// parser returns never outgrows its input (bounded work); the seeds are
// real lines from the fixtures and this kernel, and the files captured
// here (testdata/).

func lines(b []byte) int { return strings.Count(string(b), "\n") + 1 }

func FuzzParseDiskstats(f *testing.F) {
	addTestdataSeeds(f, "node/proc/diskstats")
	f.Add([]byte(" 254       0 vda 8684 5668 709618 2224 4229 3760 1061936 1918 0 2884 4345 3343 36 122152 176 774 25\n   8    1 sda1 51 4216 3 24\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if ds, _ := ParseDiskstats(b); len(ds) > lines(b) {
			t.Fatal("more devices than lines")
		}
	})
}

func FuzzParseBlockStat(f *testing.F) {
	addTestdataSeeds(f, "node/sys/block/loop0/stat")
	f.Add([]byte("9652963   396792 759304206   412943  8422549  6731723 286915323 13947418        0  5658367 19174573 1 2 3 12\n"))
	f.Fuzz(func(t *testing.T, b []byte) { ParseBlockStat("x", b) })
}

func FuzzParseUptime(f *testing.F) {
	addTestdataSeeds(f, "node/proc/uptime")
	f.Add([]byte("7192.55 29212.05\n"))
	f.Fuzz(func(t *testing.T, b []byte) { ParseUptime(b) })
}

func FuzzParsePIDStatus(f *testing.F) {
	addTestdataSeeds(f, "holder/proc/25066/status", "docker/proc/26447/status")
	f.Add([]byte("Name:\tfirefox\nPid:\t8741\nUid:\t1000\t1000\t1000\t1000\nNSpid:\t26235\t1\nVmRSS:\t 6716 kB\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if s, _ := ParsePIDStatus(b); len(s.NSpid) > len(b) {
			t.Fatal("NSpid outgrew the input")
		}
	})
}

func FuzzParseFDInfo(f *testing.F) {
	addTestdataSeeds(f, "holder/proc/25066/fdinfo/3", "holder/proc/25066/fdinfo/6")
	f.Add([]byte("pos:\t0\nflags:\t02004000\nmnt_id:\t13\ninotify wd:3 ino:1 sdev:34 mask:fce\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fi, _ := ParseFDInfo(b)
		fi.Flags.Names("x86_64")
	})
}

func FuzzParsePSI(f *testing.F) {
	addTestdataSeeds(f, "node/proc/pressure/io", "node/proc/pressure/cpu")
	f.Add([]byte("some avg10=0.10 avg60=2.00 avg300=3.85 total=15\nfull avg10=0.20 avg60=3.00 avg300=4.95 total=25\n"))
	f.Fuzz(func(t *testing.T, b []byte) { ParsePSI(b) })
}

func FuzzParseMeminfo(f *testing.F) {
	addTestdataSeeds(f, "node/proc/meminfo")
	f.Add([]byte("MemTotal:       15666184 kB\nDirty:               768 kB\nHugePages_Total:       0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, _ := ParseMeminfo(b); len(m) > lines(b) {
			t.Fatal("more keys than lines")
		}
	})
}

func FuzzParseVmstat(f *testing.F) {
	addTestdataSeeds(f, "node/proc/vmstat")
	f.Add([]byte("nr_dirty 26\npgpgin 1789470\nnr_dirty_threshold 1218625\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, _ := ParseVmstat(b); len(m) > lines(b) {
			t.Fatal("more keys than lines")
		}
	})
}

func FuzzParseProcStat(f *testing.F) {
	addTestdataSeeds(f, "node/proc/stat")
	f.Add([]byte("cpu  96005 2578701 53845 3617879 60648 27891 25853 0 0 0\ncpu0 10600 331675 5802 352894 4235 3243 9600 0 0 0\nbtime 1418183276\nprocs_blocked 1\n"))
	f.Fuzz(func(t *testing.T, b []byte) { ParseProcStat(b) })
}

func FuzzParseLoadavg(f *testing.F) {
	addTestdataSeeds(f, "node/proc/loadavg")
	f.Add([]byte("0.02 0.04 0.05 1/497 11947\n"))
	f.Fuzz(func(t *testing.T, b []byte) { ParseLoadavg(b) })
}

func FuzzParseIOStat(f *testing.F) {
	f.Add([]byte("259:0 rbytes=4085926524416 wbytes=1036680064512 rios=185034771 wios=40358485 dbytes=1013982564352 dios=199959 cost.vrate=100.00\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, _ := ParseIOStat(b); len(m) > lines(b) {
			t.Fatal("more devices than lines")
		}
	})
}

func FuzzParseIOMax(f *testing.F) {
	f.Add([]byte("8:16 rbps=2097152 wbps=max riops=max wiops=120\n"))
	f.Fuzz(func(t *testing.T, b []byte) { ParseIOMax(b) })
}

func FuzzParseBlkioThrottle(f *testing.F) {
	addTestdataSeeds(f, "holder/blkio-iorca-capture/blkio.throttle.io_service_bytes")
	f.Add([]byte("7:0 Read 6144\n7:0 Write 16784384\n7:0 Total 16790528\nTotal 16790528\n"))
	f.Fuzz(func(t *testing.T, b []byte) { ParseBlkioThrottle(b) })
}

func FuzzParseBlkioLimit(f *testing.F) {
	addTestdataSeeds(f, "holder/blkio-iorca-capture/blkio.throttle.write_bps_device")
	f.Add([]byte("7:0 1048576\n"))
	f.Fuzz(func(t *testing.T, b []byte) { ParseBlkioLimit(b) })
}

func FuzzParsePIDCgroup(f *testing.F) {
	addTestdataSeeds(f, "docker/proc/26447/cgroup")
	f.Add([]byte("13:freezer:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-poda5c1f8d5_1919_434d_add7_4afaafdaef89.slice/crio-5eed917563583925ffdbd40a64efb2aaffe58638e57add8becaf460fe74f5b1c.scope\n0::/\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cg, _ := ParsePIDCgroup(b)
		if len(cg) > lines(b) {
			t.Fatal("more lines out than in")
		}
	})
}

func FuzzParseKmsg(f *testing.F) {
	f.Add([]byte("3,365,717420069,-;Buffer I/O error on dev loop0\\x0a, logical block 16385\n SUBSYSTEM=block\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if recs := ParseKmsg(b); len(recs) > lines(b) {
			t.Fatal("more records than lines")
		}
	})
}
