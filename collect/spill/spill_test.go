package spill

import (
	"bytes"
	"io"
	"os"
	"testing"
)

// Bytes appended come back in order from the file, whose name is gone
// from the directory at once; with no directory that takes a file they
// come back from memory; Close twice is harmless.
func TestAppendReadBack(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		dirs []string
		want string
	}{
		{"file", []string{dir}, dir},
		{"first that takes one", []string{dir + "/missing", dir}, dir},
		{"memory", []string{dir + "/missing"}, ""},
		{"none", nil, ""},
	} {
		s := New(tc.dirs...)
		if s.Dir != tc.want {
			t.Errorf("%s: in %q, want %q", tc.name, s.Dir, tc.want)
		}
		var want []byte
		for i := range 100 {
			b := bytes.Repeat([]byte{byte('a' + i%26)}, 1000+i)
			off, err := s.Append(b)
			if err != nil || off != int64(len(want)) {
				t.Fatalf("%s: append %d at %d: %v", tc.name, i, off, err)
			}
			want = append(want, b...)
		}
		if got, _ := io.ReadAll(s.Reader(-1)); !bytes.Equal(got, want) || s.Len() != int64(len(want)) {
			t.Errorf("%s: read back %d bytes of %d (Len %d)", tc.name, len(got), len(want), s.Len())
		}
		if got, _ := io.ReadAll(s.Reader(10)); !bytes.Equal(got, want[:10]) {
			t.Errorf("%s: the first 10 bytes read %q", tc.name, got)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("%s: the directory holds %v: the file was not unlinked", tc.name, ents)
		}
		s.Close()
		s.Close()
	}
	var nilFile *File
	nilFile.Close()
}
