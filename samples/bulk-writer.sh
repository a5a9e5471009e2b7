#!/usr/bin/env bash
# bulk-writer: a backup-like process writes 1 MiB buffered blocks to an
# image on an ext4 loop device at 24 MiB/s: lots of bytes in few, large
# writes, left to writeback. It dominates the disk, but writes neither
# small nor synchronous; dirty-page figures show where the data waits.
# Needs root. Removes everything it made.
source "$(dirname "$0")/lib.sh"
setup bulk-writer

loop_ext4 1024 "$SRV/backup"
start_bg backup "$WORK/bin/iorca-workload" --file "$SRV/backup/nightly.img" --size 1048576 --sync none --rate 24 --max-bytes 512MiB
sleep 2
collect
expected
