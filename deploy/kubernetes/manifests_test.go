// Package kubernetes holds the collector's Kubernetes manifests; its test
// decodes them strictly into the Kubernetes API types, so that a field
// misspelt or misplaced fails here rather than on a cluster, and checks
// what an admin expects of a node-level diagnostic.
package kubernetes

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// collectorPath is where the image holds the collector.
const collectorPath = "/usr/local/bin/iorca-collect"

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
		case "v1 ResourceQuota":
			obj = &corev1.ResourceQuota{}
		case "networking.k8s.io/v1 NetworkPolicy":
			obj = &networkingv1.NetworkPolicy{}
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

// version is the release the manifests' image reference names: the
// repository's VERSION, which scripts/release.sh stamps and tags.
func version(t *testing.T) string {
	t.Helper()
	v, err := os.ReadFile("../../VERSION")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSpace(string(v))
	if !regexp.MustCompile(`^v\d+\.\d+\.\d+$`).MatchString(s) {
		t.Fatalf("VERSION %q is not vMAJOR.MINOR.PATCH", s)
	}
	return s
}

// Every manifest in the directory decodes strictly: none escapes the
// checks below by not being listed.
func TestEveryManifestDecodesStrictly(t *testing.T) {
	files, _ := filepath.Glob("*.yaml")
	for _, f := range files {
		if f != "kustomization.yaml" {
			decode(t, f)
		}
	}
	if len(files) < 5 {
		t.Errorf("only %v", files)
	}
}

// kustomization is the part of kustomize's Kustomization this directory
// uses, decoded strictly: a field kustomize does not know is a typo.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

