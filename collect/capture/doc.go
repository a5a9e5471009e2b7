// Package capture reads kernel files byte for byte, with a size cap and a
// status for every read, and reads the clocks that stamp each sample. It is
// the only place the collector touches /proc and /sys.
package capture
