package report

import (
	"strings"

	"github.com/iorca/iorca/internal/table"
	"github.com/iorca/iorca/report/content"
)

// Report renders one report's content.
type Report struct {
	Content *content.Report
}

// New prepares the rendering of a report's content.
func New(c *content.Report) *Report { return &Report{Content: c} }

// Title is the report's title line.
func (r *Report) Title() string { return r.Content.Title }

func esc(s string) string { return table.MarkdownEscape(s) }

// code quotes text as inline code, safe for any content.
func code(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	n := 1
	for strings.Contains(s, strings.Repeat("`", n)) {
		n++
	}
	fence := strings.Repeat("`", n)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

func literal(s string) string { return s }

// md renders a line as Markdown.
func md(l content.Line) string { return l.Render(literal, esc, code) }
