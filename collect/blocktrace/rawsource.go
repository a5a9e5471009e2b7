package blocktrace

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/iorca/iorca/collect/capture"
	"github.com/iorca/iorca/collect/spill"
	"github.com/iorca/iorca/internal/ftrace"
)

// rawSource reads each CPU's trace_pipe_raw: whole ring-buffer pages,
// which the kernel hands over without formatting a line (the text of
// trace_pipe costs the traced workload several times more). The pages go
// to a spill file as they are; they are decoded into trace_pipe's lines
// after the capture, and, for the events target selection weighs only,
// as it asks (Follow).
type rawSource struct {
	cpus     []int
	fds      []int
	pageSize int
	buf      []byte
	max      int64
	dec      *decoder
	pages    *spill.File
	root     string
	// headers are header_page and header_event, and named the comms of
	// the final decode, kept for the tests' captures.
	headers [2][]byte
	named   *comms

	mu    sync.Mutex
	index [][]pageRef // by position in cpus
	raw   int64
	// followed is how many pages of each CPU Follow has decoded.
	followed []int
}

// openRaw opens every CPU's trace_pipe_raw and compiles the decoder from
// the instance's header and format files; any failure is the reason to
// read trace_pipe instead.
func openRaw(inst *instance, root string, formats [][]byte, tgid bool, sp *spill.File, cfg Config) (*rawSource, error) {
	hp, err := readEventsFile(inst, root, "header_page")
	if err != nil {
		return nil, err
	}
	he, err := readEventsFile(inst, root, "header_event")
	if err != nil {
		return nil, err
	}
	dec, err := newDecoder(hp, he, formats, &comms{comm: map[int]string{}, tgid: map[int]int{}}, tgid, readJiffies())
	if err != nil {
		return nil, err
	}
	cpus, err := inst.cpus()
	if err != nil {
		return nil, err
	}
	r := &rawSource{cpus: cpus, max: cfg.MaxBytes, dec: dec, pages: sp, root: root, pageSize: os.Getpagesize(), headers: [2][]byte{hp, he},
		index: make([][]pageRef, len(cpus)), followed: make([]int, len(cpus))}
	// A sub-buffer may be set larger than a page (6.8 and later).
	if b, err := inst.read("buffer_subbuf_size_kb"); err == nil {
		if kb, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && kb > 0 {
			r.pageSize = kb << 10
		}
	}
	r.buf = make([]byte, r.pageSize)
	for _, c := range cpus {
		p := inst.path(filepath.Join("per_cpu", "cpu"+strconv.Itoa(c), "trace_pipe_raw"))
		fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		if err != nil {
			r.closeFiles()
			return nil, fmt.Errorf("open %s: %w", p, err)
		}
		r.fds = append(r.fds, fd)
	}
	return r, nil
}

// readEventsFile reads events/NAME of the instance, or of the top level
// on kernels whose instances have none.
func readEventsFile(inst *instance, root, name string) ([]byte, error) {
	b, err := inst.read(filepath.Join("events", name))
	if err != nil {
		b, err = readBounded(filepath.Join(root, "events", name), 1<<16)
	}
	if err != nil {
		return nil, fmt.Errorf("read events/%s: %w", name, err)
	}
	return b, nil
}

// readJiffies pairs the jiffies count (/proc/timer_list) with the
// monotonic clock, for writeback_single_inode's age=.
func readJiffies() jiffiesRef {
	mono := capture.Mono()
	b, err := readBounded("/proc/timer_list", 64<<10)
	if err != nil {
		return jiffiesRef{}
	}
	_, v, ok := strings.Cut(string(b), "\njiffies: ")
	if !ok {
		return jiffiesRef{}
	}
	v, _, _ = strings.Cut(v, "\n")
	j, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	return jiffiesRef{j: j, mono: mono, ok: err == nil}
}

// pagesPerRound bounds the pages read from one CPU before the next CPU's,
// so that a busy CPU does not starve the others' readers.
const pagesPerRound = 64

// read reads every CPU's pages; it reports more only when a CPU gave a
// full page, a backlog to read again at once. A reader that caught up
// with the writer gets the few events committed so far, a page at a time:
// reading again at once would spin on such pages, costing the CPU the
// trace is meant to spare.
func (r *rawSource) read() (bool, error) {
	more := false
	for i, fd := range r.fds {
		for n := 0; n < pagesPerRound; n++ {
			k, err := syscall.Read(fd, r.buf)
			if err != nil {
				if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
					break
				}
				return more, fmt.Errorf("read cpu%d/trace_pipe_raw: %w", r.cpus[i], err)
			}
			if k <= 0 {
				break
			}
			kept, err := r.add(i, r.buf[:k])
			if err != nil {
				return more, err
			}
			if kept < k/2 {
				break // caught up: the rest of this CPU's events at the next poll
			}
			more = true
		}
	}
	return more, nil
}

