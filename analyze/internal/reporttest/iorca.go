package reporttest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/iorca/iorca/report/content"
	"github.com/iorca/iorca/samples/workload"
)

var (
	buildOnce sync.Once
	iorcaBin  string
	buildErr  error
	buildDir  string
)

// Iorca runs the real iorca binary, built once per test process from
// analyze/cmd/iorca, with args; its output goes to stdout and stderr, and
// its exit status is returned (-1 when it could not run). It has the
// shape of the command's own run, so tests read the same either way.
func Iorca(args []string, stdout, stderr io.Writer) int {
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "iorca-bin-"); buildErr != nil {
			return
		}
		iorcaBin = filepath.Join(buildDir, "iorca")
		cmd := exec.Command("go", "build", "-o", iorcaBin, "github.com/iorca/iorca/analyze/cmd/iorca")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			buildErr = errors.New("building iorca: " + err.Error() + "\n" + out.String())
		}
	})
	if buildErr != nil {
		io.WriteString(stderr, buildErr.Error())
		return -1
	}
	cmd := exec.Command(iorcaBin, args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	io.WriteString(stderr, err.Error())
	return -1
}

// RemoveBinary removes the binary Iorca built (TestMain, after the tests).
func RemoveBinary() {
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}

// RunReport is `iorca report PATH` in JSON and in Markdown through run
// (the command's own run, or Iorca), failing the test on a non-zero exit.
func RunReport(t testing.TB, run func([]string, io.Writer, io.Writer) int, path string, extra ...string) (Report, string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(append([]string{"report", path, "--format", "json"}, extra...), &out, &errb); code != 0 {
		t.Fatalf("report: exit %d: %s", code, errb.String())
	}
	r := Decode(t, out.Bytes())
	var md, errm bytes.Buffer
	if code := run(append([]string{"report", path}, extra...), &md, &errm); code != 0 {
		t.Fatalf("report md: exit %d: %s", code, errm.String())
	}
	return r, md.String()
}

// Main runs a scenario package's tests (TestMain) and removes the
// binaries they built: the workload's and Iorca's.
func Main(m *testing.M) {
	code := workload.RunTests(m)
	RemoveBinary()
	os.Exit(code)
}

// Analyze is RunReport through the real iorca binary (Iorca).
func Analyze(t testing.TB, path string, extra ...string) (Report, string) {
	t.Helper()
	return RunReport(t, Iorca, path, extra...)
}

// Fleet is `iorca fleet --format json -q ARGS...` through run (the
// command's own run, or Iorca), decoded; a non-zero exit fails the test.
func Fleet(t testing.TB, run func([]string, io.Writer, io.Writer) int, args ...string) *content.Fleet {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(append([]string{"fleet", "--format", "json", "-q"}, args...), &out, &errb); code != 0 {
		t.Fatalf("iorca fleet %v: exit %d: %s", args, code, errb.String())
	}
	var s content.Fleet
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("fleet JSON: %v", err)
	}
	return &s
}
