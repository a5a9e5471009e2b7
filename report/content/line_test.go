package content

import (
	"reflect"
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
