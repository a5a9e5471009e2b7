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
