package verdict

import "testing"

// The onset is the first interval from which the condition holds in most
// intervals to the end: a lone bad interval before the incident is not
// its start, a good interval inside it does not end it.
func TestFindOnset(t *testing.T) {
	tests := []struct {
		held  string // one character per interval from tick 1: x held
		first bool
		want  int
	}{
		{"......xxxxxx", false, 7},
		{"..x...xxxxxx", false, 7},
		{"......xx.xxx", false, 7},
		{"xxxxxxxxxxxx", false, 1},
		{"............", false, 0},
		{"x...........", false, 0},
		{".....x.x.x.x", false, 6},
		{"..x.........", true, 3},
	}
	for _, tt := range tests {
		held := make([]bool, len(tt.held)+1)
		for k := 1; k < len(held); k++ {
			held[k] = tt.held[k-1] == 'x'
		}
		if got := findOnset(held, tt.first); got != tt.want {
			t.Errorf("%s (first %v): onset %d, want %d", tt.held, tt.first, got, tt.want)
		}
	}
}
