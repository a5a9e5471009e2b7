package accounting

import (
	"io"
	"os"
	"testing"

	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/samples/workload"
)

// The analyzer's exit status for success (analyze/cmd/iorca).
const exitOK = 0

// reportJSON is the part of the JSON report the tests read.
type reportJSON = reporttest.Report

// TestMain removes the binaries the scenarios built.
func TestMain(m *testing.M) {
	code := workload.RunTests(m)
	reporttest.RemoveBinary()
	os.Exit(code)
}

// run is the real iorca binary's run (reporttest.Iorca).
func run(args []string, stdout, stderr io.Writer) int { return reporttest.Iorca(args, stdout, stderr) }

func runReport(t *testing.T, path string, extra ...string) (reportJSON, string) {
	t.Helper()
	return reporttest.RunReport(t, run, path, extra...)
}

func checkFindings(t *testing.T, r reportJSON, present, absent []string) bool {
	t.Helper()
	return reporttest.CheckFindings(t, r, present, absent)
}
