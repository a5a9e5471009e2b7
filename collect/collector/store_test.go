package collector

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/samples/workload"
)

// fillStore puts n members of distinct, compressible data.
func fillStore(s *store, n int) map[string][]byte {
	want := map[string][]byte{}
	for i := 0; i < n; i++ {
		name := bundle.TickMember(i)
		data := []byte(strings.Repeat(fmt.Sprintf("tick %d line\n", i), 200+i))
		s.put(name, data)
		want[name] = data
	}
	return want
}

func testManifest() *bundle.Manifest {
	now := time.Unix(1_800_000_000, 0)
	return &bundle.Manifest{Start: bundle.Clock{Wall: now}, End: bundle.Clock{Wall: now}, Targets: []bundle.Target{}, Errors: []bundle.Problem{}, Bounds: []bundle.Bound{}}
}

// A spilling store and an in-memory one write the same bytes; the
// spilling one holds no frame in the heap, knows the size without
// reading its file, gives members back, and leaves no file behind.
func TestStoreSpills(t *testing.T) {
	dir := t.TempDir()
	mtime := time.Unix(1_800_000_000, 0)
	spilled, mem := newStore(mtime, dir), newStore(mtime)
	defer spilled.close()
	want := fillStore(spilled, 50)
	fillStore(mem, 50)
	if spilled.spill == nil || spilled.spillDir != dir {
		t.Fatalf("no spill file in %s", dir)
	}
	for name, em := range spilled.members {
		if em.Frame != nil {
			t.Fatalf("%s is in the heap", name)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("the spill file is visible: %v", ents)
	}
	// Replace one, as cutting a trace to fit does.
	spilled.put(bundle.TickMember(3), []byte("cut\n"))
	mem.put(bundle.TickMember(3), []byte("cut\n"))
	want[bundle.TickMember(3)] = []byte("cut\n")
	var a, b bytes.Buffer
	na, err := spilled.write(&a, testManifest())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mem.write(&b, testManifest()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("the spilled bundle differs from the in-memory one")
	}
	if size, err := spilled.bundleSize(testManifest()); err != nil || size != na || na != int64(a.Len()) {
		t.Errorf("bundleSize %d (%v), written %d, buffer %d", size, err, na, a.Len())
	}
	for name, data := range want {
		got, ok := readMember(spilled, name)
		if !ok || !bytes.Equal(got, data) {
			t.Fatalf("get %s: %v, %d bytes, want %d", name, ok, len(got), len(data))
		}
	}
	rd, err := bundle.ReadAll(bytes.NewReader(a.Bytes()), bundle.DefaultLimits)
	if err != nil {
		t.Fatalf("the bundle does not read back: %v", err)
	}
	if len(rd.Names()) != len(want) {
		t.Errorf("%d members read back, want %d", len(rd.Names()), len(want))
	}
}

// A spill file on a full filesystem: frames that cannot be spilled stay
// in memory, and nothing is lost (a real 1 MiB tmpfs of the test's own).
func TestStoreSpillFullDisk(t *testing.T) {
	dir := workload.Tmpfs(t, "1m")
	s := newStore(time.Unix(1_800_000_000, 0), dir)
	defer s.close()
	want := map[string][]byte{}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 40; i++ {
		name := bundle.TickMember(i)
		data := make([]byte, 128<<10) // random: zstd cannot shrink it
		rng.Read(data)
		s.put(name, data)
		want[name] = data
	}
	// A trace streamed in (putFrom) once the spill is full: read again
	// into memory, not the bundle's error.
	trace := make([]byte, 256<<10)
	rng.Read(trace)
	s.putFrom(bundle.TraceMember(42), int64(len(trace)), func() io.Reader { return bytes.NewReader(trace) })
	want[bundle.TraceMember(42)] = trace
	if s.err != nil {
		t.Fatalf("a full spill failed the store: %v", s.err)
	}
	inHeap := 0
	for _, em := range s.members {
		if em.Frame != nil {
			inHeap++
		}
	}
	if inHeap == 0 {
		t.Fatal("every frame fit a 1 MiB tmpfs: the test did not fill it")
	}
	if s.spillFailed != inHeap || s.where() != dir {
		t.Errorf("spill %q, %d failed, %d in the heap: the manifest would not say so", s.where(), s.spillFailed, inHeap)
	}
	var buf bytes.Buffer
	if _, err := s.write(&buf, testManifest()); err != nil {
		t.Fatal(err)
	}
	rd, err := bundle.ReadAll(bytes.NewReader(buf.Bytes()), bundle.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range want {
		got, ok := rd.Member(name)
		if !ok || !bytes.Equal(got, data) {
			t.Fatalf("%s lost", name)
		}
	}
}

// A source that fails mid-member is the store's error (the bundle is not
// written with a member missing), whether it spills or not.
func TestStorePutFromFailingSource(t *testing.T) {
	for _, dirs := range [][]string{{t.TempDir()}, nil} {
		s := newStore(time.Unix(1_800_000_000, 0), dirs...)
		defer s.close()
		s.putFrom(bundle.BlockTraceMember, 1<<20, func() io.Reader {
			return io.MultiReader(strings.NewReader("cut short\n"), iotest.ErrReader(io.ErrUnexpectedEOF))
		})
		if s.err == nil || s.spillFailed != 0 {
			t.Errorf("spill %v: err %v, %d spill failures", dirs, s.err, s.spillFailed)
		}
		if _, ok := s.members[bundle.BlockTraceMember]; ok {
			t.Errorf("spill %v: the failed member was stored", dirs)
		}
	}
}

// readMember reads a stored member back whole, through open.
func readMember(s *store, name string) ([]byte, bool) {
	r, ok := s.open(name)
	if !ok {
		return nil, false
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	return b, err == nil
}
