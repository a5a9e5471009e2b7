package kubernetes

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/samples/workload"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestMain removes the workload binary the live tests built.
func TestMain(m *testing.M) { os.Exit(workload.RunTests(m)) }

// buildImage builds the collector's image with deploy/image/build.sh
// for the test's dockerd.
func buildImage(t *testing.T, d *workload.Dockerd) string {
	t.Helper()
	workload.RequireTool(t, "busybox")
	const tag = "iorca-collect:k8s-test"
	build := exec.Command("deploy/image/build.sh", tag)
	build.Dir = "../.."
	build.Env = append(os.Environ(), "DOCKER_HOST="+d.Host)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("deploy/image/build.sh: %v\n%s", err, out)
	}
	return tag
}

// dockerRun is `docker run` for a manifest's pod, as a kubelet would run
// it, as far as docker can: the host's PIDs, no network, the
// container's capabilities and nothing else, seccomp and AppArmor as
// the manifest says, a read-only root, its hostPath volumes (the bundles
// and the node state in the test's directories), its memory volume,
// NODE_NAME, the collector as the entrypoint with the manifest's
// arguments and then extra ones (later flags win).
func dockerRun(t *testing.T, spec corev1.PodSpec, name, image, bundles, state string, extra ...string) []string {
	t.Helper()
	c := spec.Containers[0]
	args := []string{"run", "-d", "--name", name, "--network=none", "--cap-drop=ALL", "-e", "NODE_NAME=docker-node"}
	if spec.HostPID {
		args = append(args, "--pid=host")
	}
	sc := c.SecurityContext
	for _, cp := range sc.Capabilities.Add {
		args = append(args, "--cap-add="+string(cp))
	}
	if sc.SeccompProfile != nil && sc.SeccompProfile.Type == corev1.SeccompProfileTypeUnconfined {
		args = append(args, "--security-opt=seccomp=unconfined")
	}
	if sc.AppArmorProfile != nil && sc.AppArmorProfile.Type == corev1.AppArmorProfileTypeUnconfined {
		args = append(args, "--security-opt=apparmor=unconfined")
	}
	if sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem {
		args = append(args, "--read-only")
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
	}
	for _, m := range c.VolumeMounts {
		v := volumes[m.Name]
		switch {
		case v.EmptyDir != nil:
			args = append(args, "--tmpfs", fmt.Sprintf("%s:size=%dm", m.MountPath, v.EmptyDir.SizeLimit.Value()>>20))
		case v.HostPath != nil && v.HostPath.Type != nil && *v.HostPath.Type == corev1.HostPathCharDev:
			args = append(args, fmt.Sprintf("--device=%s:%s:r", v.HostPath.Path, m.MountPath))
		case v.HostPath != nil:
			src := map[string]string{"/var/lib/iorca": bundles, "/run/iorca": state}[v.HostPath.Path]
			if src == "" {
				src = v.HostPath.Path
			}
			mode := ":rw"
			if m.ReadOnly {
				mode = ":ro"
			}
			args = append(args, "-v", src+":"+m.MountPath+mode)
		}
	}
	args = append(args, "--entrypoint", c.Command[0], image)
	return append(append(args, c.Args...), extra...)
}