// The kustomization deploys the recorder with its namespace and network
// policy, and points the image reference at a registry in one place.
func TestKustomization(t *testing.T) {
	data, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var k kustomization
	if err := strict(data, &k); err != nil {
		t.Fatal(err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Errorf("%s %s", k.APIVersion, k.Kind)
	}
	for _, want := range []string{"namespace.yaml", "networkpolicy.yaml", "daemonset.yaml"} {
		if !slices.Contains(k.Resources, want) {
			t.Errorf("resources %v lack %s", k.Resources, want)
		}
	}
	if slices.Contains(k.Resources, "job.yaml") {
		t.Errorf("the one-node Job is in the recorder's kustomization")
	}
	for _, r := range k.Resources {
		if _, err := os.Stat(r); err != nil {
			t.Error(err)
		}
	}
	if len(k.Images) != 1 || k.Images[0].Name != "iorca-collect" || k.Images[0].NewTag != version(t) {
		t.Errorf("images %+v, want iorca-collect at %s", k.Images, version(t))
	}
}

// The namespace is exempt from Pod Security's baseline (which forbids
// hostPID, hostPath and added capabilities), and admits the
// node-critical priority class where a cluster limits it.
func TestNamespace(t *testing.T) {
	var ns *corev1.Namespace
	var quota *corev1.ResourceQuota
	for _, o := range decode(t, "namespace.yaml") {
		switch v := o.(type) {
		case *corev1.Namespace:
			ns = v
		case *corev1.ResourceQuota:
			quota = v
		}
	}
	if ns == nil || ns.Name != "iorca" || ns.Labels["pod-security.kubernetes.io/enforce"] != "privileged" {
		t.Fatalf("namespace %+v: want iorca labelled for Pod Security privileged", ns)
	}
	if quota == nil || quota.Namespace != "iorca" || quota.Spec.ScopeSelector == nil {
		t.Fatalf("no ResourceQuota admitting system-node-critical in iorca: %+v", quota)
	}
	m := quota.Spec.ScopeSelector.MatchExpressions
	if len(m) != 1 || m[0].ScopeName != corev1.ResourceQuotaScopePriorityClass || !slices.Contains(m[0].Values, "system-node-critical") {
		t.Errorf("quota scope %+v", m)
	}
}

// Nothing in or out: the collector needs no network.
func TestNetworkPolicyDeniesAll(t *testing.T) {
	np := only[networkingv1.NetworkPolicy](t, "networkpolicy.yaml")
	s := np.Spec
	if np.Namespace != "iorca" || len(s.PodSelector.MatchLabels)+len(s.PodSelector.MatchExpressions) != 0 {
		t.Errorf("%s/%s selects %+v, want every pod of iorca", np.Namespace, np.Name, s.PodSelector)
	}
	types := map[networkingv1.PolicyType]bool{}
	for _, p := range s.PolicyTypes {
		types[p] = true
	}
	if !types[networkingv1.PolicyTypeIngress] || !types[networkingv1.PolicyTypeEgress] || len(s.Ingress)+len(s.Egress) != 0 {
		t.Errorf("policy types %v, %d ingress and %d egress rules: want both denied, no rule", s.PolicyTypes, len(s.Ingress), len(s.Egress))
	}
}

// checkPod checks what every collector pod needs and what an admin
// expects of a node-level diagnostic: the host's PIDs, the node's name
// from the downward API, no API token, capabilities and not privileged,
// Linux nodes only, node-critical priority, a versioned image whose
// collector is the main process (signals reach it) with no label
// hard-coded, an ephemeral-storage request, typed hostPaths, and the
// host's /sys and the bundles' directory.
func checkPod(t *testing.T, what string, spec corev1.PodSpec) corev1.Container {
	t.Helper()
	if !spec.HostPID {
		t.Errorf("%s: hostPID is off: the collector would see only its own pod", what)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("%s: mounts a service account token it does not need", what)
	}
	if spec.PriorityClassName != "system-node-critical" {
		t.Errorf("%s: priority class %q: the kubelet would evict it under disk pressure, the incident it is there for", what, spec.PriorityClassName)
	}
	if !requiredOnEveryTerm(spec.Affinity, "kubernetes.io/os", "linux") {
		t.Errorf("%s: no required node affinity to kubernetes.io/os=linux", what)
	}
	if !requiredOnEveryTerm(spec.Affinity, "kubernetes.io/arch", imageArches...) {
		t.Errorf("%s: no required node affinity to kubernetes.io/arch in %v, the image's architectures", what, imageArches)
	}
	if g := spec.TerminationGracePeriodSeconds; g == nil || *g < 30 {
		t.Errorf("%s: termination grace %v: too short to write a bundle", what, g)
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", what, len(spec.Containers))
	}
	c := spec.Containers[0]
	if want := "iorca-collect:" + version(t); c.Image != want {
		t.Errorf("%s: image %q, want %q (VERSION)", what, c.Image, want)
	}
	if len(c.Command) != 1 || c.Command[0] != collectorPath {
		t.Errorf("%s: command %q: the collector must be the main process, for SIGTERM to reach it", what, c.Command)
	}
	for _, a := range c.Args {
		if strings.HasPrefix(a, "--label") {
			t.Errorf("%s: %s hard-coded: labels are the admin's, per node pool", what, a)
		}
	}
	nodeName := false
	for _, e := range c.Env {
		if e.Name == "NODE_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "spec.nodeName" {
			nodeName = true
		}
	}
	if !nodeName {
		t.Errorf("%s: no NODE_NAME from the downward API (spec.nodeName)", what)
	}
	if _, ok := c.Resources.Requests[corev1.ResourceEphemeralStorage]; !ok {
		t.Errorf("%s: no ephemeral-storage request", what)
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
	checkMounts(t, what, spec, c)
	return c
}

// imageArches are the architectures scripts/release.sh builds the image
// for, and its index holds.
var imageArches = []string{"amd64", "arm64"}

// requiredOnEveryTerm says whether a required node affinity keeps the
// pod on nodes whose label key is one of values.
func requiredOnEveryTerm(a *corev1.Affinity, key string, values ...string) bool {
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return false
	}
	terms := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	for _, term := range terms {
		found := false
		for _, e := range term.MatchExpressions {
			found = found || (e.Key == key && e.Operator == corev1.NodeSelectorOpIn && slices.Equal(e.Values, values))
		}
		if !found {
			return false // terms are ORed: each must hold it
		}
	}
	return len(terms) > 0
}

