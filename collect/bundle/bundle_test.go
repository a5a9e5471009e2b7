package bundle

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

func testManifest() *Manifest {
	return &Manifest{
		Host:  Host{Hostname: "node1"},
		Start: Clock{Wall: time.Date(2026, 11, 27, 6, 10, 0, 0, time.UTC)},
		End:   Clock{Wall: time.Date(2026, 11, 27, 6, 10, 30, 0, time.UTC)},
	}
}

func writeBundle(t *testing.T, files ...File) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, testManifest(), files); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriteReadRoundTrip(t *testing.T) {
	a := []byte("254       0 vda 1 2 3 4 5 6 7 8 0 9 10 0 0 0 0 0 0\n")
	b := AppendFrame(nil, Frame{Path: "/proc/1/io", Status: StatusOK, MonoNS: 42, Data: []byte("rchar: 1\n")})
	raw := writeBundle(t, BytesFile("static/diskstats", a), BytesFile("ticks/000001.frames", b))

	got, err := ReadAll(bytes.NewReader(raw), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if got.Manifest.Host.Hostname != "node1" || got.Manifest.Format != FormatVersion {
		t.Errorf("manifest = %+v", got.Manifest)
	}
	if names := strings.Join(got.Names(), ","); names != "static/diskstats,ticks/000001.frames" {
		t.Errorf("names = %s", names)
	}
	if d, _ := got.Member("static/diskstats"); !bytes.Equal(d, a) {
		t.Errorf("diskstats = %q", d)
	}
	// Same input, same bytes: the archive is a pure function of content.
	if again := writeBundle(t, BytesFile("static/diskstats", a), BytesFile("ticks/000001.frames", b)); !bytes.Equal(raw, again) {
		t.Error("two writes of the same members differ")
	}
}

func TestWriteRejectsBadNameAndLyingFile(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, testManifest(), []File{BytesFile("../x", nil)}); err == nil {
		t.Error("Write accepted ../x")
	}
	liar := BytesFile("a", []byte("abc"))
	liar.Size = 2
	if err := Write(&buf, testManifest(), []File{liar}); err == nil {
		t.Error("Write accepted a file larger than declared")
	}
	liar = BytesFile("a", []byte("abc"))
	liar.SHA256 = Sum([]byte("abd"))
	if err := Write(&buf, testManifest(), []File{liar}); err == nil {
		t.Error("Write accepted a file whose content does not match its hash")
	}
}

// rawEntry is one entry of a hand-made, adversarial archive.
type rawEntry struct {
	hdr  tar.Header
	data []byte
}

// adversarialBundle builds a tar.zst by hand, bypassing Write's checks, to
// feed the reader the hostile input a real collector never writes.
func adversarialBundle(t *testing.T, m *Manifest, entries ...rawEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := zstd.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	if m != nil {
		mj, _ := json.Marshal(m)
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: ManifestName, Size: int64(len(mj)), Mode: 0o644})
		tw.Write(mj)
	}
	for _, e := range entries {
		h := e.hdr
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.data))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatalf("header %q: %v", h.Name, err)
		}
		tw.Write(e.data)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func manifestListing(names ...string) *Manifest {
	m := testManifest()
	m.Format = FormatVersion
	for _, n := range names {
		m.Members = append(m.Members, Member{Name: n, Size: int64(len(n)), SHA256: Sum([]byte(n))})
	}
	return m
}

func reg(name string) rawEntry {
	return rawEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name}, data: []byte(name)}
}

