// Package hostile writes adversarial bundles for tests: kilobytes on disk
// that decompress to gigabytes. A member is one chunk repeated, and a zstd
// stream may be a sequence of frames, so the chunk is compressed once and
// its frame repeated: writing a bundle costs what hashing its members does.
package hostile

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/klauspost/compress/zstd"
)

// Member is a member whose content is Chunk repeated Repeat times.
type Member struct {
	Name   string
	Chunk  []byte
	Repeat int
}

// Size is the member's uncompressed size.
func (m Member) Size() int64 { return int64(len(m.Chunk)) * int64(m.Repeat) }

// Zeros is a member of n MiB of zero bytes.
func Zeros(name string, mib int) Member {
	return Member{Name: name, Chunk: make([]byte, 1<<20), Repeat: mib}
}

// Lines is a member of the given lines repeated to about n MiB.
func Lines(name string, mib int, lines ...string) Member {
	var b bytes.Buffer
	for b.Len() < 1<<20 {
		for _, l := range lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return Member{Name: name, Chunk: b.Bytes(), Repeat: max(1, (mib<<20)/b.Len())}
}

// Write writes to path the bundle base (a real bundle, read whole) with
// members added or replaced, its manifest changed by edit (nil: none).
// Members are in bundle order (bundle.MemberLess).
func Write(path string, base *bundle.Bundle, edit func(*bundle.Manifest), members ...Member) error {
	m := *base.Manifest
	if edit != nil {
		edit(&m)
	}
	enc := bundle.NewEncoder(m.End.Wall)
	byName := map[string]bundle.EncodedMember{}
	for _, name := range base.Names() {
		data, _ := base.Member(name)
		em, err := enc.Encode(name, data)
		if err != nil {
			return err
		}
		byName[name] = em
	}
	for _, hm := range members {
		em, err := encode(hm, m.End.Wall)
		if err != nil {
			return err
		}
		byName[hm.Name] = em
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		switch {
		case bundle.MemberLess(a, b):
			return -1
		case bundle.MemberLess(b, a):
			return 1
		}
		return 0
	})
	ems := make([]bundle.EncodedMember, len(names))
	for i, n := range names {
		ems[i] = byName[n]
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := enc.WriteBundle(f, &m, ems); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// encode makes hm's frames: its tar header, the chunk's frame Repeat
// times, the padding to the tar block.
func encode(hm Member, mtime time.Time) (bundle.EncodedMember, error) {
	zenc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(true))
	if err != nil {
		return bundle.EncodedMember{}, err
	}
	defer zenc.Close()
	var hdr bytes.Buffer
	tw := tar.NewWriter(&hdr)
	size := hm.Size()
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: hm.Name, Size: size, Mode: 0o644, ModTime: mtime.UTC().Truncate(time.Second), Format: tar.FormatPAX}); err != nil {
		return bundle.EncodedMember{}, fmt.Errorf("hostile: %s: %w", hm.Name, err)
	}
	frame := zenc.EncodeAll(hdr.Bytes(), nil)
	chunk := zenc.EncodeAll(hm.Chunk, nil)
	for range hm.Repeat {
		frame = append(frame, chunk...)
	}
	if pad := (512 - size%512) % 512; pad > 0 {
		frame = zenc.EncodeAll(make([]byte, pad), frame)
	}
	return bundle.EncodedMember{Name: hm.Name, Size: size, SHA256: sum(hm), Frame: frame}, nil
}

// sums remembers the hash of each content hashed: the cases share theirs.
var sums sync.Map

// sum is the hex SHA-256 of hm's content.
func sum(hm Member) string {
	key := fmt.Sprintf("%x*%d", sha256.Sum256(hm.Chunk), hm.Repeat)
	if s, ok := sums.Load(key); ok {
		return s.(string)
	}
	h := sha256.New()
	for range hm.Repeat {
		h.Write(hm.Chunk)
	}
	s := hex.EncodeToString(h.Sum(nil))
	sums.Store(key, s)
	return s
}
