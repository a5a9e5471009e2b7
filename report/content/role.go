package content

// Role is a finding's part in the verdict. The verdict rests on the
// finding of the first role present — a failing device, then a cause
// (how something writes, or a limit), pressure with no single writer,
// volume, and only then an effect — and the effects of a cause follow
// it. The order of the constants is that precedence.
type Role int

// Roles, in the verdict's precedence.
const (
	// NoRole is the zero value: a rule must say what its findings are.
	NoRole Role = iota
	// Failure is a device failing now: the cause, whoever writes to it.
	Failure
	// Cause is how something makes the disk wait (sync writes, small
	// writes, a container's log through its runtime), or a limit.
	Cause
	// Pressure is memory turned into IO with no single writer behind it
	// (swap, dirty-page throttling).
	Pressure
	// Volume is who moves the most bytes.
	Volume
	// Saturation is a device busy or slow: an effect.
	Saturation
	// Stall is tasks waiting for IO: an effect.
	Stall
	// Victims is who waited, and how long: an effect.
	Victims
	// State is a state rather than a rate (a full filesystem).
	State
	// Background is context: old kernel errors, hung-task reports.
	Background
	// Neighbour is a loud process that holds little of the device that
	// hurts: named beside the cause, never as it.
	Neighbour
)

// Effect reports whether findings of the role are consequences of a
// cause: a saturated device, stalls, victims.
func (r Role) Effect() bool { return r == Saturation || r == Stall || r == Victims }

func (r Role) String() string {
	return [...]string{"none", "failure", "cause", "pressure", "volume", "saturation", "stall", "victims", "state", "background", "neighbour"}[r]
}
