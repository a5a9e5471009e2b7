package model

import "testing"

// TraceLine cites a trace by strace line number, as strace.Parse numbers
// lines: 1-based, the last line with or without its newline; the loader
// keeps the lines asked for (quoteLines).
func TestTraceLine(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string // lines 1..len(want); the next one must be ""
	}{
		{"a\nbb\nccc\n", []string{"a", "bb", "ccc", ""}},
		{"a\nbb\nccc", []string{"a", "bb", "ccc"}},
		{"\n\nx", []string{"", "", "x"}},
	} {
		want := map[int]bool{}
		for i := range len(c.want) + 1 {
			want[i+1] = true
		}
		tg := &Target{quotes: quoteLines([]byte(c.text), want)}
		for i, want := range c.want {
			if got := tg.TraceLine(i + 1); got != want {
				t.Errorf("%q: line %d = %q, want %q", c.text, i+1, got, want)
			}
		}
		for _, n := range []int{0, -1, len(c.want) + 1, 1 << 20} {
			if got := tg.TraceLine(n); got != "" {
				t.Errorf("%q: line %d = %q, want empty", c.text, n, got)
			}
		}
	}
	if got := (&Target{}).TraceLine(1); got != "" {
		t.Errorf("no trace: line 1 = %q", got)
	}
}
