package mechanisms

import (
	"testing"

	"github.com/iorca/iorca/analyze/internal/reporttest"
)

// TestMain removes the binaries the scenarios built.
func TestMain(m *testing.M) { reporttest.Main(m) }
