package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/iorca/iorca/analyze/pipeline"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/redact"
	"github.com/iorca/iorca/internal/cli"
	"github.com/iorca/iorca/internal/safefile"
	"github.com/spf13/pflag"
)

func redactUsage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprint(w, `Usage: iorca redact IN OUT [--redact REGEX]...

Masks a bundle again before it leaves: the command lines of the process
table and of each target, and the strace output, with the built-in rules
(secret options and variables, URL passwords, Authorization, Cookie and API
key headers, curl -u, mysql -p..., redis -a and AUTH, JSON secret keys) and
each --redact pattern (RE2; the match, or its first group, is masked). The
kernel log and the rest are raw kernel text and are kept. The manifest's
checksums are updated and a redaction record appended (when, which rules,
how many values of each kind and per pattern, never what they were); the
same counts are printed on stderr. OUT is written whole, through a temporary
file; it may not be IN or a symbolic link.

Examples:
  iorca redact node1.tar.zst node1-redacted.tar.zst
  iorca redact node1.tar.zst out.tar.zst --redact 'customer-(\w+)' --redact '10\.20\.\d+\.\d+'

Flags:
`)
	fmt.Fprint(w, cli.FlagUsages(fs))
}

// now is the clock of the redaction record.
var now = time.Now

func cmdRedact(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("redact", stdout, stderr, redactUsage)
	patterns := fs.StringArray("redact", nil, "also mask what this RE2 pattern matches, or its first group (repeatable)")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("redact", "want a bundle IN and an output OUT (see iorca redact --help)")
	}
	in, out := fs.Arg(0), fs.Arg(1)
	r, err := redact.New(*patterns)
	if err != nil {
		return usagef("redact", "--redact: %v", err)
	}
	if out != "-" {
		if err := checkRedactOutput(in, out); err != nil {
			return err
		}
	}
	b, err := bundle.ReadFile(in, bundle.DefaultLimits)
	if err != nil {
		return &pipeline.LoadError{Err: inputError(in, err)}
	}
	p, err := redact.Bundle(b, r, "iorca redact "+cli.Version(version), now())
	if err != nil {
		return &pipeline.LoadError{Err: inputError(in, err)}
	}
	write := func(w io.Writer) error { return bundle.Write(w, p.Manifest, p.Files) }
	if out == "-" {
		// - is stdout, as everywhere: iorca redact IN - | upload.
		if err := write(stdout); err != nil {
			return failed("redact", stdoutError(err))
		}
	} else if err := writeBundle(out, write); err != nil {
		return failed("redact", err)
	}
	fmt.Fprintf(stderr, "iorca redact: %s: %s\n", out, passSummary(p.Record))
	return nil
}

// checkRedactOutput refuses an OUT that is IN (by name or by file) or a
// symbolic link, which a rename would replace rather than follow.
func checkRedactOutput(in, out string) error {
	ost, err := os.Lstat(out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return failed("redact", err)
	}
	if ost.Mode()&os.ModeSymlink != 0 {
		return usagef("redact", "%s is a symbolic link: give a plain file name", out)
	}
	if ist, err := os.Stat(in); (err == nil && os.SameFile(ist, ost)) || filepath.Clean(in) == filepath.Clean(out) {
		return usagef("redact", "OUT is IN: the original stays as it is; give another name")
	}
	return nil
}

// writeBundle writes a bundle to path through a temporary file in its
// directory and a rename, so that a failure leaves nothing half-written;
// the file is private (0600), as the collector writes bundles.
func writeBundle(path string, write func(io.Writer) error) error {
	return safefile.Describe(path, safefile.Atomic(path, 0o600, write))
}

// passSummary says what a pass masked: "5 value(s) masked in 2
// member(s): http-header 3, json 2; pattern "x(y)" 0".
func passSummary(rec bundle.RedactionPass) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d value(s) masked in %d member(s)", rec.Masked, len(rec.Members))
	kinds := make([]string, 0, len(rec.Kinds))
	for k := range rec.Kinds {
		if k != redact.KindPattern { // listed by pattern below
			kinds = append(kinds, k)
		}
	}
	sort.Strings(kinds)
	for i, k := range kinds {
		sep := ", "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(&b, "%s%s %d", sep, k, rec.Kinds[k])
	}
	for _, pc := range rec.Patterns {
		fmt.Fprintf(&b, "; pattern %q %d", pc.Pattern, pc.Masked)
	}
	return b.String()
}
