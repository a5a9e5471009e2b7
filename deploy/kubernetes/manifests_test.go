// Package kubernetes holds the collector's Kubernetes manifests; its test
// decodes them strictly into the Kubernetes API types, so that a field
// misspelt or misplaced fails here rather than on a cluster.
package kubernetes

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// documents splits a manifest file into its YAML documents.
func documents(t *testing.T, file string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var docs [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		if strings.TrimSpace(stripComments(d)) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// strict decodes one YAML document as the API server does: JSON field
// names matched case-sensitively (encoding/json alone would take hostPid
// for hostPID), unknown and duplicate fields refused.
func strict(doc []byte, obj any) error {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return err
	}
	strictErrs, err := kjson.UnmarshalStrict(j, obj, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(strictErrs...)
}

// decode reads every document of file strictly into its API type: an
// unknown field, a wrong type or a kind this test does not know fails.
func decode(t *testing.T, file string) []any {
	t.Helper()
	var objs []any
	for i, doc := range documents(t, file) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			t.Fatalf("%s document %d: %v", file, i, err)
		}
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 Namespace":
			obj = &corev1.Namespace{}
		case "apps/v1 DaemonSet":
			obj = &appsv1.DaemonSet{}
		case "batch/v1 Job":
			obj = &batchv1.Job{}
		default:
			t.Fatalf("%s document %d: %s %s is not a kind this test checks", file, i, tm.APIVersion, tm.Kind)
		}
		if err := strict(doc, obj); err != nil {
			t.Fatalf("%s document %d (%s): %v", file, i, tm.Kind, err)
		}
		objs = append(objs, obj)
	}
	return objs
}

// checkPod checks what every collector pod needs: the host's PIDs, the
// node's name from the downward API, no API token, capabilities and not
// privileged, the host's /sys, the bundles on a hostPath.
func checkPod(t *testing.T, what string, spec corev1.PodSpec) corev1.Container {
	t.Helper()
	if !spec.HostPID {
		t.Errorf("%s: hostPID is off: the collector would see only its own pod", what)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("%s: mounts a service account token it does not need", what)
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", what, len(spec.Containers))
	}
	c := spec.Containers[0]
	nodeName := false
	for _, e := range c.Env {
		if e.Name == "NODE_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "spec.nodeName" {
			nodeName = true
		}
	}
	if !nodeName {
		t.Errorf("%s: no NODE_NAME from the downward API (spec.nodeName)", what)
	}
	sc := c.SecurityContext
	if sc == nil || sc.Privileged == nil || *sc.Privileged || sc.Capabilities == nil {
		t.Fatalf("%s: want an unprivileged container with capabilities", what)
	}
	caps := map[corev1.Capability]bool{}
	for _, cp := range sc.Capabilities.Add {
		caps[cp] = true
	}
	for _, need := range []corev1.Capability{"SYS_PTRACE", "SYS_ADMIN"} {
		if !caps[need] {
			t.Errorf("%s: capability %s missing", what, need)
		}
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m
	}
	hostPaths := map[string]string{}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			hostPaths[v.Name] = v.HostPath.Path
		}
	}
	for path, ro := range map[string]bool{"/sys": true, "/var/lib/docker/containers": true, "/var/log/pods": true, "/var/lib/iorca": false, "/sys/kernel/tracing": false} {
		m, ok := mounts[path]
		if !ok || hostPaths[m.Name] != path || m.ReadOnly != ro {
			t.Errorf("%s: want the host's %s mounted at the same path, read-only %v", what, path, ro)
		}
	}
	return c
}

// collectorArgs is the iorca-collect command line of a container's shell
// script, its flags only.
func collectorArgs(t *testing.T, c corev1.Container) []string {
	t.Helper()
	script := strings.Join(c.Args, "\n")
	script = strings.ReplaceAll(script, "\\\n", " ")
	for _, line := range strings.Split(script, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && f[0] == "/usr/local/bin/iorca-collect" {
			var args []string
			for _, a := range f[1:] {
				args = append(args, strings.ReplaceAll(a, "'", ""))
			}
			return args
		}
	}
	t.Fatalf("no iorca-collect command in %q", script)
	return nil
}

