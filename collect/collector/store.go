package collector

import (
	"bytes"
	"io"
	"sort"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/klauspost/compress/zstd"
)

// store keeps the bundle's members in memory, each compressed on arrival,
// so that memory stays near the size of the final bundle and the disk is
// written once, at the end.
type store struct {
	enc     *zstd.Encoder
	members []*stored
	byName  map[string]*stored
	zbytes  int64
	peak    int64
}

type stored struct {
	name string
	size int64
	sum  string
	z    []byte
}

func newStore() *store {
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(1<<20))
	return &store{enc: enc, byName: map[string]*stored{}}
}

// put adds or replaces a member.
func (s *store) put(name string, data []byte) {
	s.remove(name)
	m := &stored{name: name, size: int64(len(data)), sum: bundle.Sum(data), z: s.enc.EncodeAll(data, nil)}
	s.members = append(s.members, m)
	s.byName[name] = m
	s.zbytes += int64(len(m.z))
	s.peak = max(s.peak, s.zbytes)
}

func (s *store) remove(name string) {
	m := s.byName[name]
	if m == nil {
		return
	}
	delete(s.byName, name)
	for i, x := range s.members {
		if x == m {
			s.members = append(s.members[:i], s.members[i+1:]...)
			break
		}
	}
	s.zbytes -= int64(len(m.z))
}

// compressed is the memory the members hold now.
func (s *store) compressed() int64 { return s.zbytes }

// get returns the raw content of a member.
func (s *store) get(name string) ([]byte, bool) {
	m := s.byName[name]
	if m == nil {
		return nil, false
	}
	b, err := zstdDecoder.DecodeAll(m.z, nil)
	return b, err == nil
}

// files returns the members as bundle.Files that decompress on Open.
func (s *store) files() []bundle.File {
	ms := append([]*stored(nil), s.members...)
	sort.Slice(ms, func(i, j int) bool { return bundle.MemberLess(ms[i].name, ms[j].name) })
	out := make([]bundle.File, 0, len(ms))
	for _, m := range ms {
		m := m
		out = append(out, bundle.File{
			Name: m.name, Size: m.size, SHA256: m.sum,
			Open: func() (io.Reader, error) {
				b, err := zstdDecoder.DecodeAll(m.z, nil)
				return bytes.NewReader(b), err
			},
		})
	}
	return out
}

var zstdDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
