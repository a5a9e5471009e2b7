package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/iorca/iorca"

// edge is one dependency that must never exist: no package matched by
// from may link, directly or through others, a package matched by to.
// Patterns are import paths; a trailing "/..." also matches every
// package below. Only what the packages link counts, not their tests'
// imports (procfs's tests read fixtures through internal/fixture).
type edge struct {
	name, reason string
	from, to     []string
	// optional: from may match nothing (a package another change may
	// have moved). Otherwise every from pattern must match a package,
	// so that a typo or a move cannot make the row pass by checking
	// nothing.
	optional bool
}

// collector is the collector binary and every package of its tree.
var collector = []string{module + "/collect/cmd/iorca-collect", module + "/collect/..."}

// forbidden is every dependency that must never exist (DESIGN.md, Layout:
// dependencies flow one way), one row per edge.
var forbidden = []edge{
	{name: "collector -> analyzer", from: collector, to: []string{module + "/analyze/..."},
		reason: "the collector is copied to sick nodes; it meets the analyzer only in collect/bundle and internal/"},
	{name: "collector -> report", from: collector, to: []string{module + "/report/..."},
		reason: "the collector writes raw kernel text, never a report"},
	{name: "collector -> goldmark", from: collector, to: []string{"github.com/yuin/goldmark/..."},
		reason: "HTML rendering is the report's, and would grow the static binary"},
	{name: "collector -> go-diff", from: collector, to: []string{"github.com/sergi/go-diff/..."},
		reason: "diffs are the report's, and would grow the static binary"},
	{name: "report -> analyzer", from: []string{module + "/report/..."}, to: []string{module + "/analyze/..."},
		reason: "report renders the report as data (report/content) and decides nothing"},
	{name: "procfs -> iorca", from: []string{module + "/internal/procfs/..."}, to: []string{module + "/..."},
		reason: "procfs is pure parsers of kernel text, below everything else"},
	{name: "rules -> verdict", from: []string{module + "/analyze/rules/..."}, to: []string{module + "/analyze/verdict/..."},
		reason: "a rule emits findings; the verdict merges and ranks them, rules never see it"},
	{name: "window -> rules, verdict", from: []string{module + "/analyze/window/..."}, to: []string{module + "/analyze/rules/...", module + "/analyze/verdict/..."},
		reason: "the window's facts lie below the rules that read them and the verdict that weighs them"},
	{name: "analysis -> presentation", from: []string{module + "/analyze/window/...", module + "/analyze/rules/...", module + "/analyze/verdict/..."},
		to:     []string{module + "/analyze/explain/...", module + "/analyze/comparison/...", module + "/analyze/fleet/...", module + "/report"},
		reason: "the diagnosis is data; the report's content is built from it, never the other way"},
}

// TestForbiddenDependencies checks every row of forbidden on the module's
// import graph as go list gives it.
func TestForbiddenDependencies(t *testing.T) {
	g := loadGraph(t, module+"/...")
	if len(g) < 50 {
		t.Fatalf("go list gave %d packages: the graph is not the module's", len(g))
	}
	for _, e := range forbidden {
		for _, msg := range e.check(g) {
			t.Error(msg)
		}
	}
}

// The analyzer's unit tests load samples through the production loader
// (analyze/internal/sampletest): no test binary of an analyzer package
// links the collector, except the live scenarios (analyze/scenarios),
// which run it on this machine, and their helper livetest.
func TestUnitTestsLinkNoCollector(t *testing.T) {
	g := loadGraph(t, module+"/analyze/...", "-test")
	collectorPkg := []string{module + "/collect/collector/..."}
	live := []string{module + "/analyze/scenarios/...", module + "/analyze/internal/livetest/..."}
	n := 0
	for p := range g {
		main, ok := strings.CutSuffix(p, ".test")
		if !ok || matchAny(live, main) {
			continue
		}
		n++
		e := edge{name: "unit tests of " + main + " -> collector", from: []string{p}, to: collectorPkg,
			reason: "a live test belongs in analyze/scenarios; unit tests read the committed samples"}
		for _, msg := range e.check(g) {
			t.Error(msg)
		}
	}
	if n < 10 {
		t.Fatalf("go list -test gave %d analyzer test binaries", n)
	}
}

