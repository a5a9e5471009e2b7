package procfs

import (
	"bytes"
	"strconv"
	"strings"
)

// PIDStatus is the part of /proc/PID/status (proc(5)) used here: who the
// process is and how it is scheduled. Sizes are kB as the file gives them.
type PIDStatus struct {
	Name            string
	State           string // e.g. "S (sleeping)"
	Tgid, PID, PPID int
	// UID and GID are real, effective, saved and filesystem ids.
	UID, GID [4]int
	Threads  int
	// NSpid lists the PID in each PID namespace, outermost first; more
	// than one entry means the process lives in a container.
	NSpid                    []int
	VmRSSkB, VmSwapkB        uint64
	VoluntaryCtxtSwitches    uint64
	NonvoluntaryCtxtSwitches uint64
}

// ParsePIDStatus parses /proc/PID/status. Unknown keys are ignored.
func ParsePIDStatus(b []byte) (PIDStatus, error) {
	var s PIDStatus
	err := eachKeyValue("pid status", b, func(key, val []byte, line int) error {
		v := string(val)
		switch string(key) {
		case "Name":
			s.Name = v
		case "State":
			s.State = v
		case "Tgid":
			s.Tgid, _ = strconv.Atoi(v)
		case "Pid":
			s.PID, _ = strconv.Atoi(v)
		case "PPid":
			s.PPID, _ = strconv.Atoi(v)
		case "Uid":
			s.UID = fourInts(v)
		case "Gid":
			s.GID = fourInts(v)
		case "Threads":
			s.Threads, _ = strconv.Atoi(v)
		case "NSpid":
			for _, f := range strings.Fields(v) {
				if n, err := strconv.Atoi(f); err == nil {
					s.NSpid = append(s.NSpid, n)
				}
			}
		case "VmRSS":
			s.VmRSSkB = kB(val)
		case "VmSwap":
			s.VmSwapkB = kB(val)
		case "voluntary_ctxt_switches":
			s.VoluntaryCtxtSwitches, _ = strconv.ParseUint(v, 10, 64)
		case "nonvoluntary_ctxt_switches":
			s.NonvoluntaryCtxtSwitches, _ = strconv.ParseUint(v, 10, 64)
		}
		return nil
	})
	if err == nil && s.Name == "" && s.PID == 0 {
		err = lineError("pid status", 1, "no Name or Pid")
	}
	return s, err
}

func fourInts(v string) [4]int {
	var out [4]int
	for i, f := range strings.Fields(v) {
		if i < 4 {
			out[i], _ = strconv.Atoi(f)
		}
	}
	return out
}

// kB parses "1234 kB" (or a bare number).
func kB(v []byte) uint64 {
	f := bytes.Fields(v)
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.ParseUint(string(f[0]), 10, 64)
	return n
}
