// Command ociindex joins the collector's per-architecture images, as
// `docker save` wrote them, into one OCI image layout archive whose index
// lists every architecture: a multi-architecture image that a registry
// serves to amd64 and arm64 nodes under one reference, so that one
// DaemonSet runs on a mixed cluster. It needs no daemon and no network;
// `skopeo copy --all oci-archive:FILE docker://REGISTRY/REPO:TAG` (or
// crane, regctl) pushes it (deploy/README.md).
//
// The blobs are the saved images' own bytes: each manifest's config
// digest is the image's ID (`docker image inspect -f {{.Id}}`) and its
// layers' digests are the image's diff IDs, so the index names exactly
// the per-architecture images the release built and saved.
//
// Usage: ociindex -o OUT.tar -tag TAG SAVED.tar...
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	out := flag.String("o", "", "the OCI layout archive to write")
	tag := flag.String("tag", "", "the reference name in the index (org.opencontainers.image.ref.name), e.g. v0.1.0")
	flag.Parse()
	if *out == "" || *tag == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: ociindex -o OUT.tar -tag TAG SAVED.tar...")
		os.Exit(2)
	}
	if err := writeFile(*out, *tag, flag.Args()); err != nil {
		fmt.Fprintf(os.Stderr, "ociindex: %v\n", err)
		os.Exit(1)
	}
}

// writeFile writes the layout archive through a temporary file renamed
// into place, so a failure leaves no half archive for SHA256SUMS.
func writeFile(path, tag string, saved []string) error {
	var images []image
	for _, s := range saved {
		im, err := readSaved(s)
		if err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
		images = append(images, im)
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	err = writeLayout(f, tag, images)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
