// Package golden tells a test that compares output with golden files
// (expected reports) whether to rewrite them instead. The switch is read in
// one place, so that no test package needs a file of its own for it:
//
//	IORCA_UPDATE=1 go test ./...          every package (the environment reaches every test binary)
//	go test ./analyze/cmd/iorca -update   a package that imports this one
//
// go test ./... -update is not the way: a test binary of a package that
// does not import golden rejects a flag it does not define. The variable
// is also what go test's cache keys on, so a cached pass never stands for
// an update.
package golden

import (
	"flag"
	"os"
	"strconv"
	"testing"
)

// Env names the environment variable that asks every golden-file test to
// rewrite its expected output: 1 or true (strconv.ParseBool).
const Env = "IORCA_UPDATE"

// updateFlag is -update, defined in the test binaries of the packages
// that import golden.
var updateFlag = flag.Bool("update", false, "rewrite golden files (expected reports) instead of comparing with them; "+Env+"=1 does it in every package")

// Update reports whether t should rewrite its golden files: -update was
// given, or IORCA_UPDATE is true. A value of IORCA_UPDATE that is not a
// boolean fails t, so that a typo does not pass for a comparison.
func Update(t testing.TB) bool {
	t.Helper()
	if *updateFlag {
		return true
	}
	v := os.Getenv(Env)
	if v == "" {
		return false
	}
	on, err := strconv.ParseBool(v)
	if err != nil {
		t.Fatalf("%s=%q: want 1 or 0 (true or false)", Env, v)
	}
	return on
}
