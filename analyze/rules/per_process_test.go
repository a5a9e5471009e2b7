package rules

import (
	"fmt"
	"strings"
	"testing"

	"github.com/iorca/iorca/report/content"
)

// Sixty files synced by one process are one finding listing them; a
// second mechanism of the same process, and another process, stay apart.
func TestMergePerProcess(t *testing.T) {
	var fs []fileFinding
	add := func(pid int, mech, path string, calls int) {
		fs = append(fs, fileFinding{Finding: content.Finding{ID: "sync-writes", Title: path, Score: float64(calls),
			Subjects: content.Subjects{PIDs: []int{pid}, Path: path}, Evidence: []content.Evidence{{Member: "strace/1.txt"}}},
			Mechanism: mech, Calls: calls, Rate: float64(calls),
			Title: func(files string, rate float64) string { return fmt.Sprintf("syncs %s, %.0f/s", files, rate) }})
	}
	for i := 0; i < 60; i++ {
		add(1, "fsync", fmt.Sprintf("/srv/root/%03d/file%d.new", i/16, i), 1+i%3)
	}
	add(1, "O_SYNC", "/var/log/app.log", 50)
	add(2, "fsync", "/srv/root/000/file0.new", 1)
	got := mergePerProcess(fs)
	if len(got) != 3 {
		t.Fatalf("%d findings, want 3: %+v", len(got), got)
	}
	m := got[0]
	if !strings.HasPrefix(m.Title, "syncs 60 files under /srv/root, 120/s") {
		t.Errorf("title %q", m.Title)
	}
	if m.Score != 120 || m.Subjects.Path != "/srv/root/000/file2.new" {
		t.Errorf("score %v, path %q", m.Score, m.Subjects.Path)
	}
	// Sixty files in four directories read as one tree.
	if w := m.Evidence[0].What; !strings.Contains(w, "/srv/root/… (60 files, 120 in all)") {
		t.Errorf("listing %q", w)
	}
	if got[1].Title != "/var/log/app.log" || got[2].Subjects.PIDs[0] != 2 {
		t.Errorf("the O_SYNC file or the other process merged: %q, %v", got[1].Title, got[2].Subjects.PIDs)
	}
}

func TestFilesPhrase(t *testing.T) {
	phrase, listing := filesPhrase(map[string]int{"/a/b/x": 3, "/a/c/y": 5})
	if phrase != "2 files under /a" || listing != "/a/c/y (5), /a/b/x (3)" {
		t.Errorf("%q, %q", phrase, listing)
	}
	if phrase, _ := filesPhrase(map[string]int{"/x": 1, "/y/z": 1}); phrase != "2 files" {
		t.Errorf("%q", phrase)
	}
}
