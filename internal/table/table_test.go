package table

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func sample() *Table {
	t := &Table{Columns: []Column{{Name: "Device", Left: true}, {Name: "w/s", Prec: 2}, {Name: "%util", Prec: 2, Key: "util"}, {Name: "Command", Left: true}}}
	t.Add(Text("vda"), Num(378), Num(10.8), Text("dd | tee"))
	t.Add(Text("loop0"), Num(1.5), Num(0), Text("a_b"))
	return t
}

func TestText(t *testing.T) {
	var b bytes.Buffer
	sample().Text(&b)
	want := "Device     w/s  %util  Command\n" +
		"vda     378.00  10.80  dd | tee\n" +
		"loop0     1.50   0.00  a_b\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestMarkdownAndJSON(t *testing.T) {
	var b bytes.Buffer
	sample().Markdown(&b)
	if !strings.Contains(b.String(), "| vda | 378.00 | 10.80 | dd \\| tee |") || !strings.Contains(b.String(), "|---|---:|---:|---|") || !strings.Contains(b.String(), `a\_b`) {
		t.Errorf("markdown:\n%s", b.String())
	}
	j, err := json.Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(j, &rows); err != nil {
		t.Fatal(err)
	}
	if rows[0]["util"].(float64) != 10.8 || rows[1]["Device"] != "loop0" {
		t.Errorf("json %s", j)
	}
}

// A shown cell prints its text and writes its number; MinWidths line up
// two tables whose widest cells differ.
func TestShownAndMinWidths(t *testing.T) {
	a := &Table{Columns: []Column{{Name: "PID", Prec: -1}, {Name: "READ", Prec: 2}}}
	a.Add(Int(1), Shown(2048, "   2.00 K/s"))
	b := &Table{Columns: a.Columns, MinWidths: a.Widths()}
	b.Add(Int(2), Shown(0, "   0.00 B/s"))
	var ta, tb bytes.Buffer
	a.Text(&ta)
	b.Text(&tb)
	if ta.String() != "PID         READ\n  1     2.00 K/s\n" || tb.String() != "PID         READ\n  2     0.00 B/s\n" {
		t.Errorf("got\n%s%s", ta.String(), tb.String())
	}
	j, _ := json.Marshal(a)
	if string(j) != `[{"PID":1,"READ":2048.00}]` {
		t.Errorf("JSON %s", j)
	}
}
