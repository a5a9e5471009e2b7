// Package nodestate keeps what running collectors changed on the node —
// task_delayacct turned on, a tracefs mounted, a tracing instance made —
// in small state files, one per collector, under a directory shared by
// all of them (/run/iorca). Two things follow from it:
//
//   - A collector killed with SIGKILL (the OOM killer, kill -9, a kubelet
//     at the end of the grace period) cannot undo its changes; the next
//     collector to start finds its state file, sees its process gone, and
//     undoes them: removes its tracing instance, puts task_delayacct back
//     as it was before any collector changed it, unmounts the tracefs it
//     mounted.
//   - Collectors running at once (a systemd recorder and a one-off
//     capture) share the changes instead of undoing each other's: the
//     setting's original value is kept once, and the last user restores
//     it; the last user of a tracefs a collector mounted unmounts it.
//
// Every read-modify-write of the directory holds an exclusive flock on
// its lock file, so starts and ends of collectors are serialized.
package nodestate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// DefaultDir is where the state files live: /run is a tmpfs cleared at
// boot, as the changes are.
const DefaultDir = "/run/iorca"

// DelayAcctPath is the sysctl that turns per-task delay accounting on.
const DelayAcctPath = "/proc/sys/kernel/task_delayacct"

// origDelayAcct holds task_delayacct's value before the first collector
// turned it on; it exists while some collector may still need it on.
const origDelayAcct = "delayacct.orig"

// State is what one collector changed, in its file <dir>/<pid>.json.
type State struct {
	PID int `json:"pid"`
	// StartTicks is the process's start time (field 22 of
	// /proc/PID/stat): a PID reused by another process is not this one.
	StartTicks uint64 `json:"start_ticks"`
	// DelayAcct is true while it needs task_delayacct on (it turned it
	// on, or found it on because another collector had).
	DelayAcct bool `json:"delayacct,omitempty"`
	// Tracefs is the tracefs its instance lives in; Instance that
	// instance's directory; MountedTracefs is true when a collector (it,
	// or one before it) mounted that tracefs: its last user unmounts it.
	Tracefs        string `json:"tracefs,omitempty"`
	Instance       string `json:"instance,omitempty"`
	MountedTracefs bool   `json:"mounted_tracefs,omitempty"`
}

// Run is one collector's registration.
type Run struct {
	dir   string
	state State
	// DelayAcctPath is the sysctl written (a test may point it at a file
	// of its own).
	delayAcctPath string
	private       bool
}

// Begin registers the calling process in dir, first undoing what
// collectors no longer alive left. It returns what it repaired, one
// sentence each, for the manifest.
func Begin(dir string) (*Run, []string, error) {
	return begin(dir, DelayAcctPath, os.Getpid())
}

func begin(dir, delayAcct string, pid int) (*Run, []string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("state directory %s: %w", dir, err)
	}
	r := &Run{dir: dir, delayAcctPath: delayAcct, state: State{PID: pid, StartTicks: startTicks(pid)}}
	var repairs []string
	err := r.locked(func(live []State) ([]State, error) {
		var err error
		if repairs, err = r.repair(); err != nil {
			return nil, err
		}
		return nil, r.save()
	})
	if err != nil {
		return nil, nil, err
	}
	return r, repairs, nil
}

// End unregisters the collector. What it shares with others is left to
// them; what no one else uses was undone by the Release calls before. A
// nil Run (no state could be kept) does nothing.
func (r *Run) End() error {
	if r == nil {
		return nil
	}
	err := r.locked(func([]State) ([]State, error) {
		err := os.Remove(r.path())
		if errors.Is(err, os.ErrNotExist) {
			err = nil
		}
		return nil, err
	})
	if r.private {
		os.RemoveAll(r.dir)
	}
	return err
}

// RemoveDirAtEnd marks the directory as the run's own (a private one,
// where the shared one could not be used): End removes it.
func (r *Run) RemoveDirAtEnd() { r.private = true }

// ReadDelayAcct reads kernel.task_delayacct ("0" or "1").
func ReadDelayAcct() (string, error) {
	b, err := os.ReadFile(DelayAcctPath)
	return strings.TrimSpace(string(b)), err
}

