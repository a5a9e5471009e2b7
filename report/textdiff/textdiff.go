// Package textdiff renders the difference between two texts as a unified
// diff (the format of diff -u and git diff), line by line, with optional
// terminal colours. The line alignment is sergi/go-diff's.
package textdiff

import (
	"fmt"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// context is how many unchanged lines surround a change.
const context = 3

type line struct {
	op   diffmatchpatch.Operation
	text string
}

// Unified returns a unified diff of a and b, or "" when they are equal.
// Names label the two sides in the header.
func Unified(nameA, nameB, a, b string, color bool) string {
	if a == b {
		return ""
	}
	dmp := diffmatchpatch.New()
	ca, cb, lines := dmp.DiffLinesToChars(a, b)
	diffs := dmp.DiffCharsToLines(dmp.DiffMain(ca, cb, false), lines)
	var ls []line
	for _, d := range diffs {
		text := strings.TrimSuffix(d.Text, "\n")
		for _, l := range strings.Split(text, "\n") {
			ls = append(ls, line{d.Type, l})
		}
	}
	red, green, cyan, reset := "", "", "", ""
	if color {
		red, green, cyan, reset = "\x1b[31m", "\x1b[32m", "\x1b[36m", "\x1b[0m"
	}
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", nameA, nameB)
	// Walk the lines, emitting hunks of changes with their context.
	ai, bi := 1, 1 // line numbers in a and b of ls[i]
	type pos struct{ a, b int }
	at := make([]pos, len(ls))
	for i, l := range ls {
		at[i] = pos{ai, bi}
		switch l.op {
		case diffmatchpatch.DiffEqual:
			ai++
			bi++
		case diffmatchpatch.DiffDelete:
			ai++
		case diffmatchpatch.DiffInsert:
			bi++
		}
	}
	for i := 0; i < len(ls); {
		if ls[i].op == diffmatchpatch.DiffEqual {
			i++
			continue
		}
		start := max(i-context, 0)
		end := i
		// Extend while changes are within 2*context of each other.
		for j := i; j < len(ls); j++ {
			if ls[j].op != diffmatchpatch.DiffEqual {
				end = j
			} else if j-end > 2*context {
				break
			}
		}
		stop := min(end+context+1, len(ls))
		var na, nb int
		for _, l := range ls[start:stop] {
			if l.op != diffmatchpatch.DiffInsert {
				na++
			}
			if l.op != diffmatchpatch.DiffDelete {
				nb++
			}
		}
		fmt.Fprintf(&out, "%s@@ -%d,%d +%d,%d @@%s\n", cyan, at[start].a, na, at[start].b, nb, reset)
		for _, l := range ls[start:stop] {
			switch l.op {
			case diffmatchpatch.DiffEqual:
				out.WriteString(" " + l.text + "\n")
			case diffmatchpatch.DiffDelete:
				out.WriteString(red + "-" + l.text + reset + "\n")
			case diffmatchpatch.DiffInsert:
				out.WriteString(green + "+" + l.text + reset + "\n")
			}
		}
		i = stop
	}
	return out.String()
}
