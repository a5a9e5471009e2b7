package pipeline_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/explain"
	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/pipeline"
	"github.com/iorca/iorca/report"
)

// maxWordsBeforeAppendix is the most words a report may take before its
// appendix: one page to act on.
const maxWordsBeforeAppendix = 1200

// sampleMarkdown renders every sample bundle's report as Markdown.
func sampleMarkdown(t *testing.T) map[string]string {
	matches, _ := filepath.Glob(filepath.Join(sampletest.Dir(t), "*.tar.zst"))
	if len(matches) == 0 {
		t.Fatal("no samples")
	}
	out := map[string]string{}
	for _, path := range matches {
		res, err := pipeline.Run(path, pipeline.Defaults())
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := report.New(res.Report).Markdown(&b); err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(path)] = b.String()
	}
	return out
}

// Every sample's report is one page to act on: the verdict in at most 70
// words, at most 1,200 words before the appendix.
func TestOnePageToActOn(t *testing.T) {
	for name, md := range sampleMarkdown(t) {
		before, _, ok := strings.Cut(md, "\n## Appendix\n")
		if !ok {
			t.Errorf("%s: no appendix", name)
		}
		if n := len(strings.Fields(before)); n > maxWordsBeforeAppendix {
			t.Errorf("%s: %d words before the appendix, want at most %d", name, n, maxWordsBeforeAppendix)
		}
		_, v, _ := strings.Cut(before, "## Verdict\n\n")
		v, _, _ = strings.Cut(v, "\n\n")
		if n := len(strings.Fields(v)); n == 0 || n > explain.HeadlineWords {
			t.Errorf("%s: the verdict has %d words, want 1 to %d: %s", name, n, explain.HeadlineWords, v)
		}
	}
}

var codeSpan = regexp.MustCompile("(`+) ?(.+?) ?(`+)")

// proseCommand is a program followed by an option, in a table cell's
// text outside its code spans: a command a reader would paste, written
// so that it does not paste (Markdown escapes, or prose around it).
var proseCommand = regexp.MustCompile(`(^|[\s(:;,])(sync|truncate|fsck|mkfs\.\w+|xfs_repair|e2fsck|ionice|nice|echo|cat|grep|kill|nginx|systemctl|ctr|nerdctl|docker|kubectl|crictl|lsof|du|find|mount|umount|fsfreeze|lvcreate|chattr|logrotate|smartctl|sysctl|tune2fs|xfs_io|iorca) -{1,2}[A-Za-z0-9]`)

// Every command in a table cell is a code span that pastes from the raw
// Markdown as a working command: no escapes inside it, no | (GFM would
// end the cell there), and bash parses it. Commands written below a
// table, in fenced blocks, parse too.
func TestCommandCellsPaste(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	parses := func(name, cmd string) {
		if out, err := exec.Command(bash, "-n", "-c", cmd).CombinedOutput(); err != nil {
			t.Errorf("%s: %q does not parse as a command: %v %s", name, cmd, err, out)
		}
	}
	cmds := 0
	for name, md := range sampleMarkdown(t) {
		inFence := false
		for _, line := range strings.Split(md, "\n") {
			switch {
			case line == "```sh":
				inFence = true
				continue
			case line == "```":
				inFence = false
				continue
			case inFence:
				parses(name, line)
				cmds++
				continue
			}
			if !strings.HasPrefix(line, "| ") || !strings.Contains(line, "|---") && !strings.Contains(line, " | ") {
				continue
			}
			cells := strings.Split(line, " | ")
			if len(cells) < 2 {
				continue
			}
			how := cells[1]
			if isCommandCell(line) {
				for _, cell := range cells {
					if m := proseCommand.FindString(codeSpan.ReplaceAllString(cell, "")); m != "" {
						t.Errorf("%s: a command outside a code span (%q): %s", name, strings.TrimSpace(m), cell)
					}
				}
			}
			for _, m := range codeSpan.FindAllStringSubmatch(how, -1) {
				if m[1] != m[3] {
					continue
				}
				cmd := m[2]
				if strings.Contains(cmd, `\`) || strings.Contains(cmd, "|") {
					t.Errorf("%s: command cell %q holds an escape or a |: it would not paste", name, cmd)
				}
				if isCommandCell(line) {
					parses(name, cmd)
					cmds++
				}
			}
		}
	}
	if cmds == 0 {
		t.Error("no sample report has a command")
	}
}

// isCommandCell reports whether a table row is a mitigation's (Action,
// How, Expected effect, For): its How cell's code spans are commands.
func isCommandCell(row string) bool { return strings.Count(row, " | ") == 3 }
