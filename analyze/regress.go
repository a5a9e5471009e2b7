package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/explain"
	"github.com/iorca/iorca/analyze/verdict"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/internal/cli"
	"github.com/iorca/iorca/report"
	"github.com/iorca/iorca/report/diff"
	"github.com/spf13/pflag"
)

func regressUsage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprint(w, `Usage: iorca regress [DIR] [flags]

Re-analyses every bundle NAME.tar.zst in DIR (default samples/) and
compares the reports with the expected NAME.md and NAME.json beside it.
Each drift is printed as a unified diff; the last line says how many
passed and failed. Exit status 1 on any drift, missing expected report or
unreadable bundle; --update rewrites the expected reports instead.

Flags:
`)
	fmt.Fprint(w, fs.FlagUsages())
}

func cmdRegress(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("regress", stdout, stderr, regressUsage)
	update := fs.Bool("update", false, "rewrite the expected reports from the current analysis")
	color := fs.String("color", "auto", "colour the diffs: auto (on a terminal), always, never")
	var tf thresholdFlags
	tf.register(fs)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	dir := "samples"
	if fs.NArg() > 1 {
		fmt.Fprintln(stderr, "iorca regress: want at most one directory")
		return exitBadInput
	}
	if fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	colour := false
	switch *color {
	case "always":
		colour = true
	case "auto":
		colour = cli.IsTerminal(stdout)
	case "never":
	default:
		fmt.Fprintf(stderr, "iorca regress: --color %q: want auto, always or never\n", *color)
		return exitBadInput
	}
	th, err := tf.thresholds()
	if err != nil {
		fmt.Fprintf(stderr, "iorca regress: %v\n", err)
		return exitBadInput
	}
	bundles, err := filepath.Glob(filepath.Join(dir, "*.tar.zst"))
	if err != nil || len(bundles) == 0 {
		fmt.Fprintf(stderr, "iorca regress: no *.tar.zst bundle in %s\n", dir)
		return exitBadInput
	}
	sort.Strings(bundles)
	passed, failed := 0, 0
	for _, b := range bundles {
		name := strings.TrimSuffix(filepath.Base(b), ".tar.zst")
		ok := regressOne(b, name, dir, th, *update, colour, stdout)
		if ok {
			passed++
		} else {
			failed++
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return exitFailure
	}
	return exitOK
}

// regressOne checks (or updates) one sample and reports it on w.
func regressOne(bundlePath, name, dir string, th window.Thresholds, update, colour bool, w io.Writer) bool {
	m, err := loadBundle(bundlePath)
	if err != nil {
		fmt.Fprintf(w, "FAIL %s: %v\n", name, err)
		return false
	}
	rep := report.New(explain.Build(bundlePath, verdict.Diagnose(m, th)))
	var md, js bytes.Buffer
	if err := rep.Markdown(&md); err != nil {
		fmt.Fprintf(w, "FAIL %s: %v\n", name, err)
		return false
	}
	if err := rep.JSON(&js); err != nil {
		fmt.Fprintf(w, "FAIL %s: %v\n", name, err)
		return false
	}
	ok := true
	for _, out := range []struct {
		file string
		got  []byte
	}{{name + ".md", md.Bytes()}, {name + ".json", js.Bytes()}} {
		path := filepath.Join(dir, out.file)
		want, err := os.ReadFile(path)
		if update {
			if err != nil || !bytes.Equal(want, out.got) {
				if err := writeAtomic(path, out.got); err != nil {
					fmt.Fprintf(w, "FAIL %s: %v\n", out.file, err)
					ok = false
					continue
				}
				fmt.Fprintf(w, "updated %s\n", out.file)
			}
			continue
		}
		if err != nil {
			fmt.Fprintf(w, "FAIL %s: no expected report %s (iorca regress --update writes it)\n", name, out.file)
			ok = false
			continue
		}
		if d := diff.Unified(out.file+" (expected)", out.file+" (now)", string(want), string(out.got), colour); d != "" {
			fmt.Fprintf(w, "FAIL %s: %s drifted\n%s", name, out.file, d)
			ok = false
		}
	}
	if ok && !update {
		fmt.Fprintf(w, "ok   %s\n", name)
	}
	return ok
}