// EnableDelayAcct turns task_delayacct on for the run unless it is on
// already. It returns the value found and whether this run (or another
// collector still alive) is the reason it is on: then ReleaseDelayAcct
// restores the original when the last such collector ends.
func (r *Run) EnableDelayAcct() (before string, enabled bool, err error) {
	if r == nil {
		before, err = ReadDelayAcct()
		return before, false, errors.Join(err, errors.New("not turned on: no state to restore it from"))
	}
	err = r.locked(func(live []State) ([]State, error) {
		b, err := os.ReadFile(r.delayAcctPath)
		if err != nil {
			return nil, err
		}
		before = strings.TrimSpace(string(b))
		orig := filepath.Join(r.dir, origDelayAcct)
		_, haveOrig := os.Stat(orig)
		switch {
		case before == "0":
			if haveOrig != nil {
				if err := os.WriteFile(orig, []byte("0\n"), 0o600); err != nil {
					return nil, err
				}
			}
			if err := os.WriteFile(r.delayAcctPath, []byte("1"), 0o644); err != nil {
				return nil, err
			}
			enabled = true
		case haveOrig == nil:
			// On because another collector turned it on: share it.
			enabled = true
		}
		r.state.DelayAcct = enabled
		return nil, r.save()
	})
	return before, enabled, err
}

// ReleaseDelayAcct gives up this run's need of task_delayacct; when no
// collector alive needs it, it is put back as it was before the first
// one turned it on. It reports whether it restored it.
func (r *Run) ReleaseDelayAcct() (restored bool, err error) {
	if r == nil || !r.state.DelayAcct {
		return false, nil
	}
	err = r.locked(func(live []State) ([]State, error) {
		r.state.DelayAcct = false
		if err := r.save(); err != nil {
			return nil, err
		}
		for _, s := range live {
			if s.PID != r.state.PID && s.DelayAcct {
				return nil, nil // another collector still samples with it
			}
		}
		restored, err = r.restoreDelayAcct()
		return nil, err
	})
	return restored, err
}

// UseTracefs records the tracefs this run's instance lives in, and
// whether some collector mounted it (this one, or an earlier one that
// left it for the last user to unmount).
func (r *Run) UseTracefs(root, instance string, mounted bool) error {
	return r.locked(func(live []State) ([]State, error) {
		for _, s := range live {
			mounted = mounted || (s.Tracefs == root && s.MountedTracefs)
		}
		r.state.Tracefs, r.state.Instance, r.state.MountedTracefs = root, instance, mounted
		return nil, r.save()
	})
}

// ReleaseTracefs gives up this run's tracefs (its instance already
// removed). It reports whether the caller should unmount it: a collector
// mounted it and no other collector alive uses it.
func (r *Run) ReleaseTracefs() (unmount bool, err error) {
	if r.state.Tracefs == "" {
		return false, nil
	}
	err = r.locked(func(live []State) ([]State, error) {
		root, mounted := r.state.Tracefs, r.state.MountedTracefs
		r.state.Tracefs, r.state.Instance, r.state.MountedTracefs = "", "", false
		if err := r.save(); err != nil {
			return nil, err
		}
		if !mounted {
			return nil, nil
		}
		for _, s := range live {
			if s.PID != r.state.PID && s.Tracefs == root {
				// Still in use: its last user unmounts it.
				return r.handOver(live, root), nil
			}
		}
		unmount = true
		return nil, nil
	})
	return unmount, err
}

// handOver marks the other users of root as users of a tracefs a
// collector mounted, so that the last of them unmounts it.
func (r *Run) handOver(live []State, root string) []State {
	var out []State
	for _, s := range live {
		if s.PID != r.state.PID && s.Tracefs == root && !s.MountedTracefs {
			s.MountedTracefs = true
			out = append(out, s)
		}
	}
	return out
}

// repair undoes what collectors no longer alive left: their state files
// and instances, the original task_delayacct when no one alive needs it,
// a tracefs one of them mounted when no one alive uses it. Instances
// named iorca-PID of dead processes without a state file (a collector
// older than the state files) go too.
func (r *Run) repair() ([]string, error) {
	all, err := r.read()
	if err != nil {
		return nil, err
	}
	var repairs []string
	var live []State
	orphanMounts := map[string]bool{}
	for _, s := range all {
		if alive(s) && s.PID != r.state.PID {
			live = append(live, s)
			continue
		}
		if s.PID == r.state.PID && s.StartTicks == r.state.StartTicks {
			continue
		}
		if s.Instance != "" {
			if err := removeInstance(s.Instance); err == nil {
				repairs = append(repairs, fmt.Sprintf("removed the tracing instance %s left by collector PID %d, which is no longer running", s.Instance, s.PID))
			} else if !errors.Is(err, os.ErrNotExist) {
				repairs = append(repairs, fmt.Sprintf("could not remove the tracing instance %s left by collector PID %d: %v", s.Instance, s.PID, err))
			}
		}
		if s.MountedTracefs && s.Tracefs != "" {
			orphanMounts[s.Tracefs] = true
		}
		os.Remove(filepath.Join(r.dir, strconv.Itoa(s.PID)+".json"))
	}
	needDA := false
	for _, s := range live {
		needDA = needDA || s.DelayAcct
		delete(orphanMounts, s.Tracefs)
	}
	if !needDA {
		if restored, err := r.restoreDelayAcct(); err != nil {
			repairs = append(repairs, "could not restore kernel.task_delayacct left on by a collector no longer running: "+err.Error())
		} else if restored {
			repairs = append(repairs, "restored kernel.task_delayacct to its value before a collector no longer running turned it on")
		}
	}
	roots := make([]string, 0, len(orphanMounts))
	for root := range orphanMounts {
		roots = append(roots, root)
	}
	sort.Strings(roots)
	for _, root := range roots {
		repairs = append(repairs, stragglers(root, live)...)
		if err := syscall.Unmount(root, 0); err == nil {
			repairs = append(repairs, fmt.Sprintf("unmounted the tracefs at %s that a collector no longer running had mounted", root))
		}
	}
	return repairs, nil
}

