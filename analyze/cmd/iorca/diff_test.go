package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iorca/iorca/report/content"
)

// diffDoc is the JSON of iorca diff, as a reader decodes it.
type diffDoc struct {
	Warnings  []string                `json:"warnings"`
	Resolved  []content.FindingChange `json:"resolved"`
	New       []content.FindingChange `json:"new"`
	Unchanged []content.FindingChange `json:"unchanged"`
	Devices   []content.ComparedRow   `json:"devices"`
	Apps      []content.ComparedRow   `json:"applications"`
}

func diffJSON(t *testing.T, before, after string) *diffDoc {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run([]string{"diff", "--format", "json", before, after}, &out, &errb); code != exitOK {
		t.Fatalf("iorca diff: exit %d: %s", code, errb.String())
	}
	var d diffDoc
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

func figure(rows []content.ComparedRow, row, name string) (content.ComparedFigure, bool) {
	for _, r := range rows {
		if r.Name == row {
			for _, f := range r.Figures {
				if f.Name == name {
					return f, true
				}
			}
		}
	}
	return content.ComparedFigure{}, false
}

// Issue 15: the overlay O_SYNC logger before its mitigation
// (samples/overlay-sync-logger) and after it (the same container with
// /var/log/nginx on a tmpfs volume, samples/overlay-sync-logger-tmpfs, both
// captured for real): the sync and overlay findings are resolved, and the
// device under the overlay's upper layer takes far fewer writes and cache
// flushes.
func TestDiffBeforeAfterMitigation(t *testing.T) {
	before := filepath.Join(samplesDir, "overlay-sync-logger.tar.zst")
	after := filepath.Join(samplesDir, "overlay-sync-logger-tmpfs.tar.zst")
	d := diffJSON(t, before, after)
	resolved := map[string]bool{}
	for _, f := range d.Resolved {
		resolved[f.ID] = true
	}
	for _, id := range []string{"sync-writes", "overlay-hot-path"} {
		if !resolved[id] {
			t.Errorf("%s is not resolved; resolved %+v, unchanged %+v, new %+v", id, d.Resolved, d.Unchanged, d.New)
		}
	}
	dev := "" // the device under the upper layer
	for _, r := range d.Devices {
		if f, ok := figure(d.Devices, r.Name, "w/s"); ok && f.Before > 1000 {
			dev = r.Name
		}
	}
	if dev == "" {
		t.Fatalf("no device took the logger's writes before: %+v", d.Devices)
	}
	for _, name := range []string{"w/s", "f/s"} {
		f, _ := figure(d.Devices, dev, name)
		if f.After > f.Before/10 {
			t.Errorf("%s %s: %.1f before, %.1f after; want it to fall tenfold at least", dev, name, f.Before, f.After)
		}
	}
	var md, errb bytes.Buffer
	if code := run([]string{"diff", before, after}, &md, &errb); code != exitOK || !strings.Contains(md.String(), "**Resolved**") {
		t.Errorf("markdown: exit %d: %s", code, errb.String())
	}
	var html bytes.Buffer
	if code := run([]string{"diff", "--format", "html", before, after}, &html, &errb); code != exitOK || strings.Count(html.String(), `<svg class="chart"`) != 2 {
		t.Errorf("html: exit %d, %d timelines, want the two on the same axes", code, strings.Count(html.String(), `<svg class="chart"`))
	}
}

// A bundle against itself: nothing resolved or new, every figure equal,
// no warning. Two different nodes' bundles: compared, with a warning.
func TestDiffSameAndOtherNode(t *testing.T) {
	b := filepath.Join(samplesDir, "fsync-storm.tar.zst")
	d := diffJSON(t, b, b)
	if len(d.Resolved)+len(d.New) != 0 || len(d.Warnings) != 0 || len(d.Unchanged) == 0 {
		t.Errorf("against itself: resolved %v, new %v, warnings %v, unchanged %d", d.Resolved, d.New, d.Warnings, len(d.Unchanged))
	}
	for _, r := range append(d.Devices, d.Apps...) {
		for _, f := range r.Figures {
			if f.Before != f.After {
				t.Errorf("%s %s: %v -> %v against itself", r.Name, f.Name, f.Before, f.After)
			}
		}
	}
	other := filepath.Join(samplesDir, "failing-disk.tar.zst")
	d = diffJSON(t, b, other)
	if len(d.Warnings) == 0 {
		t.Error("two captures on two kernels compared without a warning")
	}
	var out, errb bytes.Buffer
	if code := run([]string{"diff", "--text", b, other}, &out, &errb); code != exitOK || !strings.HasPrefix(out.String(), "--- ") {
		t.Errorf("--text: exit %d, %q", code, firstLine(out.String()))
	}
	if code := run([]string{"diff", b}, &out, &errb); code != exitBadInput {
		t.Errorf("one bundle: exit %d, want 2", code)
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
