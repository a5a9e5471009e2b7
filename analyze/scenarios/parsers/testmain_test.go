package parsers_test

import (
	"os"
	"testing"

	"github.com/iorca/iorca/samples/workload"
)

// TestMain removes the workload binary the live tests built.
func TestMain(m *testing.M) { os.Exit(workload.RunTests(m)) }
