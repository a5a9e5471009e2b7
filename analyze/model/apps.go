package model

import "sort"

// App is an application: processes of one program that share its load —
// a server's workers under their master (PostgreSQL's backends under the
// postmaster, nginx's workers), or copies of one program started by one
// parent. Threads already fold into their process.
type App struct {
	// Main is the process that names the application: the parent when it
	// runs the same program, else the lowest PID.
	Main *Process
	// Members are its processes, by PID (Main among them).
	Members []*Process
}

// appKey groups processes: same command, same parent (or the parent
// itself when it runs the same command), same cgroups.
type appKey struct {
	comm   string
	root   int
	cgroup string
}

// Apps groups the model's processes into applications; a process alone is
// an application of one. The result maps each PID to its application.
func (m *Model) Apps() map[int]*App {
	byPID := map[int]*Process{}
	for _, p := range m.Procs {
		byPID[p.PID] = p
	}
	groups := map[appKey]*App{}
	out := map[int]*App{}
	for _, p := range m.Procs {
		if p.Kernel || p.ReapedBy != 0 {
			// A kernel thread, or the children a process reaped unseen:
			// an application of their own.
			out[p.PID] = &App{Main: p, Members: []*Process{p}}
			continue
		}
		root := p.PPID
		if parent := byPID[p.PPID]; parent != nil && parent.Comm == p.Comm {
			root = parent.PPID // the parent is a member: key on its parent
		}
		k := appKey{comm: p.Comm, root: root, cgroup: cgroupKey(p)}
		a := groups[k]
		if a == nil {
			a = &App{}
			groups[k] = a
		}
		a.Members = append(a.Members, p)
		out[p.PID] = a
	}
	for _, a := range groups {
		sort.Slice(a.Members, func(i, j int) bool { return a.Members[i].PID < a.Members[j].PID })
		a.Main = a.Members[0]
		for _, p := range a.Members {
			// The master: a member whose parent is not a member.
			if parent := byPID[p.PPID]; parent == nil || parent.Comm != p.Comm {
				a.Main = p
				break
			}
		}
	}
	return out
}

func cgroupKey(p *Process) string {
	s := ""
	for _, cg := range p.IOCgroups() {
		s += cg + "|"
	}
	return s
}
