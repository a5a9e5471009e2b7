package redact

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/iorca/iorca/collect/bundle"
)

// maxLog bounds the manifest's list of masked values, as the collector
// bounds it.
const maxLog = 1000

// Pass is the outcome of redacting a bundle again.
type Pass struct {
	// Manifest is the bundle's manifest with the pass recorded; Files are
	// its members, in order, the masked ones with their new content.
	// bundle.Write sets the manifest's member list and checksums from
	// them.
	Manifest *bundle.Manifest
	Files    []bundle.File
	// Record is what was appended to Manifest.Redaction.Passes.
	Record bundle.RedactionPass
}

// Bundle masks a bundle again with r, in the members the collector
// redacts: the command lines of the process table and of each target
// (Cmdline), and each strace text (Text, line by line: a bundle written
// with --no-redact keeps 32-byte payload prefixes there). The kernel log and
// every other member are raw kernel text the collector never masks, and
// are kept byte for byte. by names the tool ("iorca redact v1.2"), at the
// time of the pass.
func Bundle(b *bundle.Bundle, r *Redactor, by string, at time.Time) (*Pass, error) {
	m := *b.Manifest
	red := m.Redaction
	red.Log = append([]bundle.RedactedField(nil), red.Log...)
	rec := bundle.RedactionPass{At: at.UTC(), By: by, Rules: Rules, Kinds: map[string]int{}}
	patterns := map[string]int{}
	p := &Pass{Manifest: &m}
	for _, name := range b.Names() {
		data, _ := b.Member(name)
		out, masked, err := r.member(name, data)
		if err != nil {
			return nil, fmt.Errorf("member %q: %w", name, err)
		}
		if len(masked) > 0 {
			rec.Members = append(rec.Members, name)
		}
		for _, x := range masked {
			rec.Masked++
			rec.Kinds[x.Kind]++
			if x.Kind == KindPattern {
				patterns[x.Key]++
			}
			if len(red.Log) < maxLog {
				red.Log = append(red.Log, bundle.RedactedField{Member: name, PID: x.pid, Arg: x.Arg, Key: x.Key, Chars: x.Chars, Kind: x.Kind})
			} else {
				red.LogTruncated = true
			}
		}
		p.Files = append(p.Files, bundle.BytesFile(name, out))
	}
	if len(rec.Kinds) == 0 {
		rec.Kinds = nil
	}
	rec.Patterns = bundle.PatternCounts(r.Patterns(), patterns)
	red.Passes = append(append([]bundle.RedactionPass(nil), red.Passes...), rec)
	m.Redaction = red
	p.Record = rec
	return p, nil
}

// memberMask is a masked value and the process it belongs to.
type memberMask struct {
	Masked
	pid int
}

// member masks one member's content, returning it unchanged (the same
// bytes) when nothing was masked.
func (r *Redactor) member(name string, data []byte) ([]byte, []memberMask, error) {
	if bundle.IsTraceText(name) {
		pid, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, "strace/"), ".txt"))
		out, masked := r.Lines(data, false)
		return out, withPID(masked, pid), nil
	}
	if _, ok := bundle.ParseTargetMember(name); !ok && name != bundle.ProcTableMember {
		return data, nil, nil
	}
	frames, err := bundle.ParseFrames(data)
	if err != nil {
		return nil, nil, err
	}
	var all []memberMask
	for i, f := range frames {
		pid, ok := cmdlinePID(f)
		if !ok {
			continue
		}
		out, masked := r.Cmdline(append([]byte(nil), f.Data...))
		if len(masked) > 0 {
			frames[i].Data = out
			all = append(all, withPID(masked, pid)...)
		}
	}
	if len(all) == 0 {
		return data, nil, nil
	}
	var out []byte
	for _, f := range frames {
		out = bundle.AppendFrame(out, f)
	}
	return out, all, nil
}

// cmdlinePID is the PID of a /proc/PID/cmdline frame that holds data.
func cmdlinePID(f bundle.Frame) (int, bool) {
	if f.Status != bundle.StatusOK && f.Status != bundle.StatusPartial {
		return 0, false
	}
	s, ok := strings.CutPrefix(f.Path, "/proc/")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, "/cmdline")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(s)
	return pid, err == nil
}

func withPID(masked []Masked, pid int) []memberMask {
	out := make([]memberMask, len(masked))
	for i, m := range masked {
		out[i] = memberMask{m, pid}
	}
	return out
}
