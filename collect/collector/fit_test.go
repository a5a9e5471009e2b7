package collector

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/iorca/iorca/collect/bundle"
)

// Cutting a trace to fit keeps a prefix that ends a line, streamed from
// the spill file (never read back whole), and the manifest says how much
// was kept; with memory only (no spill directory) the same.
func TestCutTraceKeepsWholeLines(t *testing.T) {
	var text bytes.Buffer
	for i := 0; text.Len() < 3<<20; i++ {
		fmt.Fprintf(&text, "kworker/u8:%d-123 [001] ....  %d.%06d: block_rq_complete: 7,0 WS () %d + 8 [0]\n", i%7, i/1000, i%1000000, i*8)
	}
	for _, dirs := range [][]string{{t.TempDir()}, nil} {
		c := &collection{ledger: newLedger(), store: newStore(time.Now(), dirs...)}
		t.Cleanup(c.store.close)
		c.store.putFrom(bundle.BlockTraceMember, int64(text.Len()), func() io.Reader { return bytes.NewReader(text.Bytes()) })
		m := &bundle.Manifest{BlockTrace: &bundle.BlockTraceInfo{}}
		before := c.store.size(bundle.BlockTraceMember)
		note, saved, ok := c.cutTrace(m, bundle.BlockTraceMember, before/2)
		if !ok || saved <= 0 {
			t.Fatalf("spill %v: cut %q saved %d, ok %v", dirs, note, saved, ok)
		}
		r, ok := c.store.open(bundle.BlockTraceMember)
		if !ok {
			t.Fatal("the cut member cannot be read back")
		}
		kept, _ := io.ReadAll(r)
		r.Close()
		if len(kept) == 0 || kept[len(kept)-1] != '\n' || !bytes.HasPrefix(text.Bytes(), kept) || len(kept) >= text.Len() {
			t.Errorf("spill %v: kept %d of %d bytes, not a prefix of whole lines", dirs, len(kept), text.Len())
		}
		if bt := m.BlockTrace; !bt.Truncated || bt.Bytes != int64(len(kept)) || bt.Lines != bytes.Count(kept, []byte{'\n'}) {
			t.Errorf("spill %v: manifest %+v for %d bytes kept", dirs, bt, len(kept))
		}
	}
}
