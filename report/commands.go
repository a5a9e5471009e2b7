package report

import (
	"bytes"
	"fmt"
	"strings"
)

// commandWords are the programs a mitigation's "how" may start a
// command with, for the commands a rule did not declare (its Commands);
// the text from one up to a parenthesis or the next "; " is a command a
// reader pastes into a shell.
var commandWords = map[string]bool{
	"echo": true, "grep": true, "sysctl": true, "du": true, "lsof": true, "smartctl": true, "nvme": true,
	"ctr": true, "nerdctl": true, "docker": true, "kubectl": true, "crictl": true, "ionice": true,
	"systemctl": true, "mount": true, "umount": true, "find": true, "cat": true, "iostat": true, "fstrim": true,
	"truncate": true, "fsfreeze": true, "logrotate": true, "updatedb": true, "chattr": true, "xfs_io": true,
	"tune2fs": true, "xfs_info": true, "nice": true, "eatmydata": true, "sync": true,
}

// howPart is a piece of a mitigation's "how": prose, or a command.
type howPart struct {
	text  string
	isCmd bool
}

// splitHow finds the commands in a mitigation's "how": each "; "
// separated clause that starts with a command word, or with a short
// label and a colon before one ("to lift it: echo ..."); the command ends
// before a parenthesised remark.
func splitHow(how string) []howPart {
	var out []howPart
	for i, clause := range strings.Split(how, "; ") {
		sep := ""
		if i > 0 {
			sep = "; "
		}
		label, cmd := "", clause
		if l, rest, ok := strings.Cut(clause, ": "); ok && isCommand(rest) {
			label, cmd = l+": ", rest
		}
		if !isCommand(cmd) {
			out = append(out, howPart{text: sep + clause})
			continue
		}
		remark := ""
		if j := strings.Index(cmd, " ("); j > 0 {
			cmd, remark = cmd[:j], cmd[j:]
		}
		out = append(out, howPart{text: sep + label}, howPart{text: cmd, isCmd: true}, howPart{text: remark})
	}
	return out
}

func isCommand(s string) bool {
	w, _, _ := strings.Cut(s, " ")
	return commandWords[w]
}

// withCommands splits a mitigation's "how" at the commands the rule
// declared (Mitigation.Commands, each held word for word): those are
// commands, the text between them is read by splitHow; a declared
// command the text does not hold is added after it.
func withCommands(how string, cmds []string) []howPart {
	var out []howPart
	rest := how
	for {
		at, which := -1, ""
		for _, c := range cmds {
			if i := strings.Index(rest, c); c != "" && i >= 0 && (at < 0 || i < at) {
				at, which = i, c
			}
		}
		if at < 0 {
			break
		}
		out = append(out, splitHow(rest[:at])...)
		out = append(out, howPart{text: which, isCmd: true})
		rest = rest[at+len(which):]
	}
	out = append(out, splitHow(rest)...)
	for _, c := range cmds {
		if c != "" && !strings.Contains(how, c) {
			out = append(out, howPart{text: "; "}, howPart{text: c, isCmd: true})
		}
	}
	return out
}

// howCell writes a mitigation's "how" as a Markdown table cell: prose
// escaped, each command a code span that pastes as it is. A command
// holding a | cannot be a code span in a GFM table (the pipe must be
// escaped there, even inside backticks, and the escape would be
// pasted): it is numbered, and below adds it to the commands written
// after the table.
func howCell(how string, cmds []string, below *[]string) string {
	var b strings.Builder
	for _, p := range withCommands(how, cmds) {
		switch {
		case !p.isCmd:
			b.WriteString(esc(p.text))
		case strings.Contains(p.text, "|"):
			*below = append(*below, p.text)
			fmt.Fprintf(&b, "command %d below", len(*below))
		default:
			b.WriteString(code(p.text))
		}
	}
	return b.String()
}

// commandsBelow writes the commands a table could not hold, numbered as
// its cells name them.
func commandsBelow(b *bytes.Buffer, cmds []string) {
	for i, c := range cmds {
		fmt.Fprintf(b, "Command %d:\n\n```sh\n%s\n```\n\n", i+1, c)
	}
}
