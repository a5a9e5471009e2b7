package main

import (
	"bytes"
	"os"
	"regexp"
	"testing"
)

// README's table of the collector's flags has a row for every flag the
// collector takes (issue 26: --rearm, --hold and --ready-file had none).
func TestREADMEListsEveryFlag(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	run([]string{"--help"}, &stdout, &bytes.Buffer{})
	flags := regexp.MustCompile(`(?m)^\s+(?:-[a-zA-Z], )?--([a-z][a-z0-9-]*)`).FindAllStringSubmatch(stdout.String(), -1)
	if len(flags) < 20 {
		t.Fatalf("only %d flags in --help:\n%s", len(flags), stdout.String())
	}
	for _, f := range flags {
		row := regexp.MustCompile("(?m)^\\| `(?:-[a-zA-Z], )?--" + regexp.QuoteMeta(f[1]) + "[ `]")
		if !row.Match(readme) && f[1] != "help" {
			t.Errorf("README's flag table has no row for --%s", f[1])
		}
	}
}
