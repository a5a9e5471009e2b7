// Package sampletest loads the shipped sample bundles (samples/, captured
// by the collector from reproduced incidents) for unit tests, through the
// analyzer's own loader (model.LoadFile), once per test binary.
package sampletest

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/iorca/iorca/analyze/model"
)

var (
	mu     sync.Mutex
	models = map[string]*model.Model{}
)

// Model is the model of samples/NAME.tar.zst, loaded once for all the
// tests of a package: tests read a model, they never change it.
func Model(t testing.TB, name string) *model.Model {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if m := models[name]; m != nil {
		return m
	}
	m := Load(t, Path(t, name))
	models[name] = m
	return m
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
	m, err := model.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
