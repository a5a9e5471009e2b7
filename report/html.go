package report

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/iorca/iorca/report/content"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// pageStyle is the pages' CSS, inline: a report is one file that needs no
// network.
const pageStyle = `body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#1b1f24}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}th,td{border:1px solid #d0d7de;padding:.3rem .6rem;vertical-align:top}
th{background:#f6f8fa}code{background:#f6f8fa;padding:.1rem .3rem;border-radius:4px;font-size:.85em}
pre{background:#f6f8fa;padding:1rem;overflow:auto}h3{margin-top:2rem}
nav.toc{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:.5rem 1.5rem;margin:1rem 0}
figure{margin:1.5rem 0}figcaption{font-size:.9rem;color:#374151;max-width:760px}svg.chart{max-width:100%;height:auto}
details{border:1px solid #d0d7de;border-radius:6px;padding:.4rem .8rem;margin:.6rem 0}details>summary{cursor:pointer;font-weight:600}
.sev-critical>summary{color:#b91c1c}.sev-warning>summary{color:#9a6700}`

// markdownHTML renders Markdown as HTML (GitHub tables; raw HTML in the
// Markdown is not passed through, so bundle content cannot inject
// markup).
func markdownHTML(md []byte) (string, error) {
	var body bytes.Buffer
	gm := goldmark.New(goldmark.WithExtensions(extension.GFM))
	if err := gm.Convert(md, &body); err != nil {
		return "", fmt.Errorf("rendering HTML: %w", err)
	}
	return body.String(), nil
}

// MarkdownPage writes Markdown as a self-contained HTML page with title.
func MarkdownPage(w io.Writer, title string, md []byte) error {
	body, err := markdownHTML(md)
	if err != nil {
		return err
	}
	return page(w, title, body)
}

func page(w io.Writer, title, body string) error {
	_, err := fmt.Fprintf(w, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s</title>\n<style>\n%s\n</style></head><body>\n%s</body></html>\n",
		html.EscapeString(title), pageStyle, body)
	return err
}

// section is one part of the HTML report: an anchor, a heading for the
// table of contents, and its HTML.
type section struct {
	id, title, html string
}

// HTML writes the report as one self-contained page: a table of
// contents; the verdict; the charts (inline SVG drawn from the model,
// each with its title and text alternative; no script); the evidence
// chain; the findings, each collapsible with its evidence (open when a
// warning or worse); mitigations, monitoring and the appendix.
func (r *Report) HTML(w io.Writer) error {
	c := r.Content
	var sections []section
	addMD := func(id, title string, write func(b *bytes.Buffer)) error {
		var b bytes.Buffer
		write(&b)
		if b.Len() == 0 {
			return nil
		}
		h, err := markdownHTML(b.Bytes())
		if err != nil {
			return err
		}
		sections = append(sections, section{id, title, h})
		return nil
	}
	// addCollapsed is addMD in a closed <details>: evidence a reader
	// opens when they want it.
	addCollapsed := func(id, title string, write func(b *bytes.Buffer)) error {
		n := len(sections)
		if err := addMD(id, title, write); err != nil || len(sections) == n {
			return err
		}
		s := &sections[n]
		s.html = fmt.Sprintf("<details><summary>%s</summary>\n%s</details>\n", html.EscapeString(title), s.html)
		return nil
	}
	if err := addMD("verdict", "Verdict", func(b *bytes.Buffer) { verdict(b, c) }); err != nil {
		return err
	}
	if err := addMD("immediate", "Immediate actions", func(b *bytes.Buffer) { immediate(b, c) }); err != nil {
		return err
	}
	if len(c.Charts) > 0 {
		var b strings.Builder
		b.WriteString("<h2>Charts</h2>\n")
		for _, ch := range c.Charts {
			fmt.Fprintf(&b, "<figure id=\"fig-%s\">\n<h3>%s</h3>\n%s\n<figcaption>%s</figcaption>\n</figure>\n",
				html.EscapeString(ch.ID), html.EscapeString(ch.Title), SVG(ch), html.EscapeString(ch.Alt))
		}
		sections = append(sections, section{"charts", "Charts", b.String()})
	}
	var fb strings.Builder
	fb.WriteString("<h2>Findings</h2>\n")
	if len(c.Findings) == 0 {
		fb.WriteString("<p>None.</p>\n")
	}
	for i, f := range c.Findings {
		var b bytes.Buffer
		findingBody(&b, f)
		body, err := markdownHTML(b.Bytes())
		if err != nil {
			return err
		}
		heading, err := markdownHTML([]byte(findingHeading(i, f)))
		if err != nil {
			return err
		}
		open := ""
		heading = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(heading), "<p>"), "</p>")
		fmt.Fprintf(&fb, "<details class=\"finding sev-%s\" id=\"finding-%d\"%s><summary>%s</summary>\n%s</details>\n", f.Severity, i+1, open, heading, body)
	}
	sections = append(sections, section{"findings", "Findings", fb.String()})
	if err := addMD("mitigations", "Mitigations", func(b *bytes.Buffer) { mitigations(b, c, false) }); err != nil {
		return err
	}
	if err := addMD("alerts", "Alerts", func(b *bytes.Buffer) { alertsTable(b, c) }); err != nil {
		return err
	}
	if err := addCollapsed("evidence-chain", "Evidence chain", func(b *bytes.Buffer) { chain(b, c.Chain) }); err != nil {
		return err
	}
	if err := addCollapsed("monitoring", "Monitoring and alert rules", func(b *bytes.Buffer) { monitoring(b, c.Monitoring) }); err != nil {
		return err
	}
	if err := addMD("appendix", "Appendix", func(b *bytes.Buffer) { b.WriteString("## Appendix\n\n"); appendixTables(b, c) }); err != nil {
		return err
	}

	var body strings.Builder
	intro, err := markdownHTML([]byte(md(c.Intro)))
	if err != nil {
		return err
	}
	fmt.Fprintf(&body, "<h1>%s</h1>\n%s", html.EscapeString(c.Title), intro)
	body.WriteString("<nav class=\"toc\" aria-label=\"Contents\"><strong>Contents</strong><ol>\n")
	for _, s := range sections {
		fmt.Fprintf(&body, "<li><a href=\"#%s\">%s</a>", s.id, s.title)
		if s.id == "charts" {
			body.WriteString("<ol>")
			for _, ch := range c.Charts {
				fmt.Fprintf(&body, "<li><a href=\"#fig-%s\">%s</a></li>", html.EscapeString(ch.ID), html.EscapeString(ch.Title))
			}
			body.WriteString("</ol>")
		}
		body.WriteString("</li>\n")
	}
	body.WriteString("</ol></nav>\n")
	for _, s := range sections {
		fmt.Fprintf(&body, "<section id=\"%s\">\n%s</section>\n", s.id, s.html)
	}
	return page(w, r.Title(), body.String())
}

// ChartsPage writes Markdown as a self-contained HTML page followed by
// charts (a comparison's timelines, say), each with its title and text
// alternative.
func ChartsPage(w io.Writer, title string, md []byte, charts []content.Chart) error {
	body, err := markdownHTML(md)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(body)
	if len(charts) > 0 {
		b.WriteString("<h2>Timelines</h2>\n")
		for _, ch := range charts {
			fmt.Fprintf(&b, "<figure id=\"fig-%s\">\n<h3>%s</h3>\n%s\n<figcaption>%s</figcaption>\n</figure>\n",
				html.EscapeString(ch.ID), html.EscapeString(ch.Title), SVG(ch), html.EscapeString(ch.Alt))
		}
	}
	return page(w, title, b.String())
}
