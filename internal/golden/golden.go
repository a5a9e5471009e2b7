// Package golden holds the -update flag of the tests that compare output
// with golden files: go test ./... -update rewrites them. Every test
// package imports it, so that the flag is accepted by each test binary
// that go test ./... starts, not only by those with golden files.
package golden

import "flag"

// Update asks a golden-file test to rewrite its expected output.
var Update = flag.Bool("update", false, "rewrite golden files (expected reports) instead of comparing with them")