// checkMounts checks the host paths: each typed (a path missing on the
// node fails the pod rather than being created, but for the bundles'
// and the node state's directories), the Docker one absent (it is the
// docker-nodes.yaml patch's), and the ones the collector needs mounted
// at the same path.
func checkMounts(t *testing.T, what string, spec corev1.PodSpec, c corev1.Container) {
	t.Helper()
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m
	}
	hostPaths := map[string]string{}
	for _, v := range spec.Volumes {
		hp := v.HostPath
		if hp == nil {
			continue
		}
		hostPaths[v.Name] = hp.Path
		if hp.Type == nil || *hp.Type == corev1.HostPathUnset {
			t.Errorf("%s: hostPath %s has no type", what, hp.Path)
		}
		creates := hp.Type != nil && *hp.Type == corev1.HostPathDirectoryOrCreate
		if creates && hp.Path != "/var/lib/iorca" && hp.Path != "/run/iorca" {
			t.Errorf("%s: hostPath %s is created on nodes that lack it", what, hp.Path)
		}
		if strings.HasPrefix(hp.Path, "/var/lib/docker") {
			t.Errorf("%s: mounts %s, which containerd nodes lack (docker-nodes.yaml adds it)", what, hp.Path)
		}
	}
	for path, ro := range map[string]bool{"/sys": true, "/var/lib/iorca": false, "/sys/kernel/tracing": false, "/run/iorca": false, "/dev/kmsg": true} {
		m, ok := mounts[path]
		if !ok || hostPaths[m.Name] != path || m.ReadOnly != ro {
			t.Errorf("%s: want the host's %s mounted at the same path, read-only %v", what, path, ro)
		}
	}
}

