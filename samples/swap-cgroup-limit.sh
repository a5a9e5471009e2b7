#!/usr/bin/env bash
# swap-cgroup-limit: a process whose working set (192 MiB, every page
# touched in turn) is three times its memory cgroup's limit (64 MiB, v1
# memory.limit_in_bytes or v2 memory.max), on a node with gigabytes
# available. The kernel reclaims its pages to swap (a swap area on a loop
# device of its own) and reads them back as it touches them: the node
# swaps about 100 MiB/s each way, and the cause is the limit.
# Needs root, mkswap, swapon. Removes everything it made.
source "$(dirname "$0")/lib.sh"
setup swap-cgroup-limit
need_tools mkswap swapon swapoff

truncate -s 512M "$WORK/swap.img"
swapdev=$(losetup --find --show "$WORK/swap.img")
defer "losetup -d '$swapdev'"
mkswap -q "$swapdev"
swapon "$swapdev"
defer "swapoff '$swapdev'"
limit=$((64 * 1024 * 1024))
make_cgroup /sys/fs/cgroup/memory memory iorca-cache
cg=$CG
if [ -z "$CG_V2" ]; then
  echo "$limit" >"$cg/memory.limit_in_bytes"
else
  echo "$limit" >"$cg/memory.max"
fi
say "cgroup $cg limits memory to $limit bytes; swap on $swapdev"
cp "$WORK/bin/iorca-workload" "$WORK/bin/cache-server"
start_bg cache-server sh -c "echo \$\$ >'$cg/cgroup.procs' && exec '$WORK/bin/cache-server' --touch-mib 192"
sleep 3
collect
expected
