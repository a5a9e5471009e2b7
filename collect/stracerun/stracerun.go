// Package stracerun runs a bounded `strace -f -tt -T -y` on one process: it
// stops at a time or byte limit, whichever comes first, detaches, and makes
// sure the traced process is left running. It is the only package of the
// collector that starts another program.
package stracerun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/capture"
	"github.com/iorca/iorca/collect/spill"
)

// Syscalls is the -e trace= set: the write, read, sync and open families
// (REFERENCE-IO.md 4.5 lists their numbers). Tracing only these keeps the
// output focused; it does not make the trace cheaper for a process attached
// with -p, which stops on every syscall (--seccomp-bpf does not apply).
var Syscalls = []string{
	"write", "pwrite64", "writev", "pwritev", "pwritev2",
	"read", "pread64", "readv", "preadv", "preadv2",
	"fsync", "fdatasync", "sync", "syncfs", "sync_file_range", "msync",
	"open", "openat", "openat2", "creat",
	"io_submit", "io_uring_enter", "copy_file_range", "sendfile", "splice",
	"fallocate", "ftruncate",
	// Renames and directory reads: a file made durable by write, fsync,
	// rename and a directory fsync; a scan of inodes and directories.
	"rename", "renameat", "renameat2", "getdents64", "newfstatat", "statx",
}

// Why a trace stopped; the cause given to the context's cancel function
// when the caller stops it.
var (
	ErrCollectionEnd = errors.New("collection-end")
	ErrInterrupted   = errors.New("interrupted")
)

// Config bounds one trace.
type Config struct {
	// Path is the strace binary (found with exec.LookPath by the caller).
	Path     string
	Duration time.Duration
	MaxBytes int64
	// Redact drops syscall buffers (-s 0); otherwise the first 32 bytes of
	// each are kept.
	Redact bool
	// DetachTimeout is how long strace gets to detach after SIGINT before
	// it is killed.
	DetachTimeout time.Duration
	// SpillDirs are where the trace streams to as it comes, in an
	// unlinked file in the first that takes one (the collector's spill
	// directories: /dev/shm, else the output's): a trace is never whole
	// in the heap. Without one it is kept in memory.
	SpillDirs []string
	// Started, when set, is told strace's PID as soon as it runs (from
	// the trace's goroutine): the collector never picks its own tracers
	// as targets.
	Started func(tracerPID int)
}

// Result is a finished trace: its output (cut at a line boundary within
// MaxBytes) and what happened. The caller must Close it.
type Result struct {
	Output Output
	Info   bundle.StraceInfo
}

// Output is a trace's text, in a spill file or in memory.
type Output struct {
	s *spill.File
	n int64
}

// Len is the text's length in bytes.
func (o Output) Len() int64 { return o.n }

// Reader reads the text from its start; each call starts again.
func (o Output) Reader() io.Reader {
	if o.s == nil {
		return bytes.NewReader(nil)
	}
	return o.s.Reader(o.n)
}

// Bytes reads the whole text into memory: for tests and small traces.
func (o Output) Bytes() []byte {
	b, _ := io.ReadAll(o.Reader())
	return b
}

// Close releases the spill file.
func (o Output) Close() { o.s.Close() }

// LookPath finds the strace binary on PATH.
func LookPath() (string, error) { return exec.LookPath("strace") }

// Args returns the strace command line for pid, writing its trace to fd 3.
func Args(cfg Config, pid int) []string {
	strsize := "0"
	if !cfg.Redact {
		strsize = "32"
	}
	return []string{cfg.Path, "-f", "-tt", "-T", "-y", "-s", strsize,
		"-e", "trace=" + strings.Join(Syscalls, ","),
		"-o", "/dev/fd/3", "-p", strconv.Itoa(pid)}
}

// maxStderr bounds strace's own messages kept in the manifest.
const maxStderr = 4 << 10

