package workload

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildPath string
	buildErr  error
	buildOut  []byte
)

// RunTests runs a package's tests and then deletes what Build made, as
// the binary outlives any one test: a package whose tests call Build has
// func TestMain(m *testing.M) { os.Exit(workload.RunTests(m)) }.
func RunTests(m *testing.M) int {
	defer removeBuild()
	return m.Run()
}

func removeBuild() {
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}

// Build compiles cmd/iorca-workload as a static binary, once per test
// process, and returns its path. It fails t if the build fails. The
// package's TestMain removes it through RunTests.
func Build(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "iorca-workload-")
		if err != nil {
			buildErr = err
			return
		}
		buildDir = dir
		buildPath = filepath.Join(dir, "iorca-workload")
		cmd := exec.Command("go", "build", "-o", buildPath, "github.com/iorca/iorca/samples/workload/cmd/iorca-workload")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("building iorca-workload: %v\n%s", buildErr, buildOut)
	}
	return buildPath
}
