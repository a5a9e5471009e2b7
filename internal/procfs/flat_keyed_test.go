package procfs

import (
	"testing"

	"github.com/iorca/iorca/internal/fixture"
)

// /proc/vmstat is a flat-keyed file too; node_exporter's fixture
// (fixtures/node_exporter, see ../shared/fixtures/README.md).
func TestParseFlatKeyedVmstatFixture(t *testing.T) {
	m := ParseFlatKeyed(fixture.Read(t, "node_exporter/collector/fixtures/proc/vmstat"))
	if m["oom_kill"] != 0 || m["pgmajfault"] != 507162 || len(m) < 100 {
		t.Errorf("oom_kill %d, pgmajfault %d, %d keys", m["oom_kill"], m["pgmajfault"], len(m))
	}
}

// memory.events as cgroup-v2.rst documents it, with a malformed line.
func TestParseFlatKeyedMemoryEvents(t *testing.T) {
	m := ParseFlatKeyed([]byte("low 0\nhigh 12\nmax 345\noom 2\noom_kill 1\nbroken\noom_group_kill x\n"))
	if m["max"] != 345 || m["oom_kill"] != 1 || m["high"] != 12 || len(m) != 5 {
		t.Errorf("got %v", m)
	}
}
