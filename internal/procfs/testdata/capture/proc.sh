#!/usr/bin/env bash
# Captures the /proc/PID files of one process in its own PID and mount
# namespaces (pivoted into a tmpfs root, so that its mountinfo lists only
# its own mounts): a comm with spaces and parentheses, an O_SYNC|O_APPEND
# log on an overlay whose layer names hold a space and '=', an O_DIRECT
# file on ext4 (1 KiB blocks) in a cgroup v1 blkio cgroup with a write limit.
set -euo pipefail
out=$(realpath -m "${1:?out dir}"); mkdir -p "$out"
here=$(dirname "$(realpath "$0")")
bin=$(mktemp -d)
CGO_ENABLED=0 go build -o "$bin/holder" "$here/holder/main.go"
img=/dev/shm/iorca-capture-proc.img
root=/tmp/iorca-cap
truncate -s 64M "$img"
loop=$(losetup -f --show "$img"); dev=$(basename "$loop")
mkfs.ext4 -q "$loop"
cg=/sys/fs/cgroup/blkio/iorca-capture
mkdir -p "$cg" "$root"
majmin=$(cat /sys/block/$dev/dev)
echo "$majmin 1048576" > "$cg/blkio.throttle.write_bps_device"
cleanup() {
  [ -n "${hp:-}" ] && kill -KILL "$hp" 2>/dev/null; wait 2>/dev/null || true
  rmdir "$cg" 2>/dev/null || true; losetup -d "$loop" 2>/dev/null || true; rm -f "$img" "$fifo"; rm -rf "$bin"; rmdir "$root" 2>/dev/null || true
}
trap cleanup EXIT
fifo=$(mktemp -u); mkfifo "$fifo"
unshare -m -p -f bash -c '
  set -e
  root=$1 loop=$2 cg=$3
  mount --make-rprivate /
  mount -t tmpfs tmpfs "$root"
  mkdir -p "$root/disk" "$root/proc" "$root/mer ged" "$root/old" "$root/bin"
  mount "$loop" "$root/disk"
  mkdir -p "$root/disk/lo wer/var/log" "$root/disk/up=per" "$root/disk/wo rk"
  mount -t overlay overlay -o "lowerdir=$root/disk/lo wer,upperdir=$root/disk/up=per,workdir=$root/disk/wo rk" "$root/mer ged"
  mount -t proc proc "$root/proc"
  cp "$5/holder" /usr/bin/busybox "$root/bin/"
  echo $$ > "$cg/cgroup.procs"
  cd "$root"; pivot_root . old
  /bin/busybox umount -l /old; /bin/busybox rmdir /old
  exec /bin/holder
' _ "$root" "$loop" "$cg" "" "$bin" > "$fifo" 2>&1 < /dev/null &
read -r ready fds < "$fifo"
echo "holder: $ready $fds"
hp=$(pgrep -x 'log \(x\) y' | head -1)
echo "pid $hp"
p=/proc/$hp
mkdir -p "$out/proc/PID/fdinfo" "$out/cgroup"
for f in stat status io mountinfo; do cat $p/$f > "$out/proc/PID/$f"; done
for fd in $fds; do cat $p/fdinfo/$fd > "$out/proc/PID/fdinfo/$fd"; echo "$fd -> $(readlink $p/fd/$fd)"; done > "$out/proc/PID/fd-targets.txt"
for f in blkio.throttle.io_service_bytes blkio.throttle.io_serviced blkio.throttle.write_bps_device; do cat "$cg/$f" > "$out/cgroup/$f"; done
echo "pid=$hp dev=$dev majmin=$majmin fds=$fds" > "$out/info"
