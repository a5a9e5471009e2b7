package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUpdateFromEnvironment(t *testing.T) {
	if *updateFlag {
		t.Skip("-update given: Update is true whatever the environment says")
	}
	for v, want := range map[string]bool{"": false, "0": false, "false": false, "1": true, "true": true, "TRUE": true} {
		t.Setenv(Env, v)
		if got := Update(t); got != want {
			t.Errorf("%s=%q: Update = %v, want %v", Env, v, got, want)
		}
	}
}

// fatalRecorder records Fatalf instead of stopping the test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper()                           {}
func (r *fatalRecorder) Fatalf(format string, args ...any) { r.msg = format }

func TestUpdateRejectsATypo(t *testing.T) {
	if *updateFlag {
		t.Skip("-update given")
	}
	t.Setenv(Env, "yes please")
	r := &fatalRecorder{TB: t}
	if Update(r) || r.msg == "" {
		t.Errorf("%s=%q: Update did not fail the test (%q)", Env, "yes please", r.msg)
	}
}

// The switch is read here only: no test package declares an update flag
// of its own again (the per-package golden_flag_test.go files are gone).
func TestNoPerPackageUpdateFlag(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		if filepath.Dir(rel) == filepath.Join("internal", "golden") {
			return nil
		}
		if filepath.Base(path) == "golden_flag_test.go" {
			t.Errorf("%s: -update is declared once, in internal/golden; IORCA_UPDATE=1 reaches every package", rel)
			return nil
		}
		b, err := os.ReadFile(path)
		if err == nil && strings.Contains(string(b), `flag.Bool("update"`) {
			t.Errorf("%s declares its own -update flag: use golden.Update", rel)
		}
		return nil
	})
}
