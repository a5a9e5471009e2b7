package collector

import "github.com/iorca/iorca/collect/bundle"

// Incomplete reports whether a bundle misses data it was meant to have:
// interrupted or cut short, data dropped to fit the bound, strace
// unavailable, or reads denied, failed or timed out. A process that exited
// or a file this kernel does not have (no PSI) is recorded, but is not a
// gap in the collection.
func Incomplete(m *bundle.Manifest) bool {
	if m.Partial {
		return true
	}
	for _, p := range m.Errors {
		switch {
		case p.Status == bundle.StatusDenied, p.Status == bundle.StatusFailed, p.Status == bundle.StatusTimeout:
			return true
		case p.Source == "strace":
			return true
		}
	}
	for _, b := range m.Bounds {
		if len(b.Dropped) > 0 {
			return true
		}
	}
	return false
}