// stragglers removes instances named iorca-PID under root whose PID is
// not a live collector (no state file: an older collector's).
func stragglers(root string, live []State) []string {
	ents, err := os.ReadDir(filepath.Join(root, "instances"))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		pid, ok := instancePID(e.Name())
		if !ok || processExists(pid) {
			continue
		}
		dir := filepath.Join(root, "instances", e.Name())
		if removeInstance(dir) == nil {
			out = append(out, fmt.Sprintf("removed the tracing instance %s of PID %d, which is no longer running", dir, pid))
		}
	}
	return out
}

// Stragglers removes, under a tracefs in use, instances named iorca-PID
// of processes no longer running. A collector calls it once it has a
// tracefs, whoever mounted it.
func (r *Run) Stragglers(root string) []string {
	var out []string
	r.locked(func(live []State) ([]State, error) {
		out = stragglers(root, live)
		return nil, nil
	})
	return out
}

func instancePID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, "iorca-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(rest)
	return pid, err == nil && pid > 0
}

// removeInstance stops an instance's recording and removes it: its
// events, buffer and trace_pipe go with the directory.
func removeInstance(dir string) error {
	if _, err := os.Stat(dir); err != nil {
		return err
	}
	if f, err := os.OpenFile(filepath.Join(dir, "tracing_on"), os.O_WRONLY, 0); err == nil {
		f.WriteString("0")
		f.Close()
	}
	return syscall.Rmdir(dir)
}

func (r *Run) restoreDelayAcct() (bool, error) {
	orig := filepath.Join(r.dir, origDelayAcct)
	b, err := os.ReadFile(orig)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := os.WriteFile(r.delayAcctPath, bytes.TrimSpace(b), 0o644); err != nil {
		return false, err
	}
	return true, os.Remove(orig)
}

// locked runs fn holding the directory's lock, with the states of the
// collectors alive (this one included once registered); the states fn
// returns are written back.
func (r *Run) locked(fn func(live []State) ([]State, error)) error {
	f, err := os.OpenFile(filepath.Join(r.dir, "lock"), os.O_CREATE|os.O_RDWR|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("state directory %s: %w", r.dir, err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	all, err := r.read()
	if err != nil {
		return err
	}
	var live []State
	for _, s := range all {
		if alive(s) {
			live = append(live, s)
		}
	}
	changed, err := fn(live)
	for _, s := range changed {
		if werr := writeState(r.dir, s); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// read loads every state file; an unreadable one is skipped (a torn
// write of a killed collector is repaired by its PID being gone).
func (r *Run) read() ([]State, error) {
	ents, err := os.ReadDir(r.dir)
	if err != nil {
		return nil, err
	}
	var out []State
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(r.dir, e.Name()))
		var s State
		if err != nil || json.Unmarshal(b, &s) != nil || s.PID <= 0 {
			continue
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out, nil
}

func (r *Run) path() string { return filepath.Join(r.dir, strconv.Itoa(r.state.PID)+".json") }

func (r *Run) save() error { return writeState(r.dir, r.state) }

// writeState writes a state file whole (temp file and rename).
func writeState(dir string, s State) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+strconv.Itoa(s.PID)+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, strconv.Itoa(s.PID)+".json"))
}

// alive reports whether the state's collector still runs: its PID exists
// with the same start time.
func alive(s State) bool {
	st := startTicks(s.PID)
	return st != 0 && (s.StartTicks == 0 || st == s.StartTicks)
}

func processExists(pid int) bool { return startTicks(pid) != 0 }

// startTicks is field 22 of /proc/PID/stat, 0 when the process is gone.
func startTicks(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(f[19], 10, 64)
	return v
}