// waitLog waits until the container's log holds text.
func waitLog(t *testing.T, d *workload.Dockerd, name, text string, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		out, _ := exec.Command("docker", "-H", d.Host, "logs", name).CombinedOutput()
		if strings.Contains(string(out), text) {
			return string(out)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log within %v:\n%s", text, within, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// probe runs one of the container's probes in it, as the kubelet does.
func probe(d *workload.Dockerd, name string, p *corev1.Probe) error {
	out, err := exec.Command("docker", append([]string{"-H", d.Host, "exec", name}, p.Exec.Command...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

// stopLikeKubelet sends SIGTERM with the pod's grace period (docker
// stop), and returns how long the container took to end and its exit
// code: 137 would be the SIGKILL at the grace's end.
func stopLikeKubelet(t *testing.T, d *workload.Dockerd, name string, spec corev1.PodSpec) (time.Duration, int) {
	t.Helper()
	grace := strconv.FormatInt(*spec.TerminationGracePeriodSeconds, 10)
	began := time.Now()
	d.Docker(t, "stop", "-t", grace, name)
	took := time.Since(began)
	code, err := strconv.Atoi(d.Docker(t, "inspect", "-f", "{{.State.ExitCode}}", name))
	if err != nil {
		t.Fatal(err)
	}
	return took, code
}

// stopWithinGrace stops a recorder as a kubelet does and checks that
// it wrote and exited by itself, with the collector's status, within
// 10 s; it returns the container's log.
func stopWithinGrace(t *testing.T, d *workload.Dockerd, name string, spec corev1.PodSpec, when string) string {
	t.Helper()
	took, code := stopLikeKubelet(t, d, name, spec)
	log := d.Docker(t, "logs", name)
	t.Logf("docker stop %s: %v, exit %d", when, took, code)
	if code != 0 && code != 3 {
		t.Fatalf("exit %d after docker stop %s, want the collector's 0 or 3:\n%s", code, when, log)
	}
	if took > 10*time.Second {
		t.Errorf("the bundle took %v to write after SIGTERM %s", took, when)
	}
	return log
}

// onlyBundle is the one bundle in dir besides those named in older.
func onlyBundle(t *testing.T, dir string, older ...string) string {
	t.Helper()
	all, _ := filepath.Glob(filepath.Join(dir, "iorca-*.tar.zst"))
	var fresh []string
	for _, b := range all {
		if !slices.Contains(older, b) {
			fresh = append(fresh, b)
		}
	}
	if len(fresh) != 1 {
		t.Fatalf("%d new bundles in %s, want 1: %v", len(fresh), dir, fresh)
	}
	return fresh[0]
}

// Issue 26: the DaemonSet's container under a real dockerd. The
// collector is its main process: it arms, its readiness probe passes
// while it ticks and fails when it stalls (stopped, its ready file
// stale), and SIGTERM from `docker stop` with the pod's grace period
// makes it write its window and exit with its own status well within
// the grace, not be killed at its end.
func TestDaemonSetUnderDocker(t *testing.T) {
	d := workload.StartDockerd(t)
	image := buildImage(t, d)
	ds := only[appsv1.DaemonSet](t, "daemonset.yaml")
	spec := ds.Spec.Template.Spec
	c := spec.Containers[0]
	bundles, state := t.TempDir(), t.TempDir()
	const name = "recorder"
	d.Docker(t, dockerRun(t, spec, name, image, bundles, state)...)

	waitLog(t, d, name, "armed at", 20*time.Second)
	time.Sleep(3 * time.Second)
	if err := probe(d, name, c.ReadinessProbe); err != nil {
		t.Fatalf("the readiness probe fails on a ticking recorder: %v", err)
	}
	if err := probe(d, name, c.LivenessProbe); err != nil {
		t.Fatalf("the liveness probe fails on a ticking recorder: %v", err)
	}
	// A stalled recorder: stopped, its file older than the probe allows.
	pid, _ := strconv.Atoi(d.Docker(t, "inspect", "-f", "{{.State.Pid}}", name))
	syscall.Kill(pid, syscall.SIGSTOP)
	d.Docker(t, "exec", name, "/bin/busybox", "touch", "-d", "2000-01-01 00:00:00", "/dev/shm/iorca-ready")
	stalled, dead := probe(d, name, c.ReadinessProbe), probe(d, name, c.LivenessProbe)
	syscall.Kill(pid, syscall.SIGCONT)
	if stalled == nil || dead == nil {
		t.Errorf("on a stalled recorder, the readiness probe says %v and the liveness probe %v; want both to fail", stalled, dead)
	}
	time.Sleep(2 * time.Second)
	if err := probe(d, name, c.ReadinessProbe); err != nil {
		t.Errorf("the readiness probe still fails once the recorder ticks again: %v", err)
	}

	log := stopWithinGrace(t, d, name, spec, "recording")
	b := onlyBundle(t, bundles)
	if !strings.Contains(log, "SIGTERM: stopping; writing the recorder's window") || !strings.Contains(log, "wrote /var/lib/iorca/"+filepath.Base(b)) {
		t.Errorf("the log does not tell the SIGTERM and the bundle %s:\n%s", filepath.Base(b), log)
	}
	m := readManifest(t, b)
	if cs := m.Capture; cs == nil || cs.How != bundle.StartSignal || cs.Signal != "SIGTERM" || cs.Record == nil || cs.Record.Ticks < 3 {
		t.Errorf("capture %+v: want the recorder's window written on SIGTERM", m.Capture)
	}
	if m.Node != "docker-node" {
		t.Errorf("node %q", m.Node)
	}
}

// SIGTERM during a capture (the trigger fired: the block trace runs in
// its tracefs instance) writes what the capture took and leaves no
// tracing instance behind.
func TestDaemonSetStoppedMidCapture(t *testing.T) {
	d := workload.StartDockerd(t)
	image := buildImage(t, d)
	tracefs := mountTracefs(t)
	before := instances(t, tracefs)
	ds := only[appsv1.DaemonSet](t, "daemonset.yaml")
	spec := ds.Spec.Template.Spec
	bundles, state := t.TempDir(), t.TempDir()
	const name = "recorder"
	// A trigger that fires at once (any device writes at least zero a
	// second), then the manifest's 30 s capture.
	d.Docker(t, dockerRun(t, spec, name, image, bundles, state, "--trigger=w/s>=0", "--trigger-for=1")...)
	waitLog(t, d, name, "fired at", 20*time.Second)
	time.Sleep(2 * time.Second)
	if during := instances(t, tracefs); len(during) <= len(before) {
		t.Errorf("no tracing instance during the capture (%v): nothing shows the stop removed it", during)
	}
	stopWithinGrace(t, d, name, spec, "mid-capture")
	if left := instances(t, tracefs); !slices.Equal(left, before) {
		t.Errorf("tracing instances %v after the stop, %v before", left, before)
	}
	m := readManifest(t, onlyBundle(t, bundles))
	if cs := m.Capture; cs == nil || cs.How != bundle.StartTrigger || !m.Partial {
		t.Errorf("capture %+v, partial %v: want the trigger's capture, cut short", m.Capture, m.Partial)
	}
}

// Issue 26: the Job's container under a real dockerd: the collector is
// its main process, its log names the bundle it made (not an older one
// in the same directory), it holds for a copy, and `docker stop` ends
// the hold at once with the collector's status.
func TestJobUnderDocker(t *testing.T) {
	d := workload.StartDockerd(t)
	image := buildImage(t, d)
	job := only[batchv1.Job](t, "job.yaml")
	spec := job.Spec.Template.Spec
	bundles, state := t.TempDir(), t.TempDir()
	older := filepath.Join(bundles, "iorca-docker-node-20200101T000000Z.tar.zst")
	if err := os.WriteFile(older, []byte("an older bundle"), 0o644); err != nil {
		t.Fatal(err)
	}
	const name = "capture"
	d.Docker(t, dockerRun(t, spec, name, image, bundles, state, "--duration=3s")...)
	log := waitLog(t, d, name, "holding for", 30*time.Second)
	b := onlyBundle(t, bundles, older)
	if !strings.Contains(log, "wrote /var/lib/iorca/"+filepath.Base(b)) {
		t.Errorf("the log does not name the bundle %s:\n%s", filepath.Base(b), log)
	}
	took, code := stopLikeKubelet(t, d, name, spec)
	if code != 0 && code != 3 || took > 5*time.Second {
		t.Errorf("docker stop during the hold: exit %d after %v, want the collector's status at once", code, took)
	}
	want := "exit status 0"
	if code == 3 {
		want = "exit status 3"
	}
	if !strings.Contains(log, want) {
		t.Errorf("the log does not give the status the container ended with (%d):\n%s", code, log)
	}
}

// mountTracefs mounts tracefs for the test, to see the instances there.
func mountTracefs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tracefs", "nodev", dir).CombinedOutput(); err != nil {
		t.Skipf("mounting tracefs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir
}

func instances(t *testing.T, tracefs string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(tracefs, "instances"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func readManifest(t *testing.T, path string) *bundle.Manifest {
	t.Helper()
	b, err := bundle.ReadFile(path, bundle.DefaultLimits)
	if err != nil {
		t.Fatalf("bundle %s: %v", path, err)
	}
	return b.Manifest
}
