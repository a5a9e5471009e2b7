#!/usr/bin/env bash
# dirty-throttled: a bulk export writes 64 KiB buffered blocks as fast as
# the kernel lets it to ext4 on a slow disk (an nbdkit memory disk with the
# delay filter: every write request waits 20 ms; requests of at most
# 64 KiB). The disk's dirty pages are bounded (its bdi's max_bytes, 32 MiB,
# strict_limit), as a small dirty limit would on a busy node: writeback
# keeps the disk saturated and the kernel pauses the writer in
# balance_dirty_pages so that it dirties no faster than the disk writes.
# Needs root, nbdkit, nbdfuse, fuse3. Removes everything it made (the bdi
# settings go with the device).
source "$(dirname "$0")/lib.sh"
setup dirty-throttled

slow_ext4 512 "$SRV/export" delay wdelay=20ms
dev=$(basename "$LOOPDEV")
echo 64 >"/sys/block/$dev/queue/max_sectors_kb"
bdi=/sys/class/bdi/$(cat "/sys/block/$dev/dev")
# A bdi outlives its loop device (the next loopN gets it): put the caps back.
defer "echo $(cat "$bdi/strict_limit") >'$bdi/strict_limit'; echo $(cat "$bdi/max_ratio") >'$bdi/max_ratio'"
echo $((32 * 1024 * 1024)) >"$bdi/max_bytes"
echo 1 >"$bdi/strict_limit"
say "$dev: requests of at most 64 KiB, 20 ms each; dirty pages bounded to 32 MiB"
cp "$WORK/bin/iorca-workload" "$WORK/bin/bulk-export"
start_bg bulk-export "$WORK/bin/bulk-export" --file "$SRV/export/export.csv" --size 65536 --sync none --max-bytes 256MiB
sleep 3
collect
expected
