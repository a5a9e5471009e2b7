#!/usr/bin/env bash
# overlay-slow-disk: the seed incident's full shape. A containerised web
# server appends 58-byte lines to /var/log/nginx/access.log with O_SYNC; the
# file lives on the container's overlay upper layer, on a slow disk (an
# nbdkit memory disk with the delay filter: every write request waits
# 15 ms) that it keeps saturated while managing only a few dozen writes a
# second, because each one waits. A small database on the host fsyncs its
# write-ahead log on the same disk twice a second and waits behind it.
# The container runs under a real containerd and runc with the overlay as
# its --rootfs. Needs root, containerd, runc, nbdkit, nbdfuse, fuse3.
# Removes everything it made.
source "$(dirname "$0")/lib.sh"
setup overlay-slow-disk

slow_ext4 256 "$SRV/layers" delay wdelay=15ms
overlay_root "$SRV/layers" "$SRV/merged"
mkdir -p "$SRV/layers/db"
start_containerd
run_container web-7 "$SRV/merged" -- \
  /usr/local/bin/access-logger --file /var/log/nginx/access.log --size 58 --sync osync
# The database: the workload under a name of its own.
cp "$WORK/bin/iorca-workload" "$WORK/bin/db-walwriter"
start_bg database "$WORK/bin/db-walwriter" --file "$SRV/layers/db/wal" --size 4096 --sync fdatasync --rate 2
sleep 2
collect
expected
