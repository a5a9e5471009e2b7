#!/usr/bin/env bash
# failing-disk: a disk that fails writes during the capture. An order
# service appends 4 KiB records with O_DSYNC to ext4 (errors=remount-ro,
# commit=1) on a disk that, two seconds into the capture, answers every
# write with EIO (an nbdkit memory disk behind the error filter, while a
# trigger file exists). It logs its errors and keeps trying, as services
# do. The kernel logs IO errors and lost writes, aborts the journal and
# makes the filesystem read-only. Meanwhile a backup streams buffered
# writes to another, healthy disk: the loudest writer on the node, and not
# the cause. Needs root, nbdkit, nbdfuse, fuse3. Removes everything it
# made.
source "$(dirname "$0")/lib.sh"
setup failing-disk

FAIL=$WORK/fail-now
MOUNT_OPTS=errors=remount-ro,commit=1 slow_ext4 256 "$SRV/orders" error error-pwrite=EIO error-pwrite-rate=100% error-pwrite-file="$FAIL"
loop_ext4 512 "$SRV/backup"
cp "$WORK/bin/iorca-workload" "$WORK/bin/backup"
cp "$WORK/bin/iorca-workload" "$WORK/bin/order-service"
start_bg backup "$WORK/bin/backup" --file "$SRV/backup/backup.img" --size 1048576 --sync none --rate 30 --max-bytes 256MiB
start_bg order-service "$WORK/bin/order-service" --file "$SRV/orders/orders.log" --size 4096 --sync odsync --rate 20 --keep-going 2>/dev/null
sleep 2
(sleep 2 && touch "$FAIL" && echo "failing-disk: writes to $SRV/orders fail from now on" >&2) &
defer "rm -f '$FAIL'"
collect
expected
