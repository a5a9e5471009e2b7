package content

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Line is one sentence of a report, made of spans a renderer quotes each
// its own way: Markdown escapes data text and fences code, JSON joins
// them into plain text.
type Line []Span

// SpanKind says how a span is rendered.
type SpanKind uint8

// The kinds of span.
const (
	// Literal is the report's own wording, already valid Markdown.
	Literal SpanKind = iota
	// Text is data (a file system type, a reason from the bundle) that
	// Markdown must escape.
	Text
	// Code is a name to quote as inline code: a command, a path, a
	// bundle member.
	Code
)

// Span is a run of text of one kind.
type Span struct {
	Kind SpanKind
	S    string
}

// AsCode marks an argument of Linef as inline code.
type AsCode string

// AsText marks an argument of Linef as data text to escape.
type AsText string

// Markers stand for marked arguments while fmt formats the rest; they are
// private-use runes, removed from the arguments first so that bundle data
// cannot forge a span.
const (
	markOpen  = "\uE000"
	markClose = "\uE001"
)

var unmark = strings.NewReplacer(markOpen, "", markClose, "")

// Linef formats a line like fmt.Sprintf. The format is Literal; AsCode
// and AsText arguments become spans of their kind, any other argument is
// formatted into the surrounding Literal.
func Linef(format string, args ...any) Line {
	var marked []Span
	a := make([]any, len(args))
	for i, x := range args {
		switch v := x.(type) {
		case AsCode:
			a[i] = markOpen + strconv.Itoa(len(marked)) + markClose
			marked = append(marked, Span{Kind: Code, S: unmark.Replace(string(v))})
		case AsText:
			a[i] = markOpen + strconv.Itoa(len(marked)) + markClose
			marked = append(marked, Span{Kind: Text, S: unmark.Replace(string(v))})
		case string:
			a[i] = unmark.Replace(v)
		default:
			a[i] = x
		}
	}
	s := unmarkFormat(fmt.Sprintf(format, a...), len(marked))
	var l Line
	for s != "" {
		i := strings.Index(s, markOpen)
		if i < 0 {
			l = l.add(Literal, s)
			break
		}
		l = l.add(Literal, s[:i])
		s = s[i+len(markOpen):]
		j := strings.Index(s, markClose)
		n, err := strconv.Atoi(s[:max(j, 0)])
		if j < 0 || err != nil || n < 0 || n >= len(marked) {
			// Not one of ours (cannot happen: markers are removed from
			// every string argument); keep the text.
			l = l.add(Literal, markOpen)
			continue
		}
		l = l.add(marked[n].Kind, marked[n].S)
		s = s[j+len(markClose):]
	}
	return l
}

// unmarkFormat is the formatted text; the format itself holds no marker
// unless a caller wrote one, which is removed when no argument is marked.
func unmarkFormat(s string, marked int) string {
	if marked == 0 {
		return unmark.Replace(s)
	}
	return s
}

func (l Line) add(k SpanKind, s string) Line {
	if s == "" {
		return l
	}
	return append(l, Span{Kind: k, S: s})
}

// Plain is the line as plain text.
func (l Line) Plain() string {
	var b strings.Builder
	for _, s := range l {
		b.WriteString(s.S)
	}
	return b.String()
}

// Render writes the line with one function per kind of span.
func (l Line) Render(literal, text, code func(string) string) string {
	var b strings.Builder
	for _, s := range l {
		switch s.Kind {
		case Code:
			b.WriteString(code(s.S))
		case Text:
			b.WriteString(text(s.S))
		default:
			b.WriteString(literal(s.S))
		}
	}
	return b.String()
}

// MarshalJSON writes the line as plain text.
func (l Line) MarshalJSON() ([]byte, error) { return json.Marshal(l.Plain()) }

// UnmarshalJSON reads a line that MarshalJSON wrote: its plain text, as
// one Text span (none when empty). The JSON does not keep the spans'
// kinds, and what a JSON input says is data, escaped when rendered.
func (l *Line) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil // a no-op, as encoding/json has it
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("line: %w", err)
	}
	*l = Line(nil).add(Text, s)
	return nil
}
