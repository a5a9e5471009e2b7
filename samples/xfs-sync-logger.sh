#!/usr/bin/env bash
# xfs-sync-logger: the seed's O_SYNC logger on XFS. A web server appends
# 58-byte lines to /var/log/nginx/access.log with O_SYNC on XFS over a slow
# disk (an nbdkit memory disk with the delay filter: every write request
# waits 15 ms). Each O_SYNC append grows the file, so each one forces the
# XFS log (a log write with a cache flush) besides its data: the disk stays
# saturated at a few dozen writes a second. A small database fsyncs its
# write-ahead log on the same filesystem twice a second and waits behind
# it. Needs root, xfsprogs, nbdkit, nbdfuse, fuse3. Removes everything it
# made.
source "$(dirname "$0")/lib.sh"
setup xfs-sync-logger

slow_xfs 512 "$SRV/data" delay wdelay=15ms
mkdir -p "$SRV/data/nginx" "$SRV/data/db"
cp "$WORK/bin/iorca-workload" "$WORK/bin/access-logger"
start_bg access-logger "$WORK/bin/access-logger" --file "$SRV/data/nginx/access.log" --size 58 --sync osync
# The database: the workload under a name of its own.
cp "$WORK/bin/iorca-workload" "$WORK/bin/db-walwriter"
start_bg database "$WORK/bin/db-walwriter" --file "$SRV/data/db/wal" --size 4096 --sync fdatasync --rate 2
sleep 2
collect
expected
