package bundle

import (
	"sort"
	"testing"
	"time"
)

func TestMemberNamesRoundTrip(t *testing.T) {
	if n, ok := ParseTickMember(TickMember(42)); !ok || n != 42 {
		t.Errorf("ParseTickMember(TickMember(42)) = %d, %v", n, ok)
	}
	if p, ok := ParseTargetMember(TargetMember(1234)); !ok || p != 1234 {
		t.Errorf("ParseTargetMember(TargetMember(1234)) = %d, %v", p, ok)
	}
	if !IsTraceText(TraceMember(7)) || IsTraceText(TraceMetaMember(7)) {
		t.Error("IsTraceText does not tell a trace from its meta file")
	}
	for _, bad := range []string{"ticks/x.frames", "ticks/-1.frames", "procs/12.txt", "static/kmsg"} {
		if _, ok := ParseTickMember(bad); ok {
			t.Errorf("ParseTickMember(%q) accepted", bad)
		}
		if _, ok := ParseTargetMember(bad); ok {
			t.Errorf("ParseTargetMember(%q) accepted", bad)
		}
	}
	for _, name := range []string{HostMember, StatfsMember, KmsgMember, ProcTableMember, CgroupLimitsMember, TickMember(0), TargetMember(1), TraceMember(1), TraceMetaMember(1)} {
		if err := CheckName(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// The order the package documents: static, targets, traces, ticks in time order.
func TestMemberLess(t *testing.T) {
	got := []string{TickMember(10), TraceMember(5), TickMember(2), KmsgMember, TargetMember(5), HostMember, TraceMetaMember(5)}
	sort.Slice(got, func(i, j int) bool { return MemberLess(got[i], got[j]) })
	want := []string{HostMember, KmsgMember, TargetMember(5), TraceMetaMember(5), TraceMember(5), TickMember(2), TickMember(10)}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}

func TestClockAndCgroupRootsRoundTrip(t *testing.T) {
	c := Clock{Wall: time.Date(2026, 11, 29, 21, 0, 0, 123456789, time.UTC), MonoNS: 987654321, BootNS: 1987654321}
	got, tick := ParseClock(ClockData(c, 17))
	if !got.Wall.Equal(c.Wall) || got.MonoNS != c.MonoNS || got.BootNS != c.BootNS || tick != 17 {
		t.Errorf("ParseClock(ClockData) = %+v %d, want %+v 17", got, tick, c)
	}
	r := CgroupRoots{V2: "/sys/fs/cgroup", V1Blkio: "", V1Memory: "/sys/fs/cgroup/memory"}
	if got := ParseCgroupRoots(CgroupRootsData(r)); got != r {
		t.Errorf("ParseCgroupRoots = %+v, want %+v", got, r)
	}
}