// Run traces pid until cfg.Duration passes, cfg.MaxBytes of output have been
// read, the process exits, or ctx is cancelled (context.Cause says why). It
// always waits for strace to exit and then leaves pid as it found it:
// SIGCONT to a process that was running (a detach can leave it in
// group-stop), and a process the operator had stopped (SIGSTOP on a
// runaway writer) stopped again.
func Run(ctx context.Context, pid int, cfg Config) Result {
	before, _ := ProcessState(pid)
	if cfg.DetachTimeout <= 0 {
		cfg.DetachTimeout = 5 * time.Second
	}
	args := Args(cfg, pid)
	res := Result{Info: bundle.StraceInfo{Command: args, Status: bundle.StatusOK}}

	pr, pw, err := os.Pipe()
	if err != nil {
		return failed(res, err)
	}
	var stderr limitedBuffer
	stderr.max = maxStderr
	cmd := exec.Command(args[0], args[1:]...)
	cmd.ExtraFiles = []*os.File{pw}
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Its own process group: a Ctrl-C on the terminal reaches the
		// collector, which then detaches strace in order.
		Setpgid: true,
		// If the collector dies, strace detaches rather than tracing on.
		Pdeathsig: syscall.SIGTERM,
	}
	res.Info.Start = capture.Now()
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return failed(res, err)
	}
	pw.Close()
	res.Info.TracerPID = cmd.Process.Pid
	if cfg.Started != nil {
		cfg.Started(cmd.Process.Pid)
	}

	// Stream the trace to the spill file (/dev/shm first: the sick disk is
	// not touched), keeping at most MaxBytes; past that, drain and count.
	// The last newline kept is where the text is cut, so that a parser
	// never sees half a syscall.
	out := spill.New(cfg.SpillDirs...)
	var kept, dropped, cut int64
	var lines int
	var spillErr error
	full := make(chan struct{})
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		buf := make([]byte, 64<<10)
		signalled := false
		stop := func() {
			if !signalled {
				close(full)
				signalled = true
			}
		}
		for {
			n, err := pr.Read(buf)
			if n > 0 {
				take := int64(n)
				if spillErr != nil {
					take = 0
				}
				take = min(take, max(cfg.MaxBytes-kept, 0))
				if take > 0 {
					chunk := buf[:take]
					if _, werr := out.Append(chunk); werr != nil {
						spillErr = werr
						take = 0
					} else {
						if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
							cut = kept + int64(i) + 1
							lines += bytes.Count(chunk, []byte{'\n'})
						}
						kept += take
					}
				}
				if int64(n) > take {
					dropped += int64(n) - take
					stop()
				}
			}
			if err != nil {
				return
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	timer := time.NewTimer(cfg.Duration)
	defer timer.Stop()
	var waitErr error
	stopped := false
	select {
	case <-timer.C:
		res.Info.StopReason = "duration"
	case <-full:
		res.Info.StopReason = "max-bytes"
	case <-ctx.Done():
		res.Info.StopReason = "interrupted"
		if errors.Is(context.Cause(ctx), ErrCollectionEnd) {
			res.Info.StopReason = "collection-end"
		}
	case waitErr = <-exited:
		stopped = true
		res.Info.StopReason = "target-exited"
	}
	if !stopped {
		// SIGINT makes strace detach from every traced thread and exit.
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case waitErr = <-exited:
		case <-time.After(cfg.DetachTimeout):
			cmd.Process.Kill()
			waitErr = <-exited
			res.Info.Status = bundle.StatusTimeout
		}
	}
	res.Info.End = capture.Now()
	<-readDone
	pr.Close()

	if before == 'T' {
		// Stopped before: the operator's choice stands. A detach may
		// have let it run; stop it again.
		res.Info.WasStopped = true
		if st, err := ProcessState(pid); err == nil && st != 'T' {
			res.Info.Restopped = syscall.Kill(pid, syscall.SIGSTOP) == nil
		}
	} else if err := syscall.Kill(pid, syscall.SIGCONT); err == nil {
		// A tracee can be left in group-stop after a detach (pt-stalk
		// does the same); SIGCONT to a running process is harmless.
		res.Info.Resumed = true
	}

	res.Info.ExitCode = cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		// Written as a shell does: strace ends by re-raising SIGINT.
		res.Info.ExitCode = 128 + int(ws.Signal())
	}
	res.Info.Stderr = stderr.String()
	res.Info.TracedSeconds = float64(res.Info.End.MonoNS-res.Info.Start.MonoNS) / 1e9
	res.Output = Output{s: out, n: cut}
	res.Info.Truncated = dropped > 0 || cut < kept
	res.Info.Bytes = cut
	res.Info.Lines = lines
	if spillErr != nil {
		res.Info.StopReason = "spill-failed"
		if res.Info.Status == bundle.StatusOK {
			res.Info.Status = bundle.StatusPartial // a timeout says more
		}
		res.Info.Stderr = strings.TrimSpace(res.Info.Stderr + "\nspill the trace: " + spillErr.Error())
	}
	if res.Info.StopReason == "target-exited" && waitErr != nil {
		// strace exited on its own with an error: it never attached.
		res.Info.StopReason = "failed"
		res.Info.Status = attachStatus(res.Info.Stderr)
	}
	return res
}

// attachStatus classifies strace's own failure. strace reports it only as
// text on stderr ("attach: ptrace(PTRACE_SEIZE, 123): Operation not
// permitted"), so here, unlike for Go errors, the text is all there is.
func attachStatus(stderr string) bundle.Status {
	switch {
	case strings.Contains(stderr, "Operation not permitted"), strings.Contains(stderr, "Permission denied"):
		return bundle.StatusDenied
	case strings.Contains(stderr, "No such process"):
		return bundle.StatusAbsent
	}
	return bundle.StatusFailed
}

func failed(res Result, err error) Result {
	res.Info.Status = capture.Classify(err)
	if res.Info.Status == bundle.StatusOK {
		res.Info.Status = bundle.StatusFailed
	}
	res.Info.StopReason = "failed"
	res.Info.Stderr = err.Error()
	return res
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	mu  sync.Mutex
	max int
	b   bytes.Buffer
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.TrimSpace(l.b.String())
}

var _ io.Writer = (*limitedBuffer)(nil)

// ProcessState returns the state letter of /proc/PID/stat (R, S, D, T, t,
// Z ...), for checking that a traced process was not left stopped.
func ProcessState(pid int) (byte, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, fmt.Errorf("pid %d: malformed stat", pid)
	}
	return b[i+2], nil
}
