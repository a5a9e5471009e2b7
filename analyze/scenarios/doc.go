// Package scenarios holds the end-to-end incident scenarios, as live
// tests: each reproduces a class of incident on this kernel (a slow or
// failing disk from nbdkit under a loop device, a stacked loop device, a
// container, a database under pgbench, a writer killed and reaped, CPUs
// busy beside it), captures it with the real collector, and judges the
// report the real iorca binary writes. They skip under -short.
//
// They live apart from the analyzer's command tests (analyze/cmd/iorca),
// and the device-time ones in accounting and devicetime, so that each
// test binary stays well within go test's ten minutes.
package scenarios
