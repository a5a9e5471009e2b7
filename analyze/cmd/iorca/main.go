package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
)

var version = ""

// usage is iorca's help; FORMATS stands for the document formats
// (formatsOf), so that the list is written once.
var usage = strings.ReplaceAll(usageText, "FORMATS", strings.Join(formatsOf("report"), "|"))

const usageText = `iorca analyzes bundles written by iorca-collect, offline.

Usage:
  iorca report BUNDLE [--format FORMATS] [-o FILE]   root cause, evidence, mitigations
  iorca replay BUNDLE [VIEW] [flags]                       what iotop, iostat, pidstat... showed
  iorca regress [DIR]                                      re-check sample bundles (default samples/)
  iorca fleet PATH... [--by LABEL] [--format FORMATS] many nodes: recurring culprits, by zone, merged fixes
  iorca diff BEFORE AFTER [--format FORMATS] [--text] what changed: findings, rates, latencies
  iorca redact IN OUT [--redact REGEX]...                  mask secrets again before a bundle leaves
  iorca completion bash                                    shell completion: source <(iorca completion bash)
  iorca help COMMAND                                       a command's flags (as iorca COMMAND --help)
  iorca version

Run "iorca COMMAND --help" for a command's flags.

Output (-o FILE of report, fleet and diff; regress --update): "-" is
stdout; a missing or regular file is replaced whole (temporary file and
rename), keeping its mode, or 0666 less the umask when new; a character
device or a FIFO is written straight (a FIFO needs its reader already);
a symbolic link is followed only into /dev or /proc/self/fd (-o
/dev/stdout), and only to a device or a pipe; any other link is refused,
or with --force replaced itself, never written through. A directory, a
block device or a socket is refused. Only regular files are read.

Sizes (--max-bundle-bytes): 1048576, 512KiB, 64MiB, 64MB, 1.5GiB, in any
case (M means MiB).

Exit status: 0 success; 1 a check failed or the output could not be written
(a full or read-only disk, a refused -o, a closed stdout pipe);
2 bad usage or a bundle that cannot be read (not a bundle, truncated,
corrupt, or hostile) - one line on stderr names the problem.
3 the report was written from a damaged bundle (report --salvage): partial.
5 the document was written and its findings fail the run: report
--fail-on SEVERITY found one at or above it, or diff --fail-on-regress
found one new or more severe than before.
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
	// A closed stdout pipe (iorca report X | head -1) makes a write fail
	// with EPIPE, which iorca reports (one line, exit 1), rather than the
	// silent death by SIGPIPE Go gives a write to fd 1 by default.
	signal.Ignore(syscall.SIGPIPE)
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
	"redact":  cmdRedact,
}

func init() {
	// Added here: the completion script lists commands itself.
	commands["completion"] = cmdCompletion
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitCode("", usagef("", "no command given: iorca COMMAND (the list is above)"), stderr)
	}
	switch args[0] {
	case "-h", "--help", "help":
		if len(args) > 1 && args[0] == "help" {
			return helpCommand(args[1:], stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return exitOK
	case "version", "--version":
		return exitCode("version", cmdVersion(args[1:], stdout, stderr), stderr)
	}
	cmd, ok := commands[args[0]]
	if !ok {
		return exitCode("", usagef("", "unknown command %q (iorca --help lists them)", args[0]), stderr)
	}
	out := &checkedStdout{w: stdout}
	err := cmd(args[1:], out, stderr)
	if err == nil && out.err != nil {
		err = failed(args[0], stdoutError(out.err))
	}
	return exitCode(args[0], err, stderr)
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
