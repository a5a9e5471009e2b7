package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The collector binary links no analyzer, report, goldmark or go-diff code
// (DESIGN.md, Layout): it is copied to sick nodes, and the two binaries
// meet only in collect/bundle and internal/.
func TestCollectorLinksNoAnalyzer(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", "github.com/iorca/iorca/collect/cmd/iorca-collect").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps gave %d packages: %q", len(deps), deps)
	}
	for _, d := range deps {
		for _, bad := range []string{"github.com/iorca/iorca/analyze", "github.com/iorca/iorca/report", "github.com/yuin/goldmark", "github.com/sergi/go-diff"} {
			if d == bad || strings.HasPrefix(d, bad+"/") {
				t.Errorf("the collector links %s", d)
			}
		}
	}
}
