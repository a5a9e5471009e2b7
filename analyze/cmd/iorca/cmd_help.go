package main

import (
	"fmt"
	"io"

	"github.com/iorca/iorca/internal/cli"
	"github.com/spf13/pflag"
)

// helpCommand is iorca help CMD: iorca CMD --help, for every command
// iorca has; any other name is a usage error, never the general usage
// with exit 0.
func helpCommand(args []string, stdout, stderr io.Writer) int {
	name := args[0]
	switch {
	case len(args) > 1:
		return exitCode("help", usagef("help", "want one command: iorca help COMMAND"), stderr)
	case name == "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case name != "version" && commands[name] == nil:
		return exitCode("help", usagef("help", "unknown command %q (iorca help lists them)", name), stderr)
	}
	return run([]string{name, "--help"}, stdout, stderr)
}

func versionUsage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprint(w, `Usage: iorca version

Prints iorca's version and, when the build recorded it, the VCS revision
it was built from.
`)
	fmt.Fprint(w, cli.FlagUsages(fs))
}

func cmdVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", stdout, stderr, versionUsage)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("version", "takes no arguments")
	}
	_, err := fmt.Fprintln(stdout, "iorca", cli.Version(version))
	return err
}
