package main

import "testing"

// The soft limit never falls below memoryLimit and stays half again
// above a live heap that outgrows it, so that the garbage collector
// never runs without pause against a limit the live heap has reached.
func TestSoftLimit(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int64
	}{
		{0, memoryLimit},
		{10 << 20, memoryLimit},
		{memoryLimit * 2 / 3, memoryLimit},
		{30 << 20, 45 << 20},
		{200 << 20, 300 << 20},
	} {
		if got := softLimit(tc.live); got != tc.want {
			t.Errorf("live %d MiB: limit %d MiB, want %d MiB", tc.live>>20, got>>20, tc.want>>20)
		}
	}
}
