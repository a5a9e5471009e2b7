package prose

import "testing"

func TestJoinAnd(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"a"}, "a"},
		{[]string{"a", "b"}, "a and b"},
		{[]string{"a", "b", "c"}, "a, b and c"},
	} {
		if got := JoinAnd(tc.in); got != tc.want {
			t.Errorf("JoinAnd(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSentenceAndPct(t *testing.T) {
	if got := Sentence("the device"); got != "The device" {
		t.Errorf("Sentence = %q", got)
	}
	if got := Sentence("PID 7"); got != "PID 7" {
		t.Errorf("Sentence changed %q", got)
	}
	if got := Pct(1, 4); got != 25 {
		t.Errorf("Pct(1, 4) = %v, want 25", got)
	}
	if got := Pct(1, 0); got != 0 {
		t.Errorf("Pct(1, 0) = %v, want 0", got)
	}
	if got := JoinInts([]int{3, 1, 2}); got != "3, 1, 2" {
		t.Errorf("JoinInts = %q", got)
	}
	if got := Bytes(1536); got != "1.5 KiB" {
		t.Errorf("Bytes(1536) = %q", got)
	}
}

// TestSentenceKeepsNames: a device, file or command at a sentence's start
// keeps its case.
func TestSentenceKeepsNames(t *testing.T) {
	for in, want := range map[string]string{"loop0 is saturated": "loop0 is saturated", "nvme0n1 failed": "nvme0n1 failed", "/var/log is full": "/var/log is full", "dm-0 is slow": "dm-0 is slow", "the group of": "The group of", "tasks stall": "Tasks stall"} {
		if got := Sentence(in); got != want {
			t.Errorf("Sentence(%q) = %q, want %q", in, got, want)
		}
	}
}
