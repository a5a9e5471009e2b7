// Package workload is the small, real writer that iorca's tests and sample
// scripts run to reproduce disk-IO incidents: an access-log appender with
// O_SYNC, a WAL-like writer with fdatasync, a bulk buffered writer, a
// container printing to stdout. Build builds it as a static binary so that
// it also runs inside a bare container rootfs.
package workload
