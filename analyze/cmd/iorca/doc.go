// Command iorca analyzes iorca bundles offline: it replays what iotop,
// iostat, pidstat, ps, strace and findmnt would have shown on the node,
// and writes a root-cause report with mitigations.
//
//	iorca report BUNDLE [--format md|json|html] [-o FILE]
//	iorca replay BUNDLE [VIEW] [--at TIME | --tick N] [--window D]
//	iorca regress [DIR]
package main
