package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/iorca/iorca/internal/safefile"
	"github.com/spf13/pflag"
)

// outputFlags are -o and --force, for the commands that write a document.
type outputFlags struct {
	path  string
	force bool
}

func (o *outputFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&o.path, "output", "o", "", "write to FILE instead of stdout (- is stdout; a device or FIFO is written straight, a regular file replaced whole)")
	fs.BoolVar(&o.force, "force", false, "replace a symbolic link given as -o with the file (a link not into /dev or /proc/self/fd is refused without it, and never written through)")
}

// toStdout says the document goes to stdout.
func (o *outputFlags) toStdout() bool { return o.path == "" || o.path == "-" }

// emit writes a command's output to stdout, or to the file by the rules
// of safefile.Write.
func (o *outputFlags) emit(cmd string, data []byte, stdout io.Writer) error {
	if o.toStdout() {
		if _, err := stdout.Write(data); err != nil {
			return failed(cmd, stdoutError(err))
		}
		return nil
	}
	if err := safefile.Write(o.path, data, o.force); err != nil {
		return failed(cmd, err)
	}
	return nil
}

// stdoutError says that writing to stdout failed, and why in words for a
// closed pipe (iorca report X | head -1): main ignores SIGPIPE so that
// this is an error iorca reports, not a silent death.
func stdoutError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errors.Is(err, syscall.EPIPE) {
		return fmt.Errorf("stdout: %w (the reader closed the pipe)", err)
	}
	return fmt.Errorf("stdout: %w", err)
}

// inputError names the file the user gave once, then what failed
// ("/x: no such file or directory"): an *os.PathError's own text would
// repeat the path after the operation ("/x: open /x: ...").
func inputError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s: %w", path, err)
}

// checkedStdout is stdout keeping the first write error, so that a
// command that prints as it goes (replay, regress) ends with the error
// too rather than exit 0 with its output cut.
type checkedStdout struct {
	w   io.Writer
	err error
}

func (c *checkedStdout) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}

// Stat is the underlying file's, so that cli.IsTerminal still sees a
// terminal.
func (c *checkedStdout) Stat() (os.FileInfo, error) {
	if f, ok := c.w.(interface{ Stat() (os.FileInfo, error) }); ok {
		return f.Stat()
	}
	return nil, errors.ErrUnsupported
}
