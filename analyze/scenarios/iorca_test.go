package scenarios

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/samples/workload"
)

// The analyzer's exit status for success (analyze/cmd/iorca).
const exitOK = 0

// reportJSON is the part of the JSON report the tests read.
type reportJSON = reporttest.Report

var (
	buildOnce sync.Once
	iorcaBin  string
	buildErr  error
	buildDir  string
)

// TestMain removes the binaries the scenarios built.
func TestMain(m *testing.M) {
	code := workload.RunTests(m)
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// run runs the real iorca binary, built once from analyze/cmd/iorca, with
// args; its output goes to stdout and stderr, and its exit status is
// returned (-1 when it could not run).
func run(args []string, stdout, stderr io.Writer) int {
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "iorca-scenarios-"); buildErr != nil {
			return
		}
		iorcaBin = filepath.Join(buildDir, "iorca")
		cmd := exec.Command("go", "build", "-o", iorcaBin, "../cmd/iorca")
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

func runReport(t *testing.T, path string, extra ...string) (reportJSON, string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(append([]string{"report", path, "--format", "json"}, extra...), &out, &errb); code != exitOK {
		t.Fatalf("report: exit %d: %s", code, errb.String())
	}
	r := reporttest.Decode(t, out.Bytes())
	var md, errm bytes.Buffer
	if code := run(append([]string{"report", path}, extra...), &md, &errm); code != exitOK {
		t.Fatalf("report md: exit %d: %s", code, errm.String())
	}
	return r, md.String()
}

func checkFindings(t *testing.T, r reportJSON, present, absent []string) bool {
	t.Helper()
	return reporttest.CheckFindings(t, r, present, absent)
}
