package blocktrace

import (
	"fmt"
	"strconv"

	"github.com/iorca/iorca/internal/ftrace"
)

// decoder turns ring-buffer records into the lines trace_pipe prints
// (kernel/trace/trace_output.c trace_print_context, with the options an
// instance has by default plus record-tgid).
type decoder struct {
	hdr      pageHeader
	printers map[uint16]*printer
	comms    *comms
	// tgid: the instance records each thread's process (record-tgid),
	// so lines carry "(TGID)".
	tgid bool
	// jiffies at a mono time, for writeback_single_inode's age=.
	jiffies jiffiesRef
}

// jiffiesRef is the jiffies count read at a CLOCK_MONOTONIC time; ok is
// false when /proc/timer_list could not be read (age= is then 0).
type jiffiesRef struct {
	j    uint64
	mono int64
	ok   bool
}

// at is the jiffies count at mono time ts for HZ hz. trace_pipe prints
// age= as of when it reads the event, a moment after it; the decoder
// prints it as of the event.
func (r jiffiesRef) at(ts uint64, hz int64) uint64 {
	if !r.ok {
		return 0
	}
	return uint64(int64(r.j) + (int64(ts)-r.mono)*hz/1e9)
}

// newDecoder compiles the events' formats; an event whose print fmt it
// cannot interpret is an error (the caller reads trace_pipe instead).
func newDecoder(hdrPage, hdrEvent []byte, formats [][]byte, c *comms, tgid bool, j jiffiesRef) (*decoder, error) {
	h, err := parseHeaderPage(hdrPage)
	if err != nil {
		return nil, err
	}
	if err := checkHeaderEvent(hdrEvent); err != nil {
		return nil, err
	}
	d := &decoder{hdr: h, printers: map[uint16]*printer{}, comms: c, tgid: tgid, jiffies: j}
	for _, b := range formats {
		f, err := parseFormat(b)
		if err != nil {
			return nil, err
		}
		p, err := newPrinter(f)
		if err != nil {
			return nil, err
		}
		d.printers[f.ID] = p
	}
	return d, nil
}

// eventName is the name of a record's event, "" for one not known.
func (d *decoder) eventName(rec []byte) string {
	if len(rec) < 2 {
		return ""
	}
	if p := d.printers[uint16(rec[0])|uint16(rec[1])<<8]; p != nil {
		return p.name
	}
	return ""
}

// appendLine appends one record's line. A record of an event not enabled
// by the capture (none should be in a private instance) or too short for
// its common fields is an error.
func (d *decoder) appendLine(dst []byte, cpu int, ts uint64, rec []byte) ([]byte, error) {
	if len(rec) < 8 {
		return dst, fmt.Errorf("cpu %d: record of %d bytes, shorter than the common fields", cpu, len(rec))
	}
	id := uint16(rec[0]) | uint16(rec[1])<<8
	p := d.printers[id]
	if p == nil {
		return dst, fmt.Errorf("cpu %d: record of event type %d, not one enabled", cpu, id)
	}
	pid := int(int32(uintOf(p.pid, rec)))
	comm, tgid := d.comms.lookup(pid)
	dst = appendPadLeft(dst, comm, 16)
	dst = append(dst, '-')
	n := len(dst)
	dst = strconv.AppendInt(dst, int64(pid), 10)
	for len(dst)-n < 7 {
		dst = append(dst, ' ')
	}
	dst = append(dst, ' ')
	if d.tgid {
		if tgid == 0 {
			dst = append(dst, "(-------) "...)
		} else {
			dst = append(dst, '(')
			dst = appendPadLeft(dst, strconv.Itoa(tgid), 7)
			dst = append(dst, ") "...)
		}
	}
	dst = append(dst, '[')
	if cpu < 100 {
		dst = append(dst, '0')
	}
	if cpu < 10 {
		dst = append(dst, '0')
	}
	dst = strconv.AppendInt(dst, int64(cpu), 10)
	dst = append(dst, "] "...)
	dst = appendLatency(dst, uint8(uintOf(p.flags, rec)), uint8(uintOf(p.preempt, rec)))
	// ns2usecs rounds to the microsecond; then " %5lu.%06lu".
	us := (ts + 500) / 1000
	dst = append(dst, ' ')
	dst = appendPadLeft(dst, strconv.FormatUint(us/1e6, 10), 5)
	dst = append(dst, '.')
	frac := strconv.FormatUint(us%1e6, 10)
	for i := len(frac); i < 6; i++ {
		dst = append(dst, '0')
	}
	dst = append(dst, frac...)
	dst = append(dst, ": "...)
	dst = append(dst, p.name...)
	dst = append(dst, ": "...)
	dst = p.print(dst, rec, ts, d.jiffies)
	return append(dst, '\n'), nil
}

