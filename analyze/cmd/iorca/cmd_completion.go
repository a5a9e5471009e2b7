package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/replay"
	"github.com/iorca/iorca/internal/cli"
	"github.com/spf13/pflag"
)

// A completion script is small and fixed: written here rather than
// taking cobra for it (cobra would replace the flag handling every
// command shares, for one generated script).

func completionUsage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprint(w, `Usage: iorca completion bash

Writes a bash completion script for iorca: it completes commands, replay's
views, the values of --format, --fail-on and --color, and bundles
(*.tar.zst), JSON reports and directories.

Example:
  source <(iorca completion bash)      # in ~/.bashrc
`)
	fmt.Fprint(w, cli.FlagUsages(fs))
}

func cmdCompletion(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("completion", stdout, stderr, completionUsage)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() != 1 || fs.Arg(0) != "bash" {
		return usagef("completion", "want the shell: iorca completion bash (source <(iorca completion bash))")
	}
	_, err := io.WriteString(stdout, bashCompletion())
	return err
}

// bashCompletion completes commands, replay's views, --format's values
// and, elsewhere, bundles (*.tar.zst), directories and files.
func bashCompletion() string {
	var cmds []string
	for c := range commands {
		cmds = append(cmds, c)
	}
	cmds = append(cmds, "help", "version")
	sort.Strings(cmds)
	var views []string
	for _, v := range replay.Views {
		views = append(views, v.Name)
	}
	return fmt.Sprintf(`# bash completion for iorca: source <(iorca completion bash)
_iorca() {
  local cur prev cmd
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD-1]}
  cmd=${COMP_WORDS[1]}
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "%s" -- "$cur")); return
  fi
  case $prev in
    --format)
      if [ "$cmd" = replay ]; then COMPREPLY=($(compgen -W "%s" -- "$cur")); return; fi
      COMPREPLY=($(compgen -W "%s" -- "$cur")); return ;;
    --fail-on) COMPREPLY=($(compgen -W "info warning critical" -- "$cur")); return ;;
    --color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
    help) COMPREPLY=($(compgen -W "%s" -- "$cur")); return ;;
  esac
  if [ "$cmd" = replay ] && [ "$COMP_CWORD" -eq 3 ]; then
    COMPREPLY=($(compgen -W "%s" -- "$cur")); return
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(iorca "$cmd" --help 2>/dev/null | grep -oE -- '--[a-z][a-z-]*' | sort -u)" -- "$cur")); return
  fi
  COMPREPLY=($(compgen -o plusdirs -f -X '!*.@(tar.zst|json)' -- "$cur"))
}
shopt -s extglob
complete -o filenames -F _iorca iorca
`, strings.Join(cmds, " "), strings.Join(formatsOf("replay"), " "), strings.Join(formatsOf("report"), " "), strings.Join(cmds, " "), strings.Join(views, " "))
}
