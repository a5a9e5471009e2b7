package blocktrace

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/iorca/iorca/internal/procfs"
)

// Where tracefs is found, in the order tried.
var tracefsPaths = []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}

// tracefs is a mounted tracefs, and whether this package mounted it.
type tracefs struct {
	root    string
	mounted bool
}

// openTracefs finds a mounted tracefs, or mounts one at
// /sys/kernel/tracing (unmounted again by close).
func openTracefs(mountinfo []byte) (*tracefs, error) {
	ms, _ := procfs.ParseMountinfo(mountinfo)
	for _, m := range ms {
		if m.FSType == "tracefs" {
			return &tracefs{root: m.MountPoint}, nil
		}
	}
	for _, m := range ms {
		if m.FSType == "debugfs" {
			p := filepath.Join(m.MountPoint, "tracing")
			if _, err := os.Stat(filepath.Join(p, "instances")); err == nil {
				return &tracefs{root: p}, nil
			}
		}
	}
	p := tracefsPaths[0]
	if err := syscall.Mount("nodev", p, "tracefs", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		return nil, fmt.Errorf("mount tracefs on %s: %w", p, err)
	}
	return &tracefs{root: p, mounted: true}, nil
}

// close unmounts tracefs if this package mounted it.
func (t *tracefs) close() error {
	if !t.mounted {
		return nil
	}
	if err := syscall.Unmount(t.root, 0); err != nil {
		return fmt.Errorf("unmount tracefs %s: %w", t.root, err)
	}
	return nil
}

// instance is a private tracing instance: its own buffer, events and
// trace_pipe.
type instance struct {
	dir string
}

// newInstance creates instances/NAME; one left by an earlier run of the
// same name (a collector killed with SIGKILL) is removed first.
func (t *tracefs) newInstance(name string) (*instance, error) {
	dir := filepath.Join(t.root, "instances", name)
	if _, err := os.Stat(dir); err == nil {
		syscall.Rmdir(dir)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create tracing instance: %w", err)
	}
	return &instance{dir: dir}, nil
}

func (in *instance) path(name string) string { return filepath.Join(in.dir, name) }

// write writes a control file.
func (in *instance) write(name, value string) error {
	f, err := os.OpenFile(in.path(name), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %q to %s: %w", value, name, err)
	}
	return nil
}

// read reads a control file, bounded.
func (in *instance) read(name string) ([]byte, error) {
	return readBounded(in.path(name), 1<<20)
}

func readBounded(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, 0, 4096)
	for int64(len(buf)) < max {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.Read(buf[len(buf):min(cap(buf), int(max))])
		buf = buf[:len(buf)+n]
		if err != nil {
			break
		}
	}
	return buf, nil
}

// remove deletes the instance; the kernel refuses while its trace_pipe is
// open, which the caller has closed by then.
func (in *instance) remove() error {
	var err error
	for i := 0; i < 20; i++ {
		if err = syscall.Rmdir(in.dir); err == nil || errors.Is(err, syscall.ENOENT) {
			return nil
		}
		if !errors.Is(err, syscall.EBUSY) {
			break
		}
		sleep(50)
	}
	return fmt.Errorf("remove tracing instance %s: %w", in.dir, err)
}

// overruns reads the events lost in each CPU's buffer, by CPU number
// (per_cpu/cpuN/stats, "overrun:" and "dropped events:").
func (in *instance) overruns() ([]int64, error) {
	cpus, err := os.ReadDir(in.path("per_cpu"))
	if err != nil {
		return nil, err
	}
	var per []int64
	for _, c := range cpus {
		n, err := strconv.Atoi(strings.TrimPrefix(c.Name(), "cpu"))
		if err != nil || n < 0 || n > 1<<16 {
			continue
		}
		b, err := readBounded(filepath.Join(in.path("per_cpu"), c.Name(), "stats"), 4096)
		if err != nil {
			continue
		}
		for len(per) <= n {
			per = append(per, 0)
		}
		for _, l := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(l, ":")
			if !ok || (k != "overrun" && k != "dropped events") {
				continue
			}
			var lost int64
			fmt.Sscan(strings.TrimSpace(v), &lost)
			per[n] += lost
		}
	}
	return per, nil
}

// cpus lists the CPU numbers of the instance's per_cpu directories.
func (in *instance) cpus() ([]int, error) {
	ents, err := os.ReadDir(in.path("per_cpu"))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", in.path("per_cpu"), err)
	}
	var out []int
	for _, e := range ents {
		if n, err := strconv.Atoi(strings.TrimPrefix(e.Name(), "cpu")); err == nil && n >= 0 && n <= 1<<16 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no CPUs", in.path("per_cpu"))
	}
	return out, nil
}
