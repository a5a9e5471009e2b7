package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/samples/workload"
)

// skipOrFail skips a test whose prerequisite is missing here, but fails
// it in CI (CI=true), where .ci/run installs every prerequisite: a
// release whose images were never built must not pass as green.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI: "+format, args...)
	}
	t.Skipf(format, args...)
}

// releaseArches are the architectures scripts/release.sh builds.
var releaseArches = []string{"amd64", "arm64"}

// elfMachine is what readelf says of a program for the architecture.
var elfMachine = map[string]string{"amd64": "X86-64", "arm64": "AArch64"}

// Issue 26: the release script's image half, as a release runs it, against
// a dockerd of the test's own: for each architecture the image holds the
// release archive's own collector (byte for byte), and Debian's strace and
// busybox for that architecture (every program in it is for it; an arm64
// image builds on amd64 from files alone); the OCI layout's index holds
// both architectures, each manifest naming its image's ID and diff IDs;
// the archives carry the deploy files; SHA256SUMS covers every file.
func TestRelease(t *testing.T) {
	d := workload.StartDockerd(t)
	probe := exec.Command("apt-get", "download", "--print-uris", "strace:arm64")
	if out, err := probe.CombinedOutput(); err != nil || !strings.Contains(string(out), "arm64.deb") {
		skipOrFail(t, "Debian's arm64 packages are not available (dpkg --add-architecture arm64 && apt-get update): %s", out)
	}
	workload.RequireTool(t, "readelf")
	out := t.TempDir()
	release := exec.Command("scripts/release.sh", "--ci")
	release.Dir = "../.."
	release.Env = append(os.Environ(), "DOCKER_HOST="+d.Host, "OUT="+out, "IMAGES=1")
	began := time.Now()
	log, err := release.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/release.sh --ci with IMAGES=1: %v\n%s", err, log)
	}
	t.Logf("the release with its images took %v", time.Since(began).Round(time.Second))
	for _, arch := range releaseArches {
		if !strings.Contains(string(log), "from Debian's "+arch+" packages") {
			t.Errorf("the %s image's strace is not said to be Debian's %s package:\n%s", arch, arch, log)
		}
	}
	v, err := os.ReadFile("../../VERSION")
	if err != nil {
		t.Fatal(err)
	}
	version := strings.TrimSpace(string(v))
	dir := filepath.Join(out, version)
	checkSums(t, dir, version)

	imageIDs := map[string]string{}
	for _, arch := range releaseArches {
		binaries := readTarGz(t, filepath.Join(dir, fmt.Sprintf("iorca_%s_linux_%s.tar.gz", version, arch)))
		prefix := fmt.Sprintf("iorca_%s_linux_%s/", version, arch)
		for _, f := range []string{"iorca", "iorca-collect", "README.md", "LICENSE", "deploy/README.md", "deploy/kubernetes/daemonset.yaml",
			"deploy/kubernetes/job.yaml", "deploy/kubernetes/kustomization.yaml", "deploy/kubernetes/namespace.yaml",
			"deploy/kubernetes/networkpolicy.yaml", "deploy/kubernetes/docker-nodes.yaml", "deploy/systemd/iorca-recorder.service"} {
			if _, ok := binaries[prefix+f]; !ok {
				t.Errorf("the %s archive lacks %s", arch, f)
			}
		}
		saved := filepath.Join(dir, fmt.Sprintf("iorca-collect_%s_linux_%s.image.tar", version, arch))
		id, config, files := readSavedImage(t, saved)
		imageIDs[arch] = id
		if want := d.Docker(t, "image", "inspect", "-f", "{{.Id}}", "iorca-collect:"+version+"-"+arch); want != id {
			t.Errorf("%s: the saved image's config is %s, the daemon's image %s", arch, id, want)
		}
		if config.OS != "linux" || config.Architecture != arch {
			t.Errorf("%s: the image is for %s/%s", arch, config.OS, config.Architecture)
		}
		if !bytes.Equal(files["usr/local/bin/iorca-collect"], binaries[prefix+"iorca-collect"]) {
			t.Errorf("%s: the image's collector is not the release archive's", arch)
		}
		for _, f := range []string{"usr/local/bin/iorca-collect", "usr/bin/strace", "bin/busybox"} {
			checkMachine(t, arch, f, files[f])
		}
	}
	checkLayout(t, filepath.Join(dir, "iorca-collect_"+version+".oci.tar"), version, imageIDs)
}

