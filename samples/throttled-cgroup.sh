#!/usr/bin/env bash
# throttled-cgroup: a writer in a cgroup with an IO limit (cgroup v1
# blkio.throttle.write_bps_device, or v2 io.max where the io controller is
# on v2) on an ext4 loop device. It writes 1 MiB blocks with O_DIRECT as
# fast as it can and is held at 2 MiB/s: its stalls come from the limit,
# not from the device.
# Needs root. Removes everything it made.
source "$(dirname "$0")/lib.sh"
setup throttled-cgroup

loop_ext4 512 "$SRV/data"
devnum=$(lsblk -dno MAJ:MIN "$LOOPDEV" | tr -d ' ')
limit=$((2 * 1024 * 1024))
make_cgroup /sys/fs/cgroup/blkio io iorca-throttled
cg=$CG
if [ -z "$CG_V2" ]; then
  echo "$devnum $limit" >"$cg/blkio.throttle.write_bps_device"
else
  echo "$devnum wbps=$limit" >"$cg/io.max"
fi
say "cgroup $cg limits $devnum to $limit bytes/s of writes"
start_bg throttled-writer sh -c "echo \$\$ >'$cg/cgroup.procs' && exec '$WORK/bin/iorca-workload' --file '$SRV/data/export.bin' --size 1048576 --direct --max-bytes 256MiB"
sleep 2
collect
expected
