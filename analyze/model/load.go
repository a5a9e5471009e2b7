package model

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/procfs"
	"github.com/iorca/iorca/internal/safefile"
)

// LoadFile reads and models the bundle at path, streaming it through a
// bundle.Reader (LoadReader) bounded by lim. Its error is one line that
// names the file and the problem: not a bundle, truncated, corrupt,
// hostile, not a regular file (a FIFO would block the read forever:
// safefile.OpenRegular); it wraps the reader's error (errors.Is(err,
// bundle.ErrTooLarge)).
func LoadFile(path string, lim bundle.Limits) (*Model, error) {
	return loadFile(path, lim, false)
}

func loadFile(path string, lim bundle.Limits, salvage bool) (*Model, error) {
	f, err := safefile.OpenRegular(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s: %w", path, pe.Err)
		}
		return nil, fmt.Errorf("%s: %s", path, oneLine(err.Error()))
	}
	defer f.Close()
	rd, err := bundle.NewReader(bufio.NewReaderSize(f, 1<<16), lim)
	if err != nil {
		if salvage && errors.Is(err, bundle.ErrTruncated) {
			err = fmt.Errorf("%w (nothing to salvage: the manifest, which lists and verifies every member, was not read whole)", err)
		}
		return nil, &fileError{path, err}
	}
	defer rd.Close()
	m, err := load(rd, salvage)
	if err != nil {
		return nil, &fileError{path, err}
	}
	return m, nil
}

// fileError is a bundle's error on one line, after the bundle's path.
type fileError struct {
	path string
	err  error
}

func (e *fileError) Error() string { return e.path + ": " + oneLine(e.err.Error()) }
func (e *fileError) Unwrap() error { return e.err }

// oneLine folds an error's text onto one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// LoadReader builds the model of a bundle as it streams from rd: each
// member is parsed as it arrives and let go, so that memory follows the
// model rather than the bundle. A strace trace is parsed and summarised
// as it arrives, and only the lines its summary cites are kept (the report
// quotes them), so that a trace costs its parse once, not its text for the
// whole load. A member that fails the reader's checks
// ends the load with the reader's error. The reader reads ahead in its
// own goroutine (bundle.Reader.Prefetch): the caller must Close it.
func LoadReader(rd *bundle.Reader) (*Model, error) { return load(rd, false) }

// LoadSalvage is LoadFile for a damaged bundle (cut short in an upload,
// say): where the archive is truncated or a member fails its checksum,
// the model is built from whatever members were read and verified before
// it, and Model.Salvaged says what was lost. The members come in the
// order bundle's members.go gives (statics, targets, traces, ticks), so
// an early cut may leave the host and the traces but no tick: the model
// then has no rates, and says so (Salvage.TicksRead). A bundle that is
// not one, is hostile, or was cut before its manifest was read whole is
// refused as LoadFile refuses it: without the manifest nothing can be
// verified.
func LoadSalvage(path string, lim bundle.Limits) (*Model, error) {
	return loadFile(path, lim, true)
}

func load(rd *bundle.Reader, salvage bool) (*Model, error) {
	// Nothing keeps a member's bytes but aside, which takes them from
	// the reader (Keep), so the reader may reuse its buffers.
	rd.Prefetch()
	l := newLoader(rd.Manifest)
	l.aside.keep = rd.Keep
	defer l.aside.wait()
	read := map[string]bool{}
	for {
		name, data, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return l.finish(), nil
		}
		if err != nil {
			if salvage && salvageable(err) {
				return l.salvage(err, read), nil
			}
			return nil, err
		}
		if err := l.member(name, data); err != nil {
			return nil, err
		}
		read[name] = true
	}
}

// salvageable is damage a salvage reads past: the archive cut short, or
// a member whose bytes do not match the manifest (it is not used).
func salvageable(err error) bool {
	return errors.Is(err, bundle.ErrTruncated) || errors.Is(err, bundle.ErrCorrupt) || errors.Is(err, bundle.ErrChecksum)
}

