package scenarios

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/samples/workload"
)

// Issue 14, "names people know": a Docker container named checkout-api-3
// (dockerd 20.10, json-file logs) floods its stdout. dockerd writes the
// lines to containers/ID/ID-json.log; the report names the container
// checkout-api-3, as docker ps does, with its image — not by its id.
func TestDockerContainerByName(t *testing.T) {
	d := workload.StartDockerd(t)
	d.ImageOf(t, "checkout-api:1.4.2", map[string]string{"/app": workload.Build(t)}, "/app")
	id := d.Docker(t, "run", "-d", "--name", "checkout-api-3", "--label", "team=payments", "checkout-api:1.4.2",
		"--file", "/dev/stdout", "--size", "200", "--rate", "4000", "--max-bytes", "256MiB")
	time.Sleep(time.Second)
	cfg := livetest.Config(t, 5*time.Second)
	cfg.DockerRoot = d.Root
	path := livetest.Capture(t, cfg, 0)
	r, md := reporttest.Analyze(t, path)
	ok := true
	if !strings.Contains(md, "checkout-api-3") {
		t.Errorf("the report never names the container checkout-api-3")
		ok = false
	}
	if strings.Contains(md, "container `"+id[:12]+"`") {
		t.Errorf("the report names the container by its id %s", id[:12])
		ok = false
	}
	if c := r.Verdict.Culprit; c == nil || c.Container != "checkout-api-3" {
		t.Errorf("culprit %+v, want container checkout-api-3", c)
		ok = false
	}
	m := livetest.Load(t, path)
	meta, found := m.ContainerMeta[id]
	if !found || meta.Name != "checkout-api-3" || meta.Image != "checkout-api:1.4.2" || meta.Labels["team"] != "payments" || meta.Source != filepath.Join(d.Root, "containers", id, "config.v2.json") {
		t.Errorf("the bundle's metadata of %s: %+v", id[:12], meta)
		ok = false
	}
	if !ok || testing.Verbose() {
		t.Logf("report:\n%s", md)
	}
}
