package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/pipeline"
	"github.com/iorca/iorca/internal/cli"
	"github.com/iorca/iorca/internal/safefile"
	"github.com/iorca/iorca/report"
	"github.com/iorca/iorca/report/content"
	"github.com/iorca/iorca/report/textdiff"
	"github.com/spf13/pflag"
)

func regressUsage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprint(w, `Usage: iorca regress [DIR] [flags]

Re-analyses every bundle NAME.tar.zst in DIR (default samples/) and
compares the reports with the expected NAME.json (and NAME.md) beside it.
By default it compares what the reports mean: whether there is a problem,
the primary finding, the culprit (by command, container, limit or device,
never by PID) and the findings by id and severity — wording, figures and
PIDs are not drift, so a corpus of your own incidents keeps passing across
releases that reword. A changed --threshold is drift only where it adds or
removes a finding or moves the primary or the culprit. --exact compares the Markdown and
JSON byte for byte, each drift a unified diff (the project's own samples).
The last line says how many passed and failed; --junit FILE also writes
them as JUnit XML. Exit status 1 on any drift, missing expected report or
unreadable bundle; --update rewrites the expected reports instead.

Flags:
`)
	fmt.Fprint(w, cli.FlagUsages(fs))
	fmt.Fprint(w, boundsHelp)
}

func cmdRegress(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("regress", stdout, stderr, regressUsage)
	update := fs.Bool("update", false, "rewrite the expected reports from the current analysis")
	force := fs.Bool("force", false, "with --update, replace an expected report that is a symbolic link with a file (refused without it, never written through)")
	color := fs.String("color", "auto", "colour the diffs: auto (on a terminal), always, never")
	exact := fs.Bool("exact", false, "compare the reports byte for byte (Markdown and JSON), not by meaning")
	junit := fs.String("junit", "", "also write the results as JUnit XML to this file (- is stdout, which then holds the XML alone: the results as text go to stderr)")
	var tf thresholdFlags
	tf.register(fs)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	dir := "samples"
	if fs.NArg() > 1 {
		return usagef("regress", "want at most one directory")
	}
	if fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	text := stdout
	if *junit == "-" {
		text = stderr
	}
	colour := false
	switch *color {
	case "always":
		colour = true
	case "auto":
		colour = cli.IsTerminal(text)
	case "never":
	default:
		return usagef("regress", "--color %q: want auto, always or never", *color)
	}
	o, err := tf.options("regress")
	if err != nil {
		return err
	}
	bundles, err := filepath.Glob(filepath.Join(dir, "*.tar.zst"))
	if err != nil || len(bundles) == 0 {
		return usagef("regress", "no *.tar.zst bundle in %s", dir)
	}
	sort.Strings(bundles)
	passed, nFailed := 0, 0
	suite := junitSuite{Name: "iorca regress " + dir}
	for _, b := range bundles {
		name := strings.TrimSuffix(filepath.Base(b), ".tar.zst")
		var log bytes.Buffer
		ok := regressOne(b, name, dir, o, regressMode{*update, *force, colour, *exact}, io.MultiWriter(text, &log))
		c := junitCase{Name: name, ClassName: "regress"}
		if ok {
			passed++
		} else {
			nFailed++
			msg, _, _ := strings.Cut(log.String(), "\n")
			c.Failure = &junitFailure{Message: msg, Text: log.String()}
		}
		suite.Cases = append(suite.Cases, c)
	}
	fmt.Fprintf(text, "%d passed, %d failed\n", passed, nFailed)
	if *junit != "" {
		suite.Tests, suite.Failures = len(suite.Cases), nFailed
		data, _ := xml.MarshalIndent(suite, "", "  ")
		out := outputFlags{path: *junit, force: *force}
		if err := out.emit("regress", append([]byte(xml.Header), append(data, '\n')...), stdout); err != nil {
			return err
		}
	}
	if nFailed > 0 {
		// The diffs and the count above say what failed.
		return &exitError{code: exitFailure}
	}
	return nil
}

// regressMode is how regress goes: --update (with --force), --color,
// --exact.
type regressMode struct{ update, force, colour, exact bool }

// maxExpectedBytes bounds an expected report read: they are tens of KiB.
const maxExpectedBytes = 64 << 20

// regressOne checks (or updates) one sample and reports it on w.
func regressOne(bundlePath, name, dir string, o pipeline.Options, mode regressMode, w io.Writer) bool {
	res, err := pipeline.Run(bundlePath, o)
	if err != nil {
		fmt.Fprintf(w, "FAIL %s: %v\n", name, err)
		return false
	}
	rep := report.New(res.Report)
	if !mode.update && !mode.exact {
		return regressMeaning(res.Report, name, dir, w)
	}
	ok := true
	for _, out := range []struct {
		file   string
		format string
	}{{name + ".md", "md"}, {name + ".json", "json"}} {
		f, _ := lookupFormat("regress", out.format)
		got, err := render("regress", f, rep)
		if err != nil {
			fmt.Fprintf(w, "FAIL %s: %v\n", name, err)
			return false
		}
		path := filepath.Join(dir, out.file)
		want, err := safefile.ReadFile(path, maxExpectedBytes)
		if mode.update {
			if err != nil || !bytes.Equal(want, got) {
				if err := safefile.Write(path, got, mode.force); err != nil {
					fmt.Fprintf(w, "FAIL %s: %v\n", out.file, err)
					ok = false
					continue
				}
				fmt.Fprintf(w, "updated %s\n", out.file)
			}
			continue
		}
		if errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(w, "FAIL %s: no expected report %s (iorca regress --update writes it)\n", name, out.file)
			ok = false
			continue
		}
		if err != nil {
			fmt.Fprintf(w, "FAIL %s: %v\n", name, err)
			ok = false
			continue
		}
		if d := textdiff.Unified(out.file+" (expected)", out.file+" (now)", string(want), string(got), mode.colour); d != "" {
			fmt.Fprintf(w, "FAIL %s: %s drifted\n%s", name, out.file, d)
			ok = false
		}
	}
	if ok && !mode.update {
		fmt.Fprintf(w, "ok   %s\n", name)
	}
	return ok
}

// regressMeaning compares what the report means with its expected JSON
// (meaningDrift).
func regressMeaning(got *content.Report, name, dir string, w io.Writer) bool {
	path := filepath.Join(dir, name+".json")
	data, err := safefile.ReadFile(path, maxExpectedBytes)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(w, "FAIL %s: no expected report %s (iorca regress --update writes it)\n", name, name+".json")
		return false
	}
	if err != nil {
		fmt.Fprintf(w, "FAIL %s: %v\n", name, err)
		return false
	}
	want, err := report.ParseJSON(data)
	if err != nil {
		fmt.Fprintf(w, "FAIL %s: %s: %v\n", name, path, err)
		return false
	}
	if d := meaningDrift(want, got); len(d) > 0 {
		fmt.Fprintf(w, "FAIL %s: the report means something else now:\n  %s\n", name, strings.Join(d, "\n  "))
		return false
	}
	fmt.Fprintf(w, "ok   %s\n", name)
	return true
}
