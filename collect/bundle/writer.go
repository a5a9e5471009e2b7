package bundle

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/klauspost/compress/zstd"
)

// File is one member to write. Size and SHA256 must describe what Open
// returns: they go into the manifest, which is written before any member.
type File struct {
	Name   string
	Size   int64
	SHA256 string
	Open   func() (io.Reader, error)
}

// BytesFile returns a File holding data.
func BytesFile(name string, data []byte) File {
	return File{
		Name:   name,
		Size:   int64(len(data)),
		SHA256: Sum(data),
		Open:   func() (io.Reader, error) { return bytes.NewReader(data), nil },
	}
}

// Sum returns the hex SHA-256 of data, as the manifest records it.
func Sum(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// Write writes a bundle to w: m, with its Members set from files, then each
// file in order. Every name is checked with CheckName, and each file must
// yield exactly its declared size and hash.
func Write(w io.Writer, m *Manifest, files []File) error {
	m.Format = FormatVersion
	m.Members = make([]Member, 0, len(files))
	for _, f := range files {
		m.Members = append(m.Members, Member{Name: f.Name, Size: f.Size, SHA256: f.SHA256})
	}
	if err := m.Validate(); err != nil {
		return fmt.Errorf("bundle: manifest: %w", err)
	}
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("bundle: manifest: %w", err)
	}
	mj = append(mj, '\n')

	zw, err := zstd.NewWriter(w, zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(true), zstd.WithLowerEncoderMem(true))
	if err != nil {
		return fmt.Errorf("bundle: zstd: %w", err)
	}
	tw := tar.NewWriter(zw)
	// One modification time for every member keeps the archive a pure
	// function of its content.
	mtime := m.End.Wall.UTC().Truncate(time.Second)
	if err := writeMember(tw, ManifestName, int64(len(mj)), mtime, bytes.NewReader(mj), ""); err != nil {
		zw.Close()
		return err
	}
	for _, f := range files {
		r, err := f.Open()
		if err != nil {
			zw.Close()
			return fmt.Errorf("bundle: member %q: %w", f.Name, err)
		}
		if err := writeMember(tw, f.Name, f.Size, mtime, r, f.SHA256); err != nil {
			zw.Close()
			return err
		}
	}
	if err := tw.Close(); err != nil {
		zw.Close()
		return fmt.Errorf("bundle: tar: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("bundle: zstd: %w", err)
	}
	return nil
}

func writeMember(tw *tar.Writer, name string, size int64, mtime time.Time, r io.Reader, want string) error {
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Size:     size,
		Mode:     0o644,
		ModTime:  mtime,
		Format:   tar.FormatPAX,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("bundle: member %q: %w", name, err)
	}
	h := sha256.New()
	n, err := io.Copy(tw, io.TeeReader(io.LimitReader(r, size+1), h))
	if err != nil {
		return fmt.Errorf("bundle: member %q: %w", name, err)
	}
	if n != size {
		return fmt.Errorf("bundle: member %q: declared %d bytes, source gave %d", name, size, n)
	}
	if want != "" && hex.EncodeToString(h.Sum(nil)) != want {
		return fmt.Errorf("bundle: member %q: content does not match its declared sha256", name)
	}
	return nil
}