// salvage finishes the model from the members read before damage,
// however few: the manifest alone still names the host, the targets and
// what was lost.
func (l *loader) salvage(damage error, read map[string]bool) *Model {
	sv := &Salvage{Damage: oneLine(damage.Error())}
	for _, mem := range l.m.Manifest.Members {
		isTick := bundle.KindOf(mem.Name) == bundle.KindTick
		if isTick {
			sv.TicksListed++
		}
		switch {
		case !read[mem.Name]:
			sv.Missing = append(sv.Missing, mem.Name)
		case isTick:
			sv.TicksRead++
		}
	}
	m := l.finish()
	m.Salvaged = sv
	return m
}

func newLoader(man *bundle.Manifest) *loader {
	l := &loader{
		m: &Model{Manifest: man, Sysctl: map[string]string{}, Blocks: map[string]*Block{},
			Cgroups: map[string]*Cgroup{}, DeniedIO: map[int]bool{}},
		live:   map[int]*liveProc{},
		table:  map[procKey]*tableEntry{},
		traced: map[string]*bundle.StraceInfo{},
		parsed: map[string]*parsedTrace{},
	}
	for _, tg := range man.Targets {
		if tg.Strace != nil && tg.Strace.Member != "" {
			l.traced[tg.Strace.Member] = tg.Strace
		}
	}
	return l
}

// member parses one member, in bundle order. Nothing it builds may keep
// data's bytes (LoadReader's reader reuses them): parsers copy what they
// keep into strings and numbers.
func (l *loader) member(name string, data []byte) error {
	var err error
	switch {
	case name == bundle.HostMember:
		err = l.host(name, data)
	case name == bundle.EndMember:
		err = l.end(name, data)
	case name == bundle.StatfsMember:
		if e := json.Unmarshal(data, &l.m.Statfs); e != nil {
			l.note(name, "", "not valid JSON: "+e.Error())
		}
	case name == bundle.OpenWritersMember:
		if e := json.Unmarshal(data, &l.m.OpenWriters); e != nil {
			l.note(name, "", "not valid JSON: "+e.Error())
		}
	case name == bundle.KmsgMember:
		l.m.Kmsg = procfs.ParseKmsg(data)
	case name == bundle.ProcTableMember:
		err = l.procTable(name, data)
	case name == bundle.ContainersMember:
		l.containers(name, data)
	case name == bundle.UsersMember:
		l.users(name, data)
	case name == bundle.CgroupLimitsMember:
		err = l.cgroupLimits(name, data)
	case bundle.KindOf(name) == bundle.KindTick: // in manifest order, which is time order (bundle.TickMember)
		err = l.tick(name, data)
	case bundle.KindOf(name) == bundle.KindTarget:
		err = l.target(name, data)
	case name == bundle.BlockTraceMember && l.m.Manifest.BlockTrace != nil:
		info := *l.m.Manifest.BlockTrace
		l.aside.run(data, func(data []byte) {
			bt := ParseBlockTrace(info, data)
			l.mu.Lock()
			l.m.BlockTrace = bt
			l.mu.Unlock()
		})
	default:
		if info, ok := l.traced[name]; ok {
			l.aside.run(data, func(data []byte) {
				p := parseTrace(data, info)
				l.mu.Lock()
				l.parsed[name] = p
				l.mu.Unlock()
			})
		}
	}
	return err
}

// finish completes the model once every member is in.
func (l *loader) finish() *Model {
	l.aside.wait()
	l.traces()
	l.m.CgroupV1Root, l.m.CgroupV2Root = l.v1Root, l.v2Root
	l.describeProcesses()
	l.m.unreap()
	attribute(l.m)
	return l.m
}

type procKey struct {
	pid   int
	start uint64
}

type tableEntry struct {
	status  *procfs.PIDStatus
	cmdline []string
	cgroups []procfs.CgroupLine
}

