package blocktrace

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/spill"
	"github.com/iorca/iorca/internal/ftrace"
)

// rawCapture is testdata/raw, captured on the development machine by
// TestCaptureRawTestdata (kernel 6.18, 2 CPUs).
type rawCapture struct {
	dec   *decoder
	pages *spill.File
	index [][]pageRef
	cpus  []int
	text  []byte
}

func loadRaw(t testing.TB) *rawCapture {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(rawDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var formats [][]byte
	frames, err := bundle.ParseFrames(read("formats.frames"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		formats = append(formats, f.Data)
	}
	c := &comms{comm: map[int]string{}, tgid: map[int]int{}}
	c.addCmdlines(read("saved_cmdlines"))
	c.addTgids(read("saved_tgids"))
	var j jiffiesRef
	if f := strings.Fields(string(read("jiffies"))); len(f) == 2 {
		j.j, _ = strconv.ParseUint(f[0], 10, 64)
		j.mono, _ = strconv.ParseInt(f[1], 10, 64)
		j.ok = true
	}
	dec, err := newDecoder(read("header_page"), read("header_event"), formats, c, true, j)
	if err != nil {
		t.Fatal(err)
	}
	rc := &rawCapture{dec: dec, pages: spill.New(), text: read("trace_pipe.txt")}
	pos := map[int]int{}
	b := read("pages")
	for len(b) >= 8 {
		cpu, n := int(binary.LittleEndian.Uint32(b)), int(binary.LittleEndian.Uint32(b[4:]))
		if 8+n > len(b) {
			t.Fatalf("pages: record of %d bytes cut", n)
		}
		i, ok := pos[cpu]
		if !ok {
			i = len(rc.cpus)
			pos[cpu] = i
			rc.cpus = append(rc.cpus, cpu)
			rc.index = append(rc.index, nil)
		}
		off, _ := rc.pages.Append(b[8 : 8+n])
		rc.index[i] = append(rc.index[i], pageRef{off: off, n: int32(n)})
		b = b[8+n:]
	}
	return rc
}

// decode decodes the capture as finish does.
func (rc *rawCapture) decode(w io.Writer) (int, error) {
	r := &rawSource{cpus: rc.cpus, dec: rc.dec, pages: rc.pages, index: rc.index}
	text, lines, _, err := r.finish(nil)
	if err != nil {
		return lines, err
	}
	_, err = io.Copy(w, text.Reader(-1))
	return lines, err
}

// Pages captured on this machine decode to the lines trace_pipe printed
// for the same events (a second instance, read at the same time), and to
// the lines decoded when they were captured.
func TestDecodeCapturedPages(t *testing.T) {
	rc := loadRaw(t)
	var out bytes.Buffer
	lines, err := rc.decode(&out)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join(rawDir, "decoded.txt"))
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("decoded text differs from the capture's decoded.txt")
	}
	sameEvents(t, out.Bytes(), rc.text, 0)
	t.Logf("%d lines", lines)
}

