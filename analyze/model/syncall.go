package model

import "github.com/iorca/iorca/analyze/strace"

// SyncAll sums a trace's sync(2) and syncfs(2) calls: each makes the
// flushers write back every dirty page of every filesystem (sync) or of
// the one the descriptor is on (syncfs), commits their journals, and
// waits for it all, whoever dirtied the pages.
type SyncAll struct {
	// Sync and Syncfs count the calls of each.
	Sync, Syncfs int
	// Lat is the time of both.
	Lat Latency
	// Filesystems counts syncfs calls by the path of their descriptor.
	Filesystems map[string]int
	// Tasks counts the calls by the task that made them: a shell loop
	// running sync(1) makes each call from a new process.
	Tasks map[int]int
	// Lines cites the first calls (at most two).
	Lines []int
}

// Calls counts both.
func (s *SyncAll) Calls() int {
	if s == nil {
		return 0
	}
	return s.Sync + s.Syncfs
}

func (s *SyncAll) add(c *strace.Syscall, end strace.Timestamp) {
	if c.Name == "syncfs" {
		s.Syncfs++
		if fd, ok := c.FD(); ok {
			if s.Filesystems == nil {
				s.Filesystems = map[string]int{}
			}
			s.Filesystems[fd.Path]++
		}
	} else {
		s.Sync++
	}
	if s.Tasks == nil {
		s.Tasks = map[int]int{}
	}
	s.Tasks[c.PID]++
	s.Lat.add(c, end)
	if len(s.Lines) < 2 {
		s.Lines = append(s.Lines, c.Line)
	}
}