// add spills one page, cut after its committed data (and the count of
// lost events the kernel may store after it), and returns the bytes kept.
func (r *rawSource) add(i int, page []byte) (int, error) {
	h := r.dec.hdr
	if len(page) < h.DataOff {
		return 0, fmt.Errorf("cpu%d/trace_pipe_raw: a read of %d bytes, shorter than a page header", r.cpus[i], len(page))
	}
	commit := binary.LittleEndian.Uint32(page[h.CommitOff:])
	n := h.DataOff + int(commit&0x0fffffff)
	if commit&missedStored != 0 {
		n += 8
	}
	n = min(n, len(page))
	if n <= h.DataOff && commit&(missedEvents|missedStored) == 0 {
		return 0, nil // an empty page
	}
	if r.raw+int64(n) > r.max {
		return 0, errBudget
	}
	off, err := r.pages.Append(page[:n])
	if err != nil {
		return 0, fmt.Errorf("spill the trace: %w", err)
	}
	r.mu.Lock()
	r.index[i] = append(r.index[i], pageRef{off: off, n: int32(n)})
	r.raw += int64(n)
	r.mu.Unlock()
	return n, nil
}

// followMax bounds the pages of one CPU that one follow decodes: the
// newest of those read since the last call. Ranking processes by device
// time needs a fair sample of the requests, not every one; decoding all
// of them at hundreds of thousands a second cost the traced workload a
// fifth of its rate for the half second each look took.
const followMax = 2 << 20

// follow decodes the pages read since its last call (at most followMax
// bytes of each CPU's newest), the events Follow gives only.
// Each call merges its own pages by time; an event near the end of one
// call's pages may be ordered after the next call's first events of
// another CPU, which costs target selection a request or two, no more.
func (r *rawSource) follow(fn func(ftrace.Event)) error {
	r.mu.Lock()
	todo := make([][]pageRef, len(r.index))
	for i, pages := range r.index {
		from, sum := len(pages), int64(0)
		for from > r.followed[i] && sum+int64(pages[from-1].n) <= followMax {
			from--
			sum += int64(pages[from].n)
		}
		todo[i] = pages[from:len(pages):len(pages)]
		r.followed[i] = len(pages)
	}
	r.mu.Unlock()
	d := *r.dec
	d.comms = readComms(r.root, true)
	var fields []byte
	return mergePages(r.pages, d.hdr, todo, func(i int, ts uint64, rec []byte) error {
		if !followed(d.eventName(rec)) {
			return nil
		}
		var e ftrace.Event
		var err error
		if e, fields, err = d.event(fields[:0], r.cpus[i], ts, rec); err == nil {
			fn(e)
		}
		return nil
	}, nil)
}

// finish decodes every page into the text, in a second spill.
func (r *rawSource) finish(c *comms) (*spill.File, int, int64, error) {
	r.mu.Lock()
	all := make([][]pageRef, len(r.index))
	copy(all, r.index)
	raw := r.raw
	r.mu.Unlock()
	d := *r.dec
	if c != nil {
		d.comms, r.named = c, c
	}
	text := spill.New(r.pages.Dir) // in memory when the pages are
	w := bufio.NewWriterSize(text, 256<<10)
	lines := 0
	var line []byte
	err := mergePages(r.pages, d.hdr, all, func(i int, ts uint64, rec []byte) error {
		var err error
		if line, err = d.appendLine(line[:0], r.cpus[i], ts, rec); err != nil {
			return err
		}
		lines++
		_, err = w.Write(line)
		return err
	}, func(i int, n int64) error {
		_, err := w.Write(appendLost(line[:0], r.cpus[i], n))
		return err
	})
	if ferr := w.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("spill the decoded trace: %w", ferr)
	}
	if err != nil {
		err = fmt.Errorf("decode the raw trace: %w", err)
	}
	return text, lines, raw, err
}

func (r *rawSource) closeFiles() {
	for _, fd := range r.fds {
		syscall.Close(fd)
	}
	r.fds = nil
}

func (r *rawSource) close() {
	r.closeFiles()
	r.pages.Close()
}
