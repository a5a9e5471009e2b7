package procfs

import (
	"bytes"
	"strconv"
	"strings"
)

// KmsgRecord is one record read from /dev/kmsg
// (Documentation/ABI/testing/dev-kmsg): "prio,seq,usec,flags;text" plus
// continuation lines starting with a space that carry KEY=value pairs.
type KmsgRecord struct {
	Level    int // syslog level 0 (emerg) .. 7 (debug)
	Facility int
	Seq      uint64
	// Usec is the monotonic timestamp of the record in microseconds.
	Usec  uint64
	Flags string
	// Text is the message with the kernel's \xHH escapes decoded.
	Text string
	Dict map[string]string
}

// ParseKmsg parses records as the collector stored them. Malformed lines
// are skipped: a log tail can start mid-record.
func ParseKmsg(b []byte) []KmsgRecord {
	var out []KmsgRecord
	eachLine(b, func(l []byte, n int) error {
		if l[0] == ' ' {
			if len(out) > 0 {
				k, v, ok := bytes.Cut(bytes.TrimSpace(l), []byte{'='})
				if ok {
					r := &out[len(out)-1]
					if r.Dict == nil {
						r.Dict = map[string]string{}
					}
					r.Dict[string(k)] = string(v)
				}
			}
			return nil
		}
		head, text, ok := bytes.Cut(l, []byte{';'})
		if !ok {
			return nil
		}
		f := bytes.Split(head, []byte{','})
		if len(f) < 3 {
			return nil
		}
		prio, err1 := strconv.Atoi(string(f[0]))
		seq, err2 := strconv.ParseUint(string(f[1]), 10, 64)
		usec, err3 := strconv.ParseUint(string(f[2]), 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil
		}
		r := KmsgRecord{Level: prio & 7, Facility: prio >> 3, Seq: seq, Usec: usec, Text: unescapeKmsg(string(text))}
		if len(f) > 3 {
			r.Flags = string(f[3])
		}
		out = append(out, r)
		return nil
	})
	return out
}

// unescapeKmsg decodes the \xHH escapes the kernel uses for non-printable
// bytes and backslash.
func unescapeKmsg(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) && s[i+1] == 'x' {
			if v, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