// The checker itself, on a made-up graph: it names the row and the
// chain, and an empty from is an error unless the row is optional.
func TestCheckOnFakeGraph(t *testing.T) {
	g := graph{
		"m/cmd/c":     {"fmt", "m/c/store"},
		"m/c/store":   {"m/c/bundle", "m/a/model"},
		"m/c/bundle":  {"m/int/units"},
		"m/a/model":   {"m/a/strace", "m/int/units"},
		"m/a/strace":  nil,
		"m/int/units": nil,
		"fmt":         nil,
	}
	for _, tc := range []struct {
		e    edge
		want []string
	}{
		{edge{name: "c -> a", from: []string{"m/cmd/c", "m/c/..."}, to: []string{"m/a/..."}, reason: "why"},
			[]string{
				`c -> a (why): m/c/store -> m/a/model`,
				`c -> a (why): m/c/store -> m/a/model -> m/a/strace`,
			}},
		{edge{name: "units -> any", from: []string{"m/int/units/..."}, to: []string{"m/..."}, reason: "why"}, nil},
		{edge{name: "typo", from: []string{"m/cc/..."}, to: []string{"m/a/..."}, reason: "why"},
			[]string{`typo: "m/cc/..." matches no package`}},
		{edge{name: "moved", from: []string{"m/cc/..."}, to: []string{"m/a/..."}, reason: "why", optional: true}, nil},
		{edge{name: "absent target", from: []string{"m/c/..."}, to: []string{"m/a/verdict"}, reason: "why"}, nil},
	} {
		got := tc.e.check(g)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got\n%s\nwant\n%s", tc.e.name, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
		}
	}
}

// graph maps each package to the packages it imports.
type graph map[string][]string

// loadGraph is the import graph of pattern and everything it links, from
// go list -deps -json with flags (-test: test variants are named "PKG
// [PKG.test]" and each test binary "PKG.test").
func loadGraph(t *testing.T, pattern string, flags ...string) graph {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go is not on PATH (go test puts it there): %v", err)
	}
	var stderr bytes.Buffer
	args := append(append([]string{"list", "-deps", "-json=ImportPath,Imports"}, flags...), pattern)
	cmd := exec.Command(goBin, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", pattern, err, stderr.Bytes())
	}
	g := graph{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list -json: %v", err)
		}
		g[p.ImportPath] = p.Imports
	}
	return g
}

// check returns one message per forbidden package that e's packages link,
// each with the shortest import chain that reaches it from one of them
// (its first link is the import to remove or reroute), and one per from
// pattern that matches nothing (unless e is optional).
func (e edge) check(g graph) []string {
	pkgs := make([]string, 0, len(g))
	for p := range g {
		pkgs = append(pkgs, p)
	}
	slices.Sort(pkgs)
	var msgs, roots []string
	for _, pat := range e.from {
		n := 0
		for _, p := range pkgs {
			if match(pat, p) {
				roots = append(roots, p)
				n++
			}
		}
		if n == 0 && !e.optional {
			msgs = append(msgs, e.name+": "+strconv.Quote(pat)+" matches no package")
		}
	}
	// Breadth first from every root at once, so that each package's
	// parent gives a shortest chain back to a root.
	parent := map[string]string{}
	queue := slices.Compact(slices.Sorted(slices.Values(roots)))
	for _, r := range queue {
		parent[r] = ""
	}
	var bad []string
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if !matchAny(e.from, p) && matchAny(e.to, p) {
			bad = append(bad, p)
		}
		for _, q := range g[p] {
			if _, seen := parent[q]; !seen {
				parent[q] = p
				queue = append(queue, q)
			}
		}
	}
	slices.Sort(bad)
	for _, b := range bad {
		chain := []string{b}
		for p := parent[b]; p != ""; p = parent[p] {
			chain = append(chain, p)
		}
		slices.Reverse(chain)
		msgs = append(msgs, e.name+" ("+e.reason+"): "+strings.Join(chain, " -> "))
	}
	return msgs
}

// matchAny reports whether p matches one of pats.
func matchAny(pats []string, p string) bool {
	return slices.ContainsFunc(pats, func(pat string) bool { return match(pat, p) })
}

// match reports whether the import path p matches pat: equal, or below
// it when pat ends in "/...".
func match(pat, p string) bool {
	// A test variant ("PKG [X.test]") is PKG.
	if i := strings.Index(p, " ["); i >= 0 {
		p = p[:i]
	}
	if base, ok := strings.CutSuffix(pat, "/..."); ok {
		return p == base || strings.HasPrefix(p, base+"/")
	}
	return p == pat
}
