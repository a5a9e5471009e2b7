package bundle

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/klauspost/compress/zstd"
)

// Kinds of reader error, for errors.Is.
var (
	// ErrNotBundle: the input is not a zstd-compressed tar whose first
	// member is manifest.json.
	ErrNotBundle = errors.New("not an iorca bundle")
	// ErrVersion: a bundle of a format this reader does not know.
	ErrVersion = errors.New("unsupported bundle format")
	// ErrTruncated: the archive ends before every member was read.
	ErrTruncated = errors.New("bundle truncated")
	// ErrCorrupt: the compressed stream or the tar structure is damaged.
	ErrCorrupt = errors.New("bundle corrupt")
	// ErrChecksum: a member's content does not match the manifest.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrTooLarge: a member or the whole bundle is over a reader limit.
	ErrTooLarge = errors.New("over the size limit")
	// ErrBadEntry: an absolute or ".." name, a link, a device, a
	// directory, a duplicate, or a member the manifest does not list.
	ErrBadEntry = errors.New("forbidden archive entry")
)

// Error is a reader failure. It names the member being read, the last
// member that was read and verified, and how many were, so that a user
// knows what could still be trusted.
type Error struct {
	Kind     error
	Member   string
	LastGood string
	Read     int
	Listed   int
	Err      error
}

