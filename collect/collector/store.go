package collector

import (
	"io"
	"sort"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/klauspost/compress/zstd"
)

// store keeps the bundle's members in memory in the form they are written
// in — each compressed once, on arrival, as its own zstd frame — so that
// memory stays near the size of the final bundle, the disk is written once
// at the end, and the bundle's size is known exactly before it is written.
type store struct {
	enc     *bundle.Encoder
	members map[string]bundle.EncodedMember
	zbytes  int64
	peak    int64
	// err is the first encoding failure (a member name the bundle
	// refuses); the bundle is not written with a member missing.
	err error
}

// newStore dates every member mtime.
func newStore(mtime time.Time) *store {
	return &store{enc: bundle.NewEncoder(mtime), members: map[string]bundle.EncodedMember{}}
}

// put adds or replaces a member.
func (s *store) put(name string, data []byte) {
	s.remove(name)
	em, err := s.enc.Encode(name, data)
	if err != nil {
		if s.err == nil {
			s.err = err
		}
		return
	}
	s.members[name] = em
	s.zbytes += int64(len(em.Frame))
	s.peak = max(s.peak, s.zbytes)
}

func (s *store) remove(name string) {
	if em, ok := s.members[name]; ok {
		delete(s.members, name)
		s.zbytes -= int64(len(em.Frame))
	}
}

// compressed is the memory the members hold now.
func (s *store) compressed() int64 { return s.zbytes }

// size is the compressed size of a member, 0 when absent.
func (s *store) size(name string) int64 { return int64(len(s.members[name].Frame)) }

// rawSize is the uncompressed size of a member, 0 when absent.
func (s *store) rawSize(name string) int64 { return s.members[name].Size }

// get returns the raw content of a member; only cutting a trace to fit
// the bound needs it back.
func (s *store) get(name string) ([]byte, bool) {
	em, ok := s.members[name]
	if !ok {
		return nil, false
	}
	b, err := zstdDecoder.DecodeAll(em.Frame, nil)
	if err != nil {
		return nil, false
	}
	return tarData(b, em.Size)
}

// tarData returns the data of a single tar member's bytes.
func tarData(b []byte, size int64) ([]byte, bool) {
	// Skip header blocks until the data: the data is the size bytes that
	// end before the padding.
	pad := (512 - size%512) % 512
	end := int64(len(b)) - pad
	if end < size {
		return nil, false
	}
	return b[end-size : end], true
}

// names lists the members in the order the bundle holds them.
func (s *store) names() []string {
	out := make([]string, 0, len(s.members))
	for n := range s.members {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return bundle.MemberLess(out[i], out[j]) })
	return out
}

// write writes the bundle of m and every member to w, returning its size.
func (s *store) write(w io.Writer, m *bundle.Manifest) (int64, error) {
	if s.err != nil {
		return 0, s.err
	}
	ms := make([]bundle.EncodedMember, 0, len(s.members))
	for _, n := range s.names() {
		ms = append(ms, s.members[n])
	}
	return s.enc.WriteBundle(w, m, ms)
}

// bundleSize is the exact size the bundle of m would have now.
func (s *store) bundleSize(m *bundle.Manifest) (int64, error) {
	return s.write(io.Discard, m)
}

var zstdDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
