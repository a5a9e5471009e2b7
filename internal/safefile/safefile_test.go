package safefile

import (
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// OpenRegular refuses every type but a regular file, with the type in
// the message, and never blocks (the FIFO has no writer).
func TestOpenRegular(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "reg")
	os.WriteFile(reg, []byte("x"), 0o644)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	link := filepath.Join(dir, "link")
	os.Symlink("reg", link)
	for _, tc := range []struct{ path, kind string }{
		{reg, ""},
		{link, ""},
		{fifo, "FIFO"},
		{sock, "socket"},
		{dir, "directory"},
		{"/dev/null", "character device"},
	} {
		done := make(chan error, 1)
		go func() {
			f, err := OpenRegular(tc.path)
			if err == nil {
				f.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			var nr *NotRegularError
			switch {
			case tc.kind == "" && err != nil:
				t.Errorf("%s: %v", tc.path, err)
			case tc.kind != "" && (!errors.As(err, &nr) || nr.Kind != tc.kind || !strings.Contains(err.Error(), tc.path+": is a "+tc.kind+", not a regular file")):
				t.Errorf("%s: err %v, want it refused as a %s", tc.path, err, tc.kind)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("OpenRegular(%s) blocked", tc.path)
		}
	}
	if _, err := ReadFile(reg, 0); !errors.Is(err, ErrTooLarge) {
		t.Error("ReadFile over its bound: no error")
	}
}

// Atomic gives a new file the umask's mode, or exactly the mode asked,
// and a failed write leaves the old file and no temporary file.
func TestAtomic(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	put := func(w io.Writer) error { _, err := w.Write([]byte("new")); return err }
	if err := Atomic(p, NewFileMode, put); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode() != 0o600 {
		t.Errorf("new file under umask 077: %v", st.Mode())
	}
	if err := Atomic(p, 0o664, put); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode() != 0o664 {
		t.Errorf("mode 0664 asked: %v", st.Mode())
	}
	boom := errors.New("boom")
	if err := Atomic(p, 0o600, func(w io.Writer) error { w.Write([]byte("half")); return boom }); !errors.Is(err, boom) {
		t.Errorf("err %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Errorf("after a failed write the file holds %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("files left: %v", ents)
	}
}

// Kind names every type.
func TestKind(t *testing.T) {
	for m, want := range map[fs.FileMode]string{
		0: "regular file", fs.ModeNamedPipe: "FIFO", fs.ModeDevice | fs.ModeCharDevice: "character device",
		fs.ModeDevice: "block device", fs.ModeSocket: "socket", fs.ModeDir: "directory", fs.ModeSymlink: "symbolic link",
	} {
		if got := Kind(m); got != want {
			t.Errorf("Kind(%v) = %q, want %q", m, got, want)
		}
	}
}
