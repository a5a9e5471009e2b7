// Package devicetime holds the end-to-end scenarios that judge by device
// time, as live tests: a culprit beside a loud neighbour, rival writers,
// PostgreSQL under pgbench on a slow disk, with and without the block
// trace. A package of its own so that each test binary stays within go
// test's ten minutes (analyze/scenarios).
package devicetime
