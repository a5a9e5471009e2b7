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

// EncodedMember is one member in the form it is written into a bundle:
// its tar header, data and padding, compressed as one zstd frame. A zstd
// stream may be a sequence of frames, so a bundle is the manifest's frame,
// the members' frames and the end-of-archive frame, concatenated: a
// collector compresses each sample once, when it is taken, and writes the
// frames as they are.
type EncodedMember struct {
	Name   string
	Size   int64
	SHA256 string
	// Frame is the compressed tar bytes of the member. It is nil when
	// the frame lives elsewhere (a collector's spill file): FrameLen is
	// then its length and CopyFrame writes it.
	Frame     []byte
	FrameLen  int64
	CopyFrame func(w io.Writer) error
}

// Len is the length of the member's frame.
func (m EncodedMember) Len() int64 {
	if m.Frame != nil {
		return int64(len(m.Frame))
	}
	return m.FrameLen
}

// Encoder compresses members into EncodedMembers and writes bundles of
// them. It is not safe for concurrent use.
type Encoder struct {
	zenc  *zstd.Encoder
	mtime time.Time
	tar   bytes.Buffer
	end   []byte
}

// NewEncoder returns an Encoder that gives every member the modification
// time mtime (truncated to the second): one time for every member keeps a
// bundle a pure function of its content.
func NewEncoder(mtime time.Time) *Encoder {
	// A 1 MiB window bounds the encoder's memory; members are compressed
	// one at a time, so a larger window would buy little.
	zenc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(true),
		zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(1<<20))
	if err != nil {
		panic(fmt.Sprintf("bundle: zstd encoder options: %v", err)) // constant options
	}
	return &Encoder{zenc: zenc, mtime: mtime.UTC().Truncate(time.Second)}
}

// Encode returns the member name holding data, compressed.
func (e *Encoder) Encode(name string, data []byte) (EncodedMember, error) {
	if err := CheckName(name); err != nil {
		return EncodedMember{}, fmt.Errorf("bundle: %w", err)
	}
	tb, err := e.tarBytes(name, data)
	if err != nil {
		return EncodedMember{}, err
	}
	return EncodedMember{Name: name, Size: int64(len(data)), SHA256: Sum(data), Frame: e.zenc.EncodeAll(tb, nil)}, nil
}

// EncodeTo compresses the member name of size bytes read from r into w,
// a frame at a time, never holding the member: a block trace of hundreds
// of megabytes is written from its spill file. The member's Frame is
// nil; its FrameLen is what was written to w.
func (e *Encoder) EncodeTo(w io.Writer, name string, size int64, r io.Reader) (EncodedMember, error) {
	if err := CheckName(name); err != nil {
		return EncodedMember{}, fmt.Errorf("bundle: %w", err)
	}
	cw := &countWriter{w: w}
	zw, err := zstd.NewWriter(cw, zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(true),
		zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(1<<20))
	if err != nil {
		return EncodedMember{}, fmt.Errorf("bundle: member %q: %w", name, err)
	}
	tw := tar.NewWriter(zw)
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: e.mtime, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return EncodedMember{}, fmt.Errorf("bundle: member %q: %w", name, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tw, h), io.LimitReader(r, size))
	if err == nil && n != size {
		err = fmt.Errorf("%d bytes of %d", n, size)
	}
	if err == nil {
		err = tw.Flush()
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return EncodedMember{}, fmt.Errorf("bundle: member %q: %w", name, err)
	}
	return EncodedMember{Name: name, Size: size, SHA256: hex.EncodeToString(h.Sum(nil)), FrameLen: cw.n}, nil
}

// tarBytes is a member as tar writes it: header blocks, data, padding to
// the 512-byte block.
func (e *Encoder) tarBytes(name string, data []byte) ([]byte, error) {
	e.tar.Reset()
	tw := tar.NewWriter(&e.tar)
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: 0o644, ModTime: e.mtime, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, fmt.Errorf("bundle: member %q: %w", name, err)
	}
	if _, err := tw.Write(data); err != nil {
		return nil, fmt.Errorf("bundle: member %q: %w", name, err)
	}
	// Flush pads the data to the block; Close would add the end of the
	// archive, which only the whole bundle has.
	if err := tw.Flush(); err != nil {
		return nil, fmt.Errorf("bundle: member %q: %w", name, err)
	}
	return e.tar.Bytes(), nil
}

