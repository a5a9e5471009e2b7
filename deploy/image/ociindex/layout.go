package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
)

// Media types of the OCI image specification (image-spec v1.1,
// media-types.md).
const (
	mediaIndex    = "application/vnd.oci.image.index.v1+json"
	mediaManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaConfig   = "application/vnd.oci.image.config.v1+json"
	mediaLayer    = "application/vnd.oci.image.layer.v1.tar"
)

// maxMember bounds what is read of one member of a saved image: the
// collector's image is a few tens of MiB.
const maxMember = 1 << 30

// Descriptor is an OCI content descriptor.
type Descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Platform    *Platform         `json:"platform,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Platform is the part of an image config that a registry's client
// matches against its node.
type Platform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant,omitempty"`
}

// Manifest is an OCI image manifest.
type Manifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Config        Descriptor   `json:"config"`
	Layers        []Descriptor `json:"layers"`
}

// Index is an OCI image index (index.json of a layout).
type Index struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Manifests     []Descriptor `json:"manifests"`
}

// image is one saved image: its config and layers, as bytes.
type image struct {
	config   []byte
	platform Platform
	layers   [][]byte
}

// dockerSave is one entry of manifest.json in a `docker save` archive,
// which every Docker version writes (20.10's layer directories, 25's OCI
// blobs alike).
type dockerSave struct {
	Config string
	Layers []string
}

// readSaved reads a `docker save` archive of one image.
func readSaved(file string) (image, error) {
	members, err := readTar(file)
	if err != nil {
		return image{}, err
	}
	var saves []dockerSave
	if err := json.Unmarshal(members["manifest.json"], &saves); err != nil {
		return image{}, fmt.Errorf("manifest.json: %w", err)
	}
	if len(saves) != 1 {
		return image{}, fmt.Errorf("manifest.json lists %d images, want 1", len(saves))
	}
	var im image
	var ok bool
	if im.config, ok = members[saves[0].Config]; !ok {
		return image{}, fmt.Errorf("config %s is not in the archive", saves[0].Config)
	}
	if err := json.Unmarshal(im.config, &im.platform); err != nil {
		return image{}, fmt.Errorf("config: %w", err)
	}
	if im.platform.OS == "" || im.platform.Architecture == "" {
		return image{}, fmt.Errorf("config names no os and architecture")
	}
	for _, l := range saves[0].Layers {
		data, ok := members[l]
		if !ok {
			return image{}, fmt.Errorf("layer %s is not in the archive", l)
		}
		im.layers = append(im.layers, data)
	}
	return im, nil
}

// readTar reads every regular file of a tar archive, by its cleaned name;
// a symbolic link (Docker 25's layer paths) is followed inside the archive.
func readTar(file string) (map[string][]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	members, links := map[string][]byte{}, map[string]string{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		name := path.Clean(h.Name)
		switch h.Typeflag {
		case tar.TypeReg:
			if h.Size > maxMember {
				return nil, fmt.Errorf("%s: %d bytes, more than %d", name, h.Size, maxMember)
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				return nil, err
			}
			members[name] = data
		case tar.TypeSymlink:
			links[name] = path.Join(path.Dir(name), h.Linkname)
		}
	}
	for name, target := range links {
		if data, ok := members[target]; ok {
			members[name] = data
		}
	}
	return members, nil
}

// digest is the OCI digest of data.
func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// layout is an OCI image layout's files, by path.
type layout map[string][]byte

// blob stores data under blobs/sha256/ and describes it.
func (l layout) blob(media string, data []byte) Descriptor {
	d := Descriptor{MediaType: media, Digest: digest(data), Size: int64(len(data))}
	l["blobs/sha256/"+strings.TrimPrefix(d.Digest, "sha256:")] = data
	return d
}

// buildLayout makes the layout of the images: index.json holds one
// entry, named tag, for an image index whose manifests are the images,
// each with its platform. Nested so, as buildkit writes a multi-platform
// layout: skopeo takes the one entry named tag (a flat index.json would
// give it only the first platform) and crane pushes index.json's one entry.
func buildLayout(tag string, images []image) (layout, error) {
	l := layout{"oci-layout": []byte(`{"imageLayoutVersion":"1.0.0"}` + "\n")}
	platforms := Index{SchemaVersion: 2, MediaType: mediaIndex}
	seen := map[Platform]bool{}
	for _, im := range images {
		if seen[im.platform] {
			return nil, fmt.Errorf("two images for %s/%s", im.platform.OS, im.platform.Architecture)
		}
		seen[im.platform] = true
		m := Manifest{SchemaVersion: 2, MediaType: mediaManifest, Config: l.blob(mediaConfig, im.config)}
		for _, layer := range im.layers {
			m.Layers = append(m.Layers, l.blob(mediaLayer, layer))
		}
		data, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		d := l.blob(mediaManifest, data)
		p := im.platform
		d.Platform = &p
		platforms.Manifests = append(platforms.Manifests, d)
	}
	data, err := json.Marshal(platforms)
	if err != nil {
		return nil, err
	}
	top := l.blob(mediaIndex, data)
	top.Annotations = map[string]string{"org.opencontainers.image.ref.name": tag}
	data, err = json.MarshalIndent(Index{SchemaVersion: 2, MediaType: mediaIndex, Manifests: []Descriptor{top}}, "", "  ")
	if err != nil {
		return nil, err
	}
	l["index.json"] = append(data, '\n')
	return l, nil
}

// writeLayout writes the layout as a tar archive (skopeo's and crane's
// oci-archive), its files in a fixed order with fixed metadata: the
// same images give the same bytes.
func writeLayout(w io.Writer, tag string, images []image) error {
	l, err := buildLayout(tag, images)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(l))
	for name := range l {
		names = append(names, name)
	}
	slices.Sort(names)
	tw := tar.NewWriter(w)
	dirs := map[string]bool{}
	for _, name := range names {
		for _, dir := range []string{"blobs/", "blobs/sha256/"} {
			if strings.HasPrefix(name, dir) && !dirs[dir] {
				dirs[dir] = true
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, Format: tar.FormatPAX}); err != nil {
					return err
				}
			}
		}
		data := l[name]
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data)), Format: tar.FormatPAX}); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	return tw.Close()
}
