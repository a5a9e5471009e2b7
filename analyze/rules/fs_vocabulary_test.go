package rules

import (
	"regexp"
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/internal/procfs"
	"github.com/iorca/iorca/report/content"
)

// ext4Words are what a report may say only about ext4 (or ext3): its
// journal, its kernel thread and its mount options. Kernel symbols the
// bundle's stacks show (jbd2_log_wait_commit in a sampled stack) are
// quotes of what was seen, not words (\b stops at the underscore).
var ext4Words = regexp.MustCompile(`(?i)\bjbd2\b|\bext4\b|\bext3\b|inode_readahead_blks|journal commit|commits the journal|commit interval \(the commit= mount option, 5 s`)

// retyped is a fresh model of a sample (never the shared one) whose
// ext4 filesystems are of type fstype: the same incident on another
// filesystem, with no jbd2 commit events, as XFS and btrfs have none.
func retyped(t *testing.T, sample, fstype string) *model.Model {
	t.Helper()
	m := sampletest.Load(t, sampletest.Path(t, sample))
	retype := func(ms []procfs.Mount) {
		for i := range ms {
			if ms[i].FSType == "ext4" {
				ms[i].FSType = fstype
			}
		}
	}
	retype(m.Mounts)
	for i := range m.Targets {
		retype(m.Targets[i].Mounts)
	}
	if m.BlockTrace != nil {
		clear(m.BlockTrace.Commits)
	}
	return m
}

// findingText is what a finding says in its own words: title, summary,
// evidence and mitigations.
func findingText(f content.Finding) string {
	parts := []string{f.Title, f.Summary}
	for _, e := range f.Evidence {
		parts = append(parts, e.What)
	}
	for _, m := range f.Mitigations {
		parts = append(parts, m.Action, m.How, m.Effect)
	}
	return strings.Join(parts, "\n")
}

// The mechanisms of issue 24 word the filesystem's journal through its
// vocabulary (model.JournalOf): run on their samples with the
// filesystem made XFS or btrfs, none of them names jbd2, ext4 or its
// options; on ext4 they still name the journal commit.
func TestMechanismsSpeakTheFilesystem(t *testing.T) {
	cases := []struct {
		rule   *Rule
		sample string
	}{
		{metadataScan, "metadata-scan"},
		{syncCaller, "sync-caller"},
		{fileByFileSync, "file-by-file-fsync"},
		{mmapMsync, "mmap-msync"},
	}
	for _, tc := range cases {
		for _, fstype := range []string{"xfs", "btrfs"} {
			fs := tc.rule.Check(window.New(retyped(t, tc.sample, fstype), window.Defaults()))
			if len(fs) == 0 {
				t.Errorf("%s on %s as %s: no finding", tc.rule.ID, tc.sample, fstype)
			}
			for _, f := range fs {
				if w := ext4Words.FindString(findingText(f)); w != "" {
					t.Errorf("%s on %s as %s says %q:\n%s", tc.rule.ID, tc.sample, fstype, w, findingText(f))
				}
			}
		}
	}
	ext4 := findingText(checkOn(t, syncCaller, "sync-caller", window.Defaults())[0])
	if !strings.Contains(ext4, "commits the journal") || !strings.Contains(ext4, "journal commit per commit interval") {
		t.Errorf("sync-caller on ext4 does not name the journal commit:\n%s", ext4)
	}
}
