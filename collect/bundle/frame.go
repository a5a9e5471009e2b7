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
	return func(yield func(Frame, error) bool) {
		off := 0
		for off < len(b) {
			f, n, err := parseFrame(b[off:])
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

func parseFrame(b []byte) (Frame, int, error) {
	limit := min(len(b), maxFrameHeader)
	nl := bytes.IndexByte(b[:limit], '\n')
	if nl < 0 {
		return Frame{}, 0, fmt.Errorf("no header line in the first %d bytes", limit)
	}
	// One string for the header, cut in place: a member holds a frame
	// per file of every process, so the header is parsed millions of
	// times in a long capture.
	header := string(b[:nl])
	var fields [5]string
	rest := header
	for i := 0; i < 4; i++ {
		f, r, ok := strings.Cut(rest, " ")
		if !ok {
			return Frame{}, 0, fmt.Errorf("header %q: want \"F status mono size path\"", b[:nl])
		}
		fields[i], rest = f, r
	}
	fields[4] = rest
	if fields[0] != "F" {
		return Frame{}, 0, fmt.Errorf("header %q: want \"F status mono size path\"", b[:nl])
	}
	st := Status(fields[1])
	if !st.Valid() {
		return Frame{}, 0, fmt.Errorf("header: unknown status %q", fields[1])
	}
	mono, err := strconv.ParseInt(fields[2], 10, 64)
	if err != nil {
		return Frame{}, 0, fmt.Errorf("header: mono_ns: %w", err)
	}
	size, err := strconv.ParseInt(fields[3], 10, 64)
	if err != nil || size < 0 {
		return Frame{}, 0, fmt.Errorf("header: bad size %q", fields[3])
	}
	start := nl + 1
	if size > int64(len(b)-start-1) {
		return Frame{}, 0, fmt.Errorf("size %d runs past the end of the member", size)
	}
	end := start + int(size)
	if b[end] != '\n' {
		return Frame{}, 0, fmt.Errorf("data of %q is not followed by a newline", fields[4])
	}
	f := Frame{
		Path:   unescapePath(fields[4]),
		Status: st,
		MonoNS: mono,
		Data:   b[start:end:end],
	}
	return f, end + 1, nil
}