type loader struct {
	m     *Model
	live  map[int]*liveProc
	table map[procKey]*tableEntry
	// cgroup roots from the collector: v2 mount point and v1 blkio mount.
	v2Root, v1Root string
	// fd decodes every frames member, making each path string once.
	fd bundle.FrameDecoder
	// places splits the per-process paths of a tick.
	places pathPlaces
	// traced names the targets' strace members; parsed holds each once
	// read.
	traced map[string]*bundle.StraceInfo
	parsed map[string]*parsedTrace
	// aside parses the traces beside the ticks; mu guards what it
	// writes (parsed, m.BlockTrace) until finish waits for it.
	aside aside
	mu    sync.Mutex
}

// aside runs the parse of a member that nothing else in the load reads
// before finish — a strace trace, the block trace — in a goroutine of its
// own, while the ticks are parsed: on two CPUs a busy writer's trace (13
// MiB of text, a third of a 2-minute bundle's load) no longer waits for
// the ticks, nor they for it. It keeps the member's bytes (keep: the
// reader takes a new buffer in their place), or parses a copy when the
// reader cannot give them up. At most GOMAXPROCS run at once, which
// bounds the members held.
type aside struct {
	wg   sync.WaitGroup
	sem  chan struct{}
	keep func()
}

func (a *aside) run(data []byte, parse func(data []byte)) {
	if a.sem == nil {
		a.sem = make(chan struct{}, runtime.GOMAXPROCS(0))
	}
	a.sem <- struct{}{} // before the copy: at most GOMAXPROCS members held
	buf := data
	if a.keep != nil {
		a.keep()
	} else {
		buf = bytes.Clone(data)
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer func() { <-a.sem }()
		parse(buf)
	}()
}

// wait returns once every parse started has ended.
func (a *aside) wait() { a.wg.Wait() }

func (l *loader) note(member, path, what string) {
	l.m.Notes = append(l.m.Notes, Note{Member: member, Path: path, What: what})
}

// frames iterates a frames member, failing on a malformed one.
func (l *loader) frames(member string, data []byte, fn func(f bundle.Frame)) error {
	for f, err := range l.fd.Frames(data) {
		if err != nil {
			return fmt.Errorf("%s: %w", member, err)
		}
		fn(f)
	}
	return nil
}

// pidPath splits "/proc/123/rest" into 123 and "rest".
func pidPath(p string) (int, string, bool) {
	rest, ok := strings.CutPrefix(p, "/proc/")
	if !ok {
		return 0, "", false
	}
	num, file, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, "", false
	}
	pid, err := strconv.Atoi(num)
	if err != nil {
		return 0, "", false
	}
	return pid, file, true
}

// describeProcesses fills each process from the process table and links
// targets to their process.
func (l *loader) describeProcesses() {
	sort.SliceStable(l.m.Procs, func(i, j int) bool {
		a, b := l.m.Procs[i], l.m.Procs[j]
		if a.PID != b.PID {
			return a.PID < b.PID
		}
		return a.Start < b.Start
	})
	for _, p := range l.m.Procs {
		if e := l.table[procKey{p.PID, p.Start}]; e != nil {
			p.Cmdline = e.cmdline
			p.Cgroups = e.cgroups
			if e.status != nil {
				p.UID = e.status.UID[0]
			}
		}
	}
	ours := map[int]bool{l.m.Manifest.Collector.PID: true}
	for _, t := range l.m.Manifest.Targets {
		if t.Strace != nil && t.Strace.TracerPID > 0 {
			ours[t.Strace.TracerPID] = true
		}
	}
	for _, p := range l.m.Procs {
		p.Collector = p.PID > 0 && ours[p.PID]
	}
	for _, tg := range l.m.Targets {
		for _, p := range l.m.Procs {
			if p.PID == tg.Info.PID && (tg.Info.StartTicks == 0 || p.Start == tg.Info.StartTicks) {
				tg.Process = p
			}
		}
		if tg.Process != nil && tg.Process.Cmdline == nil {
			tg.Process.Cmdline = tg.Cmdline
		}
	}
	sort.Slice(l.m.Targets, func(i, j int) bool { return l.m.Targets[i].Info.PID < l.m.Targets[j].Info.PID })
}
