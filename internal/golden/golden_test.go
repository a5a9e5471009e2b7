package golden

import (
	"os/exec"
	"strings"
	"testing"
)

// go test ./... -update fails in any test package that does not define
// the flag: every package with tests must import this one.
func TestEveryTestPackageAcceptsUpdate(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-f", "{{.ImportPath}} {{len .TestGoFiles}} {{join .TestImports \",\"}}", "github.com/iorca/iorca/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const self = "github.com/iorca/iorca/internal/golden"
	checked := 0
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 || f[1] == "0" || f[0] == self {
			continue
		}
		checked++
		if len(f) < 3 || !strings.Contains(","+f[2]+",", ","+self+",") {
			t.Errorf("%s has tests but does not import %s: go test ./... -update fails there", f[0], self)
		}
	}
	if checked < 10 {
		t.Errorf("only %d test packages found", checked)
	}
}
