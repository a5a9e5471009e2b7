// Package accounting holds the end-to-end scenarios of device-time
// accounting, as live tests: whose time a request is through a stacked
// loop device, behind another's requests, in writeback, for a reaped
// child, with CPUs busy, and against bpftrace over the same seconds. A
// package of its own so that each test binary stays within go test's ten
// minutes (analyze/scenarios).
package accounting
