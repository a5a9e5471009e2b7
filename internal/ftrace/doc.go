// Package ftrace parses the text of a tracefs trace_pipe: the line of each
// event (task, CPU, timestamp, event name) and the fields of the block,
// writeback and jbd2 events iorca enables (REFERENCE-IO.md 12). Like
// package procfs, it is pure: it takes bytes and never touches the
// filesystem, so the collector (to choose targets) and the analyzer (to
// attribute device time) share it.
package ftrace