func (e *Error) Error() string {
	var b bytes.Buffer
	b.WriteString(e.Kind.Error())
	if e.Member != "" {
		fmt.Fprintf(&b, ": member %q", e.Member)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.Listed > 0 || e.Read > 0 {
		fmt.Fprintf(&b, " (%d of %d members read and verified", e.Read, e.Listed)
		if e.LastGood != "" {
			fmt.Fprintf(&b, "; last good %q", e.LastGood)
		}
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap gives both the kind and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// Limits bound what a Reader accepts, so that a hostile bundle cannot make
// the analyzer allocate without bound. Every member has a bound
// (Limits.Bound): a trace the manifest's own cap plus a margin, anything
// else MaxMember; and the members together MaxTotal. A bundle whose
// manifest lists a member over its bound, or members over MaxTotal in all,
// is refused before any member is decompressed.
type Limits struct {
	MaxManifest int64
	// MaxMember bounds a member the manifest does not bound (ticks,
	// frames, JSON, the kernel log).
	MaxMember int64
	// MaxTrace bounds a trace (strace or block-layer) whatever cap the
	// manifest claims the collector had.
	MaxTrace   int64
	MaxTotal   int64
	MaxMembers int
}

// DefaultMaxTotal is the default bound on a bundle's uncompressed size.
// The largest bundles measured hold 441 MiB (10 minutes at 1 s of 2,000
// processes with a 200,000-line strace, bench/genbundle) and the samples
// of real incidents at most 16 MiB; 1 GiB holds more than twice the
// largest.
const DefaultMaxTotal = 1 << 30

// LimitsFor derives every bound from the bound on the whole bundle, so
// that one figure (iorca --max-bundle-bytes) raises them together: one
// trace at most a sixteenth of it (64 MiB by default: four times the
// collector's default strace cap, twice its block-trace cap), any other
// member a sixty-fourth (16 MiB: the largest tick measured, of 2,000
// processes, holds 0.7 MiB).
func LimitsFor(total int64) Limits {
	return Limits{
		MaxManifest: 16 << 20,
		MaxMember:   max(total/64, 1<<20),
		MaxTrace:    max(total/16, 1<<20),
		MaxTotal:    total,
		MaxMembers:  1 << 20,
	}
}

// DefaultLimits suit any bundle the collector writes with its own bounds.
var DefaultLimits = LimitsFor(DefaultMaxTotal)

// Bound is the most bytes the member name of a bundle with manifest m
// may hold, and what sets it. A trace may hold what the collector's cap
// in the manifest allowed (it never writes past it) plus a sixteenth and
// 64 KiB, never more than MaxTrace; a trace from a manifest without a
// cap, and any other member, MaxMember.
func (lim Limits) Bound(m *Manifest, name string) (int64, string) {
	var capName string
	var capBytes int64
	factor, maxTrace := int64(1), lim.MaxTrace
	switch {
	case IsTraceText(name):
		capName, capBytes = "strace_max_bytes", m.Options.StraceMaxBytes
	case name == BlockTraceMember:
		capName, capBytes = "block_trace_max_bytes", m.Options.BlockTraceMaxBytes
		if m.BlockTrace != nil && m.BlockTrace.Reader == ReaderRaw {
			// The cap bounded the raw pages; the member is their text.
			factor, maxTrace = RawTextFactor, 2*lim.MaxTrace
		}
	}
	if capBytes <= 0 {
		return lim.MaxMember, "the reader's bound on one member"
	}
	b := capBytes*factor + capBytes*factor/16 + 64<<10
	if b > maxTrace {
		return maxTrace, "the reader's bound on one trace"
	}
	if factor > 1 {
		return b, fmt.Sprintf("the text of the manifest's %s %d of raw pages, plus a margin", capName, capBytes)
	}
	return b, fmt.Sprintf("the manifest's %s %d plus a margin", capName, capBytes)
}

// checkSizes refuses a manifest that lists a member over its bound, or
// members over MaxTotal in all, before anything is decompressed: the
// archive must hold each member at the size the manifest says (next
// checks it), so the listed sizes are what reading would cost.
func (lim Limits) checkSizes(m *Manifest) error {
	total := int64(0)
	for _, mem := range m.Members {
		if err := lim.checkMember(m, mem.Name, mem.Size); err != nil {
			return &Error{Kind: ErrTooLarge, Member: mem.Name, Err: err}
		}
		total += mem.Size
		if total > lim.MaxTotal {
			return &Error{Kind: ErrTooLarge, Member: mem.Name, Err: fmt.Errorf("the manifest lists %d bytes up to this member, over the bound of %d on the whole bundle", total, lim.MaxTotal)}
		}
	}
	return nil
}

// checkMember says why size bytes are too many for member name.
func (lim Limits) checkMember(m *Manifest, name string, size int64) error {
	if b, why := lim.Bound(m, name); size > b {
		return fmt.Errorf("%d bytes, over its bound of %d (%s)", size, b, why)
	}
	return nil
}

// maxWindow bounds a zstd frame's window.
const maxWindow = 8 << 20

// zstdMagic starts every zstd frame (RFC 8878, 3.1.1).
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// Reader streams the members of a bundle one at a time.
type Reader struct {
	// Manifest is the bundle's manifest, read and validated by NewReader.
	Manifest *Manifest
	// ahead is set by Prefetch: the reading goroutine's results, the
	// buffers it may fill, the one the caller holds, and its stop.
	ahead chan fetched
	free  chan *[]byte
	held  *[]byte
	stop  chan struct{}
	done  chan struct{}

	lim      Limits
	zr       *zstd.Decoder
	tr       *tar.Reader
	listed   map[string]Member
	seen     map[string]bool
	read     int
	lastGood string
	total    int64
	err      error
}

// NewReader reads and validates the manifest at the start of r.
func NewReader(r io.Reader, lim Limits) (*Reader, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(512)
	if !bytes.HasPrefix(head, zstdMagic) {
		return nil, &Error{Kind: ErrNotBundle, Err: errors.New(sniff(head))}
	}
	zr, err := zstd.NewReader(br,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(true),
		// A frame's header sets the window the decoder allocates (a
		// single-segment frame: its whole content size), so both are
		// bounded: the collector writes 1 MiB windows, and zstd(1) at
		// levels up to 19 at most 8 MiB.
		zstd.WithDecoderMaxWindow(maxWindow),
		zstd.WithDecoderMaxMemory(maxWindow))
	if err != nil {
		return nil, &Error{Kind: ErrNotBundle, Err: err}
	}
	decoded := &lastError{r: zr}
	rd := &Reader{lim: lim, zr: zr, tr: tar.NewReader(decoded), seen: map[string]bool{}}
	hdr, err := rd.tr.Next()
	if err != nil {
		zr.Close()
		switch {
		case errors.Is(decoded.err, io.ErrUnexpectedEOF):
			// The zstd stream itself is cut short (an upload stopped
			// early): a bundle, truncated, not something else.
			return nil, &Error{Kind: ErrTruncated, Member: ManifestName, Err: fmt.Errorf("the archive ends within it: %w", err)}
		case errors.Is(err, io.EOF):
			return nil, &Error{Kind: ErrNotBundle, Err: errors.New("empty archive")}
		}
		return nil, &Error{Kind: ErrNotBundle, Err: fmt.Errorf("no tar archive inside the zstd stream: %w", err)}
	}
	if hdr.Name != ManifestName {
		zr.Close()
		return nil, &Error{Kind: ErrNotBundle, Err: fmt.Errorf("first member is %q, want %q", hdr.Name, ManifestName)}
	}
	if !isRegular(hdr) {
		zr.Close()
		return nil, &Error{Kind: ErrBadEntry, Member: ManifestName, Err: errors.New("not a regular file")}
	}
	if hdr.Size > lim.MaxManifest {
		zr.Close()
		return nil, &Error{Kind: ErrTooLarge, Member: ManifestName, Err: fmt.Errorf("%d bytes, limit %d", hdr.Size, lim.MaxManifest)}
	}
	mj, err := readSized(rd.tr, hdr.Size)
	if err != nil {
		zr.Close()
		return nil, rd.streamError(ManifestName, err)
	}
	var m Manifest
	if err := json.Unmarshal(mj, &m); err != nil {
		zr.Close()
		return nil, &Error{Kind: ErrNotBundle, Member: ManifestName, Err: err}
	}
	if m.Format != FormatVersion {
		zr.Close()
		return nil, &Error{Kind: ErrVersion, Member: ManifestName, Err: fmt.Errorf("format %q, this reader knows %q", m.Format, FormatVersion)}
	}
	if err := m.Validate(); err != nil {
		zr.Close()
		return nil, &Error{Kind: ErrBadEntry, Member: ManifestName, Err: err}
	}
	if len(m.Members) > lim.MaxMembers {
		zr.Close()
		return nil, &Error{Kind: ErrTooLarge, Member: ManifestName, Err: fmt.Errorf("%d members, limit %d", len(m.Members), lim.MaxMembers)}
	}
	if err := lim.checkSizes(&m); err != nil {
		zr.Close()
		return nil, err
	}
	rd.listed = make(map[string]Member, len(m.Members))
	for _, mem := range m.Members {
		rd.listed[mem.Name] = mem
	}
	rd.Manifest = &m
	rd.total = hdr.Size
	return rd, nil
}

// lastError remembers the last error its reader gave, so that a tar
// header cut short can be told from a zstd stream cut short: the tar
// reader reports both as io.ErrUnexpectedEOF.
type lastError struct {
	r   io.Reader
	err error
}

func (l *lastError) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if err != nil {
		l.err = err
	}
	return n, err
}

// sniff names what the input looks like when it is not a bundle.
func sniff(head []byte) string {
	switch {
	case len(head) == 0:
		return "empty input"
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return "gzip data, want zstd"
	case bytes.HasPrefix(head, []byte("\xfd7zXZ")):
		return "xz data, want zstd"
	case len(head) > 262 && bytes.Equal(head[257:262], []byte("ustar")):
		return "an uncompressed tar, want zstd"
	}
	return "no zstd magic at the start"
}

func isRegular(hdr *tar.Header) bool {
	return hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeRegA
}

// fetched is one member read ahead, in the buffer that holds it.
type fetched struct {
	name string
	data []byte
	err  error
	buf  *[]byte
}

// Prefetch makes the reader read, decompress and verify the next member
// in its own goroutine while the caller works on the one Next returned:
// for a caller that parses every member, checking a member costs about
// as much as parsing it, so on two CPUs the two overlap. Data is then
// valid until the next call of Next (the goroutine reuses two buffers),
// and Close must be called. Call it before the first Next.
func (r *Reader) Prefetch() {
	if r.ahead != nil || r.err != nil {
		return
	}
	r.ahead = make(chan fetched)
	r.free = make(chan *[]byte, 2)
	r.free <- new([]byte)
	r.free <- new([]byte)
	r.stop, r.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(r.done)
		for {
			var buf *[]byte
			select {
			case buf = <-r.free:
			case <-r.stop:
				return
			}
			name, data, err := r.next(buf)
			select {
			case r.ahead <- fetched{name, data, err, buf}:
			case <-r.stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
}

// Keep makes the content Next last returned the caller's, valid after
// the following Next too: with Prefetch the reader puts a new buffer in
// its place instead of reusing it. A caller that parses a large member
// (a trace) in a goroutine of its own keeps it rather than copying it.
func (r *Reader) Keep() {
	if r.held != nil {
		r.held = new([]byte)
	}
}

// Next returns the next member and its verified content. It returns io.EOF
// after the last member, once every member the manifest lists was seen.
func (r *Reader) Next() (string, []byte, error) {
	if r.err != nil {
		return "", nil, r.err
	}
	var name string
	var data []byte
	var err error
	if r.ahead != nil {
		if r.held != nil {
			r.free <- r.held
		}
		f := <-r.ahead
		name, data, err, r.held = f.name, f.data, f.err, f.buf
	} else {
		name, data, err = r.next(nil)
	}
	if err != nil {
		r.err = err
		r.Close()
	}
	return name, data, err
}

// next reads the next member into buf, or into a buffer of its own when
// buf is nil.
func (r *Reader) next(buf *[]byte) (string, []byte, error) {
	hdr, err := r.tr.Next()
	if errors.Is(err, io.EOF) {
		if missing := r.missing(); len(missing) > 0 {
			return "", nil, r.fail(ErrTruncated, missing[0], fmt.Errorf("archive ends; %d listed members missing", len(missing)))
		}
		return "", nil, io.EOF
	}
	if err != nil {
		return "", nil, r.streamError("", err)
	}
	name := hdr.Name
	if err := CheckName(name); err != nil {
		return "", nil, r.fail(ErrBadEntry, name, err)
	}
	if !isRegular(hdr) {
		return "", nil, r.fail(ErrBadEntry, name, fmt.Errorf("not a regular file (tar type %q)", hdr.Typeflag))
	}
	mem, ok := r.listed[name]
	if !ok {
		return "", nil, r.fail(ErrBadEntry, name, errors.New("not listed in the manifest"))
	}
	if r.seen[name] {
		return "", nil, r.fail(ErrBadEntry, name, errors.New("appears twice"))
	}
	if hdr.Size != mem.Size {
		return "", nil, r.fail(ErrCorrupt, name, fmt.Errorf("archive says %d bytes, manifest %d", hdr.Size, mem.Size))
	}
	if err := r.lim.checkMember(r.Manifest, name, hdr.Size); err != nil {
		return "", nil, r.fail(ErrTooLarge, name, err)
	}
	if r.total+hdr.Size > r.lim.MaxTotal {
		return "", nil, r.fail(ErrTooLarge, name, fmt.Errorf("bundle over %d bytes in all", r.lim.MaxTotal))
	}
	if buf == nil {
		buf = new([]byte)
	}
	h := sha256.New()
	data, err := readInto(buf, io.TeeReader(r.tr, h), hdr.Size)
	if err != nil {
		return "", nil, r.streamError(name, err)
	}
	if hex.EncodeToString(h.Sum(nil)) != mem.SHA256 {
		return "", nil, r.fail(ErrChecksum, name, errors.New("content does not match the manifest's sha256"))
	}
	r.seen[name] = true
	r.read++
	r.total += hdr.Size
	r.lastGood = name
	return name, data, nil
}

// growth is how many times a member buffer grows when full: eight, not
// two, so that a trace of 20 MiB is copied twice on its way up (1 MiB,
// 8 MiB, then its size) rather than five times (52 MiB of fresh memory,
// each page of it a fault, for 21 MiB of trace).
const growth = 8

// readSized reads exactly size bytes into a buffer of its own.
func readSized(r io.Reader, size int64) ([]byte, error) {
	return readInto(new([]byte), r, size)
}

// readInto reads exactly size bytes into *buf, reusing its room and
// keeping whatever room it grew. It grows as data arrives (from 1 MiB,
// to growth times what it holds, never past size and a quarter) rather
// than trusting the header's size up front, so that a header cannot make
// the reader allocate more than growth times what the stream holds.
func readInto(buf *[]byte, r io.Reader, size int64) ([]byte, error) {
	b := (*buf)[:0]
	// A buffer reused from the member before grows with a quarter to
	// spare: the ticks of a capture creep up in size, and one grown to
	// exactly this tick's size would grow (and copy) again on the next.
	want := size
	if cap(b) > 0 {
		want += size / 4
	}
	for int64(len(b)) < size {
		if len(b) == cap(b) {
			nb := make([]byte, len(b), min(want, max(growth*int64(cap(b)), 1<<20)))
			copy(nb, b)
			b = nb
		}
		n, err := r.Read(b[len(b):min(int64(cap(b)), size)])
		b = b[:len(b)+n]
		if err != nil {
			*buf = b
			if errors.Is(err, io.EOF) && int64(len(b)) < size {
				err = io.ErrUnexpectedEOF
			}
			if int64(len(b)) == size && errors.Is(err, io.EOF) {
				return b, nil
			}
			return b, err
		}
	}
	*buf = b
	return b, nil
}

// streamError classifies an error of the zstd or tar layer.
func (r *Reader) streamError(name string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return r.fail(ErrTruncated, name, err)
	}
	return r.fail(ErrCorrupt, name, err)
}

func (r *Reader) fail(kind error, name string, err error) error {
	return &Error{Kind: kind, Member: name, LastGood: r.lastGood, Read: r.read, Listed: len(r.listed), Err: err}
}

func (r *Reader) missing() []string {
	var out []string
	for name := range r.listed {
		if !r.seen[name] {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Close stops a prefetching goroutine and releases the decoder. It is
// safe to call more than once.
func (r *Reader) Close() {
	if r.stop != nil {
		select {
		case <-r.stop:
		default:
			close(r.stop)
		}
		<-r.done
	}
	r.zr.Close()
}

// Bundle is a whole bundle read into memory.
type Bundle struct {
	Manifest *Manifest
	members  map[string][]byte
}

// ReadAll reads and verifies a whole bundle.
func ReadAll(r io.Reader, lim Limits) (*Bundle, error) {
	rd, err := NewReader(r, lim)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	b := &Bundle{Manifest: rd.Manifest, members: make(map[string][]byte, len(rd.Manifest.Members))}
	for {
		name, data, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
		b.members[name] = data
	}
}

// Member returns the content of the named member.
func (b *Bundle) Member(name string) ([]byte, bool) {
	d, ok := b.members[name]
	return d, ok
}

// Names returns the member names in manifest order.
func (b *Bundle) Names() []string {
	out := make([]string, 0, len(b.Manifest.Members))
	for _, m := range b.Manifest.Members {
		out = append(out, m.Name)
	}
	return out
}

// ReadFile reads and verifies the bundle at path.
func ReadFile(path string, lim Limits) (*Bundle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, lim)
}
