package blocktrace

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// field is one field of an event's record, from its format file:
//
//	field:unsigned int nr_sector;	offset:24;	size:4;	signed:0;
type field struct {
	Name         string
	Offset, Size int
	Signed       bool
	// DataLoc is a __data_loc field: a u32 whose low 16 bits are the
	// offset of the data in the record and high 16 bits its length.
	DataLoc bool
}

// eventFormat is an event's format file (events/SYSTEM/NAME/format):
// its type id in the ring buffer, its fields and its print format.
type eventFormat struct {
	Name   string
	ID     uint16
	Fields map[string]field
	// Print is the quoted format string of "print fmt:", Args the C
	// expressions after it, as the kernel gives them.
	Print, Args string
}

// parseFormat parses a format file; it needs the name, the id and the
// fields, and keeps the print format to check that the decoder knows it.
func parseFormat(b []byte) (eventFormat, error) {
	f := eventFormat{Fields: map[string]field{}}
	haveID := false
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "name:"):
			f.Name = strings.TrimSpace(l[len("name:"):])
		case strings.HasPrefix(l, "ID:"):
			id, err := strconv.ParseUint(strings.TrimSpace(l[len("ID:"):]), 10, 16)
			if err != nil {
				return f, fmt.Errorf("format of %s: bad ID line %q", f.Name, l)
			}
			f.ID, haveID = uint16(id), true
		case strings.HasPrefix(l, "field:"):
			fd, err := parseField(l)
			if err != nil {
				return f, fmt.Errorf("format of %s: %w", f.Name, err)
			}
			f.Fields[fd.Name] = fd
		case strings.HasPrefix(l, "print fmt:"):
			p := strings.TrimSpace(l[len("print fmt:"):])
			end := closingQuote(p)
			if end < 0 {
				return f, fmt.Errorf("format of %s: unterminated print fmt", f.Name)
			}
			f.Print = p[1:end]
			f.Args = strings.TrimSpace(strings.TrimPrefix(p[end+1:], ","))
		}
	}
	if f.Name == "" || !haveID {
		return f, fmt.Errorf("format %.40q: no name or ID", b)
	}
	return f, nil
}

// closingQuote is the index of the quote that ends the string p starts
// with, or -1.
func closingQuote(p string) int {
	if !strings.HasPrefix(p, `"`) {
		return -1
	}
	for i := 1; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// parseField parses "field:TYPE NAME[N];	offset:O;	size:S;	signed:X;".
func parseField(l string) (field, error) {
	var fd field
	parts := strings.Split(l, ";")
	if len(parts) < 3 {
		return fd, fmt.Errorf("field line %q: want offset and size", l)
	}
	decl := strings.TrimSpace(strings.TrimPrefix(parts[0], "field:"))
	fd.DataLoc = strings.HasPrefix(decl, "__data_loc")
	name := decl[strings.LastIndexAny(decl, " \t*")+1:]
	if i := strings.IndexByte(name, '['); i >= 0 {
		name = name[:i]
	}
	fd.Name = name
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(strings.TrimSpace(p), ":")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return fd, fmt.Errorf("field %s: bad %s %q", name, k, v)
		}
		switch k {
		case "offset":
			fd.Offset = n
		case "size":
			fd.Size = n
		case "signed":
			fd.Signed = n == 1
		}
	}
	if fd.Name == "" || fd.Size <= 0 || fd.Offset < 0 {
		return fd, fmt.Errorf("field line %q: no name or size", l)
	}
	return fd, nil
}

// pageHeader is the layout of a ring-buffer page (events/header_page):
// a u64 timestamp, the commit word (the data's length, with flags in its
// top bits) and the data.
type pageHeader struct {
	TimestampOff, CommitOff, CommitSize, DataOff int
}

// parseHeaderPage parses events/header_page:
//
//	field: u64 timestamp;	offset:0;	size:8;	signed:0;
//	field: local_t commit;	offset:8;	size:8;	signed:1;
//	field: int overwrite;	offset:8;	size:1;	signed:1;
//	field: char data;	offset:16;	size:4080;	signed:0;
func parseHeaderPage(b []byte) (pageHeader, error) {
	var h pageHeader
	seen := 0
	for _, l := range bytes.Split(b, []byte("\n")) {
		l = bytes.TrimSpace(l)
		if !bytes.HasPrefix(l, []byte("field:")) {
			continue
		}
		fd, err := parseField(string(l))
		if err != nil {
			return h, fmt.Errorf("header_page: %w", err)
		}
		switch fd.Name {
		case "timestamp":
			h.TimestampOff, seen = fd.Offset, seen|1
		case "commit":
			h.CommitOff, h.CommitSize, seen = fd.Offset, fd.Size, seen|2
		case "data":
			h.DataOff, seen = fd.Offset, seen|4
		}
	}
	if seen != 7 || (h.CommitSize != 4 && h.CommitSize != 8) {
		return h, fmt.Errorf("header_page: want timestamp, commit (4 or 8 bytes) and data, got %q", b)
	}
	return h, nil
}

// checkHeaderEvent checks that events/header_event describes the event
// header this decoder reads: type_len 5 bits, time_delta 27 bits, array
// 32 bits; 29 padding, 30 time extend, 31 absolute time stamp.
func checkHeaderEvent(b []byte) error {
	s := strings.Join(strings.Fields(string(b)), " ")
	for _, want := range []string{"type_len : 5 bits", "time_delta : 27 bits", "array : 32 bits",
		"padding : type == 29", "time_extend : type == 30", "time_stamp : type == 31"} {
		if !strings.Contains(s, want) {
			return fmt.Errorf("header_event: no %q: an event header this decoder does not know", want)
		}
	}
	return nil
}
