// Package image holds the collector's container image; its test builds
// the image for real with dockerd and runs it as the manifests do.
package image

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/samples/workload"
)

// TestMain removes the workload binary the test built.
func TestMain(m *testing.M) { os.Exit(workload.RunTests(m)) }

// runFlags are the flags deploy/README.md documents for running the image:
// the host's PIDs, the capabilities it needs and no others, the kernel
// log device, no seccomp or AppArmor filter (ptrace, perf_event_open), a
// read-only root, the host's /sys read-only and tracefs writable,
// dockerd's container metadata read-only, and a directory for the
// bundles.
func runFlags(out, dockerRoot string) []string {
	return []string{"run", "--rm", "--pid=host", "--network=none",
		"--cap-drop=ALL", "--cap-add=SYS_PTRACE", "--cap-add=SYS_ADMIN", "--cap-add=DAC_READ_SEARCH", "--cap-add=DAC_OVERRIDE", "--cap-add=KILL", "--cap-add=SYSLOG",
		"--device=/dev/kmsg:/dev/kmsg:r",
		"--security-opt=seccomp=unconfined", "--security-opt=apparmor=unconfined", "--read-only",
		"-v", "/sys:/sys:ro", "-v", "/sys/kernel/tracing:/sys/kernel/tracing",
		"-v", filepath.Join(dockerRoot, "containers") + ":/var/lib/docker/containers:ro",
		"-v", out + ":/var/lib/iorca", "--tmpfs", "/dev/shm:size=128m", "-e", "NODE_NAME=image-test-node"}
}

// The image, built offline from this checkout with deploy/image/build.sh
// and run with the documented flags, sees the host's processes: its
// bundle is valid, knows it ran in its own mount namespace, carries the
// node name and label, and its report names a writer running on the
// host, by its host PID.
func TestImageSeesTheHost(t *testing.T) {
	d := workload.StartDockerd(t)
	workload.RequireTool(t, "strace")
	workload.RequireTool(t, "busybox")
	build := exec.Command("deploy/image/build.sh", "iorca-collect:test")
	build.Dir = "../.."
	build.Env = append(os.Environ(), "DOCKER_HOST="+d.Host)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("deploy/image/build.sh: %v\n%s", err, out)
	}
	writer := workload.StartProgram(t, "host-writer", "--file", filepath.Join(t.TempDir(), "data.bin"), "--size", "1048576", "--sync", "none", "--rate", "40", "--max-bytes", "1GiB")
	time.Sleep(time.Second)

	out := t.TempDir()
	args := append(runFlags(out, d.Root), "iorca-collect:test", "--duration=5s", "--output=/var/lib/iorca/", "--label=zone=image-test", "--keep-delayacct")
	cmd := exec.Command("docker", append([]string{"-H", d.Host}, args...)...)
	outb, err := cmd.CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, outb)
		}
	}
	bundles, _ := filepath.Glob(filepath.Join(out, "iorca-*.tar.zst"))
	if len(bundles) != 1 {
		t.Fatalf("%d bundles written, want 1; the collector said:\n%s", len(bundles), outb)
	}
	b, err := bundle.ReadFile(bundles[0], bundle.DefaultLimits)
	if err != nil {
		t.Fatalf("the image's bundle: %v", err)
	}
	m := b.Manifest
	if !m.Collector.OwnMountNS || m.Node != "image-test-node" || m.Labels["zone"] != "image-test" {
		t.Errorf("manifest: own mount namespace %v, node %q, labels %v", m.Collector.OwnMountNS, m.Node, m.Labels)
	}
	for _, p := range m.Errors {
		t.Logf("recorded: %s %s %s: %s", p.Source, p.Status, p.Path, p.What)
		// /proc/1/io may be denied (a sandbox's init) and /etc/os-release is
		// the image's, which has none; the rest must be readable.
		if p.Source == "kmsg" || p.Source == "block-trace" || p.Source == "proc-pid-stat" || p.Source == "sys-block-stat" {
			t.Errorf("the containerised collector could not read %s: %s %s", p.Path, p.Status, p.Why)
		}
	}
	// The node's user names, through PID 1's (or kthreadd's) root: not
	// the image's, which has no /etc/passwd.
	if users, ok := b.Member(bundle.UsersMember); !ok || !strings.Contains(string(users), `"name": "root"`) {
		t.Errorf("the containerised collector did not name the node's users: %s", users)
	}
	if m.BlockTrace == nil || m.BlockTrace.Status != bundle.StatusOK {
		t.Errorf("block trace %+v, want it captured from the container", m.BlockTrace)
	}

	iorca := filepath.Join(t.TempDir(), "iorca")
	bld := exec.Command("go", "build", "-o", iorca, "./analyze/cmd/iorca")
	bld.Dir = "../.."
	if o, err := bld.CombinedOutput(); err != nil {
		t.Fatalf("building iorca: %v\n%s", err, o)
	}
	rep, err := exec.Command(iorca, "report", "--format", "json", bundles[0]).Output()
	if err != nil {
		t.Fatalf("iorca report: %v", err)
	}
	var r struct {
		Node          string `json:"node"`
		EvidenceChain []struct {
			Facts []struct {
				Text string `json:"text"`
			} `json:"facts"`
		} `json:"evidence_chain"`
	}
	if err := json.Unmarshal(rep, &r); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("PID %s host-writer", strconv.Itoa(writer.Process.Pid))
	named := false
	for _, s := range r.EvidenceChain {
		for _, f := range s.Facts {
			named = named || strings.Contains(f.Text, want)
		}
	}
	if !named || r.Node != "image-test-node" {
		md, _ := exec.Command(iorca, "report", bundles[0]).Output()
		t.Errorf("the report does not name %q (node %q):\n%s", want, r.Node, md)
	}
}
