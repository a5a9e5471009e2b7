package procfs

import (
	"reflect"
	"testing"
)

// Lines as this machine's kernel (6.18) prints them: a shared writable
// mapping of a journal file, a private library mapping, an anonymous one
// and a deleted file with a space in its name.
const mapsText = `7f953d59c000-7f954159c000 rw-s 00000000 07:00 12                         /srv/data/journal.dat
7f9541600000-7f9541628000 r--p 00000000 fe:00 1837345                    /usr/lib/x86_64-linux-gnu/libc.so.6
7ffd1c1d0000-7ffd1c1f1000 rw-p 00000000 00:00 0                          [stack]
7f9541700000-7f9541701000 rw-s 00001000 07:00 13                         /srv/data/my file.dat (deleted)
`

func TestParsePIDMaps(t *testing.T) {
	got, err := ParsePIDMaps([]byte(mapsText))
	if err != nil {
		t.Fatal(err)
	}
	want := []Mapping{
		{Start: 0x7f953d59c000, End: 0x7f954159c000, Perms: "rw-s", Dev: "07:00", Inode: 12, Path: "/srv/data/journal.dat"},
		{Start: 0x7f9541600000, End: 0x7f9541628000, Perms: "r--p", Dev: "fe:00", Inode: 1837345, Path: "/usr/lib/x86_64-linux-gnu/libc.so.6"},
		{Start: 0x7ffd1c1d0000, End: 0x7ffd1c1f1000, Perms: "rw-p", Dev: "00:00", Path: "[stack]"},
		{Start: 0x7f9541700000, End: 0x7f9541701000, Perms: "rw-s", Offset: 0x1000, Dev: "07:00", Inode: 13, Path: "/srv/data/my file.dat (deleted)"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	shared := 0
	for _, m := range got {
		if m.SharedWritable() {
			shared++
		}
	}
	if shared != 2 || !got[0].Contains(0x7f953d59c000) || got[0].Contains(0x7f954159c000) {
		t.Errorf("shared writable %d, contains wrong", shared)
	}
	for _, bad := range []string{"xyz", "1-2 rw-s", "zz-1 rw-s 0 00:00 0", "1-2 rw-s 0 00:00 x"} {
		if _, err := ParsePIDMaps([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func FuzzParsePIDMaps(f *testing.F) {
	f.Add([]byte(mapsText))
	f.Fuzz(func(t *testing.T, b []byte) { ParsePIDMaps(b) })
}
