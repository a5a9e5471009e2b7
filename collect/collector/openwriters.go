package collector

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/ftrace"
	"github.com/iorca/iorca/internal/procfs"
)

// The flushers write a page up to dirty_expire_centisecs (30 s by
// default) after it was dirtied, so the writeback a block trace holds may
// be of pages dirtied before it began: writeback_single_inode names the
// inode, no writeback_dirty_folio its dirtier. Whoever still holds that
// file open for writing is the likely owner. Scanning every process's
// descriptors every tick would cost too much; one scan when the trace
// ends, only for those inodes and bounded in descriptors and time, finds
// them (bundle.OpenWritersMember).

// Bounds of the scan: one fdinfo read per open descriptor on the node.
const (
	maxOpenWriterFDs   = 200000
	openWritersTimeout = 2 * time.Second
)

// unownedInodes are the inodes the flushers wrote in a block trace that
// no user task dirtied in it, on any bdi: the scan matches inode numbers,
// the analyzer the device too.
func unownedInodes(trace io.Reader) map[uint64]bool {
	type key struct {
		bdi procfs.Dev
		ino uint64
	}
	dirtied, written := map[key]bool{}, map[key]bool{}
	// The trace streams from its spill file: never whole in memory.
	sc := bufio.NewScanner(trace)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.Contains(line, []byte("writeback_")) {
			continue // the block requests, most of the trace
		}
		e, ok := ftrace.ParseLine(line)
		if !ok {
			continue
		}
		switch e.Name {
		case "writeback_dirty_folio", "writeback_dirty_page":
			if d, err := ftrace.ParseDirty(e.Fields); err == nil && !ftrace.KernelTask(e.Comm) {
				dirtied[key{d.BDI, d.Ino}] = true
			}
		case "writeback_single_inode":
			if w, err := ftrace.ParseSingleInode(e.Fields); err == nil && w.Wrote > 0 {
				written[key{w.BDI, w.Ino}] = true
			}
		}
	}
	out := map[uint64]bool{}
	for k := range written {
		if !dirtied[k] {
			out[k.ino] = true
		}
	}
	return out
}

// mountDevs maps a mount table's mount IDs to their devices (MAJ:MIN).
func mountDevs(mountinfo []byte) map[int]string {
	ms, _ := procfs.ParseMountinfo(mountinfo)
	out := make(map[int]string, len(ms))
	for _, m := range ms {
		out[m.ID] = fmt.Sprintf("%d:%d", m.Major, m.Minor)
	}
	return out
}

// captureOpenWriters scans every process's fdinfo, once, for descriptors
// open for writing on the inodes the trace's flushers wrote with no
// traced dirtier, and stores them. Only the descriptor's number, flags,
// inode and mount are kept: no path, nothing of the file.
func (c *collection) captureOpenWriters(trace io.Reader) {
	want := unownedInodes(trace)
	if len(want) == 0 {
		return
	}
	t0 := time.Now()
	deadline := t0.Add(openWritersTimeout)
	rd := &c.sampler.rd
	data, _, _ := rd.Read("/proc/self/mountinfo")
	own := mountDevs(data)
	self := strconv.Itoa(os.Getpid())
	pids, _ := readDirNames("/proc")
	out := []bundle.OpenWriter{}
	fds, cut := 0, ""
scan:
	for _, p := range pids {
		pid, err := strconv.Atoi(p)
		if err != nil || p == self {
			continue
		}
		dir := "/proc/" + p + "/fdinfo/"
		names, err := readDirNames(dir)
		if err != nil {
			continue // exited, or not ours to read
		}
		var theirs map[int]string // its mount namespace's, read when needed
		for _, n := range names {
			if fds >= maxOpenWriterFDs {
				cut = fmt.Sprintf("the scan for open writers stopped after %d descriptors", fds)
				break scan
			}
			if time.Now().After(deadline) {
				cut = fmt.Sprintf("the scan for open writers stopped after %v (%d descriptors)", openWritersTimeout, fds)
				break scan
			}
			fds++
			data, st, err := rd.Read(dir + n)
			c.ledger.sweepRead("open-writers", dir+n, 0, st, err)
			if st != bundle.StatusOK {
				continue
			}
			fi, err := procfs.ParseFDInfo(data)
			if err != nil || !want[fi.Ino] || !fi.Flags.Writable() || !fi.HasMnt {
				continue
			}
			fd, _ := strconv.Atoi(n)
			w := bundle.OpenWriter{PID: pid, FD: fd, Flags: strconv.FormatUint(uint64(fi.Flags), 8), Ino: fi.Ino, MntID: fi.MntID}
			var ok bool
			if w.Dev, ok = own[fi.MntID]; !ok {
				if theirs == nil {
					data, _, _ := rd.Read("/proc/" + p + "/mountinfo")
					theirs = mountDevs(data)
				}
				w.Dev = theirs[fi.MntID]
			}
			if comm, st, _ := rd.Read("/proc/" + p + "/comm"); st == bundle.StatusOK {
				w.Comm = strings.TrimSpace(string(comm))
			}
			out = append(out, w)
		}
	}
	c.ledger.time("open-writers", time.Since(t0))
	if cut != "" {
		c.bound(bundle.Bound{Name: "open-writers", Limit: maxOpenWriterFDs, What: cut})
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	c.store.put(bundle.OpenWritersMember, append(b, '\n'))
}
