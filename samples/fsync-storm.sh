#!/usr/bin/env bash
# fsync-storm: a WAL-like writer appends 120-byte records to a log on an
# ext4 loop device and calls fdatasync after each one.
# Needs root. Removes everything it made.
source "$(dirname "$0")/lib.sh"
setup fsync-storm

loop_ext4 512 "$SRV/data"
start_bg wal-writer "$WORK/bin/iorca-workload" --file "$SRV/data/wal-000001.log" --size 120 --sync fdatasync --max-bytes 64MiB
sleep 2
collect
expected
