#!/usr/bin/env bash
# metadata-scan: find walks a tree of 48,000 empty files in 480
# directories on a slow disk (an nbdkit memory disk with the noparallel
# and delay filters: one request at a time, as a disk with one head
# serves them, every read waiting 20 ms), freshly mounted: every inode table and
# directory block is a small read from the disk. A lookup service reads
# 4 KiB blocks of its index with O_DIRECT, 20 a second, on the same disk
# and waits behind the scan.
# The cache is made cold for this filesystem only: it is unmounted and the
# page cache of the loop device's backing file dropped (dd iflag=nocache),
# never the machine's.
# Needs root, nbdkit, nbdfuse, fuse3. Removes everything it made.
source "$(dirname "$0")/lib.sh"
setup metadata-scan

slow_ext4 512 "$SRV/data" noparallel,delay serialize=all-requests rdelay=20ms
say "writing the tree and the index"
umount "$SRV/data"
mkfs.ext4 -q -F -N 100000 -E lazy_itable_init=0,lazy_journal_init=0 "$LOOPDEV"
mount "$LOOPDEV" "$SRV/data"
for d in $(seq -f %03g 0 479); do
  mkdir -p "$SRV/data/home/d$d"
  (cd "$SRV/data/home/d$d" && touch $(seq -f f%03g 0 99))
done
dd if=/dev/zero of="$SRV/data/index.dat" bs=1M count=16 status=none
umount "$SRV/data"
dd if="$(cat "/sys/block/$(basename "$LOOPDEV")/loop/backing_file")" iflag=nocache count=0 status=none
mount "$LOOPDEV" "$SRV/data"
# From /, as a service runs: its trace names its working directory.
cd /
cp "$WORK/bin/iorca-workload" "$WORK/bin/lookup"
start_bg lookup "$WORK/bin/lookup" --file "$SRV/data/index.dat" --size 4096 --read --direct --rate 20
start_bg find find "$SRV/data/home" -xdev -type f -size -1k -newer "$SRV/data/index.dat"
sleep 2
collect
expected