// A page cut short, or whose commit, event lengths or padding point past
// its end, is an error that says where; never a panic.
func TestDecodeCorruptPages(t *testing.T) {
	rc := loadRaw(t)
	h := rc.dec.hdr
	page := make([]byte, rc.index[0][0].n)
	rc.pages.ReadAt(page, rc.index[0][0].off)
	setCommit := func(p []byte, n uint64) { binary.LittleEndian.PutUint64(p[h.CommitOff:], n) }
	cases := map[string]func() []byte{
		"cut in its header": func() []byte { return page[:h.DataOff-3] },
		"commit past the end": func() []byte {
			p := bytes.Clone(page)
			setCommit(p, uint64(len(p)))
			return p
		},
		"event past the commit": func() []byte {
			p := bytes.Clone(page)
			setCommit(p, 20)
			binary.LittleEndian.PutUint32(p[h.DataOff:], 28) // type_len 28: 112 bytes
			return p
		},
		"length word below its own size": func() []byte {
			p := bytes.Clone(page)
			binary.LittleEndian.PutUint32(p[h.DataOff:], 0)
			binary.LittleEndian.PutUint32(p[h.DataOff+4:], 2)
			return p
		},
		"padding past the commit": func() []byte {
			p := bytes.Clone(page)
			binary.LittleEndian.PutUint32(p[h.DataOff:], typePadding|1<<5)
			binary.LittleEndian.PutUint32(p[h.DataOff+4:], 1<<20)
			return p
		},
		"stray bytes": func() []byte {
			p := bytes.Clone(page)
			setCommit(p, 2)
			return p
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			err := decodePage(rc.dec, mk())
			if err == nil || !strings.Contains(err.Error(), "ring-buffer page") {
				t.Errorf("want a ring-buffer page error, got %v", err)
			}
		})
	}
	// A record of an event not enabled.
	p := bytes.Clone(page)
	it, _ := newPageIter(h, p)
	if _, rec, ok, _ := it.next(); ok {
		binary.LittleEndian.PutUint16(rec, 65000)
		if err := decodePage(rc.dec, p); err == nil || !strings.Contains(err.Error(), "not one enabled") {
			t.Errorf("unknown event type: %v", err)
		}
	}
}

// decodePage decodes every event of one page into lines.
func decodePage(d *decoder, page []byte) error {
	it, err := newPageIter(d.hdr, page)
	if err != nil {
		return err
	}
	var line []byte
	for {
		ts, rec, ok, err := it.next()
		if err != nil || !ok {
			return err
		}
		if line, err = d.appendLine(line[:0], 0, ts, rec); err != nil {
			return err
		}
	}
}

// FuzzDecodePage proves a page of any bytes decodes or fails, without a
// panic, in bounded work.
func FuzzDecodePage(f *testing.F) {
	rc := loadRaw(f)
	for _, refs := range rc.index {
		for _, p := range refs[:min(len(refs), 4)] {
			b := make([]byte, p.n)
			rc.pages.ReadAt(b, p.off)
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, page []byte) {
		decodePage(rc.dec, page)
	})
}

// BenchmarkDecode decodes the captured pages to text; b.SetBytes is the
// raw bytes, so MB/s is raw pages decoded a second.
func BenchmarkDecode(b *testing.B) {
	rc := loadRaw(b)
	var raw int64
	for _, refs := range rc.index {
		for _, p := range refs {
			raw += int64(p.n)
		}
	}
	b.SetBytes(raw)
	b.ResetTimer()
	lines := 0
	for i := 0; i < b.N; i++ {
		w := bufio.NewWriter(io.Discard)
		n, err := rc.decode(w)
		if err != nil {
			b.Fatal(err)
		}
		lines += n
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(lines), "ns/line")
}

// The events Follow gives target selection are those ParseLine gives for
// the decoded lines.
func TestEventsAreTheLinesEvents(t *testing.T) {
	rc := loadRaw(t)
	var line, fields []byte
	n := 0
	err := mergePages(rc.pages, rc.dec.hdr, rc.index, func(i int, ts uint64, rec []byte) error {
		var err error
		if line, err = rc.dec.appendLine(line[:0], rc.cpus[i], ts, rec); err != nil {
			return err
		}
		want, ok := ftrace.ParseLine(line[:len(line)-1])
		var got ftrace.Event
		if got, fields, err = rc.dec.event(fields[:0], rc.cpus[i], ts, rec); err != nil {
			return err
		}
		if !ok || got.Comm != want.Comm || got.PID != want.PID || got.TGID != want.TGID || got.CPU != want.CPU ||
			got.TimeNS != want.TimeNS || got.Name != want.Name || !bytes.Equal(got.Fields, want.Fields) {
			t.Errorf("event %+v, line %q", got, line)
			return io.EOF
		}
		n++
		return nil
	}, nil)
	if err != nil && err != io.EOF {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no events")
	}
}
