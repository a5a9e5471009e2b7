// Package table holds a table of typed cells and renders it as aligned
// text (the way iostat, iotop and pidstat print), as a GitHub Markdown
// table, or as JSON objects keyed by column.
package table

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Cell is one value: a number (printed with the column's precision) or
// text.
type Cell struct {
	Num   float64
	IsNum bool
	Text  string
	// Raw marks Text as Markdown already (Markdown).
	Raw bool
	// Shown, when set, is how text and Markdown print a number (iotop's
	// "12.34 M/s"); JSON keeps Num.
	Shown string
}

// Num returns a numeric cell.
func Num(v float64) Cell { return Cell{Num: v, IsNum: true} }

// Int returns a numeric cell holding an integer.
func Int(v int64) Cell { return Cell{Num: float64(v), IsNum: true} }

// Shown returns a numeric cell printed as shown: the number for JSON,
// the text for people.
func Shown(v float64, shown string) Cell { return Cell{Num: v, IsNum: true, Shown: shown} }

// Text returns a text cell.
func Text(s string) Cell { return Cell{Text: s} }

// Markdown is a cell of text already written as Markdown: the table
// writes it as it is (it must not hold a line break or an unescaped |).
func Markdown(s string) Cell { return Cell{Text: s, Raw: true} }

// Column describes one column.
type Column struct {
	Name string
	// Prec is the number of decimals for numbers (-1 prints integers).
	Prec int
	// Left aligns the column left (text); numbers align right.
	Left bool
	// Key names the column in JSON; Name is used when empty.
	Key string
}

// Table is a titled table.
type Table struct {
	Columns []Column
	Rows    [][]Cell
	// MinWidths, when set, are the least widths of the text columns, so
	// that the blocks of one view line up (Widths gives a table's own).
	MinWidths []int
}

// Add appends a row.
func (t *Table) Add(cells ...Cell) { t.Rows = append(t.Rows, cells) }

func (t *Table) cellText(c Cell, col Column) string {
	if c.Shown != "" {
		return c.Shown
	}
	if !c.IsNum {
		return c.Text
	}
	if col.Prec < 0 {
		return strconv.FormatFloat(c.Num, 'f', 0, 64)
	}
	return strconv.FormatFloat(c.Num, 'f', col.Prec, 64)
}

// cells is the text of every cell, and each column's width: its widest
// cell or name, at least MinWidths.
func (t *Table) cells() ([][]string, []int) {
	widths := make([]int, len(t.Columns))
	for i, c := range t.Columns {
		widths[i] = utf8.RuneCountInString(c.Name)
		if i < len(t.MinWidths) {
			widths[i] = max(widths[i], t.MinWidths[i])
		}
	}
	cells := make([][]string, len(t.Rows))
	for r, row := range t.Rows {
		cells[r] = make([]string, len(t.Columns))
		for i := range t.Columns {
			s := ""
			if i < len(row) {
				s = t.cellText(row[i], t.Columns[i])
			}
			cells[r][i] = s
			widths[i] = max(widths[i], utf8.RuneCountInString(s))
		}
	}
	return cells, widths
}

// Widths are the widths Text gives the columns.
func (t *Table) Widths() []int {
	_, w := t.cells()
	return w
}

// Text writes the table aligned in columns separated by two spaces; text
// columns are padded right except the last, numbers padded left.
func (t *Table) Text(w io.Writer) error {
	cells, widths := t.cells()
	var b bytes.Buffer
	line := func(vals []string) {
		for i, v := range vals {
			if i > 0 {
				b.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(v))
			switch {
			case t.Columns[i].Left && i == len(vals)-1:
				b.WriteString(v)
			case t.Columns[i].Left:
				b.WriteString(v + pad)
			default:
				b.WriteString(pad + v)
			}
		}
		b.WriteString("\n")
	}
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	line(names)
	for _, row := range cells {
		line(row)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// Markdown writes a GitHub-flavoured Markdown table. Pipes and newlines in
// cells are escaped so that a file name cannot break the table.
func (t *Table) Markdown(w io.Writer) error {
	var b bytes.Buffer
	b.WriteString("|")
	for _, c := range t.Columns {
		b.WriteString(" " + MarkdownEscape(c.Name) + " |")
	}
	b.WriteString("\n|")
	for _, c := range t.Columns {
		if c.Left {
			b.WriteString("---|")
		} else {
			b.WriteString("---:|")
		}
	}
	b.WriteString("\n")
	for _, row := range t.Rows {
		b.WriteString("|")
		for i, c := range t.Columns {
			s := ""
			if i < len(row) {
				s = t.cellText(row[i], c)
			}
			if i < len(row) && row[i].Raw {
				b.WriteString(" " + s + " |")
				continue
			}
			b.WriteString(" " + MarkdownEscape(s) + " |")
		}
		b.WriteString("\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}

// MarkdownEscape makes text safe inside a Markdown table cell or a line:
// it escapes the characters that would start markup and replaces line
// breaks.
func MarkdownEscape(s string) string { return markdownEscaper.Replace(s) }

// markdownEscaper is built once: a Replacer builds its lookup table on
// first use, which costs more than escaping one cell (a report escapes
// thousands).
var markdownEscaper = strings.NewReplacer(`\`, `\\`, "|", `\|`, "\n", " ", "\r", " ", "*", `\*`, "_", `\_`, "`", "\\`", "<", "&lt;", ">", "&gt;", "[", `\[`, "]", `\]`)

// MarshalJSON writes the rows as objects keyed by column.
func (t *Table) MarshalJSON() ([]byte, error) {
	rows := make([]json.RawMessage, 0, len(t.Rows))
	for _, row := range t.Rows {
		var b bytes.Buffer
		b.WriteString("{")
		for i, c := range t.Columns {
			if i > 0 {
				b.WriteString(",")
			}
			key := c.Key
			if key == "" {
				key = c.Name
			}
			k, _ := json.Marshal(key)
			b.Write(k)
			b.WriteString(":")
			if i >= len(row) {
				b.WriteString("null")
				continue
			}
			if row[i].IsNum {
				if c.Prec < 0 {
					fmt.Fprintf(&b, "%d", int64(row[i].Num))
				} else {
					b.WriteString(strconv.FormatFloat(row[i].Num, 'f', max(c.Prec, 0), 64))
				}
			} else {
				v, _ := json.Marshal(row[i].Text)
				b.Write(v)
			}
		}
		b.WriteString("}")
		rows = append(rows, b.Bytes())
	}
	return json.Marshal(rows)
}