func TestReaderRejects(t *testing.T) {
	gz := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0}
	var plainTar bytes.Buffer
	tw := tar.NewWriter(&plainTar)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: ManifestName, Size: 2})
	tw.Write([]byte("{}"))
	tw.Close()
	zstdOf := func(b []byte) []byte {
		enc, _ := zstd.NewWriter(nil)
		return enc.EncodeAll(b, nil)
	}
	oldFormat := manifestListing("a")
	oldFormat.Format = "iorca.bundle/v0"
	evil := manifestListing("a")
	evil.Members[0].Name = "/etc/passwd"
	tooBig := manifestListing("big")
	tooBig.Members[0].Size = 100
	tooBig.Members[0].SHA256 = Sum(bytes.Repeat([]byte("x"), 100))

	tests := []struct {
		name     string
		in       []byte
		lim      Limits
		wantKind error
		wantText string
	}{
		{"empty", nil, DefaultLimits, ErrNotBundle, "empty input"},
		{"gzip", gz, DefaultLimits, ErrNotBundle, "gzip"},
		{"plain tar", plainTar.Bytes(), DefaultLimits, ErrNotBundle, "uncompressed tar"},
		{"zstd of text", zstdOf([]byte("hello, not a tar")), DefaultLimits, ErrNotBundle, "no tar archive"},
		{"manifest not first", adversarialBundle(t, nil, reg("a")), DefaultLimits, ErrNotBundle, `first member is "a"`},
		{"other version", adversarialBundle(t, oldFormat, reg("a")), DefaultLimits, ErrVersion, "iorca.bundle/v0"},
		{"manifest lists absolute name", adversarialBundle(t, evil), DefaultLimits, ErrBadEntry, "absolute"},
		{"absolute member", adversarialBundle(t, manifestListing("a"), reg("/a")), DefaultLimits, ErrBadEntry, "absolute"},
		{"dotdot member", adversarialBundle(t, manifestListing("a"), reg("../../a")), DefaultLimits, ErrBadEntry, `".." element`},
		{"symlink", adversarialBundle(t, manifestListing("a"), rawEntry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: "a", Linkname: "/etc/shadow"}}), DefaultLimits, ErrBadEntry, "not a regular file"},
		{"hard link", adversarialBundle(t, manifestListing("a"), rawEntry{hdr: tar.Header{Typeflag: tar.TypeLink, Name: "a", Linkname: "manifest.json"}}), DefaultLimits, ErrBadEntry, "not a regular file"},
		{"device", adversarialBundle(t, manifestListing("a"), rawEntry{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "a", Devmajor: 1, Devminor: 3}}), DefaultLimits, ErrBadEntry, "not a regular file"},
		{"directory", adversarialBundle(t, manifestListing("a"), rawEntry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "a"}}), DefaultLimits, ErrBadEntry, "not a regular file"},
		{"unlisted member", adversarialBundle(t, manifestListing("a"), reg("a"), reg("b")), DefaultLimits, ErrBadEntry, `"b": not listed`},
		{"duplicate member", adversarialBundle(t, manifestListing("a"), reg("a"), reg("a")), DefaultLimits, ErrBadEntry, "twice"},
		{"checksum", adversarialBundle(t, manifestListing("a"), rawEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "a"}, data: []byte("b")}), DefaultLimits, ErrChecksum, `member "a"`},
		{"missing member at clean end", adversarialBundle(t, manifestListing("a", "b"), reg("a")), DefaultLimits, ErrTruncated, `member "b": archive ends`},
		{"member over limit", adversarialBundle(t, tooBig, rawEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "big"}, data: bytes.Repeat([]byte("x"), 100)}), Limits{MaxManifest: 1 << 20, MaxMember: 99, MaxTotal: 1 << 20, MaxMembers: 10}, ErrTooLarge, "100 bytes, over its bound of 99"},
		{"total over limit", adversarialBundle(t, manifestListing("aaaa", "bbbb"), reg("aaaa"), reg("bbbb")), Limits{MaxManifest: 1 << 20, MaxMember: 1 << 20, MaxTotal: 0, MaxMembers: 10}, ErrTooLarge, "over the bound of 0 on the whole bundle"},
		{"manifest over limit", adversarialBundle(t, manifestListing("a"), reg("a")), Limits{MaxManifest: 10, MaxMember: 1 << 20, MaxTotal: 1 << 20, MaxMembers: 10}, ErrTooLarge, "manifest.json"},
		{"too many members", adversarialBundle(t, manifestListing("a", "b"), reg("a"), reg("b")), Limits{MaxManifest: 1 << 20, MaxMember: 1 << 20, MaxTotal: 1 << 20, MaxMembers: 1}, ErrTooLarge, "2 members"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadAll(bytes.NewReader(tt.in), tt.lim)
			if err == nil {
				t.Fatal("ReadAll accepted it")
			}
			if !errors.Is(err, tt.wantKind) {
				t.Errorf("error %q is not %v", err, tt.wantKind)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not say %q", err, tt.wantText)
			}
			if _, perr := readPrefetched(tt.in, tt.lim); perr == nil || perr.Error() != err.Error() {
				t.Errorf("read ahead: error %v, want %v", perr, err)
			}
		})
	}
}

