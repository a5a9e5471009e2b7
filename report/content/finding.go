package content

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Severity ranks a finding.
type Severity int

// Severities, least to most severe.
const (
	Info Severity = iota
	Warning
	Critical
)

func (s Severity) String() string { return [...]string{"info", "warning", "critical"}[s] }

// MarshalJSON writes the severity's name.
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads a severity's name, as MarshalJSON writes it.
func (s *Severity) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil // a no-op, as encoding/json has it
	}
	v, err := unmarshalName(data, "severity", Info.String(), Warning.String(), Critical.String())
	if err == nil {
		*s = Severity(v)
	}
	return err
}

// Confidence says how sure a finding is.
type Confidence int

// Confidences, least to most sure.
const (
	Low Confidence = iota
	Medium
	High
)

func (c Confidence) String() string { return [...]string{"low", "medium", "high"}[c] }

// MarshalJSON writes the confidence's name.
func (c Confidence) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

// UnmarshalJSON reads a confidence's name, as MarshalJSON writes it.
func (c *Confidence) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil // a no-op, as encoding/json has it
	}
	v, err := unmarshalName(data, "confidence", Low.String(), Medium.String(), High.String())
	if err == nil {
		*c = Confidence(v)
	}
	return err
}

// unmarshalName is the index in names of the JSON string data; a name
// not among them is an error that says which would do.
func unmarshalName(data []byte, what string, names ...string) (int, error) {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	if i := slices.Index(names, s); i >= 0 {
		return i, nil
	}
	return 0, fmt.Errorf("%s %q: want one of %s", what, s, strings.Join(names, ", "))
}

// Finding is one diagnosis.
type Finding struct {
	ID         string     `json:"id"`
	Title      string     `json:"title"`
	Severity   Severity   `json:"severity"`
	Confidence Confidence `json:"confidence"`
	// ConfidenceWhy says why the confidence is not higher ("" when high).
	ConfidenceWhy string       `json:"confidence_reason,omitempty"`
	Summary       string       `json:"summary"`
	Subjects      Subjects     `json:"subjects"`
	Evidence      []Evidence   `json:"evidence"`
	Mitigations   []Mitigation `json:"mitigations"`
	// Score orders findings of the same severity (bigger first); it is a
	// rule's measure of how much of the problem this finding explains.
	Score float64 `json:"-"`
	// ConsequenceOf is the id of the finding this one follows from (the
	// stalls that synchronous writes cause), "" when it stands alone.
	ConsequenceOf string `json:"consequence_of,omitempty"`
	// Role is the finding's part in the verdict: its rule's role, or the
	// one the rule gave this finding (a failing device's errors, a loud
	// process that is only a neighbour).
	Role Role `json:"-"`
	// Limit says the cause is a limit, and which: the processes the
	// finding names are who the limit holds.
	Limit Limit `json:"-"`
}

// Limit is a kind of limit a finding blames.
type Limit int

// Limits.
const (
	NoLimit Limit = iota
	// IOLimit is a cgroup's IO limit (io.max, blkio throttle): its
	// processes wait for the limit, not for the device.
	IOLimit
	// MemoryLimit is a memory cgroup's limit: reclaim turns it into swap
	// IO on a device.
	MemoryLimit
)

// String names a limit as a culprit line does: "IO limit", "memory
// limit"; "" for none.
func (l Limit) String() string {
	switch l {
	case IOLimit:
		return "IO limit"
	case MemoryLimit:
		return "memory limit"
	}
	return ""
}

// Figure is the first value of an evidence figure, false when no
// evidence of the finding has it.
func (f *Finding) Figure(key string) (float64, bool) {
	for _, e := range f.Evidence {
		if v, ok := e.Figures[key]; ok {
			return v, true
		}
	}
	return 0, false
}

// Subjects are what a finding is about.
type Subjects struct {
	// PIDs are the processes; a negative one, -N, stands for the
	// children PID N started and reaped between two samples, whose
	// counters the kernel added to its own.
	PIDs      []int  `json:"pids,omitempty"`
	Command   string `json:"command,omitempty"`
	Container string `json:"container,omitempty"`
	Pod       string `json:"pod,omitempty"`
	Device    string `json:"device,omitempty"`
	Path      string `json:"path,omitempty"`
	Mount     string `json:"mount,omitempty"`
	Cgroup    string `json:"cgroup,omitempty"`
}

// Evidence is one fact from the bundle that a finding rests on, with
// where it came from so that a reader can check it.
type Evidence struct {
	// Member is the bundle member (or members) the figures come from.
	Member string `json:"member"`
	// Ticks is the tick range, "" when the fact is not per tick.
	Ticks string `json:"ticks,omitempty"`
	What  string `json:"what"`
	// Figures are the numbers stated in What, machine-readable.
	Figures map[string]float64 `json:"figures,omitempty"`
	// Lines are example lines quoted from the member (strace, kmsg).
	Lines []string `json:"lines,omitempty"`
}

// Horizon is when a mitigation applies.
type Horizon string

// Horizons, in the order a report lists them.
const (
	Immediate Horizon = "immediate"
	ShortTerm Horizon = "short term"
	LongTerm  Horizon = "long term"
)

// Horizons lists the horizons in the order a report lists them.
var Horizons = []Horizon{Immediate, ShortTerm, LongTerm}

// Rank orders horizons: what can be done now first (0).
func (h Horizon) Rank() int {
	switch h {
	case Immediate:
		return 0
	case ShortTerm:
		return 1
	}
	return 2
}

