package fleet

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/pipeline"
	"github.com/iorca/iorca/report/content"
)

// write makes the files under dir, each with its content.
func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// A directory gives its bundles and JSON reports, sorted, hidden
// directories below it left out; a file is taken as given, in the order
// given; a path that does not exist is an error.
func TestInputs(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"fleet/b.tar.zst":          "",
		"fleet/a.json":             "",
		"fleet/notes.txt":          "",
		"fleet/sub/c.tar.zst":      "",
		"fleet/.cache/d.tar.zst":   "",
		"fleet/sub/.git/e.json":    "",
		".hidden/f.json":           "",
		"given.txt":                "",
		"fleet/b.tar.zst.partial":  "",
		"fleet/bundle.tar.zst.tmp": "",
	})
	at := func(p string) string { return filepath.Join(dir, p) }
	got, err := Inputs([]string{at("given.txt"), at("fleet"), at(".hidden")})
	if err != nil {
		t.Fatal(err)
	}
	// A hidden directory named as an argument is walked: only those
	// below an argument are skipped.
	want := []string{at("given.txt"), at("fleet/a.json"), at("fleet/b.tar.zst"), at("fleet/sub/c.tar.zst"), at(".hidden/f.json")}
	if !slices.Equal(got, want) {
		t.Errorf("inputs\n%q\nwant\n%q", got, want)
	}
	if _, err := Inputs([]string{at("fleet"), at("missing")}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing path: error %v, want one that is fs.ErrNotExist", err)
	}
	if got, err := Inputs([]string{at("fleet/sub/.git")}); err != nil || len(got) != 1 {
		t.Errorf("a hidden directory as the argument: %q (%v), want its report", got, err)
	}
}

// Read turns every input into a node, in the order of the inputs, however
// many workers read them: bundles through analyze, JSON reports through
// report.ParseJSON. An input that cannot be read is one unreadable,
// never the end; the progress is told of each input.
func TestRead(t *testing.T) {
	dir := t.TempDir()
	bundleOf := func(name string) string { return sampletest.Path(t, name) }
	reportOf := func(name string) string { return filepath.Join(sampletest.Dir(t), name+".json") }
	// Hand-made bad inputs: a truncated bundle, a JSON document that is
	// no report, JSON that is not JSON, a report with an unknown
	// severity (made from a sample's by an edit), a path that vanished.
	data, err := os.ReadFile(bundleOf("idle"))
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(reportOf("fsync-storm"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, map[string]string{
		"truncated.tar.zst": string(data[:len(data)/2]),
		"fleet.json":        `{"schema": "iorca.fleet/v1", "nodes": []}`,
		"broken.json":       `{"schema": "iorca.report/v1",`,
		"fatal.json":        strings.Replace(string(good), `"severity": "warning"`, `"severity": "fatal"`, 1),
	})
	at := func(p string) string { return filepath.Join(dir, p) }
	paths := []string{
		bundleOf("overlay-slow-disk"), at("truncated.tar.zst"), reportOf("fsync-storm"), at("fleet.json"), bundleOf("failing-disk"),
		at("broken.json"), at("vanished.json"), reportOf("idle"), at("fatal.json"), bundleOf("idle"),
	}
	wantNodes := []string{bundleOf("overlay-slow-disk"), reportOf("fsync-storm"), bundleOf("failing-disk"), reportOf("idle"), bundleOf("idle")}
	wantBad := map[string]string{
		at("truncated.tar.zst"): "truncated",
		at("fleet.json"):        `schema "iorca.fleet/v1", want "iorca.report/v1"`,
		at("broken.json"):       "not a JSON report",
		at("vanished.json"):     "no such file",
		at("fatal.json"):        `severity "fatal"`,
	}
	// The samples' contents are made before Read: analyze runs on the
	// workers, where t.Fatal must not be called.
	loaded := map[string]*content.Report{}
	for _, name := range []string{"overlay-slow-disk", "failing-disk", "idle"} {
		loaded[bundleOf(name)] = sampleReport(t, name)
	}
	analyze := func(path string) (*content.Report, error) {
		if rc := loaded[path]; rc != nil {
			return rc, nil
		}
		res, err := pipeline.Run(path, pipeline.Defaults())
		if err != nil {
			return nil, err
		}
		return res.Report, nil
	}
	for _, workers := range []int{0, 1, 3, 100} {
		calls, lastDone, lastBad := 0, 0, 0
		nodes, bad := Read(paths, workers, analyze, func(done, total, b int) {
			calls++
			if done != lastDone+1 || total != len(paths) || b < lastBad {
				t.Errorf("%d workers: progress %d/%d, %d bad after %d/%d, %d bad", workers, done, total, b, lastDone, len(paths), lastBad)
			}
			lastDone, lastBad = done, b
		})
		var sources []string
		for _, n := range nodes {
			sources = append(sources, n.Source)
		}
		if !slices.Equal(sources, wantNodes) {
			t.Errorf("%d workers: nodes\n%q\nwant\n%q", workers, sources, wantNodes)
		}
		if len(bad) != len(wantBad) || calls != len(paths) || lastBad != len(wantBad) {
			t.Errorf("%d workers: %d unreadable (%+v), %d progress calls ending at %d bad; want %d, %d", workers, len(bad), bad, calls, lastBad, len(wantBad), len(paths))
		}
		for _, u := range bad {
			if want, ok := wantBad[u.Source]; !ok || !strings.Contains(u.Error, want) {
				t.Errorf("%d workers: %s unreadable: %q, want %q", workers, u.Source, u.Error, want)
			}
		}
	}
	// The sample's JSON report is the report of its bundle: one node.
	nodes, _ := Read([]string{reportOf("idle"), bundleOf("idle")}, 2, analyze, nil)
	if len(nodes) != 2 {
		t.Fatalf("%d nodes of idle, want 2", len(nodes))
	}
	nodes[0].Source = nodes[1].Source
	nodes[0].Window.Start = nodes[1].Window.Start // one instant; its location may differ
	if a, b := nodeJSON(t, nodes[0]), nodeJSON(t, nodes[1]); a != b {
		t.Errorf("idle from its JSON report\n%s\nfrom its bundle\n%s", a, b)
	}
	if nodes, bad := Read(nil, 4, analyze, nil); len(nodes) != 0 || len(bad) != 0 {
		t.Errorf("no inputs: %d nodes, %d unreadable", len(nodes), len(bad))
	}
}
