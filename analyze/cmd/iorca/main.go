package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/iorca/iorca/internal/cli"
	"github.com/spf13/pflag"
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

// commands are iorca's commands by name; each returns an error that
// exitCode turns into the exit status and the line on stderr.
var commands = map[string]func(args []string, stdout, stderr io.Writer) error{
	"report":  cmdReport,
	"replay":  cmdReplay,
	"regress": cmdRegress,
	"fleet":   cmdFleet,
	"diff":    cmdDiff,
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
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "iorca: unknown command %q\n%s", args[0], usage)
		return exitBadInput
	}
	return exitCode(args[0], cmd(args[1:], stdout, stderr), stderr)
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

// parseFlags parses a subcommand's arguments. help says the command
// ends here after --help, which the flag set printed; a bad flag is a
// usage error (pflag itself stays silent under ContinueOnError).
func parseFlags(fs *pflag.FlagSet, args []string) (help bool, err error) {
	err = fs.Parse(args)
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, pflag.ErrHelp):
		return true, nil
	default:
		return false, usagef(fs.Name(), "%v (see iorca %s --help)", err, fs.Name())
	}
}
