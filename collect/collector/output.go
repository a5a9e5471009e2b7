package collector

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/iorca/iorca/internal/safefile"
	"github.com/iorca/iorca/internal/units"
)

// OutputError is a problem with the output path, found before sampling or
// when writing. It tells the user how to go on.
type OutputError = safefile.Error

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
	if cfg.OutputDir != "" {
		// Checked with the name a bundle started now would have.
		cfg.Output = filepath.Join(cfg.OutputDir, BundleName(time.Now()))
	}
	if cfg.Output == "-" {
		return nil
	}
	path := cfg.Output
	if st, err := os.Lstat(path); err == nil && cfg.Force && st.Mode()&(fs.ModeCharDevice|fs.ModeNamedPipe) != 0 {
		return nil // written straight at the end: no room to check, no file to probe
	}
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
// directory, synced and renamed into place (safefile.Atomic), so that a
// reader never sees a half-written bundle and a failure (a full or
// read-only disk) leaves nothing behind. The bundle is 0600: it holds
// command lines and paths.
func writeFile(path string, write func(io.Writer) error, force bool) error {
	if !force {
		if _, err := os.Lstat(path); err == nil {
			return &OutputError{Path: path, Err: fs.ErrExist}
		}
	}
	// By the rules of every output file (safefile.WriteFunc): a device
	// or FIFO is written straight, never replaced by a file (--force -o
	// /dev/null); a link is never written through.
	return safefile.WriteFunc(path, 0o600, force, write)
}

// filesystemFault reports errors that the whole filesystem gives, which
// a fallback on the same filesystem would get again.
func filesystemFault(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EIO)
}

// writeOutput writes the bundle to cfg.Output (a file, or stdout for
// "-") or, when that fails at the end for any reason — a full or
// read-only disk, the directory removed or unmounted meanwhile, the path
// taken, stdout's reader gone — to cfg.FallbackDir, so that a collection
// is not lost. It returns where it wrote and, when it fell back, why the
// output failed.
func writeOutput(cfg *Config, write func(io.Writer) error) (string, error, error) {
	var err error
	if cfg.Output == "-" {
		if err = write(os.Stdout); err == nil {
			return "-", nil, nil
		}
		err = &OutputError{Path: "stdout", Err: unwrapPath(err)}
	} else if err = writeFile(cfg.Output, write, cfg.Force); err == nil {
		return cfg.Output, nil, nil
	}
	if cfg.FallbackDir == "" || (cfg.Output != "-" && filesystemFault(err) && sameFilesystem(filepath.Dir(cfg.Output), cfg.FallbackDir)) {
		return "", nil, err // the fallback's filesystem would refuse it too
	}
	name := filepath.Base(cfg.Output)
	if cfg.Output == "-" {
		name = BundleName(time.Now())
	}
	alt := nameInDir(cfg.FallbackDir, time.Now())
	if _, e := os.Lstat(filepath.Join(cfg.FallbackDir, name)); errors.Is(e, os.ErrNotExist) {
		alt = filepath.Join(cfg.FallbackDir, name)
	}
	if err2 := writeFile(alt, write, false); err2 != nil {
		return "", nil, fmt.Errorf("%w; the fallback %s failed too: %v", err, alt, err2)
	}
	return alt, err, nil
}

// BundleName names a bundle after the host and the UTC time of its first
// tick: iorca-HOST-20261130T021502Z.tar.zst.
func BundleName(t time.Time) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	host = strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' || r < ' ' {
			return '_'
		}
		return r
	}, host)
	return fmt.Sprintf("iorca-%s-%s.tar.zst", host, t.UTC().Format("20060102T150405Z"))
}

// nameInDir is the path a bundle starting at t gets in dir: BundleName,
// with -2, -3... before the extension when that name is taken.
func nameInDir(dir string, t time.Time) string {
	base := BundleName(t)
	p := filepath.Join(dir, base)
	for i := 2; ; i++ {
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			return p
		}
		p = filepath.Join(dir, strings.TrimSuffix(base, ".tar.zst")+fmt.Sprintf("-%d.tar.zst", i))
	}
}

// pruneBundles removes the oldest bundles (iorca-*.tar.zst, by
// modification time) in dir but the one just written, until at most keep
// remain and they hold at most keepBytes (0: no bound on either). It
// returns what it removed.
func pruneBundles(dir, written string, keep int, keepBytes int64) ([]string, error) {
	if keep == 0 && keepBytes == 0 {
		return nil, nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	type bundleFile struct {
		path  string
		size  int64
		mtime time.Time
	}
	var all []bundleFile
	var total int64
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, "iorca-") || !strings.HasSuffix(name, ".tar.zst") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		all = append(all, bundleFile{filepath.Join(dir, name), info.Size(), info.ModTime()})
		total += info.Size()
	}
	sort.Slice(all, func(i, j int) bool { return all[i].mtime.Before(all[j].mtime) })
	var removed []string
	for _, f := range all {
		over := (keep > 0 && len(all)-len(removed) > keep) || (keepBytes > 0 && total > keepBytes)
		if !over {
			break
		}
		if f.path == written {
			continue
		}
		if err := os.Remove(f.path); err != nil {
			return removed, err
		}
		removed = append(removed, f.path)
		total -= f.size
	}
	return removed, nil
}
