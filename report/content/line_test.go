package content

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestLinef(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  Line
		want Line
	}{
		{"literal only", Linef("%d writes of %.0f bytes", 3, 58.0), Line{{Literal, "3 writes of 58 bytes"}}},
		{"code and text", Linef("%s is on %s, type %s.", AsCode("/var/log/a.log"), AsCode("/"), AsText("ext4")),
			Line{{Code, "/var/log/a.log"}, {Literal, " is on "}, {Code, "/"}, {Literal, ", type "}, {Text, "ext4"}, {Literal, "."}}},
		{"adjacent", Linef("%s%s", AsCode("a"), AsText("b")), Line{{Code, "a"}, {Text, "b"}}},
		// Bundle data cannot forge a span with the marker runes: they are
		// removed from every argument.
		{"forged marker", Linef("%s and %s", "x\uE0000\uE001y", AsCode("c\uE001")), Line{{Literal, "x0y and "}, {Code, "c"}}},
		{"empty", Linef(""), nil},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s: %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
	l := Linef("PID %d %s", 7, AsCode("nginx"))
	if l.Plain() != "PID 7 nginx" {
		t.Errorf("Plain = %q", l.Plain())
	}
	if got := l.Render(func(s string) string { return s }, func(s string) string { return "<" + s + ">" }, func(s string) string { return "`" + s + "`" }); got != "PID 7 `nginx`" {
		t.Errorf("Render = %q", got)
	}
}

func FuzzLinef(f *testing.F) {
	f.Add("a%sb%sc", "x\uE000", "y\uE001")
	f.Fuzz(func(t *testing.T, format, a, b string) {
		l := Linef(format, AsCode(a), AsText(b))
		for _, s := range l {
			if s.S == "" {
				t.Fatalf("empty span in %#v", l)
			}
		}
	})
}

// A line is written as its plain text and read back as one Text span:
// the kinds of its spans are not in the JSON, and what a JSON input says
// is data to escape.
func TestLineJSON(t *testing.T) {
	l := Linef("%s is on %s, type %s.", AsCode("/var/log/a.log"), AsCode("/"), AsText("ext*4"))
	data, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	var got Line
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if want := (Line{{Text, "/var/log/a.log is on /, type ext*4."}}); !reflect.DeepEqual(got, want) {
		t.Errorf("read back %#v, want %#v", got, want)
	}
	if err := json.Unmarshal([]byte(`""`), &got); err != nil || got != nil {
		t.Errorf(`"" read back as %#v (%v), want no span`, got, err)
	}
	if err := json.Unmarshal([]byte(`["a"]`), &got); err == nil || !strings.Contains(err.Error(), "line: ") {
		t.Errorf("an array read as a line: error %v", err)
	}
}
