package blocktrace

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/iorca/iorca/samples/workload"
)

// capture rewrites testdata/raw: go test -run TestCaptureRawTestdata
// -capture ./collect/blocktrace (live, as root; under flock
// /work/live.lock).
var captureFlag = flag.Bool("capture", false, "capture testdata/raw from the running kernel")

const rawDir = "testdata/raw"

// TestCaptureRawTestdata captures the unit tests' pages with the
// tracer's own path: a raw instance and a text instance at once over a
// synchronous writer and a buffered one that syncfs(2) writes back (sync
// -f: the writeback work events with reason=sync), the raw pages as spilled, the
// header, format and comm files the decoder read, and trace_pipe's text.
func TestCaptureRawTestdata(t *testing.T) {
	if !*captureFlag {
		t.Skip("-capture not given")
	}
	workload.Live(t)
	raw, text, mnt := twinTracers(t, 100, 1024)
	workload.MustRun(t, "dd", "if=/dev/zero", "of="+filepath.Join(mnt, "f"), "bs=64k", "count=16", "conv=fsync", "status=none")
	workload.MustRun(t, "dd", "if=/dev/zero", "of="+filepath.Join(mnt, "g"), "bs=64k", "count=4", "status=none")
	workload.MustRun(t, "sync", "-f", mnt)
	time.Sleep(700 * time.Millisecond)
	rr, tr := raw.Stop("collection-end"), text.Stop("collection-end")
	rs, ok := raw.src.(*rawSource)
	if !ok {
		t.Fatalf("raw pages not read: %s", rr.Info.ReaderFallback)
	}
	os.RemoveAll(rawDir)
	must(t, os.MkdirAll(rawDir, 0o755))
	hp, he := rs.headers[0], rs.headers[1]
	must(t, os.WriteFile(filepath.Join(rawDir, "header_page"), hp, 0o644))
	must(t, os.WriteFile(filepath.Join(rawDir, "header_event"), he, 0o644))
	must(t, os.WriteFile(filepath.Join(rawDir, "formats.frames"), rr.Formats, 0o644))
	// The pages, each "CPU LEN" (two u32) and its bytes.
	var pages bytes.Buffer
	for i, refs := range rs.index {
		for _, p := range refs {
			b := make([]byte, p.n)
			_, err := rs.pages.ReadAt(b, p.off)
			must(t, err)
			pages.Write(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, uint32(rs.cpus[i])), uint32(p.n)))
			pages.Write(b)
		}
	}
	must(t, os.WriteFile(filepath.Join(rawDir, "pages"), pages.Bytes(), 0o644))
	// The kernel's comms of the pids in the trace only.
	c := rs.named
	var cl, tg bytes.Buffer
	for _, e := range events(t, output(t, rr)) {
		if comm, ok := c.comm[e.PID]; ok {
			fmt.Fprintf(&cl, "%d %s\n", e.PID, comm)
			delete(c.comm, e.PID)
		}
		if tgid, ok := c.tgid[e.PID]; ok {
			fmt.Fprintf(&tg, "%d %d\n", e.PID, tgid)
			delete(c.tgid, e.PID)
		}
	}
	must(t, os.WriteFile(filepath.Join(rawDir, "saved_cmdlines"), cl.Bytes(), 0o644))
	must(t, os.WriteFile(filepath.Join(rawDir, "saved_tgids"), tg.Bytes(), 0o644))
	must(t, os.WriteFile(filepath.Join(rawDir, "trace_pipe.txt"), output(t, tr), 0o644))
	must(t, os.WriteFile(filepath.Join(rawDir, "decoded.txt"), output(t, rr), 0o644))
	j := rs.dec.jiffies
	must(t, os.WriteFile(filepath.Join(rawDir, "jiffies"), fmt.Appendf(nil, "%d %d\n", j.j, j.mono), 0o644))
	t.Logf("%d bytes of pages, %d raw bytes, %d decoded lines, %d text lines", pages.Len(), rr.Info.RawBytes, rr.Info.Lines, tr.Info.Lines)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
