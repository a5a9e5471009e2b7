#!/usr/bin/env bash
# overlay-sync-logger-tmpfs: overlay-sync-logger after its mitigation. The
# same container (web-7, its root an overlayfs whose upper layer is an
# ext4 loop device) runs the same logger, 58-byte lines with O_SYNC to
# /var/log/nginx/access.log, but /var/log/nginx is now a tmpfs volume
# mounted into the container: the log no longer lands in the overlay's
# upper layer, and a sync on tmpfs waits for no device. Compare with
#   iorca diff samples/overlay-sync-logger.tar.zst samples/overlay-sync-logger-tmpfs.tar.zst
# Needs root, containerd, runc. Removes everything it made.
source "$(dirname "$0")/lib.sh"
setup overlay-sync-logger-tmpfs

loop_ext4 512 "$SRV/layers"
overlay_root "$SRV/layers" "$SRV/merged"
start_containerd
run_container web-7 "$SRV/merged" --mount type=tmpfs,src=tmpfs,dst=/var/log/nginx,options=rw -- \
  /usr/local/bin/access-logger --file /var/log/nginx/access.log --size 58 --sync osync
sleep 2
collect
expected