// checkSums checks that SHA256SUMS lists every file of the release, each
// with its digest.
func checkSums(t *testing.T, dir, version string) {
	t.Helper()
	sums, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{}
	for s := bufio.NewScanner(bytes.NewReader(sums)); s.Scan(); {
		sum, name, ok := strings.Cut(s.Text(), "  ")
		if ok {
			listed[name] = sum
		}
	}
	want := []string{"iorca-collect_" + version + ".oci.tar"}
	for _, arch := range releaseArches {
		want = append(want, fmt.Sprintf("iorca_%s_linux_%s.tar.gz", version, arch), fmt.Sprintf("iorca-collect_%s_linux_%s.image.tar", version, arch))
	}
	for _, name := range want {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("the release lacks %s: %v", name, err)
			continue
		}
		if sum := sha256.Sum256(data); listed[name] != hex.EncodeToString(sum[:]) {
			t.Errorf("SHA256SUMS gives %s %q, the file's is %x", name, listed[name], sum)
		}
	}
	if len(listed) != len(want) {
		t.Errorf("SHA256SUMS lists %d files, want %d:\n%s", len(listed), len(want), sums)
	}
}

// checkMachine checks that a program of the image is for arch.
func checkMachine(t *testing.T, arch, name string, data []byte) {
	t.Helper()
	if data == nil {
		t.Errorf("%s: the image has no %s", arch, name)
		return
	}
	f := filepath.Join(t.TempDir(), path.Base(name))
	os.WriteFile(f, data, 0o644)
	out, err := exec.Command("readelf", "-h", f).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Machine:") || !strings.Contains(string(out), elfMachine[arch]) {
		t.Errorf("%s in the %s image is not a %s program: %v\n%s", name, arch, arch, err, out)
	}
}

// platform is the part of an image config naming its platform, and its
// layers' diff IDs.
type platform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	RootFS       struct {
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
}

// readSavedImage reads a `docker save` archive of one image: its ID (the
// config's digest), its config, and the files of its layers.
func readSavedImage(t *testing.T, file string) (string, platform, map[string][]byte) {
	t.Helper()
	members := readTar(t, file)
	var manifest []struct {
		Config string
		Layers []string
	}
	if err := json.Unmarshal(members["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("%s: manifest.json %v, %d images", file, err, len(manifest))
	}
	data := members[manifest[0].Config]
	var config platform
	if err := json.Unmarshal(data, &config); err != nil {
		t.Fatalf("%s: config: %v", file, err)
	}
	files := map[string][]byte{}
	for _, l := range manifest[0].Layers {
		for name, data := range readTarBytes(t, members[l]) {
			files[name] = data
		}
	}
	return digestOf(data), config, files
}

// checkLayout checks the OCI layout archive: index.json names version for
// an index of one manifest per architecture, each of which names its
// image (config digest: the image's ID) and layers (the diff IDs), and
// every blob holds what its digest says.
func checkLayout(t *testing.T, file, version string, imageIDs map[string]string) {
	t.Helper()
	blobs := readTar(t, file)
	for name, data := range blobs {
		if hexSum, ok := strings.CutPrefix(name, "blobs/sha256/"); ok && digestOf(data) != "sha256:"+hexSum {
			t.Errorf("OCI layout: blob %s holds %s", name, digestOf(data))
		}
	}
	blob := func(digest string) []byte { return blobs["blobs/sha256/"+strings.TrimPrefix(digest, "sha256:")] }
	type descriptor struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Annotations map[string]string `json:"annotations"`
		Platform    *struct {
			OS           string `json:"os"`
			Architecture string `json:"architecture"`
		} `json:"platform"`
	}
	var top, idx struct{ Manifests []descriptor }
	if err := json.Unmarshal(blobs["index.json"], &top); err != nil || len(top.Manifests) != 1 ||
		top.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != version {
		t.Fatalf("OCI layout: index.json %v %s", err, blobs["index.json"])
	}
	if err := json.Unmarshal(blob(top.Manifests[0].Digest), &idx); err != nil {
		t.Fatalf("OCI layout: the platforms' index: %v", err)
	}
	var arches []string
	for _, d := range idx.Manifests {
		if d.Platform == nil || d.Platform.OS != "linux" {
			t.Errorf("OCI layout: manifest %+v has no linux platform", d)
			continue
		}
		arch := d.Platform.Architecture
		arches = append(arches, arch)
		var m struct {
			Config struct{ Digest string }
			Layers []struct{ Digest string }
		}
		if err := json.Unmarshal(blob(d.Digest), &m); err != nil {
			t.Fatalf("OCI layout: %s manifest: %v", arch, err)
		}
		if m.Config.Digest != imageIDs[arch] {
			t.Errorf("OCI layout: the %s manifest's config %s, the saved image's ID %s", arch, m.Config.Digest, imageIDs[arch])
		}
		var config platform
		json.Unmarshal(blob(m.Config.Digest), &config)
		var layers []string
		for _, l := range m.Layers {
			layers = append(layers, l.Digest)
		}
		if config.Architecture != arch || !slices.Equal(layers, config.RootFS.DiffIDs) {
			t.Errorf("OCI layout: %s manifest's layers %v, its config's (%s) diff IDs %v", arch, layers, config.Architecture, config.RootFS.DiffIDs)
		}
	}
	slices.Sort(arches)
	if !slices.Equal(arches, releaseArches) {
		t.Errorf("OCI layout: the index holds %v, want %v", arches, releaseArches)
	}
}

