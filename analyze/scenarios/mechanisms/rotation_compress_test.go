package mechanisms

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/samples/workload"
)

// Issue 24, item 5, the compressor half of a rotation: yesterday's
// rotated copy app.log.1, 192 MiB of log lines cold on a slow disk (every
// read waits 20 ms; the page cache of the file behind the loop device
// dropped), left uncompressed by delaycompress at the last rotation, is
// compressed at this one by the real logrotate (copytruncate, compress,
// delaycompress) while the service appends to app.log. The compressor is gzip copied under a name that says nothing
// (nightly-pack, logrotate's compresscmd): it reads the rotated copy on its
// standard input and writes its .gz on its output. It is the
// culprit by device time and the verdict says it compresses a rotated
// log, recognised from what it reads and writes.
func TestRotationCompressor(t *testing.T) {
	lr := workload.RequireTool(t, "logrotate")
	slow, dir := slowLogDir(t)
	log := filepath.Join(dir, "app.log")
	// Yesterday's copy, written long ago: on the disk, not in the page
	// cache; lines of text, as a log holds.
	workload.MustRun(t, "sh", "-c", "(yes '10.0.0.7 - - [03/Dec/2026:06:25:01 +0000] \"GET /api/v1/orders?id=4711 HTTP/1.1\" 200 512' || true) | head -c 201326592 | dd of="+log+".1 bs=8M iflag=fullblock oflag=direct status=none")
	workload.DropBackingCache(t, slow)
	workload.StartProgram(t, "app-server", "--file", log, "--size", "200", "--sync", "none", "--rate", "200")
	pack := renamedTool(t, "gzip", "nightly-pack")
	conf := writeFile(t, "rotate.conf", log+" {\n    copytruncate\n    compress\n    delaycompress\n    compresscmd "+pack+"\n    compressext .gz\n    rotate 4\n}\n", 0o644)
	time.Sleep(time.Second) // the service's first lines
	workload.Start(t, lr, "-f", "-s", filepath.Join(t.TempDir(), "state"), conf)
	cfg := livetest.Config(t, 5*time.Second)
	cfg.SelectAfter = 2 * time.Second
	path := livetest.Capture(t, cfg, 0)
	r, md := reporttest.Analyze(t, path)
	ok := reporttest.CheckFindings(t, r, []string{"log-rotation"}, nil)
	if c := r.Verdict.Culprit; c == nil || c.Comm != filepath.Base(pack) {
		t.Errorf("culprit %+v, want the compressor %s", c, pack)
		ok = false
	}
	// Which generation it compresses is logrotate's business (.1, or
	// .2 once shifted); that it reads a rotated copy and writes it
	// compressed is the finding's.
	compressed := regexp.MustCompile(`reads the rotated log ` + regexp.QuoteMeta(log) + `\.\d and writes it compressed to ` + regexp.QuoteMeta(log) + `\.\d\.gz`)
	if r.Verdict.Primary != "log-rotation" || !compressed.MatchString(r.Verdict.Summary) {
		t.Errorf("primary %q, verdict %q: want the compression of a rotated copy of %s", r.Verdict.Primary, r.Verdict.Summary, log)
		ok = false
	}
	if !strings.Contains(md, "delaycompress") {
		t.Errorf("no advice to compress later")
		ok = false
	}
	if !ok || testing.Verbose() {
		t.Logf("report:\n%s", md)
	}
}