// readPrefetched streams a bundle with a reader that reads ahead,
// returning the members as "name=data".
func readPrefetched(in []byte, lim Limits) ([]string, error) {
	rd, err := NewReader(bytes.NewReader(in), lim)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	rd.Prefetch()
	var got []string
	for {
		name, data, err := rd.Next()
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		got = append(got, name+"="+string(data))
	}
}

func TestReaderTruncatedNamesLastGoodMember(t *testing.T) {
	var files []File
	for _, n := range []string{"static/a", "ticks/000001.frames", "ticks/000002.frames", "ticks/000003.frames"} {
		files = append(files, BytesFile(n, bytes.Repeat([]byte(n+"\n"), 4000)))
	}
	raw := writeBundle(t, files...)
	// Cut the archive at many points: each must give ErrTruncated (even
	// within the manifest: a cut bundle is no foreign file; only a cut
	// within the zstd magic is not recognised) and never a panic or a
	// silently short bundle.
	sawLastGood := false
	for cut := 1; cut < len(raw); cut += max(1, len(raw)/97) {
		_, err := ReadAll(bytes.NewReader(raw[:cut]), DefaultLimits)
		if err == nil {
			t.Fatalf("cut at %d of %d: no error", cut, len(raw))
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("cut at %d: error %T %v is not *Error", cut, err, err)
		}
		if !errors.Is(err, ErrTruncated) && (cut >= len(zstdMagic) || !errors.Is(err, ErrNotBundle)) {
			t.Errorf("cut at %d: %v", cut, err)
		}
		if _, perr := readPrefetched(raw[:cut], DefaultLimits); perr == nil || perr.Error() != err.Error() {
			t.Errorf("cut at %d: read ahead: error %v, want %v", cut, perr, err)
		}
		if errors.Is(err, ErrTruncated) && e.LastGood != "" {
			sawLastGood = true
			if !strings.Contains(err.Error(), "last good \""+e.LastGood+"\"") {
				t.Errorf("cut at %d: %q does not name the last good member", cut, err)
			}
		}
	}
	if !sawLastGood {
		t.Error("no cut reported a last good member")
	}
}

func TestReaderStreamsMemberByMember(t *testing.T) {
	raw := writeBundle(t, BytesFile("a", []byte("1")), BytesFile("b", []byte("22")))
	rd, err := NewReader(bytes.NewReader(raw), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var got []string
	for {
		name, data, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, name+"="+string(data))
	}
	if strings.Join(got, " ") != "a=1 b=22" {
		t.Errorf("got %v", got)
	}
}

