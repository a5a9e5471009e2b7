#!/usr/bin/env bash
# Captures three snapshots of the node's /proc files, one second apart,
# while fio drives a loop device, then replays them to sysstat's iostat
# and pidstat (bind-mounted over /proc in a private mount namespace, so
# that the tools compute on exactly the captured files).
set -euo pipefail
out=$(realpath -m "${1:?out dir}")
mkdir -p "$out"
img=/dev/shm/iorca-capture.img
truncate -s 128M "$img"
loop=$(losetup -f --show "$img")
dev=$(basename "$loop")
cleanup() { kill "${fio:-}" 2>/dev/null || true; wait 2>/dev/null || true; losetup -d "$loop" 2>/dev/null || true; rm -f "$img"; }
trap cleanup EXIT
fio --thread --name=w --filename="$loop" --rw=randwrite --bs=4k --direct=1 --ioengine=psync --rate_iops=400 --fsync=16 \
    --name=r --filename="$loop" --rw=randread --bs=16k --direct=1 --ioengine=psync --rate_iops=150 \
    --name=t --filename="$loop" --rw=randtrim --bs=64k --direct=1 --ioengine=psync --rate_iops=10 \
    --time_based --runtime=30 --output=/dev/null &
fio=$!
sleep 3
snap() {
  local r=$out/root$1
  mkdir -p "$r/proc/pressure" "$r/proc/$fio" "$r/sys/block/$dev" "$r/sys/block/vda"
  cat /proc/uptime > "$r/proc/uptime"
  cat /proc/stat > "$r/proc/stat"
  cat /proc/diskstats > "$r/proc/diskstats"
  cat /sys/block/$dev/stat > "$r/sys/block/$dev/stat"
  cat /sys/block/vda/stat > "$r/sys/block/vda/stat"
  cat /proc/pressure/io > "$r/proc/pressure/io"
  cat /proc/pressure/cpu > "$r/proc/pressure/cpu"
  cat /proc/pressure/memory > "$r/proc/pressure/memory"
  cat /proc/$fio/io > "$r/proc/$fio/io"
  cat /proc/$fio/stat > "$r/proc/$fio/stat"
  cat /proc/$fio/status > "$r/proc/$fio/status"
  cat /proc/loadavg > "$r/proc/loadavg"
  cat /proc/meminfo > "$r/proc/meminfo"
  cat /proc/vmstat > "$r/proc/vmstat"
}
snap 0; sleep 1; snap 1; sleep 1; snap 2
echo "$dev $fio" > "$out/devpid"
# replay FILE... -- CMD: bind every /proc/FILE to a copy holding root0's
# content, start CMD (one sample a second), and put root1's and root2's
# content in place between its samples.
replay() {
  local files=() ; while [ "$1" != -- ]; do files+=("$1"); shift; done; shift
  local rot; rot=$(mktemp -d)
  unshare -m bash -c '
    set -e
    rot=$1 out=$2; shift 2
    files=(); while [ "$1" != -- ]; do files+=("$1"); shift; done; shift
    mount --make-rprivate /
    for f in "${files[@]}"; do
      c=$rot/$(echo "$f" | tr / _); cat "$out/root0$f" > "$c"; mount --bind "$c" "$f"
    done
    "$@" &
    p=$!
    for n in 1 2; do
      sleep $([ $n = 1 ] && echo 0.5 || echo 1)
      for f in "${files[@]}"; do cat "$out/root$n$f" > "$rot/$(echo "$f" | tr / _)"; done
    done
    wait $p
  ' _ "$rot" "$out" "${files[@]}" -- "$@"
  rm -rf "$rot"
}
replay /proc/uptime /proc/stat /proc/diskstats -- iostat -x -k -p ALL 1 3 > "$out/iostat-x-p-ALL.txt"
replay /proc/uptime /proc/stat /proc/diskstats -- iostat -x -s -k -p ALL 1 3 > "$out/iostat-xs-p-ALL.txt"
replay /proc/uptime /proc/stat /proc/$fio/io /proc/$fio/stat /proc/$fio/status -- pidstat -d -p $fio 1 2 > "$out/pidstat-d.txt"
