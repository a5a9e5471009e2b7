package collector

import (
	"fmt"
	"sort"
	"time"

	"github.com/iorca/iorca/collect/bundle"
)

// ledger keeps every source's outcome and every problem met, for the
// manifest. A sweep over all processes reads thousands of files; its
// failures are aggregated per status so that the manifest stays readable.
type ledger struct {
	sources  map[string]*bundle.Source
	problems []bundle.Problem
	sweeps   map[sweepKey]*sweepProblem
}

type sweepKey struct {
	source string
	status bundle.Status
}

type sweepProblem struct {
	count      int
	firstPath  string
	firstError string
	firstTick  int
}

func newLedger() *ledger {
	return &ledger{sources: map[string]*bundle.Source{}, sweeps: map[sweepKey]*sweepProblem{}}
}

func (l *ledger) source(name string) *bundle.Source {
	s := l.sources[name]
	if s == nil {
		s = &bundle.Source{Name: name, Status: bundle.StatusOK}
		l.sources[name] = s
	}
	return s
}

// read records one read of a single-file source (diskstats, PSI, a
// target's fdinfo). A failure becomes a problem the first time it is seen
// for that source and path.
func (l *ledger) read(source, path string, pid, tick int, st bundle.Status, err error) {
	s := l.source(source)
	s.Items++
	if st == bundle.StatusOK {
		return
	}
	s.Status = s.Status.Worse(st)
	if st != bundle.StatusPartial {
		s.Failed++
	}
	for _, p := range l.problems {
		if p.Source == source && p.Path == path && p.Status == st {
			return
		}
	}
	l.problems = append(l.problems, bundle.Problem{
		Source: source, Path: path, PID: pid, Status: st, Tick: tick,
		What: describe(st, path), Why: errText(err),
	})
}

// sweepRead records one read of a sweep (every process's io). A process
// that exited between listing and reading (absent) is normal and only
// counted; other failures are aggregated into one problem per status.
func (l *ledger) sweepRead(source, path string, tick int, st bundle.Status, err error) {
	s := l.source(source)
	s.Items++
	if st == bundle.StatusOK {
		return
	}
	if st != bundle.StatusPartial {
		s.Failed++
	}
	if st == bundle.StatusAbsent {
		return
	}
	s.Status = s.Status.Worse(bundle.StatusPartial)
	k := sweepKey{source, st}
	sp := l.sweeps[k]
	if sp == nil {
		sp = &sweepProblem{firstPath: path, firstError: errText(err), firstTick: tick}
		l.sweeps[k] = sp
	}
	sp.count++
}

// problem records a problem that is not a file read (a bound, a tool).
func (l *ledger) problem(p bundle.Problem) {
	l.problems = append(l.problems, p)
	if p.Source != "" {
		s := l.source(p.Source)
		s.Status = s.Status.Worse(p.Status)
	}
}

// time adds d to the source's duration.
func (l *ledger) time(source string, d time.Duration) {
	l.source(source).DurationMS += float64(d.Microseconds()) / 1000
}

// finish returns the sources sorted by name and the problems, sweeps last.
func (l *ledger) finish() ([]bundle.Source, []bundle.Problem) {
	srcs := make([]bundle.Source, 0, len(l.sources))
	for _, s := range l.sources {
		srcs = append(srcs, *s)
	}
	sort.Slice(srcs, func(i, j int) bool { return srcs[i].Name < srcs[j].Name })
	probs := append([]bundle.Problem(nil), l.problems...)
	keys := make([]sweepKey, 0, len(l.sweeps))
	for k := range l.sweeps {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].source != keys[j].source {
			return keys[i].source < keys[j].source
		}
		return keys[i].status < keys[j].status
	})
	for _, k := range keys {
		sp := l.sweeps[k]
		probs = append(probs, bundle.Problem{
			Source: k.source, Path: sp.firstPath, Status: k.status, Tick: sp.firstTick,
			What: fmt.Sprintf("%d of %d reads, first %s", sp.count, l.sources[k.source].Items, sp.firstPath),
			Why:  sp.firstError,
		})
	}
	return srcs, probs
}

func describe(st bundle.Status, path string) string {
	switch st {
	case bundle.StatusAbsent:
		return path + " does not exist"
	case bundle.StatusDenied:
		return path + ": permission denied"
	case bundle.StatusPartial:
		return path + " was cut at the size cap"
	case bundle.StatusTimeout:
		return path + " did not answer in time"
	}
	return path + " could not be read"
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
