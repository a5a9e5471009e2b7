// Package sampletest loads the shipped sample bundles (samples/, captured
// by the collector from reproduced incidents) for unit tests, through the
// analyzer's own loader (model.LoadFile), once per test binary.
package sampletest

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/collect/bundle"
)

// Memo keeps one value per sample for all the tests of a package, made
// the first time a test asks for it: tests read what a sample gives,
// they never change it.
type Memo[T any] struct {
	mu   sync.Mutex
	vals map[string]T
}

// Get is name's value, made by make the first time.
func (c *Memo[T]) Get(name string, make func() T) T {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.vals[name]; ok {
		return v
	}
	if c.vals == nil {
		c.vals = map[string]T{}
	}
	v := make()
	c.vals[name] = v
	return v
}

var models Memo[*model.Model]

// Model is the model of samples/NAME.tar.zst, loaded once for all the
// tests of a package.
func Model(t testing.TB, name string) *model.Model {
	t.Helper()
	return models.Get(name, func() *model.Model { return Load(t, Path(t, name)) })
}

// Path is the path of samples/NAME.tar.zst in this module.
func Path(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(Dir(t), name+".tar.zst")
}

// Dir is the module's samples directory.
func Dir(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "samples")
		}
		if filepath.Dir(d) == d {
			t.Fatal("no go.mod above " + wd)
		}
	}
}

// Load reads and models the bundle at path, failing t when it cannot.
func Load(t testing.TB, path string) *model.Model {
	t.Helper()
	m, err := model.LoadFile(path, bundle.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Names are the names of the committed samples (samples/NAME.tar.zst), in
// order.
func Names(t testing.TB) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(Dir(t), "*.tar.zst"))
	if err != nil || len(matches) == 0 {
		t.Fatalf("no sample bundle in %s", Dir(t))
	}
	names := make([]string, len(matches))
	for i, m := range matches {
		names[i] = strings.TrimSuffix(filepath.Base(m), ".tar.zst")
	}
	return names
}
