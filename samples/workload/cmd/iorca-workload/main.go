// Command iorca-workload is a real writer for reproducing disk-IO incidents:
// it appends fixed-size lines or blocks to a file (or standard output) with
// a chosen sync mode and rate.
//
//	iorca-workload --file /var/log/nginx/access.log --size 58 --sync osync
//	iorca-workload --file wal.log --size 120 --sync fdatasync
//	iorca-workload --file backup.img --size 1048576 --sync none --max-bytes 512MiB
//	iorca-workload --file - --size 90          # a container logging to stdout
//	iorca-workload --file db.dat --size 4096 --read --direct --rate 100
//	iorca-workload --file /srv/root --files 400 --size 4096  # write, fsync, rename, fsync dir, file by file
//	iorca-workload --file journal.dat --size 512 --sync msync --rate 100 --max-bytes 64MiB
package main

import (
	"fmt"
	"os"

	"github.com/iorca/iorca/internal/units"
	"github.com/iorca/iorca/samples/workload"
	"github.com/spf13/pflag"
)

func main() {
	var s workload.Spec
	var sync string
	var maxBytes units.Bytes
	fs := pflag.NewFlagSet("iorca-workload", pflag.ContinueOnError)
	fs.StringVar(&s.File, "file", "-", "file to append to; - is standard output")
	fs.IntVar(&s.Size, "size", 60, "bytes per write: a line below 4096, a block from 4096")
	fs.StringVar(&sync, "sync", "none", "none, osync, odsync, fsync, fdatasync, or msync (write through a shared mapping of the file, sized --max-bytes, and msync(MS_SYNC) the pages written)")
	fs.BoolVar(&s.Direct, "direct", false, "open the file O_DIRECT (size a multiple of 4096)")
	fs.Float64Var(&s.Rate, "rate", 0, "writes per second; 0 is as fast as possible")
	fs.DurationVar(&s.For, "for", 0, "stop after this long; 0 runs until killed")
	fs.BoolVar(&s.Hold, "hold", false, "after --for, keep the file open, writing nothing, until killed")
	fs.StringVar(&s.Secret, "password", "", "a pretend credential written into every line (redaction tests)")
	touch := fs.Int("touch-mib", 0, "instead of writing, keep this many MiB of memory in use, touching every page in turn (a working set; under a smaller memory limit it swaps)")
	fs.BoolVar(&s.Read, "read", false, "read --size blocks of --file at scattered offsets instead of writing (--rate reads a second; --direct for O_DIRECT)")
	fs.BoolVar(&s.KeepGoing, "keep-going", false, "report a failed write or sync and go on, as an application that retries does")
	files := fs.Int("files", 0, "instead of appending, write this many files under --file (a directory), each durably on its own: write, fsync, rename over its final name, fsync the directory; then again")
	perDir := fs.Int("per-dir", 16, "with --files, files per subdirectory")
	fs.IntVar(&s.MsyncEvery, "msync-every", 1, "with --sync msync, records between two msyncs")
	fs.Var(&maxBytes, "max-bytes", "truncate the file after this many bytes (e.g. 256MiB); 0 never. With --sync msync, the mapped file's size (default 64MiB)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if err == pflag.ErrHelp {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if *touch > 0 {
		if err := workload.Touch(*touch, s.For); err != nil {
			fmt.Fprintf(os.Stderr, "iorca-workload: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if *files > 0 {
		if err := workload.RunFiles(workload.FilesSpec{Dir: s.File, Files: *files, PerDir: *perDir, Size: s.Size, For: s.For}); err != nil {
			fmt.Fprintf(os.Stderr, "iorca-workload: %v\n", err)
			os.Exit(1)
		}
		return
	}
	s.Sync = workload.Sync(sync)
	switch s.Sync {
	case workload.SyncNone, workload.SyncOSync, workload.SyncODsync, workload.SyncFsync, workload.SyncFdatasync, workload.SyncMsync:
	default:
		fmt.Fprintf(os.Stderr, "iorca-workload: --sync %q: want none, osync, odsync, fsync, fdatasync or msync\n", sync)
		os.Exit(2)
	}
	s.MaxBytes = int64(maxBytes)
	if err := workload.Run(s); err != nil {
		fmt.Fprintf(os.Stderr, "iorca-workload: %v\n", err)
		os.Exit(1)
	}
}