// Mitigation is one thing to do.
type Mitigation struct {
	Horizon Horizon `json:"horizon"`
	Action  string  `json:"action"`
	How     string  `json:"how"`
	Effect  string  `json:"expected_effect"`
	// Commands are the shell commands of the step, each as it pastes
	// (the bundle's real paths and devices, no placeholder): How holds
	// each word for word where the prose calls for it, and a renderer
	// marks it as code there (or writes it after How when How does not
	// hold it).
	Commands []string `json:"commands,omitempty"`
	// Key names the action apart from its wording, so that findings that
	// call for the same step (buffering one process's writes, moving data
	// off a device) share one row of the report; "" keys it by Action.
	Key string `json:"-"`
	// Subject is the part of Action, How and Effect that names what the
	// action applies to (a device); rows of one Key with different
	// subjects merge into one that names them all.
	Subject string `json:"-"`
	// Generic is true for a fallback wording: a row of the same Key from
	// another finding, which says it more precisely (the volume to mount
	// rather than "move the hot data"), keeps its own.
	Generic bool `json:"-"`
}

// MergeKey is the key that rows of the same action share.
func (m Mitigation) MergeKey() string {
	if m.Key != "" {
		return m.Key
	}
	return m.Action
}

// Culprit is the process (and container) the verdict blames.
type Culprit struct {
	// Kind is "process" when a process's IO is the cause, "limit" when
	// an IO limit is (the process is then the one held at it), "device"
	// when a failing device is (no process then).
	Kind string `json:"kind"`
	// Limit says which limit, for a limit, and LimitKind its kind ("IO
	// limit", "memory limit"): a memory limit is never the IO limit.
	Limit     string `json:"limit,omitempty"`
	LimitKind string `json:"limit_kind,omitempty"`
	// Device names the failing device, for a device.
	Device string `json:"device,omitempty"`
	// Processes is how many processes of one application share the
	// load, when more than one (PID is then the application's main).
	Processes int    `json:"processes,omitempty"`
	PID       int    `json:"pid"`
	Comm      string `json:"comm"`
	Cmdline   string `json:"cmdline"`
	Container string `json:"container,omitempty"`
	// Serves is the runtime helper the culprit is (containerd-shim,
	// conmon, dockerd) when it serves Container rather than runs in it:
	// it carries the container's output, outside its cgroup and mounts.
	Serves string `json:"serves,omitempty"`
	Pod    string `json:"pod,omitempty"`
	// Namespace is the pod's, Workload the pod's owner as its name
	// shows it (a Deployment's pods are NAME-HASH-ID), Image the
	// container's image, when the runtime's metadata says.
	Namespace string `json:"namespace,omitempty"`
	Workload  string `json:"workload,omitempty"`
	Image     string `json:"image,omitempty"`
}

// ContainerRelation says how the culprit stands to its container, to be
// followed by the container's name: "serving container" for a runtime
// helper, "in container" for a process in it; "" without a container.
func (c *Culprit) ContainerRelation() string {
	switch {
	case c.Container == "":
		return ""
	case c.Serves != "":
		return "serving container"
	}
	return "in container"
}

// Verdict is the root cause in one paragraph.
type Verdict struct {
	// Problem is false when no warning or critical finding was made.
	Problem    bool       `json:"problem"`
	Summary    string     `json:"summary"`
	Confidence Confidence `json:"confidence"`
	// ConfidenceWhy says why the verdict's confidence is lower than its
	// finding's, "" when it is not.
	ConfidenceWhy string   `json:"confidence_reason,omitempty"`
	Culprit       *Culprit `json:"culprit"`
	// Primary is the id of the finding the verdict rests on.
	Primary string `json:"primary_finding,omitempty"`
	// Onset is when the incident began, nil when the bundle cannot say
	// (no problem, or no figure of the primary cause per interval).
	Onset *Onset `json:"onset,omitempty"`
	// Trigger is the collector's trigger that started the capture, nil
	// when none fired.
	Trigger *TriggerMark `json:"trigger,omitempty"`
}

// Onset is the first interval in which the primary cause's condition held
// and kept holding, and what changed then.
type Onset struct {
	// Tick ends the first interval that held; Time is its clock and
	// Seconds its distance from the first tick.
	Tick    int       `json:"tick"`
	Time    time.Time `json:"time"`
	Seconds float64   `json:"seconds_into_capture"`
	// Condition is what held, as a clause ("vda was at least 80 % busy
	// or its await above 10 ms").
	Condition string `json:"condition"`
	// UnderWay is true when it held from the first interval, or the
	// second: the incident began before the capture (or as it began),
	// and there is no baseline of two quiet intervals.
	UnderWay bool `json:"under_way"`
	// BaselineSeconds is the quiet time before the onset the changes
	// compare with; Changes say what changed at the onset, most telling
	// first.
	BaselineSeconds float64  `json:"baseline_seconds"`
	Changes         []string `json:"changes,omitempty"`
	// Event, when set, is the kernel record the incident began with (a
	// failing device's first IO error): an exact moment, Seconds after
	// the first tick, rather than an interval compared with a baseline.
	Event string `json:"event,omitempty"`
	// WindowFrom is the first tick of the window the findings were
	// computed over (the tick before the onset), 0 when it is the whole
	// capture.
	WindowFrom int `json:"window_from"`
}

// TriggerMark is a fired trigger, placed on the bundle's ticks.
type TriggerMark struct {
	Expression string    `json:"expression"`
	Tick       int       `json:"tick"`
	Time       time.Time `json:"time"`
	// Figures is what made it fire, as the collector wrote it.
	Figures string `json:"figures"`
}
