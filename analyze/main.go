package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/cli"
	"github.com/spf13/pflag"
)

// Exit codes.
const (
	exitOK       = 0
	exitFailure  = 1 // a check failed (regress drift) or writing failed
	exitBadInput = 2 // bad usage, or a bundle that cannot be read
)

var version = ""

const usage = `iorca analyzes bundles written by iorca-collect, offline.

Usage:
  iorca report BUNDLE [--format md|json|html] [-o FILE]   root cause, evidence, mitigations
  iorca replay BUNDLE [VIEW] [flags]                       what iotop, iostat, pidstat... showed
  iorca regress [DIR]                                      re-check sample bundles (default samples/)
  iorca fleet PATH... [--by LABEL] [--format md|json|html] many nodes: recurring culprits, by zone, merged fixes
  iorca diff BEFORE AFTER [--format md|json|html] [--text] what changed: findings, rates, latencies
  iorca version

Run "iorca COMMAND --help" for a command's flags.

Exit status: 0 success; 1 a check failed or the output could not be written;
2 bad usage or a bundle that cannot be read (not a bundle, truncated,
corrupt, or hostile) - one line on stderr names the problem.
`

// memoryLimit is the heap the analyzer aims to stay under unless
// GOMEMLIMIT says otherwise: the garbage collector works harder as the
// heap nears it instead of letting it double, so that a fleet run over
// many bundles, or a long capture, keeps a flat footprint. The model of a
// 10-minute capture of 2,000 processes lives in well under half of it.
const memoryLimit = 192 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitBadInput
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "version", "--version":
		fmt.Fprintln(stdout, "iorca", cli.Version(version))
		return exitOK
	case "replay":
		return cmdReplay(args[1:], stdout, stderr)
	case "report":
		return cmdReport(args[1:], stdout, stderr)
	case "regress":
		return cmdRegress(args[1:], stdout, stderr)
	case "fleet":
		return cmdFleet(args[1:], stdout, stderr)
	case "diff":
		return cmdDiff(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "iorca: unknown command %q\n%s", args[0], usage)
	return exitBadInput
}

// loadBundle reads and models a bundle. Its error is one line that names
// the file and the problem.
func loadBundle(path string) (*model.Model, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s: is a directory, not a bundle", path)
	}
	// The bundle streams into the model: no member outlives its parse.
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s: %w", path, pe.Err)
		}
		return nil, fmt.Errorf("%s: %s", path, oneLine(err.Error()))
	}
	defer f.Close()
	rd, err := bundle.NewReader(bufio.NewReaderSize(f, 1<<16), bundle.DefaultLimits)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", path, oneLine(err.Error()))
	}
	defer rd.Close()
	m, err := model.LoadReader(rd)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", path, oneLine(err.Error()))
	}
	return m, nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// newFlagSet is the flag set of one subcommand: --help goes to stdout, as
// "iorca --help" does, so that it can be paged; errors go to stderr. Flags
// are listed in the order they are registered.
func newFlagSet(name string, stdout, stderr io.Writer, usage func(io.Writer, *pflag.FlagSet)) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.Usage = func() { usage(stdout, fs) }
	return fs
}

// parseFlags parses a subcommand's arguments. done says the command ends
// here with code: after --help (0), or after a bad flag (2), which is
// reported on the flag set's output; pflag itself stays silent under
// ContinueOnError.
func parseFlags(fs *pflag.FlagSet, args []string) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, pflag.ErrHelp):
		return exitOK, true
	default:
		fmt.Fprintf(fs.Output(), "iorca %s: %v (see iorca %s --help)\n", fs.Name(), err, fs.Name())
		return exitBadInput, true
	}
}
