package workload

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// FilesSpec describes a writer that makes each file durable on its own,
// as package managers, object stores and configuration writers do:
// write a temporary file, fsync it, rename it over its final name, fsync
// the directory.
type FilesSpec struct {
	// Dir is the root of the tree the files go to.
	Dir string
	// Files is how many files one round writes, spread over
	// subdirectories of PerDir files each; the next round rewrites them.
	Files, PerDir int
	// Size is the bytes of each file.
	Size int
	// For stops the writer after this long; 0 runs until killed.
	For time.Duration
}

// RunFiles writes Files files durably one by one, round after round,
// until For passes.
func RunFiles(s FilesSpec) error {
	if s.Files <= 0 || s.Size <= 0 {
		return fmt.Errorf("files and size must be positive")
	}
	if s.PerDir <= 0 {
		s.PerDir = 16
	}
	buf := aligned(s.Size)
	start := time.Now()
	for round := 0; s.For == 0 || time.Since(start) < s.For; round++ {
		for n := 0; n < s.Files && (s.For == 0 || time.Since(start) < s.For); n++ {
			dir := filepath.Join(s.Dir, fmt.Sprintf("%03d", n/s.PerDir))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			if err := writeDurably(dir, fmt.Sprintf("file-%05d", n), buf); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeDurably is the write, fsync, rename, fsync-the-directory sequence
// that makes one file's new content survive a crash.
func writeDurably(dir, name string, data []byte) error {
	final := filepath.Join(dir, name)
	tmp := final + ".new"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	d, err := os.OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
