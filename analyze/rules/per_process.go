package rules

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/report/content"
)

// One process, one mechanism, one finding. A process that syncs sixty
// files after writing them does one thing sixty times: the report says
// it once, listing the files (or, when there are many, their directory
// trees) with their counts, instead of sixty findings with one file
// picked for the verdict.

// fileFinding is the finding a per-file rule made for one file, before
// the findings of one process and mechanism are merged.
type fileFinding struct {
	content.Finding
	// Mechanism tells apart what one process does to different files
	// (O_SYNC writes, fsync after writes): only the same merge.
	Mechanism string
	// Calls is what the rule counts on this file (writes, syncs) and
	// Rate how many a second.
	Calls int
	Rate  float64
	// Title is the merged finding's title, given the files as a phrase
	// and their rate in all.
	Title func(files string, rate float64) string
	// Counted names what Calls counts in the listing ("" is the calls
	// traced).
	Counted string
}

// maxListed bounds the files (or trees) a merged finding lists.
const maxListed = 6

// mergePerProcess merges the findings of one process and mechanism into
// one: the busiest file's evidence and remedies, the rates and scores
// summed, and the files listed with their counts.
func mergePerProcess(fs []fileFinding) []content.Finding {
	type key struct {
		pid  int
		mech string
	}
	index := map[key]int{}
	var groups [][]fileFinding
	for _, f := range fs {
		k := key{f.Subjects.PIDs[0], f.Mechanism}
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], f)
	}
	out := make([]content.Finding, 0, len(groups))
	for _, g := range groups {
		if len(g) == 1 {
			out = append(out, g[0].Finding)
			continue
		}
		out = append(out, mergedFiles(g))
	}
	return out
}

// mergedFiles is one finding for a process's files.
func mergedFiles(g []fileFinding) content.Finding {
	sort.SliceStable(g, func(i, j int) bool { return g[i].Calls > g[j].Calls })
	m := g[0].Finding
	var rate, score float64
	calls := map[string]int{}
	for _, f := range g {
		rate += f.Rate
		score += f.Score
		calls[f.Subjects.Path] += f.Calls
	}
	m.Score = score
	phrase, listing := filesPhrase(calls)
	if g[0].Title != nil {
		m.Title = g[0].Title(phrase, rate)
	}
	m.Summary += fmt.Sprintf(" It does the same to %d files in all, %.0f times a second together; the figures below are of the busiest, %s.", len(calls), rate, g[0].Subjects.Path)
	counted := g[0].Counted
	if counted == "" {
		counted = "calls traced"
	}
	m.Evidence = append([]content.Evidence{{Member: m.Evidence[0].Member,
		What: "the files, with the " + counted + " on each: " + listing}}, m.Evidence...)
	return m
}

// filesPhrase names a set of files for a title ("3 files under /srv/a")
// and lists them with their counts, by directory tree when they are
// many.
func filesPhrase(calls map[string]int) (phrase, listing string) {
	paths := make([]string, 0, len(calls))
	for p := range calls {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	phrase = fmt.Sprintf("%d files", len(paths))
	if root := model.CommonDir(paths); root != "/" && root != "." {
		phrase += " under " + root
	}
	if len(paths) <= maxListed {
		var parts []string
		for _, p := range byCount(calls) {
			parts = append(parts, fmt.Sprintf("%s (%d)", p, calls[p]))
		}
		return phrase, strings.Join(parts, ", ")
	}
	return phrase, treeListing(calls)
}

// treeListing lists files by their directory's parent: a tree of many
// directories of a few files each reads as one line per tree.
func treeListing(calls map[string]int) string {
	return byTree(calls, func(p string) string { return filepath.Dir(filepath.Dir(p)) }, func(tree string, n, members int) string {
		return fmt.Sprintf("%s/… (%s, %d in all)", tree, prose.Plural(members, "file"), n)
	})
}

// byTree sums counts by tree (tree names each key's) and lists the
// trees, most first, at most maxListed of them.
func byTree(counts map[string]int, tree func(string) string, entry func(tree string, n, members int) string) string {
	trees, members := map[string]int{}, map[string]int{}
	for k, n := range counts {
		t := tree(k)
		trees[t] += n
		members[t]++
	}
	var parts []string
	order := byCount(trees)
	for i, t := range order {
		if i == maxListed {
			parts = append(parts, fmt.Sprintf("and %d more trees", len(order)-maxListed))
			break
		}
		parts = append(parts, entry(t, trees[t], members[t]))
	}
	return strings.Join(parts, ", ")
}

// byCount orders keys by count, most first, then by name.
func byCount(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if m[out[i]] != m[out[j]] {
			return m[out[i]] > m[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}