// collector builds this checkout's collector.
func collector(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "iorca-collect")
	cmd := exec.Command("go", "build", "-o", bin, "./collect/cmd/iorca-collect")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the collector: %v\n%s", err, out)
	}
	return bin
}

// only is the one object of type T among a file's documents.
func only[T any](t *testing.T, file string) *T {
	t.Helper()
	var found *T
	for _, o := range decode(t, file) {
		if v, ok := o.(*T); ok {
			if found != nil {
				t.Fatalf("%s holds two %T", file, v)
			}
			found = v
		}
	}
	if found == nil {
		t.Fatalf("%s holds no %T", file, found)
	}
	return found
}

func TestDaemonSet(t *testing.T) {
	ds := only[appsv1.DaemonSet](t, "daemonset.yaml")
	c := checkPod(t, "DaemonSet", ds.Spec.Template.Spec)
	if c.Image != "iorca-collect:dev" {
		t.Errorf("image %q, want the one deploy/image/build.sh tags", c.Image)
	}
	args := collectorArgs(t, c)
	joined := strings.Join(args, " ")
	for _, want := range []string{"--record=", "--trigger=", "--output=/var/lib/iorca/", "--keep=", "--label="} {
		if !strings.Contains(joined, want) {
			t.Errorf("the recorder's flags %q lack %s", joined, want)
		}
	}
	if testing.Short() {
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("running the collector with the DaemonSet's flags needs root")
	}
	// The collector accepts the flags: with --wait 1s its trigger, which
	// must hold 3 intervals of 1 s, cannot fire, so it exits 4 having
	// started its recorder.
	out := t.TempDir() + "/"
	run := append(args, "--output="+out, "--wait=1s", "--no-block-trace")
	cmd := exec.Command(collector(t), run...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 4 {
		t.Errorf("iorca-collect %s: %v, want exit 4 (the trigger did not fire in 1 s)\n%s", strings.Join(run, " "), err, stderr.String())
	}
}

func TestJob(t *testing.T) {
	job := only[batchv1.Job](t, "job.yaml")
	spec := job.Spec.Template.Spec
	c := checkPod(t, "Job", spec)
	if spec.NodeName == "" || spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("the Job runs on node %q with restart policy %q; want one named node, never restarted", spec.NodeName, spec.RestartPolicy)
	}
	args := collectorArgs(t, c)
	if testing.Short() {
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("running the collector with the Job's flags needs root")
	}
	// The Job's flags, for 2 s instead of a minute: a bundle with the label.
	out := t.TempDir() + "/"
	run := append(args, "--output="+out, "--duration=2s", "--no-strace", "--no-block-trace", "--quiet")
	cmd := exec.Command(collector(t), run...)
	cmd.Env = append(os.Environ(), "NODE_NAME=worker-1")
	if outb, err := cmd.CombinedOutput(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
			t.Fatalf("iorca-collect %s: %v\n%s", strings.Join(run, " "), err, outb)
		}
	}
	bundles, _ := filepath.Glob(out + "iorca-*.tar.zst")
	if len(bundles) != 1 {
		t.Fatalf("%d bundles in the output directory, want 1", len(bundles))
	}
}

// The strict decoding is what catches a typo: hostPid (for hostPID) or a
// field at the wrong level is an error, not a field quietly dropped.
func TestStrictDecodingCatchesTypos(t *testing.T) {
	data, err := os.ReadFile("daemonset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, typo := range [][2]string{{"hostPID:", "hostPid:"}, {"readOnlyRootFilesystem:", "readonlyRootFilesystem:"}} {
		bad := bytes.Replace(data, []byte(typo[0]), []byte(typo[1]), 1)
		docs := regexp.MustCompile(`(?m)^---\s*$`).Split(string(bad), -1)
		var ds appsv1.DaemonSet
		if err := strict([]byte(docs[len(docs)-1]), &ds); err == nil || !strings.Contains(err.Error(), strings.TrimSuffix(typo[1], ":")) {
			t.Errorf("%s: strict decoding gave %v, want an error naming it", typo[1], err)
		}
	}
}
