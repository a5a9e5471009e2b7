package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// saveArchive writes a `docker save` archive as dockerd 20.10 does
// (manifest.json, the config as ID.json, each layer as DIR/layer.tar),
// for one image of the architecture; it returns the config's digest
// (the image's ID) and the layer's (its diff ID).
func saveArchive(t *testing.T, arch, layerText string) (string, string, string) {
	t.Helper()
	layer := tarOf(t, map[string]string{"usr/local/bin/iorca-collect": layerText})
	config, _ := json.Marshal(map[string]any{"architecture": arch, "os": "linux",
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{digest(layer)}}})
	id := strings.TrimPrefix(digest(config), "sha256:")
	manifest, _ := json.Marshal([]map[string]any{{"Config": id + ".json", "RepoTags": []string{"iorca-collect:v0.1.0-" + arch}, "Layers": []string{"abc/layer.tar"}}})
	file := filepath.Join(t.TempDir(), arch+".image.tar")
	if err := os.WriteFile(file, tarOf(t, map[string]string{"manifest.json": string(manifest), id + ".json": string(config), "abc/layer.tar": string(layer)}), 0o644); err != nil {
		t.Fatal(err)
	}
	return file, digest(config), digest(layer)
}

func tarOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for name, data := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(data))
	}
	tw.Close()
	return b.Bytes()
}

// The layout lists both architectures under the tag, each manifest
// naming its image's own config and layer (the digests docker gave
// them), and every blob is stored under its own digest.
func TestLayoutIndexesBothArchitectures(t *testing.T) {
	amd, amdID, amdLayer := saveArchive(t, "amd64", "x86-64 collector")
	arm, armID, armLayer := saveArchive(t, "arm64", "aarch64 collector")
	out := filepath.Join(t.TempDir(), "iorca-collect.oci.tar")
	if err := writeFile(out, "v0.1.0", []string{amd, arm}); err != nil {
		t.Fatal(err)
	}
	files, err := readTar(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(files["oci-layout"]) != `{"imageLayoutVersion":"1.0.0"}`+"\n" {
		t.Errorf("oci-layout %q", files["oci-layout"])
	}
	for name, data := range files {
		if hex, ok := strings.CutPrefix(name, "blobs/sha256/"); ok && digest(data) != "sha256:"+hex {
			t.Errorf("blob %s holds %s", name, digest(data))
		}
	}
	var top, idx Index
	if err := json.Unmarshal(files["index.json"], &top); err != nil || top.MediaType != mediaIndex || top.SchemaVersion != 2 || len(top.Manifests) != 1 {
		t.Fatalf("index.json: %v %+v", err, top)
	}
	if d := top.Manifests[0]; d.MediaType != mediaIndex || d.Annotations["org.opencontainers.image.ref.name"] != "v0.1.0" {
		t.Errorf("index.json's entry %+v: want an image index named v0.1.0", d)
	}
	if err := json.Unmarshal(files["blobs/sha256/"+strings.TrimPrefix(top.Manifests[0].Digest, "sha256:")], &idx); err != nil || idx.MediaType != mediaIndex {
		t.Fatalf("the platforms' index: %v %+v", err, idx)
	}
	want := map[string][2]string{"amd64": {amdID, amdLayer}, "arm64": {armID, armLayer}}
	for _, d := range idx.Manifests {
		if d.Platform == nil || d.Platform.OS != "linux" || d.MediaType != mediaManifest {
			t.Errorf("index entry %+v", d)
			continue
		}
		var m Manifest
		if err := json.Unmarshal(files["blobs/sha256/"+strings.TrimPrefix(d.Digest, "sha256:")], &m); err != nil {
			t.Fatalf("manifest %s: %v", d.Digest, err)
		}
		w, ok := want[d.Platform.Architecture]
		if !ok || m.Config.Digest != w[0] || len(m.Layers) != 1 || m.Layers[0].Digest != w[1] || m.Layers[0].MediaType != mediaLayer {
			t.Errorf("%s: manifest %+v, want config %s and layer %s", d.Platform.Architecture, m, w[0], w[1])
		}
		delete(want, d.Platform.Architecture)
	}
	if len(want) != 0 || len(idx.Manifests) != 2 {
		t.Errorf("index %+v lacks %v", idx.Manifests, want)
	}
	// The same images give the same bytes (SHA256SUMS is reproducible).
	again := filepath.Join(t.TempDir(), "again.tar")
	if err := writeFile(again, "v0.1.0", []string{amd, arm}); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Errorf("two layouts of the same images differ")
	}
}

// Two images of one architecture make no index: a node could pull either.
func TestLayoutRefusesTwoOfOneArchitecture(t *testing.T) {
	amd, _, _ := saveArchive(t, "amd64", "one")
	amd2, _, _ := saveArchive(t, "amd64", "two")
	out := filepath.Join(t.TempDir(), "x.tar")
	if err := writeFile(out, "v0.1.0", []string{amd, amd2}); err == nil || !strings.Contains(err.Error(), "two images for linux/amd64") {
		t.Errorf("writeFile: %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed write left %s", out)
	}
}
