// Package blocktrace captures the block layer's, writeback's and the ext4
// journal's tracepoints through tracefs, bounded in time and bytes, in a
// private instance that leaves everyone else's tracing untouched
// (REFERENCE-IO.md 12). It needs neither BPF nor cgo, so the static
// collector can run it on any kernel with ftrace.
package blocktrace
