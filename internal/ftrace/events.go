package ftrace

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/iorca/iorca/internal/procfs"
)

// Dev is a device number; the events print it "254,0" or "254:0".
type Dev = procfs.Dev

// parseDev reads "MAJ,MIN" or "MAJ:MIN", with an optional trailing ':'.
func parseDev(b []byte) (Dev, bool) {
	b = bytes.TrimSuffix(b, []byte(":"))
	sep := bytes.IndexAny(b, ",:")
	if sep <= 0 {
		return Dev{}, false
	}
	ma, err1 := strconv.Atoi(string(b[:sep]))
	mi, err2 := strconv.Atoi(string(b[sep+1:]))
	return Dev{Major: ma, Minor: mi}, err1 == nil && err2 == nil && ma >= 0 && mi >= 0
}

// Request is block_rq_insert or block_rq_issue:
//
//	MAJ,MIN RWBS BYTES (CMD) SECTOR + NR_SECTORS [IOPRIO] [COMM]
//
// and block_rq_complete:
//
//	MAJ,MIN RWBS (CMD) SECTOR + NR_SECTORS [IOPRIO] [ERROR]
type Request struct {
	Dev  Dev
	RWBS string
	// Bytes is the request's size (insert and issue only).
	Bytes          int64
	Sector         uint64
	Sectors        uint64
	Comm           string
	Error          int
	IsCompletion   bool
	HasBytes       bool
	HasSectorRange bool
}

// Write, Read, Sync, Meta and Discard read the RWBS letters (W write, R
// read, S synchronous, M metadata, D discard).
func (r Request) Write() bool { return strings.ContainsRune(r.RWBS, 'W') }

// Read reports a read.
func (r Request) Read() bool { return strings.ContainsRune(r.RWBS, 'R') }

// Sync reports a request flagged synchronous (REQ_SYNC).
func (r Request) Sync() bool { return strings.ContainsRune(r.RWBS, 'S') }

// Meta reports filesystem metadata.
func (r Request) Meta() bool { return strings.ContainsRune(r.RWBS, 'M') }

// Readahead reports a request the kernel made ahead of a read (REQ_RAHEAD).
func (r Request) Readahead() bool { return strings.ContainsRune(r.RWBS, 'A') }

// Discard reports a discard.
func (r Request) Discard() bool { return strings.ContainsRune(r.RWBS, 'D') }

// Flush is a request that carries a cache flush (a leading F) or FUA (a
// trailing F): what fsync and O_SYNC cost beyond the data.
func (r Request) Flush() bool { return strings.ContainsRune(r.RWBS, 'F') }

// ParseRequest parses the fields of block_rq_insert, block_rq_issue (with
// BYTES) and block_rq_complete (without).
func ParseRequest(fields []byte, completion bool) (Request, error) {
	var r Request
	r.IsCompletion = completion
	toks := bytes.Fields(fields)
	if len(toks) < 2 {
		return r, fmt.Errorf("block request %q: too few fields", fields)
	}
	d, ok := parseDev(toks[0])
	if !ok {
		return r, fmt.Errorf("block request %q: bad device %q", fields, toks[0])
	}
	r.Dev, r.RWBS = d, string(toks[1])
	i := 2
	if !completion && i < len(toks) {
		n, err := strconv.ParseInt(string(toks[i]), 10, 64)
		if err != nil {
			return r, fmt.Errorf("block request %q: bad bytes %q", fields, toks[i])
		}
		r.Bytes, r.HasBytes = n, true
		i++
	}
	// (CMD) may hold spaces for passthrough commands: skip to ')'.
	if i < len(toks) && bytes.HasPrefix(toks[i], []byte("(")) {
		for i < len(toks) && !bytes.HasSuffix(toks[i], []byte(")")) {
			i++
		}
		i++
	}
	if i+2 < len(toks) && string(toks[i+1]) == "+" {
		s, err1 := strconv.ParseUint(string(toks[i]), 10, 64)
		n, err2 := strconv.ParseUint(string(toks[i+2]), 10, 64)
		if err1 == nil && err2 == nil {
			r.Sector, r.Sectors, r.HasSectorRange = s, n, true
		}
		i += 3
	}
	// What is left: an ioprio "class,level,hint" on newer kernels, then
	// [COMM] (insert, issue; a comm may hold spaces) or [ERROR] (complete).
	tail := bytes.TrimSpace(bytes.Join(toks[min(i, len(toks)):], []byte(" ")))
	if bytes.HasSuffix(tail, []byte("]")) {
		if open := bytes.LastIndexByte(tail, '['); open >= 0 {
			v := string(tail[open+1 : len(tail)-1])
			if completion {
				r.Error, _ = strconv.Atoi(v)
			} else {
				r.Comm = v
			}
		}
	}
	return r, nil
}

