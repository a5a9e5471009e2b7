package bundle

import (
	"bytes"
	"strings"
	"testing"
)

func TestFramesRoundTrip(t *testing.T) {
	in := []Frame{
		{Path: "/proc/1/io", Status: StatusOK, MonoNS: 1, Data: []byte("rchar: 1\nwchar: 2\n")},
		{Path: "/proc/2/io", Status: StatusAbsent, MonoNS: 2, Data: []byte("no such process")},
		{Path: "/proc/3/fd/4", Status: StatusOK, MonoNS: 3, Data: []byte("/srv/mer ged/a\nb.log")},
		{Path: "weird\npath\\with escapes", Status: StatusPartial, MonoNS: -1, Data: nil},
		{Path: "/proc/4/stat", Status: StatusOK, MonoNS: 4, Data: []byte("F ok 1 2 fake header inside data\n")},
	}
	var b []byte
	for _, f := range in {
		b = AppendFrame(b, f)
	}
	got, err := ParseFrames(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(in) {
		t.Fatalf("got %d frames, want %d", len(got), len(in))
	}
	for i := range in {
		if got[i].Path != in[i].Path || got[i].Status != in[i].Status || got[i].MonoNS != in[i].MonoNS || !bytes.Equal(got[i].Data, in[i].Data) {
			t.Errorf("frame %d = %+v, want %+v", i, got[i], in[i])
		}
	}
}

func TestFramesErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"F ok 1 5 /a\nabc", "runs past the end"},
		{"F ok 1 3 /a\nabcX", "not followed by a newline"},
		{"F bogus 1 0 /a\n\n", "unknown status"},
		{"G ok 1 0 /a\n\n", "want \"F status"},
		{"F ok x 0 /a\n\n", "mono_ns"},
		{"F ok 1 -1 /a\n\n", "bad size"},
		{"F ok 1 0", "no header line"},
	} {
		_, err := ParseFrames([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseFrames(%q) error = %v, want %q", tt.in, err, tt.want)
		}
	}
}

func FuzzFrames(f *testing.F) {
	f.Add(AppendFrame(nil, Frame{Path: "/proc/1/io", Status: StatusOK, Data: []byte("rchar: 1\n")}))
	f.Add([]byte("F ok 1 99999999999999 /a\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		total := 0
		for fr, err := range Frames(in) {
			if err != nil {
				return
			}
			total += len(fr.Data)
			if total > len(in) {
				t.Fatal("frames hold more data than the input")
			}
		}
	})
}
