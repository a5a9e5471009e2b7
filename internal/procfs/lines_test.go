package procfs

import (
	"bytes"
	"reflect"
	"testing"
)

// fieldsInto splits as bytes.Fields does, whatever the line, and reuses
// the room it is given.
func TestFieldsIntoIsFields(t *testing.T) {
	room := make([][]byte, 0, 8)
	for _, l := range []string{
		"", " ", "nr_free_pages 12345", "  8  0 sda 1 2 3 4 5 6 7 8 9 10 11  ",
		"a\tb\vc\fd\re", "MemTotal:       24576000 kB", "x\u00a0y z", "\u0085lead trail\u2003",
		"invalid \xff utf8", "one",
	} {
		got := fieldsInto(room[:0], []byte(l))
		want := bytes.Fields([]byte(l))
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: fieldsInto %q, Fields %q", l, got, want)
		}
		for i, f := range got {
			if cap(f) != len(f) {
				t.Errorf("%q: field %d %q has room past its end, which an append would write over the line", l, i, f)
			}
		}
	}
	// Fields already taken stay, and a non-ASCII line replaces only its own.
	got := fieldsInto(fieldsInto(nil, []byte("a b")), []byte("c\u00a0d e"))
	if want := [][]byte{[]byte("a"), []byte("b"), []byte("c"), []byte("d"), []byte("e")}; !reflect.DeepEqual(got, want) {
		t.Errorf("appended: %q, want %q", got, want)
	}
}

func FuzzFieldsInto(f *testing.F) {
	f.Add([]byte("nr_dirty 12\t x"))
	f.Add([]byte("a\u00a0b"))
	f.Fuzz(func(t *testing.T, l []byte) {
		got, want := fieldsInto(nil, l), bytes.Fields(l)
		if len(got) != len(want) {
			t.Fatalf("%q: %d fields, Fields %d", l, len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("%q: field %d %q, Fields %q", l, i, got[i], want[i])
			}
		}
	})
}
