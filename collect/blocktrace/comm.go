package blocktrace

import (
	"bytes"
	"os"
	"strconv"
	"strings"
)

// comms names the task of an event as trace_pipe does: the kernel's
// saved_cmdlines and saved_tgids (pid to comm and to process, recorded
// while the events are on), read when the pages are decoded. trace_pipe
// reads them when it prints, while the capture runs; decoding later, a
// pid whose entry was reused since shows the newer comm. Where the kernel
// has no entry trace_pipe prints "<...>" and "(-------)"; the decoder
// asks /proc/PID/comm and /proc/PID/status first, so a thread that still
// lives is named rather than anonymous.
type comms struct {
	comm map[int]string
	tgid map[int]int
	// proc reads /proc for a pid the kernel does not know; nil in tests.
	proc bool
}

// readComms reads saved_cmdlines and saved_tgids under the tracefs root.
func readComms(root string, proc bool) *comms {
	c := &comms{comm: map[int]string{}, tgid: map[int]int{}, proc: proc}
	if b, err := readBounded(root+"/saved_cmdlines", 4<<20); err == nil {
		c.addCmdlines(b)
	}
	if b, err := readBounded(root+"/saved_tgids", 4<<20); err == nil {
		c.addTgids(b)
	}
	return c
}

// addCmdlines reads "PID COMM" lines; a comm may hold spaces.
func (c *comms) addCmdlines(b []byte) {
	for _, l := range bytes.Split(b, []byte("\n")) {
		p, name, ok := bytes.Cut(l, []byte(" "))
		if pid, err := strconv.Atoi(string(p)); ok && err == nil {
			c.comm[pid] = string(name)
		}
	}
}

// addTgids reads "PID TGID" lines.
func (c *comms) addTgids(b []byte) {
	for _, l := range bytes.Split(b, []byte("\n")) {
		f := bytes.Fields(l)
		if len(f) != 2 {
			continue
		}
		pid, err1 := strconv.Atoi(string(f[0]))
		tgid, err2 := strconv.Atoi(string(f[1]))
		if err1 == nil && err2 == nil {
			c.tgid[pid] = tgid
		}
	}
}

// lookup returns the comm and process of pid as trace_pipe prints them
// (trace_find_cmdline, trace_find_tgid): "<idle>" for pid 0, "<...>" and
// 0 for a pid known nowhere.
func (c *comms) lookup(pid int) (string, int) {
	if pid == 0 {
		return "<idle>", 0
	}
	comm, ok := c.comm[pid]
	tgid := c.tgid[pid]
	if (!ok || tgid == 0) && c.proc && pid > 0 {
		dir := "/proc/" + strconv.Itoa(pid)
		if !ok {
			if b, err := os.ReadFile(dir + "/comm"); err == nil {
				comm, ok = strings.TrimSuffix(string(b), "\n"), true
			}
		}
		if tgid == 0 {
			if b, err := os.ReadFile(dir + "/status"); err == nil {
				if _, v, found := strings.Cut(string(b), "\nTgid:"); found {
					v, _, _ = strings.Cut(v, "\n")
					tgid, _ = strconv.Atoi(strings.TrimSpace(v))
				}
			}
		}
		// Remembered either way: /proc is read once per pid.
		c.comm[pid], c.tgid[pid] = comm, tgid
		if !ok {
			c.comm[pid] = "<...>"
		}
		return c.comm[pid], tgid
	}
	if !ok {
		comm = "<...>"
	}
	return comm, tgid
}