func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func readTar(t *testing.T, file string) map[string][]byte {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return readTarBytes(t, data)
}

func readTarGz(t *testing.T, file string) map[string][]byte {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	return readTarBytes(t, data)
}

// readTarBytes reads a tar archive's regular files by cleaned name, a
// symbolic link inside it followed (Docker 25's saved layers).
func readTarBytes(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	files, links := map[string][]byte{}, map[string]string{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := path.Clean(h.Name)
		switch h.Typeflag {
		case tar.TypeReg:
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[name] = b
		case tar.TypeSymlink:
			links[name] = h.Linkname
		}
	}
	for name, target := range links {
		if !strings.HasPrefix(target, "/") {
			target = path.Join(path.Dir(name), target)
		}
		if b, ok := files[strings.TrimPrefix(target, "/")]; ok {
			files[name] = b
		}
	}
	return files
}

// Offline, build.sh may copy this machine's strace for a developer's
// image, saying so; never for a release (REQUIRE_DEBIAN=1, which
// release.sh sets): it fails instead. apt-get here is a stand-in that
// cannot download; ROOTFS stops before docker.
func TestReleaseRefusesThisMachinesStrace(t *testing.T) {
	workload.RequireTool(t, "strace")
	workload.RequireTool(t, "busybox")
	workload.RequireTool(t, "dpkg")
	workload.RequireTool(t, "readelf")
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "apt-get"), []byte("#!/bin/sh\necho 'E: offline' >&2\nexit 100\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	collector, _ := exec.LookPath("busybox") // any program of this machine's architecture: the collector is not what is checked
	build := func(extra ...string) (string, error) {
		cmd := exec.Command("deploy/image/build.sh")
		cmd.Dir = "../.."
		cmd.Env = append(os.Environ(), append([]string{"PATH=" + bin + ":" + os.Getenv("PATH"), "ROOTFS=" + t.TempDir(), "COLLECTOR=" + collector}, extra...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := build()
	if err != nil || !strings.Contains(out, "using this machine's strace and busybox") {
		t.Errorf("a developer's offline build: %v, want this machine's strace, said so:\n%s", err, out)
	}
	out, err = build("REQUIRE_DEBIAN=1")
	if err == nil || !strings.Contains(out, "could not be downloaded") || strings.Contains(out, "using this machine's") {
		t.Errorf("a release's offline build: %v, want a failure:\n%s", err, out)
	}
}
