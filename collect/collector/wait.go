package collector

import (
	"context"
	"errors"
	"time"
)

// Interrupt is the cause a caller gives ctx when a signal ends the run,
// so that the manifest can name the signal.
type Interrupt struct{ Signal string }

func (i Interrupt) Error() string { return "interrupted by " + i.Signal }

// signalOf names the signal that ended ctx, "" when none is known.
func signalOf(ctx context.Context) string {
	var i Interrupt
	if errors.As(context.Cause(ctx), &i) {
		return i.Signal
	}
	return ""
}

// Why a wait ended.
const (
	waitDue = iota
	waitCancelled
	waitDumped
	waitExpired
)

// waitFor sleeps until t, or until ctx ends, dump receives or deadline
// passes, and says which.
func waitFor(ctx context.Context, t time.Time, dump <-chan struct{}, deadline <-chan time.Time) int {
	if ctx.Err() != nil {
		return waitCancelled
	}
	timer := time.NewTimer(max(0, time.Until(t)))
	defer timer.Stop()
	select {
	case <-timer.C:
		return waitDue
	case <-ctx.Done():
		return waitCancelled
	case <-dump:
		return waitDumped
	case <-deadline:
		return waitExpired
	}
}

// deadlineOf is a channel that receives after d, nil (never) for 0.
func deadlineOf(d time.Duration) <-chan time.Time {
	if d <= 0 {
		return nil
	}
	return time.After(d)
}
