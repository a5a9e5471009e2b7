package model

import (
	"path/filepath"
	"reflect"
	"testing"
	"unsafe"

	"github.com/iorca/iorca/collect/bundle"
)

// A trace is parsed in place (strace.ParseText on the member's own
// buffer): what the loader keeps of it must not point into that buffer,
// or the whole trace text stays alive for the rest of the report. Checked
// on every committed sample's traces (between them: syscalls, files,
// failures by errno, truncations, the durable pattern, directory scans,
// msync and syncfs), by the address of every string kept.
func TestParsedTraceKeepsNoTraceText(t *testing.T) {
	paths, err := filepath.Glob("../../samples/*.tar.zst")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	traces, kept := 0, 0
	for _, path := range paths {
		b, err := bundle.ReadFile(path, bundle.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range b.Manifest.Targets {
			info := tg.Strace
			if info == nil || info.Member == "" {
				continue
			}
			data, ok := b.Member(info.Member)
			if !ok || len(data) == 0 {
				continue
			}
			// The buffer the parser shares: a copy, as the bundle's
			// members are its own.
			text := append([]byte(nil), data...)
			p := parseTrace(text, info)
			traces++
			lo := uintptr(unsafe.Pointer(unsafe.SliceData(text)))
			hi := lo + uintptr(len(text))
			walkStrings(reflect.ValueOf(p), func(where, s string) {
				kept++
				if at := uintptr(unsafe.Pointer(unsafe.StringData(s))); len(s) > 0 && at >= lo && at < hi {
					t.Errorf("%s %s: %s %q points into the trace's text", filepath.Base(path), info.Member, where, s)
				}
			})
		}
	}
	if traces < 5 || kept < 100 {
		t.Fatalf("walked %d traces and %d strings: the samples hold more", traces, kept)
	}
}

// walkStrings calls f with every string reachable from v: fields
// (exported or not), elements, map keys and values, through pointers.
func walkStrings(v reflect.Value, f func(where, s string)) {
	seen := map[uintptr]bool{}
	var walk func(v reflect.Value, where string)
	walk = func(v reflect.Value, where string) {
		switch v.Kind() {
		case reflect.String:
			f(where, v.String())
		case reflect.Pointer, reflect.Interface:
			if v.IsNil() {
				return
			}
			if v.Kind() == reflect.Pointer {
				if seen[v.Pointer()] {
					return
				}
				seen[v.Pointer()] = true
			}
			walk(v.Elem(), where)
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				walk(v.Field(i), where+"."+v.Type().Field(i).Name)
			}
		case reflect.Slice, reflect.Array:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i), where+"[]")
			}
		case reflect.Map:
			it := v.MapRange()
			for it.Next() {
				walk(it.Key(), where+" key")
				walk(it.Value(), where+" value")
			}
		}
	}
	walk(v, "parsed")
}
