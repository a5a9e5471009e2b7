package bundle

import (
	"bytes"
	"fmt"
	"iter"
	"strconv"
	"strings"
)

// Frame is one captured file inside a frames member. Many small files read
// at the same moment (every process's /proc/PID/io in one tick) are kept as
// one member of frames rather than thousands of tiny members; each frame
// still holds the file's bytes exactly as read.
//
// On the wire a frame is a header line and the data:
//
//	F <status> <mono_ns> <size> <path>\n<size bytes>\n
//
// The path runs to the end of the header line; a newline or backslash in it
// is written as the octal escape \012 or \134, as the kernel does in
// mountinfo. For a status other than ok or partial, Data holds the error
// text instead of file content.
type Frame struct {
	Path   string
	Status Status
	// MonoNS is CLOCK_MONOTONIC when the read finished.
	MonoNS int64
	Data   []byte
}

// maxFrameHeader bounds a header line: "F", status, two numbers, a path.
const maxFrameHeader = 64 + 4*maxNameLen

var pathEscaper = strings.NewReplacer("\\", `\134`, "\n", `\012`)
var pathUnescaper = strings.NewReplacer(`\134`, "\\", `\012`, "\n")

// unescapePath undoes pathEscaper; a path with no escape (nearly all) is
// returned as it is, without the replacer's copy.
func unescapePath(p string) string {
	if !strings.Contains(p, `\`) {
		return p
	}
	return pathUnescaper.Replace(p)
}

// AppendFrame appends the encoding of f to dst.
func AppendFrame(dst []byte, f Frame) []byte {
	dst = append(dst, "F "...)
	dst = append(dst, f.Status...)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, f.MonoNS, 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(len(f.Data)), 10)
	dst = append(dst, ' ')
	dst = append(dst, pathEscaper.Replace(f.Path)...)
	dst = append(dst, '\n')
	dst = append(dst, f.Data...)
	return append(dst, '\n')
}

// Frames iterates over the frames encoded in b. Each frame's Data aliases b.
// Iteration stops at the first malformed frame, which is yielded as an error
// naming its byte offset.
func Frames(b []byte) iter.Seq2[Frame, error] {
	return (&FrameDecoder{once: true}).Frames(b)
}

// FrameDecoder iterates frames as Frames does, and makes each distinct
// path string once for all the members it decodes: a capture names the
// same few thousand files in every tick, so a long one would otherwise
// allocate a path per frame millions of times. Its zero value is ready;
// it is not safe for concurrent use.
type FrameDecoder struct {
	// once is a decoder of one member (the function Frames): nothing to
	// remember paths for.
	once  bool
	paths map[string]rawPath
	// last holds the raw and decoded paths of the last member's frames
	// in order, next those of this one: consecutive ticks list the same
	// files in the same order, so a path is mostly found by comparing
	// it with the one at its place in the last member.
	last, next []rawPath
}

type rawPath struct{ raw, path string }

// maxInterned bounds the decoder's paths; past it the table starts again
// (a node whose PIDs churn names new files every tick).
const maxInterned = 1 << 16

// Frames iterates over the frames encoded in b, as the function Frames.
func (d *FrameDecoder) Frames(b []byte) iter.Seq2[Frame, error] {
	return func(yield func(Frame, error) bool) {
		d.last, d.next = d.next, d.last[:0]
		off := 0
		for off < len(b) {
			f, n, err := d.parseFrame(b[off:])
			if err != nil {
				yield(Frame{}, fmt.Errorf("frame at byte %d: %w", off, err))
				return
			}
			if !yield(f, nil) {
				return
			}
			off += n
		}
	}
}

// path returns the unescaped path of a header's raw path bytes.
func (d *FrameDecoder) path(raw []byte) string {
	if d.once {
		return unescapePath(string(raw))
	}
	if i := len(d.next); i < len(d.last) && d.last[i].raw == string(raw) {
		d.next = append(d.next, d.last[i])
		return d.last[i].path
	}
	rp, ok := d.paths[string(raw)]
	if !ok {
		if d.paths == nil || len(d.paths) >= maxInterned {
			d.paths = make(map[string]rawPath, 1024)
		}
		rp.raw = string(raw)
		rp.path = unescapePath(rp.raw)
		d.paths[rp.raw] = rp
	}
	d.next = append(d.next, rp)
	return rp.path
}

// ParseFrames decodes all frames in b.
func ParseFrames(b []byte) ([]Frame, error) {
	var out []Frame
	for f, err := range Frames(b) {
		if err != nil {
			return out, err
		}
		out = append(out, f)
	}
	return out, nil
}

func (d *FrameDecoder) parseFrame(b []byte) (Frame, int, error) {
	limit := min(len(b), maxFrameHeader)
	nl := bytes.IndexByte(b[:limit], '\n')
	if nl < 0 {
		return Frame{}, 0, fmt.Errorf("no header line in the first %d bytes", limit)
	}
	// The header is read in place, in one pass: a member holds a frame
	// per file of every process, so it is parsed millions of times in a
	// long capture, and only the path (interned) becomes a string.
	h := b[:nl]
	bad := func() (Frame, int, error) {
		return Frame{}, 0, fmt.Errorf("header %q: want \"F status mono size path\"", h)
	}
	if len(h) < 2 || h[0] != 'F' || h[1] != ' ' {
		return bad()
	}
	rest := h[2:]
	sp := bytes.IndexByte(rest, ' ')
	if sp < 0 {
		return bad()
	}
	st, ok := statusOf(rest[:sp])
	if !ok {
		return Frame{}, 0, fmt.Errorf("header: unknown status %q", rest[:sp])
	}
	rest = rest[sp+1:]
	mono, n, ok := leadingDecimal(rest, true)
	if !ok {
		return Frame{}, 0, fmt.Errorf("header %q: mono_ns is not a number", h)
	}
	rest = rest[n:]
	size, n, ok := leadingDecimal(rest, false)
	if !ok {
		return Frame{}, 0, fmt.Errorf("header %q: bad size", h)
	}
	pathBytes := rest[n:]
	start := nl + 1
	if size > int64(len(b)-start-1) {
		return Frame{}, 0, fmt.Errorf("size %d runs past the end of the member", size)
	}
	end := start + int(size)
	if b[end] != '\n' {
		return Frame{}, 0, fmt.Errorf("data of %q is not followed by a newline", pathBytes)
	}
	f := Frame{
		Path:   d.path(pathBytes),
		Status: st,
		MonoNS: mono,
		Data:   b[start:end:end],
	}
	return f, end + 1, nil
}

// statusOf returns the status a header names, without making a string of
// it.
func statusOf(b []byte) (Status, bool) {
	for _, s := range [...]Status{StatusOK, StatusPartial, StatusAbsent, StatusDenied, StatusTimeout, StatusFailed} {
		if string(b) == string(s) {
			return s, true
		}
	}
	return "", false
}

// leadingDecimal parses the decimal number at the start of b and the
// space after it, returning how many bytes both took; negative only where
// signed allows. Up to 18 digits, which no 64-bit clock or size exceeds,
// so there is no overflow to check.
func leadingDecimal(b []byte, signed bool) (int64, int, bool) {
	i, neg := 0, false
	if signed && len(b) > 0 && b[0] == '-' {
		i, neg = 1, true
	}
	start := i
	var n int64
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int64(b[i]-'0')
	}
	if digits := i - start; digits == 0 || digits > 18 || i >= len(b) || b[i] != ' ' {
		return 0, 0, false
	}
	if neg {
		n = -n
	}
	return n, i + 1, true
}
