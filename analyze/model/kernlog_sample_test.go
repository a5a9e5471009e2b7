package model_test

import (
	"testing"

	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/model"
)

// The failing-disk sample (samples/failing-disk.sh): the kernel log the
// collector captured while loop0 failed every write, two seconds into
// the capture. Its records are placed on the capture's clock and
// classified.
func TestKernelEventsFailingDiskSample(t *testing.T) {
	m := sampletest.Model(t, "failing-disk")
	during := map[model.KernelEventKind]int{}
	for _, e := range m.KernelEvents() {
		if e.During && e.Device == "loop0" {
			during[e.Kind]++
		}
	}
	for _, k := range []model.KernelEventKind{model.IOError, model.LostWrite, model.JournalAbort, model.ReadOnly} {
		if during[k] == 0 {
			t.Errorf("no event of kind %d about loop0 during the capture (have %v)", k, during)
		}
	}
	if m.MountsEnd == nil {
		t.Fatal("no end mount table")
	}
}
