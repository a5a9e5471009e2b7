package collector

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"sort"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/klauspost/compress/zstd"
)

// store keeps the bundle's members in the form they are written in — each
// compressed once, on arrival, as its own zstd frame — so that the
// bundle's size is known exactly before it is written and the output is
// written once, at the end. The frames go to a spill file, not the heap:
// a capture of hours keeps the collector's memory flat. The spill file is
// created in /dev/shm (no disk written while the incident runs) or,
// failing that, in the output's directory (the bundle will need that
// space anyway), and unlinked at once, so that it vanishes with the
// collector however it ends; without either, or when a write to it fails
// (a full /dev/shm), frames stay in memory. Its size is bounded by
// --max-bundle-bytes, as the bundle is.
type store struct {
	enc     *bundle.Encoder
	members map[string]bundle.EncodedMember
	// spill holds the frames at offsets; spilled is its length, garbage
	// included (a replaced member's old frame stays; members are
	// replaced only when a trace is cut to fit, so it stays small).
	spill   *os.File
	spilled int64
	offsets map[string]int64 // spilled members' frames
	// SpillDir is where the spill file is, "" when frames are in memory.
	spillDir string
	// spillFailed counts frames kept in memory because the spill file
	// refused them.
	spillFailed int
	zbytes      int64
	peak        int64
	// err is the first encoding or spill failure; the bundle is not
	// written with a member missing.
	err error
}

// newStore dates every member mtime and spills to a file in one of dirs
// (the first that takes one).
func newStore(mtime time.Time, dirs ...string) *store {
	s := &store{enc: bundle.NewEncoder(mtime), members: map[string]bundle.EncodedMember{}, offsets: map[string]int64{}}
	for _, d := range dirs {
		f, err := os.CreateTemp(d, ".iorca-spill-*")
		if err != nil {
			continue
		}
		os.Remove(f.Name()) // gone with the last descriptor
		s.spill, s.spillDir = f, d
		break
	}
	return s
}

// where says where the frames were kept, for the manifest.
func (s *store) where() string {
	if s.spillDir == "" {
		return "memory"
	}
	return s.spillDir
}

// close releases the spill file.
func (s *store) close() {
	if s.spill != nil {
		s.spill.Close()
		s.spill = nil
	}
}

// put adds or replaces a member.
func (s *store) put(name string, data []byte) {
	s.remove(name)
	em, err := s.enc.Encode(name, data)
	if err != nil {
		s.fail(err)
		return
	}
	if s.spill != nil {
		off := s.spilled
		if _, err := s.spill.WriteAt(em.Frame, off); err == nil {
			em.FrameLen, em.Frame = int64(len(em.Frame)), nil
			s.keepSpilled(name, em, off)
			return
		}
		// A full disk: keep the frame in memory rather than lose it.
		s.spillFailed++
	}
	s.keep(name, em)
}

// keepSpilled records a member whose frame was written to the spill file
// at off.
func (s *store) keepSpilled(name string, em bundle.EncodedMember, off int64) {
	f, n := s.spill, em.FrameLen
	s.spilled += n
	em.CopyFrame = func(w io.Writer) error {
		_, err := io.Copy(w, io.NewSectionReader(f, off, n))
		return err
	}
	s.offsets[name] = off
	s.keep(name, em)
}

// keep records a member and its compressed size.
func (s *store) keep(name string, em bundle.EncodedMember) {
	s.members[name] = em
	s.zbytes += em.Len()
	s.peak = max(s.peak, s.zbytes)
}

// putFrom adds or replaces a member of size bytes, read from a reader
// open returns, compressed straight into the spill file: a trace's text
// never sits whole in the heap. The member it replaces stays readable
// until the new one is in (cutting a trace to fit reads the old one as it
// writes the new). When the spill file refuses the frame (a full
// /dev/shm), the member is read again and its frame kept in memory, as
// put does, rather than losing the bundle; a source that fails is the
// store's error.
func (s *store) putFrom(name string, size int64, open func() io.Reader) {
	if s.spill != nil {
		off := s.spilled
		w := &spillWriter{w: io.NewOffsetWriter(s.spill, off)}
		em, err := s.enc.EncodeTo(w, name, size, open())
		if err == nil {
			s.remove(name)
			s.keepSpilled(name, em, off)
			return
		}
		if w.err == nil {
			s.fail(err)
			return
		}
		s.spillFailed++
	}
	var b bytes.Buffer
	em, err := s.enc.EncodeTo(&b, name, size, open())
	if err != nil {
		s.fail(err)
		return
	}
	s.remove(name)
	em.Frame, em.FrameLen = b.Bytes(), 0
	s.keep(name, em)
}

// spillWriter remembers the spill file's first write error, to tell a
// full spill from a failing source.
type spillWriter struct {
	w   io.Writer
	err error
}

func (w *spillWriter) Write(b []byte) (int, error) {
	n, err := w.w.Write(b)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

func (s *store) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

func (s *store) remove(name string) {
	if em, ok := s.members[name]; ok {
		delete(s.members, name)
		delete(s.offsets, name)
		s.zbytes -= em.Len()
	}
}

// compressed is the size of the members' frames now.
func (s *store) compressed() int64 { return s.zbytes }

// size is the compressed size of a member, 0 when absent.
func (s *store) size(name string) int64 { return s.members[name].Len() }

// rawSize is the uncompressed size of a member, 0 when absent.
func (s *store) rawSize(name string) int64 { return s.members[name].Size }

// open streams the raw content of a member back (cutting a trace to fit
// the bound reads it twice), never whole in memory: the frame is read
// from the spill file and decompressed as it is read.
func (s *store) open(name string) (io.ReadCloser, bool) {
	em, ok := s.members[name]
	if !ok {
		return nil, false
	}
	var frame io.Reader = bytes.NewReader(em.Frame)
	if em.Frame == nil {
		frame = io.NewSectionReader(s.spill, s.offsets[name], em.FrameLen)
	}
	dec, err := zstd.NewReader(frame, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
	if err != nil {
		return nil, false
	}
	tr := tar.NewReader(dec)
	if _, err := tr.Next(); err != nil {
		dec.Close()
		return nil, false
	}
	return struct {
		io.Reader
		io.Closer
	}{tr, closerFunc(dec.Close)}, true
}

// closerFunc is a func() as an io.Closer.
type closerFunc func()

func (f closerFunc) Close() error { f(); return nil }

// names lists the members in the order the bundle holds them.
func (s *store) names() []string {
	out := make([]string, 0, len(s.members))
	for n := range s.members {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return bundle.MemberLess(out[i], out[j]) })
	return out
}

func (s *store) ordered() []bundle.EncodedMember {
	ms := make([]bundle.EncodedMember, 0, len(s.members))
	for _, n := range s.names() {
		ms = append(ms, s.members[n])
	}
	return ms
}

// write writes the bundle of m and every member to w, returning its size.
func (s *store) write(w io.Writer, m *bundle.Manifest) (int64, error) {
	if s.err != nil {
		return 0, s.err
	}
	return s.enc.WriteBundle(w, m, s.ordered())
}

// bundleSize is the exact size the bundle of m would have now, without
// reading the spilled frames back.
func (s *store) bundleSize(m *bundle.Manifest) (int64, error) {
	if s.err != nil {
		return 0, s.err
	}
	return s.enc.BundleSize(m, s.ordered())
}
