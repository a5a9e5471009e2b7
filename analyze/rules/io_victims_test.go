package rules

import (
	"testing"

	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
)

// Whom a victim waited behind names those that held it up, not a kernel
// thread that held 0.5 % of its wait (which would print as 0 %).
func TestBehindWhomLeavesOutNoise(t *testing.T) {
	lookup, find, jbd2 := model.Task{PID: 2, Comm: "lookup"}, model.Task{PID: 9, Comm: "find"}, model.Task{Comm: "jbd2/loop0-8"}
	got := behindWhom(&window.Window{}, map[model.Task]map[model.Task]float64{lookup: {find: 995, jbd2: 5}}, 2)
	if got != "the requests of PID 9 (find)" {
		t.Errorf("behind %q", got)
	}
	got = behindWhom(&window.Window{}, map[model.Task]map[model.Task]float64{lookup: {find: 600, jbd2: 400}}, 2)
	if got != "the requests of PID 9 (find) (60 % of that wait) and jbd2/loop0-8 (kernel) (40 % of that wait)" {
		t.Errorf("behind %q", got)
	}
}