// endOfArchive is the two zero blocks that close a tar archive.
var endOfArchive = make([]byte, 2*512)

// WriteBundle writes a bundle of members to w: m, with its Members set from
// them, then each member in the order given. It returns the bytes written;
// writing to a counting writer gives a bundle's exact size cheaply, since
// only the manifest is compressed here.
func (e *Encoder) WriteBundle(w io.Writer, m *Manifest, members []EncodedMember) (int64, error) {
	manifest, err := e.manifestFrame(m, members)
	if err != nil {
		return 0, err
	}
	var n int64
	write := func(b []byte) error {
		k, err := w.Write(b)
		n += int64(k)
		return err
	}
	if err := write(manifest.Frame); err != nil {
		return n, fmt.Errorf("bundle: %w", err)
	}
	for _, f := range members {
		if f.Frame == nil && f.CopyFrame != nil {
			cw := &countWriter{w: w}
			err := f.CopyFrame(cw)
			n += cw.n
			if err == nil && cw.n != f.FrameLen {
				err = fmt.Errorf("frame of %d bytes, %d copied", f.FrameLen, cw.n)
			}
			if err != nil {
				return n, fmt.Errorf("bundle: member %q: %w", f.Name, err)
			}
			continue
		}
		if err := write(f.Frame); err != nil {
			return n, fmt.Errorf("bundle: member %q: %w", f.Name, err)
		}
	}
	if err := write(e.endFrame()); err != nil {
		return n, fmt.Errorf("bundle: %w", err)
	}
	return n, nil
}

// BundleSize is the exact size WriteBundle would write, without reading
// the members' frames: the manifest's frame, theirs and the end's.
func (e *Encoder) BundleSize(m *Manifest, members []EncodedMember) (int64, error) {
	manifest, err := e.manifestFrame(m, members)
	if err != nil {
		return 0, err
	}
	n := int64(len(manifest.Frame)) + int64(len(e.endFrame()))
	for _, f := range members {
		n += f.Len()
	}
	return n, nil
}

// manifestFrame sets m's format and members and encodes it.
func (e *Encoder) manifestFrame(m *Manifest, members []EncodedMember) (EncodedMember, error) {
	m.Format = FormatVersion
	m.Members = make([]Member, 0, len(members))
	for _, f := range members {
		m.Members = append(m.Members, Member{Name: f.Name, Size: f.Size, SHA256: f.SHA256})
	}
	if err := m.Validate(); err != nil {
		return EncodedMember{}, fmt.Errorf("bundle: manifest: %w", err)
	}
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return EncodedMember{}, fmt.Errorf("bundle: manifest: %w", err)
	}
	return e.Encode(ManifestName, append(mj, '\n'))
}

// endFrame is the end of the archive, compressed once.
func (e *Encoder) endFrame() []byte {
	if e.end == nil {
		e.end = e.zenc.EncodeAll(endOfArchive, nil)
	}
	return e.end
}

// countWriter counts what it passes on.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	k, err := c.w.Write(p)
	c.n += int64(k)
	return k, err
}

// Write writes a bundle to w: m, with its Members set from files, then each
// file in order, every member dated m.End. Every name is checked with
// CheckName, and each file must yield exactly its declared size and hash.
func Write(w io.Writer, m *Manifest, files []File) error {
	e := NewEncoder(m.End.Wall)
	members := make([]EncodedMember, 0, len(files))
	for _, f := range files {
		data, err := readFile(f)
		if err != nil {
			return err
		}
		em, err := e.Encode(f.Name, data)
		if err != nil {
			return err
		}
		members = append(members, em)
	}
	_, err := e.WriteBundle(w, m, members)
	return err
}

// readFile reads a File and checks it against its declared size and hash.
func readFile(f File) ([]byte, error) {
	r, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("bundle: member %q: %w", f.Name, err)
	}
	data, err := io.ReadAll(io.LimitReader(r, f.Size+1))
	if err != nil {
		return nil, fmt.Errorf("bundle: member %q: %w", f.Name, err)
	}
	if int64(len(data)) != f.Size {
		return nil, fmt.Errorf("bundle: member %q: declared %d bytes, source gave %d", f.Name, f.Size, len(data))
	}
	if f.SHA256 != "" && Sum(data) != f.SHA256 {
		return nil, fmt.Errorf("bundle: member %q: content does not match its declared sha256", f.Name)
	}
	return data, nil
}
