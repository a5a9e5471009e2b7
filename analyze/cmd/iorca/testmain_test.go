package main

import (
	"os"
	"testing"

	"github.com/iorca/iorca/samples/workload"
)

// runMainEnv, set, makes the test binary run iorca's main instead of the
// tests: a test can then watch iorca as a process (its exit status, its
// signals) without building it.
const runMainEnv = "IORCA_TEST_RUN_MAIN"

// TestMain removes the workload binary the live tests built.
func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
	}
	os.Exit(workload.RunTests(m))
}