// A reader that reads ahead returns what Next alone returns, each
// member's data valid until the next call, and Close stops it at any
// point without waiting for the rest of the bundle.
func TestReaderPrefetch(t *testing.T) {
	var files []File
	var want []string
	for i := range 20 {
		name := fmt.Sprintf("ticks/%06d.frames", i+1)
		data := bytes.Repeat([]byte{byte('a' + i)}, 1000*(i+1))
		files = append(files, BytesFile(name, data))
		want = append(want, name+"="+string(data))
	}
	raw := writeBundle(t, files...)
	got, err := readPrefetched(raw, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("read ahead gave %d members, not the %d written, or other data", len(got), len(want))
	}
	for stopAfter := range 4 {
		rd, err := NewReader(bytes.NewReader(raw), DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		rd.Prefetch()
		for range stopAfter {
			if _, _, err := rd.Next(); err != nil {
				t.Fatal(err)
			}
		}
		rd.Close()
		rd.Close()
		select {
		case <-rd.done:
		default:
			t.Errorf("after %d members: Close returned with the reading goroutine running", stopAfter)
		}
	}
}

// A member kept (Keep) holds its content after every later Next: the
// reader reads on into new buffers, not into the kept one; members of
// growing sizes, each a little larger than the buffer before, come out
// whole.
func TestReaderKeep(t *testing.T) {
	var files []File
	for i := range 12 {
		files = append(files, BytesFile(fmt.Sprintf("ticks/%06d.frames", i+1), bytes.Repeat([]byte{byte('a' + i)}, 1<<20+4096*i)))
	}
	raw := writeBundle(t, files...)
	rd, err := NewReader(bytes.NewReader(raw), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	rd.Prefetch()
	var kept [][]byte
	for i := 0; ; i++ {
		_, data, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if want := bytes.Repeat([]byte{byte('a' + i)}, 1<<20+4096*i); !bytes.Equal(data, want) {
			t.Fatalf("member %d: not the content written", i+1)
		}
		if i%3 == 0 {
			rd.Keep()
			kept = append(kept, data)
		}
	}
	for k, data := range kept {
		if want := bytes.Repeat([]byte{byte('a' + 3*k)}, 1<<20+4096*3*k); !bytes.Equal(data, want) {
			t.Errorf("kept member %d was overwritten by a later one", 3*k+1)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"manifest.json", "ticks/000001.frames", "strace/123.txt"} {
		if err := CheckName(ok); err != nil {
			t.Errorf("CheckName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "/a", "a/../b", "..", "./a", "a//b", "a/", "a b", "a\x00b", "a\\b", strings.Repeat("x", 300)} {
		if err := CheckName(bad); err == nil {
			t.Errorf("CheckName(%q) accepted it", bad)
		}
	}
}

func FuzzReadAll(f *testing.F) {
	var buf bytes.Buffer
	Write(&buf, testManifest(), []File{BytesFile("a", []byte("x")), BytesFile("b/c", []byte("yy"))})
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:buf.Len()/2])
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd})
	small := Limits{MaxManifest: 1 << 16, MaxMember: 1 << 16, MaxTotal: 1 << 18, MaxMembers: 64}
	f.Fuzz(func(t *testing.T, in []byte) {
		b, err := ReadAll(bytes.NewReader(in), small)
		if err == nil && b.Manifest == nil {
			t.Fatal("nil manifest without error")
		}
	})
}

// A hostile header claims a huge member and the stream holds a few bytes:
// the reader reports it truncated without allocating the claimed size.
func TestReaderDoesNotTrustHeaderSize(t *testing.T) {
	const claimed = 900 << 20
	m := manifestListing()
	m.Members = []Member{{Name: "big", Size: claimed, SHA256: Sum(nil)}}
	var buf bytes.Buffer
	zw, _ := zstd.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	mj, _ := json.Marshal(m)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: ManifestName, Size: int64(len(mj)), Mode: 0o644})
	tw.Write(mj)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "big", Size: claimed, Mode: 0o644})
	tw.Write([]byte("only this"))
	tw.Flush()
	zw.Close()

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	// Bounds that allow the claim: the default ones refuse it unread.
	_, err := ReadAll(bytes.NewReader(buf.Bytes()), Limits{MaxManifest: 1 << 20, MaxMember: 1 << 30, MaxTotal: 1 << 30, MaxMembers: 10})
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTruncated) {
		t.Errorf("err = %v, want truncated", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("allocated %d MiB for a member that holds 9 bytes", grew>>20)
	}
}

// hostileFrames are zstd frame headers whose window would take terabytes:
// one that asks for a 2 TiB window, one single-segment frame that claims
// 1 TiB of content (its window is its content size).
func hostileFrames() map[string][]byte {
	return map[string][]byte{
		"window descriptor of 2 TiB": {0x28, 0xb5, 0x2f, 0xfd, 0x00, 31 << 3, 0x01, 0x00, 0x00},
		"single segment of 1 TiB":    {0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0, 0, 0, 1, 0, 0, 0x01, 0x00, 0x00},
	}
}

// A zstd frame header that asks for a huge window is refused before the
// decoder allocates it.
func TestAdversarialFrameHeaders(t *testing.T) {
	for name, in := range hostileFrames() {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := ReadAll(bytes.NewReader(in), DefaultLimits)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrNotBundle) || !strings.Contains(err.Error(), "window") && !strings.Contains(err.Error(), "exceeds configured limit") {
			t.Errorf("%s: err %v, want not a bundle, naming the window", name, err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
			t.Errorf("%s: allocated %d MiB", name, grew>>20)
		}
	}
}
