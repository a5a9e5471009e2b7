package procfs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The parsers on files this project captured on its own machine (kernel
// 6.18.44, testdata/README.md says how each was made). Unlike the shared
// fixtures these are in the repository, so every parser runs on a real
// kernel file on a fresh clone. The expected figures were read off the
// files by hand and, where the capture allows, follow from what the
// capture did (fio's block sizes, the bytes a program wrote) or from
// another file of the same capture.

func testdata(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testdata/node: fio on loop0 reads 16 KiB, writes 4 KiB with a flush
// every 16 writes, and discards 64 KiB.
func TestDiskstatsOfThisMachine(t *testing.T) {
	ds, err := ParseDiskstats(testdata(t, "node/proc/diskstats"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	byName := map[string]DiskStat{}
	for _, d := range ds {
		names = append(names, d.Name)
		byName[d.Name] = d
	}
	if want := "loop0 loop1 loop2 loop3 loop4 loop5 loop6 loop7 vda zram0"; strings.Join(names, " ") != want {
		t.Errorf("devices %q, want %q", strings.Join(names, " "), want)
	}
	want := DiskStat{Major: 7, Minor: 0, Name: "loop0", Stats: 17,
		ReadIOs: 2214, ReadSectors: 70848, ReadTicks: 414,
		WriteIOs: 6271, WriteSectors: 47224, WriteTicks: 1114,
		IOTicks: 920, TimeInQueue: 1577,
		DiscardIOs: 149, DiscardSectors: 19072, DiscardTicks: 19,
		FlushIOs: 368, FlushTicks: 28}
	if got := byName["loop0"]; got != want {
		t.Errorf("loop0 = %+v\nwant   %+v", got, want)
	}
	if v := byName["vda"]; v.Major != 254 || v.Stats != 17 || v.ReadMerges != 9028 || v.WriteMerges != 56521 || v.FlushIOs != 790 {
		t.Errorf("vda = %+v", v)
	}
	// /sys/block/loop0/stat was read just after: the same counters, a
	// few requests on.
	sys, err := ParseBlockStat("loop0", testdata(t, "node/sys/block/loop0/stat"))
	if err != nil || sys.Stats != 17 || sys.ReadIOs != 2216 || sys.WriteIOs != 6274 || sys.WriteSectors != 47248 || sys.DiscardIOs != 149 {
		t.Errorf("sys loop0 = %+v %v", sys, err)
	}
	vda, err := ParseBlockStat("vda", testdata(t, "node/sys/block/vda/stat"))
	if err != nil || vda.Name != "vda" || vda.ReadIOs < byName["vda"].ReadIOs {
		t.Errorf("sys vda = %+v %v", vda, err)
	}
	// What fio did shows in both: every read is 32 sectors, every discard
	// 128; a flush counts as a write of no sector, so the writes are the
	// 8-sector writes plus the flushes (REFERENCE-IO.md 1.5, tps).
	for _, d := range []DiskStat{byName["loop0"], sys} {
		if d.ReadSectors != 32*d.ReadIOs || d.DiscardSectors != 128*d.DiscardIOs || d.WriteIOs != d.WriteSectors/8+d.FlushIOs {
			t.Errorf("%+v does not add up to fio's requests", d)
		}
	}
}

func TestNodeFilesOfThisMachine(t *testing.T) {
	u, err := ParseUptime(testdata(t, "node/proc/uptime"))
	if err != nil || u.Centiseconds != 168115 || u.Seconds != 1681.15 || u.IdleSeconds != 2822.94 {
		t.Errorf("uptime = %+v %v", u, err)
	}
	s, err := ParseProcStat(testdata(t, "node/proc/stat"))
	want := CPUTimes{User: 38640, System: 10011, Idle: 282294, IOWait: 410, SoftIRQ: 233, Steal: 5251}
	if err != nil || s.CPU != want || s.CPUs != 2 || s.BootTime != 1796293506 || s.ContextSwitch != 1654636 || s.ProcsRunning != 1 || s.ProcsBlocked != 1 {
		t.Errorf("stat = %+v %v", s, err)
	}
	// The idle time of /proc/stat (USER_HZ 100) is the idle time of
	// /proc/uptime, read a moment before.
	if s.CPU.Idle != uint64(u.IdleSeconds*100+0.5) {
		t.Errorf("stat idle %d ticks, uptime idle %.2f s", s.CPU.Idle, u.IdleSeconds)
	}
	la, err := ParseLoadavg(testdata(t, "node/proc/loadavg"))
	if err != nil || la != (Loadavg{Load1: 1.44, Load5: 2.01, Load15: 1.02, Running: 1, Total: 94}) {
		t.Errorf("loadavg = %+v %v", la, err)
	}
	m, err := ParseMeminfo(testdata(t, "node/proc/meminfo"))
	if err != nil || len(m) != 54 || m["MemTotal"] != 24683664 || m["MemAvailable"] != 24207040 || m["SwapTotal"] != 0 || m["Hugepagesize"] != 2048 {
		t.Errorf("meminfo: %d keys, %v", len(m), err)
	}
	v, err := ParseVmstat(testdata(t, "node/proc/vmstat"))
	if err != nil || len(v) != 192 || v["pgpgin"] != 1110577 || v["pgpgout"] != 2127096 || v["nr_dirty_threshold"] != 1210420 {
		t.Errorf("vmstat: %d keys, %v", len(v), err)
	}
	// Dirty in meminfo (kB) is nr_dirty in vmstat (4 KiB pages).
	if m["Dirty"] != 10416 || v["nr_dirty"]*4 != m["Dirty"] {
		t.Errorf("meminfo Dirty %d kB, vmstat nr_dirty %d pages", m["Dirty"], v["nr_dirty"])
	}
	// vmstat is flat-keyed: the generic reader gives the same map.
	if fk := ParseFlatKeyed(testdata(t, "node/proc/vmstat")); !reflect.DeepEqual(fk, map[string]uint64(v)) {
		t.Errorf("ParseFlatKeyed(vmstat) differs from ParseVmstat: %d keys", len(fk))
	}
	for _, tc := range []struct {
		file       string
		some, full PSILine
	}{
		{"io", PSILine{Avg10: 0.49, Avg60: 0.50, Avg300: 0.51, TotalUS: 5483541}, PSILine{Avg10: 0.18, Avg60: 0.11, Avg300: 0.07, TotalUS: 2608949}},
		// The node's cpu pressure has a full line of zeros since 5.13.
		{"cpu", PSILine{Avg10: 5.43, Avg60: 13.41, Avg300: 23.96, TotalUS: 155940902}, PSILine{}},
		{"memory", PSILine{}, PSILine{}},
	} {
		p, err := ParsePSI(testdata(t, "node/proc/pressure/"+tc.file))
		if err != nil || p.Some == nil || p.Full == nil || *p.Some != tc.some || *p.Full != tc.full {
			t.Errorf("pressure/%s = %+v %+v %v", tc.file, p.Some, p.Full, err)
		}
	}
}

// testdata/node/proc/21537: the fio process, whose write job issues only
// 4 KiB O_DIRECT writes to the block device.
func TestFioProcessOfThisMachine(t *testing.T) {
	st, err := ParsePIDStat(testdata(t, "node/proc/21537/stat"))
	if err != nil || st.PID != 21537 || st.Comm != "fio" || st.State != 'S' || st.PPID != 21532 || st.UTime != 26 || st.STime != 44 ||
		st.MinFlt != 2583 || st.MajFlt != 19 || st.StartTime != 167710 || st.RSS != 7444 || st.Fields != 52 || st.IsKernelThread() {
		t.Errorf("stat = %+v %v", st, err)
	}
	status, err := ParsePIDStatus(testdata(t, "node/proc/21537/status"))
	if err != nil || status.Name != "fio" || status.PID != 21537 || status.Tgid != 21537 || status.PPID != 21532 ||
		status.VmRSSkB != 30080 || status.VoluntaryCtxtSwitches != 396 || !reflect.DeepEqual(status.NSpid, []int{21537}) {
		t.Errorf("status = %+v %v", status, err)
	}
	if int64(status.Threads) != st.NumThreads || st.NumThreads != 5 {
		t.Errorf("status says %d threads, stat %d", status.Threads, st.NumThreads)
	}
	io, err := ParsePIDIO(testdata(t, "node/proc/21537/io"))
	want := PIDIO{RChar: 9552412, WChar: 6328320, SyscR: 735, SyscW: 1545, ReadBytes: 11882496, WriteBytes: 6328320}
	if err != nil || io != want {
		t.Errorf("io = %+v %v", io, err)
	}
	// Direct writes reach the device as written, 4096 bytes a call.
	if io.WChar != io.WriteBytes || io.WChar != 4096*io.SyscW {
		t.Errorf("wchar %d, write_bytes %d, syscw %d: not fio's 4 KiB direct writes", io.WChar, io.WriteBytes, io.SyscW)
	}
}

// testdata/holder: a program (capture/holder) in its own PID and mount
// namespaces, with a comm holding spaces and parentheses. It appended ten
// 58-byte lines O_SYNC to a file on an overlay, wrote 4 x 64 KiB O_DIRECT
// to a file on ext4 (1 KiB blocks) on loop0, opened a pipe and read 4 KiB
// of the second file, all in blkio cgroup iorca-capture.
func TestHolderProcessOfThisMachine(t *testing.T) {
	st, err := ParsePIDStat(testdata(t, "holder/proc/25066/stat"))
	if err != nil || st.PID != 25066 || st.Comm != "log (x) y" || st.State != 'S' || st.PPID != 25065 || st.NumThreads != 4 || st.Processor != 1 {
		t.Errorf("stat = %+v %v", st, err)
	}
	s, err := ParsePIDStatus(testdata(t, "holder/proc/25066/status"))
	if err != nil || s.Name != "log (x) y" || s.PID != 25066 || s.Threads != 4 || !reflect.DeepEqual(s.NSpid, []int{25066, 1}) || s.UID != [4]int{} {
		t.Errorf("status = %+v %v", s, err)
	}
	io, err := ParsePIDIO(testdata(t, "holder/proc/25066/io"))
	if err != nil || io.SyscW != 52 || io.ReadBytes != 1907712 {
		t.Errorf("io = %+v %v", io, err)
	}
	// 256 KiB direct, and the page of the log dirtied again by each of
	// the ten synced appends.
	if want := int64(4*65536 + 10*4096); io.WriteBytes != want {
		t.Errorf("write_bytes %d, want %d", io.WriteBytes, want)
	}

	ms, err := ParseMountinfo(testdata(t, "holder/proc/25066/mountinfo"))
	if err != nil || len(ms) != 4 {
		t.Fatalf("%d mounts, %v", len(ms), err)
	}
	byID := map[int]Mount{}
	for _, m := range ms {
		byID[m.ID] = m
	}
	if r := byID[66]; r.MountPoint != "/" || r.FSType != "tmpfs" || r.ParentID != 45 {
		t.Errorf("root = %+v", r)
	}
	if d := byID[67]; d.MountPoint != "/disk" || d.FSType != "ext4" || d.Source != "/dev/loop0" || d.Major != 7 || d.Minor != 0 {
		t.Errorf("disk = %+v", d)
	}
	ovl := byID[70]
	o, ok := ovl.Overlay()
	wantO := Overlay{Lower: []string{"/tmp/iorca-cap/disk/lo wer"}, Upper: "/tmp/iorca-cap/disk/up=per", Work: "/tmp/iorca-cap/disk/wo rk"}
	if ovl.MountPoint != "/mer ged" || !ok || !reflect.DeepEqual(o, wantO) {
		t.Errorf("overlay %q = %+v %v", ovl.MountPoint, o, ok)
	}

	// fd-targets.txt (readlink of each fd) names the files.
	for _, tc := range []struct {
		fd         string
		pos        int64
		flags      OpenFlags
		names      string
		mnt        int
		ino        uint64
		sync, dsyn bool
		writable   bool
	}{
		{"3", 10 * 58, 04112001, "O_WRONLY|O_APPEND|O_SYNC", 70, 18, true, false, true},
		{"6", 4 * 65536, 0140002, "O_RDWR|O_DIRECT", 67, 19, false, false, true},
		{"7", 0, 02000000, "O_RDONLY", 16, 41773, false, false, false},
		{"8", 0, 02000001, "O_WRONLY", 16, 41773, false, false, true},
		{"9", 4096, 0100000, "O_RDONLY", 67, 19, false, false, false},
	} {
		fi, err := ParseFDInfo(testdata(t, "holder/proc/25066/fdinfo/"+tc.fd))
		if err != nil || fi.Pos != tc.pos || fi.Flags != tc.flags || fi.MntID != tc.mnt || !fi.HasMnt || fi.Ino != tc.ino {
			t.Errorf("fd %s = %+v %v", tc.fd, fi, err)
			continue
		}
		f := fi.Flags
		if f.Names("x86_64") != tc.names || f.Sync() != tc.sync || f.DSync() != tc.dsyn || f.Writable() != tc.writable {
			t.Errorf("fd %s flags %#o: %s sync %v dsync %v writable %v", tc.fd, f, f.Names("x86_64"), f.Sync(), f.DSync(), f.Writable())
		}
		// The mount an fd names is in the process's mountinfo (pipefs,
		// mount 16, is internal and never listed).
		if _, listed := byID[fi.MntID]; listed != (tc.mnt != 16) {
			t.Errorf("fd %s: mount %d listed %v", tc.fd, fi.MntID, listed)
		}
	}

	// The cgroup's counters on loop0 (7:0, the /disk mount above): one
	// 16 KiB read; four 64 KiB direct writes and ten synced 1 KiB blocks.
	sb, err := ParseBlkioThrottle(testdata(t, "holder/blkio-iorca-capture/blkio.throttle.io_service_bytes"))
	if b := sb[Dev{7, 0}]; err != nil || len(sb) != 1 || b != (BlkioOps{Read: 16384, Write: 4*65536 + 10*1024, Sync: 288768, Total: 288768}) || b.Read+b.Write != b.Total {
		t.Errorf("io_service_bytes = %+v %v", sb, err)
	}
	sn, err := ParseBlkioThrottle(testdata(t, "holder/blkio-iorca-capture/blkio.throttle.io_serviced"))
	if n := sn[Dev{7, 0}]; err != nil || n != (BlkioOps{Read: 1, Write: 4 + 10, Sync: 15, Total: 15}) {
		t.Errorf("io_serviced = %+v %v", sn, err)
	}
	lim, err := ParseBlkioLimit(testdata(t, "holder/blkio-iorca-capture/blkio.throttle.write_bps_device"))
	if err != nil || !reflect.DeepEqual(lim, map[Dev]uint64{{7, 0}: 1 << 20}) {
		t.Errorf("write_bps_device = %v %v", lim, err)
	}
}

// testdata/docker: a container run by Docker 20.10 (cgroupfs driver,
// overlay2) from a busybox image; docker-inspect.json is what Docker
// said of it.
func TestDockerContainerOfThisMachine(t *testing.T) {
	var inspect struct {
		ID          string `json:"Id"`
		Pid         int
		GraphDriver struct {
			Data struct{ LowerDir, UpperDir, WorkDir string }
		}
	}
	if err := json.Unmarshal(testdata(t, "docker/docker-inspect.json"), &inspect); err != nil {
		t.Fatal(err)
	}
	cg, err := ParsePIDCgroup(testdata(t, "docker/proc/26447/cgroup"))
	if err != nil || len(cg) != 10 {
		t.Fatalf("%d lines, %v", len(cg), err)
	}
	for i, l := range cg {
		if l.HierarchyID != 9-i || l.Path != "/docker/"+inspect.ID {
			t.Errorf("line %d = %+v", i+1, l)
		}
	}
	if !reflect.DeepEqual(cg[0].Controllers, []string{"name=systemd"}) || !reflect.DeepEqual(cg[2].Controllers, []string{"blkio"}) || cg[9].Controllers != nil {
		t.Errorf("controllers %q %q %q", cg[0].Controllers, cg[2].Controllers, cg[9].Controllers)
	}

	ms, err := ParseMountinfo(testdata(t, "docker/proc/26447/mountinfo"))
	if err != nil || len(ms) != 28 {
		t.Fatalf("%d mounts, %v", len(ms), err)
	}
	root := ms[0]
	o, ok := root.Overlay()
	if root.MountPoint != "/" || !ok || !reflect.DeepEqual(root.Optional, []string{"master:2"}) {
		t.Fatalf("root = %+v", root)
	}
	// The overlay the kernel shows is the one Docker made: the same upper
	// and work directories, and as many lower layers (the kernel shows
	// overlay2's short l/ links).
	if o.Upper != inspect.GraphDriver.Data.UpperDir || o.Work != inspect.GraphDriver.Data.WorkDir ||
		len(o.Lower) != len(strings.Split(inspect.GraphDriver.Data.LowerDir, ":")) || !strings.Contains(o.Lower[0], "/overlay2/l/") {
		t.Errorf("overlay = %+v\ndocker: %+v", o, inspect.GraphDriver.Data)
	}
	var blkio Mount
	for _, m := range ms {
		if m.MountPoint == "/sys/fs/cgroup/blkio" {
			blkio = m
		}
	}
	if blkio.Root != "/docker/"+inspect.ID || blkio.FSType != "cgroup" || !reflect.DeepEqual(SplitOptions(blkio.SuperOptions), []string{"rw", "blkio"}) {
		t.Errorf("blkio mount = %+v", blkio)
	}

	st, err := ParsePIDStat(testdata(t, "docker/proc/26447/stat"))
	if err != nil || st.PID != inspect.Pid || st.Comm != "busybox" {
		t.Errorf("stat = %+v %v", st, err)
	}
	s, err := ParsePIDStatus(testdata(t, "docker/proc/26447/status"))
	if err != nil || s.Name != "busybox" || !reflect.DeepEqual(s.NSpid, []int{inspect.Pid, 1}) {
		t.Errorf("status = %+v %v", s, err)
	}
}

// testdata/sample/swaps: /proc/swaps as the collector read it in
// samples/swap-cgroup-limit.tar.zst, whose script swaps on a 512 MiB loop
// device (mkswap keeps one 4 KiB page for its header).
func TestSwapsOfThisMachine(t *testing.T) {
	got := ParseSwaps(testdata(t, "sample/swaps"))
	want := []Swap{{Filename: "/dev/loop0", Type: "partition", SizeKB: 512*1024 - 4, UsedKB: 133904, Priority: -2}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// addTestdataSeeds seeds a fuzz target with captured files, as the fuzz
// targets are seeded with real input.
func addTestdataSeeds(f *testing.F, rels ...string) {
	for _, rel := range rels {
		b, err := os.ReadFile(filepath.Join("testdata", rel))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}
