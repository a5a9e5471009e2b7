package main

import (
	"bytes"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// document is what report, fleet and diff write: one document in each of
// the output formats.
type document interface {
	Markdown(w io.Writer) error
	JSON(w io.Writer) error
	HTML(w io.Writer) error
}

// outputFormat is one way to write a document.
type outputFormat struct {
	name, help string
	write      func(document, io.Writer) error
}

// outputFormats serves every command that writes a document: its
// --format flag, its check and its output.
var outputFormats = []outputFormat{
	{"md", "Markdown", document.Markdown},
	{"json", "JSON", document.JSON},
	{"html", "one self-contained HTML page", document.HTML},
}

// viewFormats are replay's --format values: a view is text, as the tool
// it replays prints it, or JSON; it is no document.
var viewFormats = []string{"text", "json"}

// formatsOf are a command's --format values, its default first: the one
// list its flag check, the usage and the completion script read.
func formatsOf(cmd string) []string {
	if cmd == "replay" {
		return viewFormats
	}
	names := make([]string, len(outputFormats))
	for i, f := range outputFormats {
		names[i] = f.name
	}
	return names
}

// formatNames lists the formats as a flag's help and an error say them:
// "md, json or html".
func formatNames() string {
	names := formatsOf("report")
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// formatFlag registers --format.
func formatFlag(fs *pflag.FlagSet) *string {
	return fs.String("format", outputFormats[0].name, formatNames())
}

// lookupFormat finds a format by name, or says which there are.
func lookupFormat(cmd, name string) (outputFormat, error) {
	for _, f := range outputFormats {
		if f.name == name {
			return f, nil
		}
	}
	return outputFormat{}, usagef(cmd, "--format %q: want %s", name, formatNames())
}

// render writes a document in a format, to memory: an output is written
// whole or not at all.
func render(cmd string, f outputFormat, doc document) ([]byte, error) {
	var buf bytes.Buffer
	if err := f.write(doc, &buf); err != nil {
		return nil, failed(cmd, err)
	}
	return buf.Bytes(), nil
}

// markdownPage writes a document's Markdown wrapped as a page: the HTML
// of the documents whose HTML is their Markdown rendered (fleet, diff).
func markdownPage(doc document, w io.Writer, page func(w io.Writer, md []byte) error) error {
	var md bytes.Buffer
	if err := doc.Markdown(&md); err != nil {
		return err
	}
	return page(w, md.Bytes())
}
