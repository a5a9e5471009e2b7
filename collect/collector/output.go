package collector

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/iorca/iorca/internal/units"
)

// OutputError is a problem with the output path, found before sampling or
// when writing. It tells the user how to go on.
type OutputError struct {
	Path string
	Err  error
	Hint string
}

func (e *OutputError) Error() string {
	s := fmt.Sprintf("output %s: %v", e.Path, e.Err)
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

func (e *OutputError) Unwrap() error { return e.Err }

// freeBytes returns the bytes available to an unprivileged writer on the
// filesystem holding dir.
func freeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// sameFilesystem reports whether a and b are on one filesystem.
func sameFilesystem(a, b string) bool {
	var sa, sb syscall.Stat_t
	if syscall.Stat(a, &sa) != nil || syscall.Stat(b, &sb) != nil {
		return false
	}
	return sa.Dev == sb.Dev
}

// prepareOutput checks, before any sampling, that the bundle can be written
// where asked: the directory exists and takes a file, the file does not
// exist yet, and the filesystem has room for the bundle bound. A node
// whose disk is full is a common incident: say so now, not after 30 s.
func prepareOutput(cfg *Config) error {
	if cfg.Output == "-" {
		return nil
	}
	path := cfg.Output
	if _, err := os.Lstat(path); err == nil && !cfg.Force {
		return &OutputError{Path: path, Err: errors.New("file exists"), Hint: "choose another -o, or pass --force to replace it"}
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return &OutputError{Path: path, Err: err, Hint: "the directory must exist"}
	}
	if !st.IsDir() {
		return &OutputError{Path: path, Err: fmt.Errorf("%s is not a directory", dir)}
	}
	free, err := freeBytes(dir)
	if err != nil {
		return &OutputError{Path: path, Err: err}
	}
	if free < cfg.MaxBundleBytes {
		return &OutputError{Path: path,
			Err:  fmt.Errorf("only %s free on the filesystem of %s, less than --max-bundle-bytes %s", units.FormatBytes(free), dir, units.FormatBytes(cfg.MaxBundleBytes)),
			Hint: fmt.Sprintf("lower the bound (--max-bundle-bytes %s) or write elsewhere (-o /dev/shm/%s)", units.FormatBytes(max(free/2, minBundleBytes)), filepath.Base(path))}
	}
	probe, err := os.CreateTemp(dir, ".iorca-collect-*.probe")
	if err != nil {
		hint := ""
		if errors.Is(err, syscall.EROFS) {
			hint = "the filesystem is read-only: write elsewhere, e.g. -o /dev/shm/" + filepath.Base(path)
		}
		return &OutputError{Path: path, Err: unwrapPath(err), Hint: hint}
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

// unwrapPath drops the *PathError wrapper, whose path is the probe file's.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// writeFile writes data to path through a temporary file in the same
// directory, synced and renamed into place, so that a reader never sees a
// half-written bundle and a failure (a full or read-only disk) leaves
// nothing behind.
func writeFile(path string, write func(io.Writer) error, force bool) (err error) {
	if !force {
		if _, err := os.Lstat(path); err == nil {
			return &OutputError{Path: path, Err: errors.New("file exists")}
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".iorca-collect-*.partial")
	if err != nil {
		return &OutputError{Path: path, Err: unwrapPath(err)}
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return &OutputError{Path: path, Err: unwrapPath(err)}
	}
	if err := tmp.Sync(); err != nil {
		return &OutputError{Path: path, Err: unwrapPath(err)}
	}
	if err := tmp.Chmod(0o600); err != nil {
		return &OutputError{Path: path, Err: unwrapPath(err)}
	}
	if err := tmp.Close(); err != nil {
		return &OutputError{Path: path, Err: unwrapPath(err)}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return &OutputError{Path: path, Err: unwrapPath(err)}
	}
	return nil
}

// fallbackWorthy reports errors that another filesystem would not have.
func fallbackWorthy(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EIO)
}

// writeOutput writes the bundle to cfg.Output or, when that filesystem
// refuses it at the end, to cfg.FallbackDir, so that a collection is not
// lost to a disk that filled up while it ran. It returns where it wrote.
func writeOutput(cfg *Config, write func(io.Writer) error) (string, bool, error) {
	if cfg.Output == "-" {
		return "-", false, write(os.Stdout)
	}
	err := writeFile(cfg.Output, write, cfg.Force)
	if err == nil {
		return cfg.Output, false, nil
	}
	dir := filepath.Dir(cfg.Output)
	if cfg.FallbackDir == "" || !fallbackWorthy(err) || sameFilesystem(dir, cfg.FallbackDir) {
		return "", false, err
	}
	alt := filepath.Join(cfg.FallbackDir, filepath.Base(cfg.Output))
	if err2 := writeFile(alt, write, false); err2 != nil {
		return "", false, fmt.Errorf("%w; the fallback %s failed too: %v", err, alt, err2)
	}
	return alt, true, nil
}
