#!/usr/bin/env bash
# mmap-msync: a journal kept in a memory-mapped file. The writer maps a
# 64 MiB file MAP_SHARED on ext4 over a slow disk (an nbdkit memory disk
# with the delay filter: every write request waits 10 ms), stores 512-byte
# records into the mapping 100 times a second and msyncs (MS_SYNC) the
# pages of each record: no write() call at all, its wchar stays near zero
# while write_bytes and the device climb. A buffered logger on the same
# disk is its neighbour. Needs root, nbdkit, nbdfuse, fuse3. Removes
# everything it made.
source "$(dirname "$0")/lib.sh"
setup mmap-msync

slow_ext4 512 "$SRV/data" delay wdelay=10ms
say "$(basename "$LOOPDEV"): every write request waits 10 ms"
cp "$WORK/bin/iorca-workload" "$WORK/bin/mapped-journal"
cp "$WORK/bin/iorca-workload" "$WORK/bin/app-logger"
start_bg mapped-journal "$WORK/bin/mapped-journal" --file "$SRV/data/journal.dat" --size 512 --sync msync --rate 100 --max-bytes 64MiB
start_bg app-logger "$WORK/bin/app-logger" --file "$SRV/data/app.log" --size 200 --sync none --rate 50
sleep 3
collect
expected
