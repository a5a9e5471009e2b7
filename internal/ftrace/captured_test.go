package ftrace

import (
	"bytes"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/iorca/iorca/collect/bundle"
)

// Every line of every block trace the collector captured on a real
// machine — the committed sample bundles (samples/*.sh reproduced each
// incident and ran iorca-collect) — parses, and each event's fields parse
// with the parser the analyzer uses for it. Unlike the shared fixtures
// these are in the repository, so the parsers meet real kernel output on
// a fresh clone too.
func TestParsersOnCapturedTraces(t *testing.T) {
	bundles, _ := filepath.Glob("../../samples/*.tar.zst")
	if len(bundles) == 0 {
		t.Fatal("no sample bundle in samples/")
	}
	used := map[string]int{}
	for _, path := range bundles {
		b, err := bundle.ReadFile(path, bundle.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		text, ok := b.Member(bundle.BlockTraceMember)
		if !ok {
			continue
		}
		name := filepath.Base(path)
		for n, line := range bytes.Split(text, []byte{'\n'}) {
			if len(line) == 0 || bytes.HasPrefix(line, []byte("CPU:")) {
				continue // a lost-events notice is no event
			}
			e, ok := ParseLine(line)
			if !ok {
				t.Errorf("%s line %d: not an event: %q", name, n+1, line)
				continue
			}
			if e.Comm == "" || e.TimeNS <= 0 {
				t.Errorf("%s line %d: no task or time: %+v", name, n+1, e)
			}
			if err := parseFields(e); err != nil {
				t.Errorf("%s line %d: %v", name, n+1, err)
			}
			used[e.Name]++
		}
	}
	// Each parser met real data at least once.
	for _, ev := range []string{"block_rq_insert", "block_rq_issue", "block_rq_complete", "writeback_dirty_folio",
		"writeback_single_inode", "balance_dirty_pages", "writeback_queue", "writeback_start", "writeback_written", "jbd2_end_commit", "sched_process_fork"} {
		if used[ev] == 0 {
			t.Errorf("no captured %s in the samples", ev)
		}
	}
	var kinds []string
	for k, n := range used {
		kinds = append(kinds, k+"="+strconv.Itoa(n))
	}
	sort.Strings(kinds)
	t.Logf("parsed: %s", strings.Join(kinds, " "))
}

// parseFields parses an event's fields as the analyzer does, and checks
// what any real event of its kind holds.
func parseFields(e Event) error {
	switch e.Name {
	case "block_rq_insert", "block_rq_issue", "block_rq_complete", "block_rq_requeue":
		r, err := ParseRequest(e.Fields, e.Name != "block_rq_insert" && e.Name != "block_rq_issue")
		if err == nil && r.Dev == (Dev{}) {
			err = errorString("device 0,0")
		}
		return err
	case "writeback_dirty_folio", "writeback_dirty_page":
		d, err := ParseDirty(e.Fields)
		if err == nil && d.Ino == 0 {
			err = errorString("inode 0")
		}
		return err
	case "writeback_single_inode":
		_, err := ParseSingleInode(e.Fields)
		return err
	case "sched_process_fork":
		f, err := ParseFork(e.Fields)
		if err == nil && f.Parent != e.PID {
			err = errorString("the forking task is not the event's task")
		}
		return err
	case "balance_dirty_pages":
		th, err := ParseThrottle(e.Fields)
		if err == nil && th.BDI == (Dev{}) {
			err = errorString("bdi 0:0")
		}
		return err
	case "writeback_queue", "writeback_start", "writeback_written":
		_, err := ParseWork(e.Fields)
		return err
	case "jbd2_commit_flushing", "jbd2_end_commit":
		_, err := ParseCommit(e.Fields)
		return err
	}
	return nil
}

type errorString string

func (e errorString) Error() string { return string(e) }
