package window

import (
	"strings"
	"testing"
)

// Every threshold says what it means in --help, and no default prints
// with an exponent.
func TestThresholdHelp(t *testing.T) {
	var b strings.Builder
	Help(&b)
	d := Defaults()
	for _, n := range d.Names() {
		if thresholdHelp[n] == "" {
			t.Errorf("threshold %s has no help line", n)
		}
	}
	if strings.Contains(b.String(), "e+") || !strings.Contains(b.String(), "262144") {
		t.Errorf("help:\n%s", b.String())
	}
}