// flagValue is the value of --name=VALUE among args, "" if absent.
func flagValue(args []string, name string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

// The recorder's always-on cost with the DaemonSet's flags, measured by
// `collect/scripts/cost.sh N 90 recorder` and stated in the DaemonSet and
// deploy/README.md: CPU in millicores (CPU seconds over wall seconds),
// peak RSS in MiB, at 1,000 and 5,000 processes.
var recorderCost = map[int]struct{ milliCPU, peakMiB int64 }{
	1000: {27, 28},
	5000: {100, 68},
}

// The requests are the recorder's measured cost at 1,000 processes (a
// busy node), within a quarter above it; the memory limit holds its peak
// at 5,000 with the capture's spill to /dev/shm, which is memory too.
func checkRequestsMatchCost(t *testing.T, what string, r corev1.ResourceRequirements) {
	t.Helper()
	cpu, mem := r.Requests[corev1.ResourceCPU], r.Requests[corev1.ResourceMemory]
	at1k := recorderCost[1000]
	if c := cpu.MilliValue(); c < at1k.milliCPU || c > at1k.milliCPU*5/4+5 {
		t.Errorf("%s: CPU request %s, the recorder takes %dm at 1,000 processes", what, cpu.String(), at1k.milliCPU)
	}
	if m := mem.Value() >> 20; m < at1k.peakMiB || m > at1k.peakMiB*5/4+4 {
		t.Errorf("%s: memory request %s, the recorder peaks at %d MiB at 1,000 processes", what, mem.String(), at1k.peakMiB)
	}
	limit := r.Limits[corev1.ResourceMemory]
	spill := resource.MustParse("128Mi")
	if limit.Value()>>20 < recorderCost[5000].peakMiB+spill.Value()>>21 {
		t.Errorf("%s: memory limit %s below the 5,000-process peak %d MiB and half the spill", what, limit.String(), recorderCost[5000].peakMiB)
	}
}

func TestDaemonSet(t *testing.T) {
	ds := only[appsv1.DaemonSet](t, "daemonset.yaml")
	spec := ds.Spec.Template.Spec
	c := checkPod(t, "DaemonSet", spec)
	for _, name := range []string{"record", "trigger", "output", "keep", "keep-bytes", "rearm", "ready-file"} {
		if flagValue(c.Args, name) == "" {
			t.Errorf("the recorder's flags %q lack --%s", c.Args, name)
		}
	}
	checkRequestsMatchCost(t, "DaemonSet", c.Resources)
	ready := flagValue(c.Args, "ready-file")
	p := c.ReadinessProbe
	if p == nil || p.Exec == nil || !strings.Contains(strings.Join(p.Exec.Command, " "), ready) {
		t.Errorf("readiness probe %+v does not check the ready file %s", p, ready)
	} else if !strings.HasPrefix(ready, "/dev/shm/") {
		t.Errorf("the ready file %s is not on the pod's writable memory volume", ready)
	}
	checkLiveness(t, c, ready)
	if testing.Short() {
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("running the collector with the DaemonSet's flags needs root")
	}
	// The collector accepts the flags: with --wait 1s and no re-arming
	// its trigger, which must hold 3 intervals of 1 s, cannot fire, so it
	// exits 4 having started its recorder.
	out := t.TempDir() + "/"
	run := append(slices.Clone(c.Args), "--output="+out, "--wait=1s", "--rearm=0", "--ready-file="+filepath.Join(t.TempDir(), "ready"), "--no-block-trace")
	cmd := exec.Command(collector(t), run...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 4 {
		t.Errorf("iorca-collect %s: %v, want exit 4 (the trigger did not fire in 1 s)\n%s", strings.Join(run, " "), err, stderr.String())
	}
}

// probeAge is the age in seconds of the ready file beyond which a probe
// fails ("-lt N" in its command), 0 if it checks no age.
func probeAge(p *corev1.Probe, ready string) int {
	if p == nil || p.Exec == nil || !strings.Contains(strings.Join(p.Exec.Command, " "), ready) {
		return 0
	}
	m := regexp.MustCompile(`-lt (\d+)`).FindStringSubmatch(strings.Join(p.Exec.Command, " "))
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// A recorder stalled for minutes is restarted (it would otherwise stay
// NotReady forever), and only then: the liveness probe checks the same
// ready file with a longer age than readiness, over several probes, after
// a start-up delay, so that a slow tick or a bundle being written (ticks
// pause a few seconds) never restarts it and loses its window.
func checkLiveness(t *testing.T, c corev1.Container, ready string) {
	t.Helper()
	l := c.LivenessProbe
	live, readyAge := probeAge(l, ready), probeAge(c.ReadinessProbe, ready)
	if l == nil || live == 0 {
		t.Fatalf("liveness probe %+v does not check the ready file's age", l)
	}
	if live < 4*readyAge || live < 120 {
		t.Errorf("liveness fails at a ready file %d s old, readiness at %d s: want at least 2 minutes and 4 times readiness's", live, readyAge)
	}
	if stalled := live + int(l.PeriodSeconds*(l.FailureThreshold-1)); l.FailureThreshold < 2 || stalled < 180 {
		t.Errorf("liveness restarts after %d s stalled (%d failures of %d s): want several failures, minutes", stalled, l.FailureThreshold, l.PeriodSeconds)
	}
	if l.InitialDelaySeconds < 30 || l.TimeoutSeconds < 5 {
		t.Errorf("liveness initial delay %d s, timeout %d s: a starting or loaded collector would be restarted", l.InitialDelaySeconds, l.TimeoutSeconds)
	}
}

// captureCost is a one-shot capture's cost with every default on,
// measured by `collect/scripts/cost.sh N 120 defaults` (README, "Cost of
// the collector"): CPU in millicores, peak RSS and the bundle's members
// spilled to /dev/shm in MiB, at 2,000 and 5,000 processes.
var captureCost = map[int]struct{ milliCPU, peakMiB, spillMiB int64 }{
	2000: {65, 32, 19},
	5000: {134, 46, 46},
}

// The Job's requests are a capture's, not the recorder's: strace and the
// block trace cost more, and the members it spills to /dev/shm are
// memory charged to the pod; its limit holds the 5,000-process peak and
// the spill volume.
func checkCaptureRequests(t *testing.T, r corev1.ResourceRequirements, recorder corev1.ResourceRequirements) {
	t.Helper()
	cpu, mem := r.Requests[corev1.ResourceCPU], r.Requests[corev1.ResourceMemory]
	at2k := captureCost[2000]
	if c := cpu.MilliValue(); c < at2k.milliCPU || c > 2*at2k.milliCPU {
		t.Errorf("Job: CPU request %s, a capture takes %dm at 2,000 processes", cpu.String(), at2k.milliCPU)
	}
	if m := mem.Value() >> 20; m < at2k.peakMiB+at2k.spillMiB || m > 2*(at2k.peakMiB+at2k.spillMiB) {
		t.Errorf("Job: memory request %s, a capture peaks at %d MiB and spills %d MiB at 2,000 processes", mem.String(), at2k.peakMiB, at2k.spillMiB)
	}
	if cpu.Cmp(recorder.Requests[corev1.ResourceCPU]) <= 0 || mem.Cmp(recorder.Requests[corev1.ResourceMemory]) <= 0 {
		t.Errorf("Job: requests %v no more than the recorder's %v", r.Requests, recorder.Requests)
	}
	limit, spill := r.Limits[corev1.ResourceMemory], resource.MustParse("128Mi")
	if limit.Value()>>20 < captureCost[5000].peakMiB+spill.Value()>>20 {
		t.Errorf("Job: memory limit %s below the 5,000-process peak %d MiB and the spill volume", limit.String(), captureCost[5000].peakMiB)
	}
}

func TestJob(t *testing.T) {
	job := only[batchv1.Job](t, "job.yaml")
	spec := job.Spec.Template.Spec
	c := checkPod(t, "Job", spec)
	checkCaptureRequests(t, c.Resources, only[appsv1.DaemonSet](t, "daemonset.yaml").Spec.Template.Spec.Containers[0].Resources)
	if spec.NodeName == "" || spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("the Job runs on node %q with restart policy %q; want one named node, never restarted", spec.NodeName, spec.RestartPolicy)
	}
	if flagValue(c.Args, "hold") == "" || flagValue(c.Args, "duration") == "" {
		t.Errorf("the Job's flags %q: want a --duration and a --hold for kubectl cp", c.Args)
	}
	if testing.Short() {
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("running the collector with the Job's flags needs root")
	}
	// The Job's flags, for 2 s instead of a minute and no hold: a bundle.
	out := t.TempDir() + "/"
	run := append(slices.Clone(c.Args), "--output="+out, "--duration=2s", "--hold=0", "--no-strace", "--no-block-trace", "--quiet")
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

// The Docker nodes' patch adds dockerd's metadata, read-only, where it
// must exist.
func TestDockerNodesPatch(t *testing.T) {
	ds := only[appsv1.DaemonSet](t, "docker-nodes.yaml")
	base := only[appsv1.DaemonSet](t, "daemonset.yaml")
	spec := ds.Spec.Template.Spec
	if ds.Name != base.Name || ds.Namespace != base.Namespace || len(spec.Containers) != 1 || spec.Containers[0].Name != base.Spec.Template.Spec.Containers[0].Name {
		t.Fatalf("the patch does not name the recorder's DaemonSet and container")
	}
	m := spec.Containers[0].VolumeMounts
	v := spec.Volumes
	if len(m) != 1 || len(v) != 1 || m[0].MountPath != "/var/lib/docker/containers" || !m[0].ReadOnly || v[0].HostPath == nil ||
		v[0].HostPath.Path != m[0].MountPath || v[0].HostPath.Type == nil || *v[0].HostPath.Type != corev1.HostPathDirectory {
		t.Errorf("the patch mounts %+v from %+v; want dockerd's containers/ read-only, an existing directory", m, v)
	}
}

// The patch applied as kustomize applies a patch to a built-in kind
// (a strategic merge, on the API types' patchMergeKey tags): the
// DaemonSet keeps every mount, volume and flag it had and gains dockerd's
// metadata, read-only, on the recorder container; a name in the patch
// that matched nothing would add a second container or volume instead.
func TestDockerNodesPatchApplies(t *testing.T) {
	base, err := os.ReadFile("daemonset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	patch, err := os.ReadFile("docker-nodes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	baseJSON, err := yaml.YAMLToJSON(base)
	if err != nil {
		t.Fatal(err)
	}
	patchJSON, err := yaml.YAMLToJSON(patch)
	if err != nil {
		t.Fatal(err)
	}
	merged, err := strategicpatch.StrategicMergePatch(baseJSON, patchJSON, appsv1.DaemonSet{})
	if err != nil {
		t.Fatalf("applying docker-nodes.yaml: %v", err)
	}
	var ds, orig appsv1.DaemonSet
	if err := strict(merged, &ds); err != nil {
		t.Fatalf("the patched DaemonSet: %v", err)
	}
	if err := strict(base, &orig); err != nil {
		t.Fatal(err)
	}
	spec, was := ds.Spec.Template.Spec, orig.Spec.Template.Spec
	if len(spec.Containers) != 1 || len(spec.Volumes) != len(was.Volumes)+1 {
		t.Fatalf("patched: %d containers, %d volumes (were 1 and %d): the patch's names match nothing in the base", len(spec.Containers), len(spec.Volumes), len(was.Volumes))
	}
	c := spec.Containers[0]
	if len(c.VolumeMounts) != len(was.Containers[0].VolumeMounts)+1 || !slices.Equal(c.Args, was.Containers[0].Args) || c.Image != was.Containers[0].Image {
		t.Errorf("patched container: %d mounts (were %d), args %q, image %s", len(c.VolumeMounts), len(was.Containers[0].VolumeMounts), c.Args, c.Image)
	}
	var mount *corev1.VolumeMount
	for i := range c.VolumeMounts {
		if c.VolumeMounts[i].MountPath == "/var/lib/docker/containers" {
			mount = &c.VolumeMounts[i]
		}
	}
	var vol *corev1.Volume
	for i := range spec.Volumes {
		if mount != nil && spec.Volumes[i].Name == mount.Name {
			vol = &spec.Volumes[i]
		}
	}
	if mount == nil || !mount.ReadOnly || vol == nil || vol.HostPath == nil || vol.HostPath.Path != "/var/lib/docker/containers" {
		t.Errorf("patched: mount %+v of volume %+v; want dockerd's containers/ read-only", mount, vol)
	}
	// The kustomization names the patch by the file's path.
	k, _ := os.ReadFile("kustomization.yaml")
	if !strings.Contains(string(k), "- path: docker-nodes.yaml") {
		t.Errorf("kustomization.yaml does not show how to apply docker-nodes.yaml")
	}
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

// The strict decoding is what catches a typo: hostPid (for hostPID) or a
// field at the wrong level is an error, not a field quietly dropped.
func TestStrictDecodingCatchesTypos(t *testing.T) {
	data, err := os.ReadFile("daemonset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, typo := range [][2]string{{"hostPID:", "hostPid:"}, {"readOnlyRootFilesystem:", "readonlyRootFilesystem:"}, {"priorityClassName:", "priorityClass:"}} {
		bad := bytes.Replace(data, []byte(typo[0]), []byte(typo[1]), 1)
		var ds appsv1.DaemonSet
		if err := strict(bad, &ds); err == nil || !strings.Contains(err.Error(), strings.TrimSuffix(typo[1], ":")) {
			t.Errorf("%s: strict decoding gave %v, want an error naming it", typo[1], err)
		}
	}
}