// Dirty is writeback_dirty_folio (writeback_dirty_page before folios):
// "bdi MAJ:MIN: ino=INO index=PAGE", fired in the dirtying task.
type Dirty struct {
	BDI   Dev
	Ino   uint64
	Index uint64
}

// ParseDirty parses writeback_dirty_folio and writeback_dirty_page.
func ParseDirty(fields []byte) (Dirty, error) {
	var d Dirty
	bdi, kv, err := bdiAndPairs(fields)
	if err != nil {
		return d, err
	}
	d.BDI = bdi
	d.Ino, _ = strconv.ParseUint(kv["ino"], 10, 64)
	d.Index, _ = strconv.ParseUint(kv["index"], 10, 64)
	return d, nil
}

// SingleInode is writeback_single_inode: a flusher (or a sync) wrote
// pages of one inode — Wrote of them, in this pass.
type SingleInode struct {
	BDI   Dev
	Ino   uint64
	Wrote int64
}

// ParseSingleInode parses writeback_single_inode ("bdi 7:0: ino=12
// state=... to_write=1024 wrote=1024 cgroup_ino=1").
func ParseSingleInode(fields []byte) (SingleInode, error) {
	var w SingleInode
	bdi, kv, err := bdiAndPairs(fields)
	if err != nil {
		return w, err
	}
	w.BDI = bdi
	ino, err1 := strconv.ParseUint(kv["ino"], 10, 64)
	wrote, err2 := strconv.ParseInt(kv["wrote"], 10, 64)
	if err1 != nil || err2 != nil {
		return w, fmt.Errorf("writeback_single_inode %q: want ino= and wrote=", fields)
	}
	w.Ino, w.Wrote = ino, wrote
	return w, nil
}

// Throttle is balance_dirty_pages: a task held back because dirty memory
// is over its share of the limit. Pause is in milliseconds.
type Throttle struct {
	BDI             Dev
	PauseMS, Paused int64
	Dirtied         int64
}

// ParseThrottle parses balance_dirty_pages.
func ParseThrottle(fields []byte) (Throttle, error) {
	var t Throttle
	bdi, kv, err := bdiAndPairs(fields)
	if err != nil {
		return t, err
	}
	t.BDI = bdi
	t.PauseMS, _ = strconv.ParseInt(kv["pause"], 10, 64)
	t.Paused, _ = strconv.ParseInt(kv["paused"], 10, 64)
	t.Dirtied, _ = strconv.ParseInt(kv["dirtied"], 10, 64)
	return t, nil
}

// bdiAndPairs splits "bdi MAJ:MIN: k=v k=v ..." (writeback events).
func bdiAndPairs(fields []byte) (Dev, map[string]string, error) {
	toks := bytes.Fields(fields)
	if len(toks) < 2 || string(toks[0]) != "bdi" {
		return Dev{}, nil, fmt.Errorf("writeback event %q: want \"bdi MAJ:MIN: ...\"", fields)
	}
	d, ok := parseDev(toks[1])
	if !ok {
		return Dev{}, nil, fmt.Errorf("writeback event %q: bad bdi %q", fields, toks[1])
	}
	kv := map[string]string{}
	for _, t := range toks[2:] {
		if k, v, ok := bytes.Cut(t, []byte("=")); ok {
			kv[string(k)] = string(v)
		}
	}
	return d, kv, nil
}

// Commit is jbd2_commit_flushing or jbd2_end_commit: "dev MAJ,MIN
// transaction N sync N".
type Commit struct {
	Dev         Dev
	Transaction int64
}