// event is a record as ParseLine would give its line, without making the
// line: for target selection, which needs the events, not the text. The
// event's Fields are appended to buf.
func (d *decoder) event(buf []byte, cpu int, ts uint64, rec []byte) (ftrace.Event, []byte, error) {
	if len(rec) < 8 {
		return ftrace.Event{}, buf, fmt.Errorf("cpu %d: record of %d bytes, shorter than the common fields", cpu, len(rec))
	}
	p := d.printers[uint16(rec[0])|uint16(rec[1])<<8]
	if p == nil {
		return ftrace.Event{}, buf, fmt.Errorf("cpu %d: record of an event not enabled", cpu)
	}
	pid := int(int32(uintOf(p.pid, rec)))
	comm, tgid := d.comms.lookup(pid)
	if !d.tgid {
		tgid = 0
	}
	buf = p.print(buf, rec, ts, d.jiffies)
	// The line's time is in microseconds (ns2usecs rounds).
	us := (int64(ts) + 500) / 1000
	return ftrace.Event{Comm: comm, PID: pid, TGID: tgid, CPU: cpu, TimeNS: us * 1000, Name: p.name, Fields: buf}, buf, nil
}

func appendPadLeft(dst []byte, s string, w int) []byte {
	for i := len(s); i < w; i++ {
		dst = append(dst, ' ')
	}
	return append(dst, s...)
}

// The entry's flags (kernel/trace/trace.h TRACE_FLAG_*).
const (
	flagIrqsOff       = 0x01
	flagReschedLazy   = 0x02
	flagNeedResched   = 0x04
	flagHardirq       = 0x08
	flagSoftirq       = 0x10
	flagPreemptResced = 0x20
	flagNMI           = 0x40
	flagBHOff         = 0x80
)

// appendLatency prints the irq-info column as trace_print_lat_fmt does:
// irqs-off, need-resched, hard/softirq, preempt depth, migrate-disable.
func appendLatency(dst []byte, flags, preempt uint8) []byte {
	irqs := byte('.')
	switch {
	case flags&flagIrqsOff != 0 && flags&flagBHOff != 0:
		irqs = 'D'
	case flags&flagIrqsOff != 0:
		irqs = 'd'
	case flags&flagBHOff != 0:
		irqs = 'b'
	}
	resched := byte('.')
	switch flags & (flagNeedResched | flagReschedLazy | flagPreemptResced) {
	case flagNeedResched | flagReschedLazy | flagPreemptResced:
		resched = 'B'
	case flagNeedResched | flagPreemptResced:
		resched = 'N'
	case flagReschedLazy | flagPreemptResced:
		resched = 'L'
	case flagNeedResched | flagReschedLazy:
		resched = 'b'
	case flagNeedResched:
		resched = 'n'
	case flagPreemptResced:
		resched = 'p'
	case flagReschedLazy:
		resched = 'l'
	}
	nmi, hard, soft := flags&flagNMI != 0, flags&flagHardirq != 0, flags&flagSoftirq != 0
	irq := byte('.')
	switch {
	case nmi && hard:
		irq = 'Z'
	case nmi:
		irq = 'z'
	case hard && soft:
		irq = 'H'
	case hard:
		irq = 'h'
	case soft:
		irq = 's'
	}
	dst = append(dst, irqs, resched, irq)
	if preempt&0xf != 0 {
		dst = strconv.AppendUint(dst, uint64(preempt&0xf), 16)
	} else {
		dst = append(dst, '.')
	}
	if preempt&0xf0 != 0 {
		dst = strconv.AppendUint(dst, uint64(preempt>>4), 16)
	} else {
		dst = append(dst, '.')
	}
	return dst
}

// appendLost is trace_pipe's notice of events lost before a page.
func appendLost(dst []byte, cpu int, lost int64) []byte {
	dst = append(dst, "CPU:"...)
	dst = strconv.AppendInt(dst, int64(cpu), 10)
	if lost < 0 {
		return append(dst, " [LOST EVENTS]\n"...)
	}
	dst = append(dst, " [LOST "...)
	dst = strconv.AppendInt(dst, lost, 10)
	return append(dst, " EVENTS]\n"...)
}
