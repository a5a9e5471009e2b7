// Command iorca-collect snapshots a Linux node's disk-IO state — iostat-
// and iotop-equivalent counters every tick, /proc IO counters of every
// process, cgroup IO stats, the mount table, kernel log tail and a bounded
// strace of the top IO processes — into one compressed bundle for offline
// analysis with iorca. Build it static: CGO_ENABLED=0 go install
// ./collect/cmd/iorca-collect
package main
