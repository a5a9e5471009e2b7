#!/usr/bin/env bash
# overlay-sync-logger: a process inside a container whose root filesystem
# is an overlayfs (lower: a minimal rootfs; upper and work: an ext4 loop
# device) appends 58-byte lines to /var/log/nginx/access.log with O_SYNC.
# The file lives on the overlay's upper layer. The container runs under a
# real containerd and runc with that overlay as its --rootfs.
# Needs root, containerd, runc. Removes everything it made.
source "$(dirname "$0")/lib.sh"
setup overlay-sync-logger

loop_ext4 512 "$SRV/layers"
overlay_root "$SRV/layers" "$SRV/merged"
start_containerd
run_container web-7 "$SRV/merged" -- \
  /usr/local/bin/access-logger --file /var/log/nginx/access.log --size 58 --sync osync
sleep 2
collect
expected