// ParseCommit parses a jbd2 commit event.
func ParseCommit(fields []byte) (Commit, error) {
	var c Commit
	toks := bytes.Fields(fields)
	if len(toks) < 4 || string(toks[0]) != "dev" || string(toks[2]) != "transaction" {
		return c, fmt.Errorf("jbd2 event %q: want \"dev MAJ,MIN transaction N ...\"", fields)
	}
	d, ok := parseDev(toks[1])
	if !ok {
		return c, fmt.Errorf("jbd2 event %q: bad device", fields)
	}
	c.Dev = d
	c.Transaction, _ = strconv.ParseInt(string(toks[3]), 10, 64)
	return c, nil
}

// Work is writeback_queue, writeback_start or writeback_written: one
// piece of writeback work and why it was asked for ("bdi 7:0: sb_dev 7:0
// nr_pages=N sync_mode=N kupdate=N range_cyclic=N background=N
// reason=sync cgroup_ino=N"). writeback_queue fires in the task that
// asked (sync(2) and syncfs(2) queue one with reason=sync for each
// filesystem's bdi); writeback_start and writeback_written bracket a
// flusher's pass doing it.
type Work struct {
	BDI    Dev
	SbDev  Dev
	Reason string
	// SyncAll is sync_mode=1 (WB_SYNC_ALL): the asker waits for every
	// page, not only for those written in this pass.
	SyncAll bool
}

// ParseWork parses writeback_queue, writeback_start, writeback_written
// and the other events of the writeback work class.
func ParseWork(fields []byte) (Work, error) {
	var w Work
	bdi, kv, err := bdiAndPairs(fields)
	if err != nil {
		return w, err
	}
	w.BDI = bdi
	if kv["reason"] == "" {
		return w, fmt.Errorf("writeback work %q: want reason=", fields)
	}
	w.Reason = kv["reason"]
	w.SyncAll = kv["sync_mode"] == "1"
	if toks := bytes.Fields(fields); len(toks) > 3 && string(toks[2]) == "sb_dev" {
		w.SbDev, _ = parseDev(toks[3])
	}
	return w, nil
}

// Fork is sched_process_fork: the task Parent (its thread id) made the
// task Child ("comm=bash pid=812 child_comm=bash child_pid=4711"). It
// names who started a process too short-lived for any tick to see, such
// as a sync(1) run by an agent's loop.
type Fork struct {
	Parent, Child int
	ChildComm     string
}

// Forks is who started each task a trace saw start: the child's PID to
// the process (TGID) that forked it, from sched_process_fork.
type Forks map[int]int

// Add records a sched_process_fork event; false when its fields do not
// parse.
func (f Forks) Add(e Event) bool {
	fk, err := ParseFork(e.Fields)
	if err != nil {
		return false
	}
	f[fk.Child] = e.Process()
	return true
}

// Ancestor is pid's nearest ancestor for which keep is true, walking up
// the recorded forks; false when the chain breaks first (a fork before
// the trace began) or reaches init.
func (f Forks) Ancestor(pid int, keep func(pid int) bool) (int, bool) {
	for range 64 { // a chain of forks never loops; a bound all the same
		p, ok := f[pid]
		if !ok || p <= 1 {
			return 0, false
		}
		if keep(p) {
			return p, true
		}
		pid = p
	}
	return 0, false
}

// ParseFork parses sched_process_fork's fields. A comm may hold spaces,
// so the fields are cut from the right.
func ParseFork(fields []byte) (Fork, error) {
	var f Fork
	s := string(fields)
	i := strings.LastIndex(s, " child_pid=")
	j := strings.LastIndex(s[:max(i, 0)], " child_comm=")
	k := strings.LastIndex(s[:max(j, 0)], " pid=")
	if i < 0 || j < 0 || k < 0 || !strings.HasPrefix(s, "comm=") {
		return f, fmt.Errorf("sched_process_fork %q: want comm= pid= child_comm= child_pid=", fields)
	}
	var err1, err2 error
	f.Child, err1 = strconv.Atoi(s[i+len(" child_pid="):])
	f.Parent, err2 = strconv.Atoi(s[k+len(" pid=") : j])
	if err1 != nil || err2 != nil || f.Child <= 0 || f.Parent < 0 {
		return f, fmt.Errorf("sched_process_fork %q: pids are not numbers", fields)
	}
	f.ChildComm = s[j+len(" child_comm=") : i]
	return f, nil
}
