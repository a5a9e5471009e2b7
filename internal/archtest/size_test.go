package archtest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// maxShare is the largest part of the analyzer's code one package may
// hold: a package that grows past it does more than one job (the rules
// package once held the window's facts, the catalogue, the verdict and
// the advice, 42 % of the analyzer).
const maxShare = 0.30

// TestNoPackageDominatesTheAnalyzer counts the lines of every package's
// non-test Go files under analyze/ and fails for one above maxShare of
// them all.
func TestNoPackageDominatesTheAnalyzer(t *testing.T) {
	root := filepath.Join("..", "..", "analyze")
	lines := map[string]int{}
	total := 0
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n := bytes.Count(b, []byte("\n"))
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		lines[rel] += n
		total += n
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total == 0 || len(lines) < 5 {
		t.Fatalf("%d lines in %d packages under %s: not the analyzer", total, len(lines), root)
	}
	for pkg, n := range lines {
		if share := float64(n) / float64(total); share > maxShare {
			t.Errorf("analyze/%s holds %.0f %% of the analyzer's %d lines (at most %.0f %%): split it by job", pkg, share*100, total, maxShare*100)
		}
	}
}
