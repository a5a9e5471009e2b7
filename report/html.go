package report

import (
	"bytes"
	"fmt"
	"html"
	"io"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// HTML writes the Markdown report as a self-contained HTML page (GitHub
// flavoured tables rendered by goldmark; raw HTML in the Markdown is not
// passed through, so bundle content cannot inject markup).
func (r *Report) HTML(w io.Writer) error {
	var md bytes.Buffer
	if err := r.Markdown(&md); err != nil {
		return err
	}
	return MarkdownPage(w, r.Title(), md.Bytes())
}

// MarkdownPage writes Markdown as a self-contained HTML page with title,
// as HTML reports are (raw HTML in the Markdown is not passed through).
func MarkdownPage(w io.Writer, title string, md []byte) error {
	var body bytes.Buffer
	gm := goldmark.New(goldmark.WithExtensions(extension.GFM))
	if err := gm.Convert(md, &body); err != nil {
		return fmt.Errorf("rendering HTML: %w", err)
	}
	_, err := fmt.Fprintf(w, `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>%s</title>
<style>
body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#1b1f24}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}th,td{border:1px solid #d0d7de;padding:.3rem .6rem;vertical-align:top}
th{background:#f6f8fa}code{background:#f6f8fa;padding:.1rem .3rem;border-radius:4px;font-size:.85em}
pre{background:#f6f8fa;padding:1rem;overflow:auto}h3{margin-top:2rem}
</style></head><body>
%s</body></html>
`, html.EscapeString(title), body.String())
	return err
}
