package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iorca/iorca/collect/collector"
)

// What the collector does between and after collections when it is a
// service's main process (a DaemonSet's or a Job's container): it re-arms
// itself (--rearm) instead of a shell loop that would take SIGTERM in its
// place, holds a finished Job's pod for a copy (--hold), and shows that it
// is alive through a file an exec probe checks (--ready-file).

// stopNote is what the first SIGINT or SIGTERM will do, said when it
// comes: it changes as the collector goes from collecting to pausing or
// holding.
type stopNote struct{ v atomic.Pointer[string] }

func (n *stopNote) set(s string) { n.v.Store(&s) }
func (n *stopNote) get() string  { return *n.v.Load() }

// readyFile is the --ready-file: rewritten at every tick and every
// interval of a pause, so that its age tells a probe whether the
// collector still ticks. Its one line says what it is doing, for a human
// who reads it.
type readyFile struct {
	path   string
	stderr io.Writer
	failed sync.Once
}

// newReadyFile is nil without a path; its methods then do nothing.
func newReadyFile(path string, stderr io.Writer) *readyFile {
	if path == "" {
		return nil
	}
	return &readyFile{path: path, stderr: stderr}
}

// touch writes the state line. A failure is said once: the collection
// goes on (the probe will then fail, which is what it is for).
func (r *readyFile) touch(state string) {
	if r == nil {
		return
	}
	line := fmt.Sprintf("%s %s\n", time.Now().UTC().Format(time.RFC3339), state)
	if err := writeReplacing(r.path, []byte(line)); err != nil {
		r.failed.Do(func() { fmt.Fprintf(r.stderr, "iorca-collect: --ready-file: %v\n", err) })
	}
}

// remove takes the file away at exit: a collector that is gone is not
// ready, whatever the file's age.
func (r *readyFile) remove() {
	if r != nil {
		os.Remove(r.path)
	}
}

// writeReplacing writes data to path through a rename, so that a reader
// never sees half a line.
func writeReplacing(path string, data []byte) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// tickState is the ready file's line for a collection's tick.
func tickState(p collector.Progress) string {
	switch p.Phase {
	case collector.PhaseRecording:
		return fmt.Sprintf("recording tick %d, window %s", p.Tick, p.Window.Round(time.Second))
	case collector.PhaseWaiting:
		return fmt.Sprintf("waiting tick %d", p.Tick)
	}
	return fmt.Sprintf("capturing tick %d/%d", p.Tick, p.Ticks)
}

// pause waits d, touching the ready file every interval; false when a
// signal ended it.
func pause(ctx context.Context, d, interval time.Duration, ready *readyFile) bool {
	end := time.Now().Add(d)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		left := time.Until(end)
		if left <= 0 {
			return true
		}
		ready.touch("pausing, re-arming at " + end.UTC().Format("15:04:05") + " UTC")
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		case <-time.After(left):
		}
	}
}

// firedLine is the pod log's line when a trigger fires: the capture
// proper follows, and the bundle comes at its end.
func firedLine(expr string, at time.Time, capture time.Duration) string {
	return fmt.Sprintf("iorca-collect: trigger %q fired at %s UTC; capturing %s more", expr, at.UTC().Format("15:04:05"), capture)
}

// armedLine is the pod log's line when a recorder or a trigger starts
// (again), so that the log shows what the collector watches for.
func armedLine(cfg collector.Config) string {
	what := "waiting"
	if cfg.Record > 0 {
		what = fmt.Sprintf("recording the last %s", cfg.Record)
	}
	if cfg.Trigger != nil {
		what += fmt.Sprintf(", trigger %q for %d intervals", cfg.Trigger.Text, cfg.TriggerFor)
	}
	return fmt.Sprintf("iorca-collect: armed at %s UTC: %s", time.Now().UTC().Format("15:04:05"), what)
}
