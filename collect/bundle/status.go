package bundle

// Status says how the capture of one source or file went. The values are
// those of node_exporter's collectors, kept as strings in the manifest so a
// reader needs no table to understand them.
type Status string

// The statuses a capture can end with.
const (
	// StatusOK means everything asked for was read.
	StatusOK Status = "ok"
	// StatusPartial means some of it was read: a file cut at its size cap,
	// a sweep where some items failed, or a capture stopped by a bound.
	StatusPartial Status = "partial"
	// StatusAbsent means the source does not exist here: a kernel without
	// PSI, a process that exited, a tool not installed.
	StatusAbsent Status = "absent"
	// StatusDenied means the kernel refused access (EACCES, EPERM).
	StatusDenied Status = "denied"
	// StatusTimeout means the read did not finish in its time budget.
	StatusTimeout Status = "timeout"
	// StatusFailed means any other error.
	StatusFailed Status = "failed"
)

// Valid reports whether s is one of the defined statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusOK, StatusPartial, StatusAbsent, StatusDenied, StatusTimeout, StatusFailed:
		return true
	}
	return false
}

// rank orders statuses from best to worst so that an aggregate keeps the
// worst one seen.
func (s Status) rank() int {
	switch s {
	case StatusOK:
		return 0
	case StatusPartial:
		return 1
	case StatusAbsent:
		return 2
	case StatusTimeout:
		return 3
	case StatusDenied:
		return 4
	}
	return 5
}

// Worse returns the worse of s and t.
func (s Status) Worse(t Status) Status {
	if t.rank() > s.rank() {
		return t
	}
	return s
}
