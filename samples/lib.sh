# lib.sh: helpers shared by the sample scripts. Each sample script sources
# it, reproduces one incident with real components on this machine,
# collects a bundle with iorca-collect, writes the expected reports, and
# removes everything it made, even when interrupted.
#
# Conventions: everything lives under /srv/iorca-sample/NAME (mounts, logs,
# rootfs) or a temporary directory; binaries are built static from this
# repository; the bundle is written in the temporary directory first and
# copied into samples/ at the end.

set -euo pipefail

# SAMPLES_DIR is where the bundle and its expected reports go: this
# directory, or IORCA_SAMPLES_DIR to try a script without touching them.
REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SAMPLES_DIR=${IORCA_SAMPLES_DIR:-$REPO_DIR/samples}
export PATH=/usr/local/go/bin:$PATH

# Collection settings shared by every sample: a few seconds, short traces,
# small bundles.
COLLECT_ARGS=(-d 6s -i 1s --select-after 2s --strace-duration 2s --strace-max-bytes 768KiB --max-bundle-bytes 1536KiB -q)

_cleanups=()

# defer CMD...: run CMD at exit, last registered first.
defer() { _cleanups+=("$*"); }

_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
    eval "${_cleanups[$i]}" >/dev/null 2>&1 || true
  done
  exit "$rc"
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s: %s\n' "$SAMPLE" "$*" >&2; }

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "$SAMPLE: needs root (loop devices, mounts, cgroups, containers)" >&2
    exit 1
  fi
}

need_tools() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || { echo "$SAMPLE: $t is missing" >&2; exit 1; }
  done
}

# setup NAME: the work directories and the static binaries.
setup() {
  SAMPLE=$1
  need_root
  need_tools go losetup mkfs.ext4 mount umount
  WORK=$(mktemp -d /tmp/iorca-sample.XXXXXX)
  defer "rm -rf '$WORK'"
  SRV=/srv/iorca-sample/$SAMPLE
  mkdir -p "$SRV"
  defer "rmdir '$SRV' /srv/iorca-sample 2>/dev/null"
  mkdir -p "$WORK/bin"
  say "building the collector, the analyzer and the workload"
  (cd "$REPO_DIR" &&
    CGO_ENABLED=0 go build -o "$WORK/bin/iorca-collect" ./collect/cmd/iorca-collect &&
    CGO_ENABLED=0 go build -o "$WORK/bin/iorca" ./analyze/cmd/iorca &&
    CGO_ENABLED=0 go build -o "$WORK/bin/iorca-workload" ./samples/workload/cmd/iorca-workload)
}

# loop_ext4 SIZE_MIB MOUNTPOINT: a real ext4 on a loop device, mounted.
# Sets LOOPDEV.
loop_ext4() {
  local size=$1 mnt=$2
  truncate -s "${size}M" "$WORK/disk-$(basename "$mnt").img"
  LOOPDEV=$(losetup --find --show "$WORK/disk-$(basename "$mnt").img")
  defer "losetup -d '$LOOPDEV'"
  # No lazy init: ext4lazyinit would write into the host disk for minutes.
  mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$LOOPDEV"
  mkdir -p "$mnt"
  mount "$LOOPDEV" "$mnt"
  defer "umount '$mnt' || umount -l '$mnt'; rmdir '$mnt'"
}

# slow_ext4 SIZE_MIB MOUNTPOINT FILTER ARGS...: a real ext4 on a slow disk,
# mounted: an nbdkit memory disk behind FILTER (delay, rate, error, with
# ARGS such as wdelay=15ms; several comma-separated, outermost first), served as a file by nbdfuse and put under a
# loop device, so that every request pays what the filter says at the
# block layer (REFERENCE-IO.md 13). MOUNT_OPTS, when set, are its mount
# options. Sets LOOPDEV.
slow_ext4() {
  # Inode tables and the journal are written now, not by ext4lazyinit
  # during the capture.
  MKFS="mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0" slow_fs "$@"
}

# slow_xfs SIZE_MIB MOUNTPOINT FILTER ARGS...: slow_ext4 with XFS (its log
# inside the filesystem, as mkfs.xfs makes it by default). SIZE_MIB is at
# least 300: xfsprogs refuses smaller filesystems.
slow_xfs() {
  need_tools mkfs.xfs
  MKFS="mkfs.xfs -q -f" slow_fs "$@"
}

# slow_fs SIZE_MIB MOUNTPOINT FILTER ARGS...: the slow disk of slow_ext4
# with the filesystem MKFS makes, mounted. Sets LOOPDEV.
slow_fs() {
  local size=$1 mnt=$2 filter=$3
  shift 3
  need_tools nbdkit nbdfuse fusermount3
  local dir=$WORK/nbd-$(basename "$mnt")
  mkdir -p "$dir"
  # FILTER may name several filters, comma-separated, the outermost first
  # (noparallel,delay: one request at a time, each delayed, as a disk
  # with one head serves them); nbdkit takes one --filter each.
  local names=() filters=() name
  IFS=, read -ra names <<<"$filter"
  for name in "${names[@]}"; do filters+=(--filter="$name"); done
  nbdfuse "$dir/disk" --command nbdkit -s "${filters[@]}" memory "${size}M" "$@" &
  local pid=$!
  defer "fusermount3 -u '$dir' || umount -l '$dir'; kill $pid; wait $pid"
  for _ in $(seq 100); do
    [ -s "$dir/disk" ] && break
    sleep 0.1
  done
  LOOPDEV=$(losetup --find --show "$dir/disk")
  defer "losetup -d '$LOOPDEV'"
  $MKFS "$LOOPDEV"
  mkdir -p "$mnt"
  mount ${MOUNT_OPTS:+-o "$MOUNT_OPTS"} "$LOOPDEV" "$mnt"
  defer "umount '$mnt' || umount -l '$mnt'; rmdir '$mnt'"
}

# make_cgroup V1DIR V2CONTROLLER NAME: a cgroup of its own, removed at
# exit: under the v1 hierarchy V1DIR (/sys/fs/cgroup/blkio) when it is
# mounted, else under cgroup v2 with V2CONTROLLER (io, memory) enabled
# for it. Sets CG, and CG_V2=1 on v2.
make_cgroup() {
  local v1=$1 ctl=$2 name=$3
  CG_V2=
  if [ -d "$v1" ]; then
    CG=$v1/$name
  elif grep -qw "$ctl" /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
    CG=/sys/fs/cgroup/$name CG_V2=1
    echo "+$ctl" >/sys/fs/cgroup/cgroup.subtree_control
  else
    echo "$SAMPLE: no $ctl cgroup controller (v1 $v1 or v2)" >&2
    exit 1
  fi
  mkdir "$CG"
  defer "rmdir '$CG'"
}

# start_bg NAME CMD...: run CMD in the background, killed at exit. Sets
# BG_PID.
start_bg() {
  local name=$1
  shift
  "$@" &
  BG_PID=$!
  defer "kill $BG_PID; wait $BG_PID"
  say "started $name (PID $BG_PID)"
}

# start_containerd: a private containerd (its own socket, root and state
# directories), stopped at exit. It runs in its own session, so that a
# Ctrl-C on this script does not stop it before the containers are
# removed. Sets CTR to a ctr command line for the k8s.io namespace.
start_containerd() {
  need_tools containerd ctr runc setsid timeout
  local d=$WORK/containerd
  mkdir -p "$d/root" "$d/state"
  cat >"$d/config.toml" <<EOT
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$d/containerd.sock"
[ttrpc]
  address = "$d/containerd.sock.ttrpc"
EOT
  setsid containerd --config "$d/config.toml" >"$d/containerd.log" 2>&1 &
  local pid=$!
  defer "kill $pid; wait $pid"
  # runc leaves the namespace's cgroup directory behind; remove it if empty.
  defer "rmdir /sys/fs/cgroup/*/k8s.io /sys/fs/cgroup/k8s.io"
  CTR=(timeout 20 ctr --address "$d/containerd.sock" -n k8s.io)
  for _ in $(seq 50); do
    "${CTR[@]}" version >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "$SAMPLE: containerd did not start; its log:" >&2
  cat "$d/containerd.log" >&2
  exit 1
}

# run_container ID ROOTFS ARGS... -- CMD...: ctr run -d, removed at exit;
# if containerd no longer answers, the shim and the container's processes
# are killed directly.
run_container() {
  local id=$1 rootfs=$2
  shift 2
  local opts=()
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do opts+=("$1"); shift; done
  shift
  "${CTR[@]}" run --rootfs "${opts[@]}" -d "$rootfs" "$id" "$@"
  defer "rmdir /sys/fs/cgroup/*/k8s.io/$id /sys/fs/cgroup/k8s.io/$id"
  defer "pkill -KILL -f -- '-id $id -address $WORK/'; cat /sys/fs/cgroup/*/k8s.io/$id/cgroup.procs /sys/fs/cgroup/k8s.io/$id/cgroup.procs | xargs -r kill -9; runc --root /run/containerd/runc/k8s.io delete --force $id"
  defer "${CTR[*]} container rm $id"
  defer "${CTR[*]} task rm -f $id"
  defer "${CTR[*]} task kill -s KILL $id; sleep 0.5"
  say "started container $id"
}

# rootfs DIR: a minimal root filesystem holding the static workload.
rootfs() {
  local dir=$1
  mkdir -p "$dir/usr/local/bin" "$dir/proc" "$dir/dev" "$dir/sys" "$dir/tmp" "$dir/var/log/nginx" "$dir/etc"
  cp "$WORK/bin/iorca-workload" "$dir/usr/local/bin/access-logger"
  echo "root:x:0:0:root:/:/usr/local/bin/access-logger" >"$dir/etc/passwd"
}

# overlay_root LAYERS MERGED: a container's root as containerd would make
# it: the minimal rootfs as the lower layer, upper and work directories
# beside it in LAYERS, the overlay mounted at MERGED (unmounted at exit).
overlay_root() {
  local layers=$1 merged=$2
  rootfs "$layers/lower"
  mkdir -p "$layers/upper" "$layers/work" "$merged"
  mount -t overlay overlay -o "lowerdir=$layers/lower,upperdir=$layers/upper,workdir=$layers/work" "$merged"
  defer "umount '$merged' || umount -l '$merged'; rmdir '$merged'"
}

# collect: run the collector from / (so no path of this checkout appears in
# the bundle) and copy the bundle into samples/. The collector runs as a
# background job that the script waits for: a Ctrl-C then interrupts the
# wait at once, and the bundle (partial) is not copied.
collect() {
  say "collecting for ${COLLECT_ARGS[1]} with iorca-collect $*"
  (cd / && exec "$WORK/bin/iorca-collect" "${COLLECT_ARGS[@]}" -o "$WORK/$SAMPLE.tar.zst" "$@") &
  local pid=$! rc=0
  defer "kill $pid; wait $pid"
  wait "$pid" || rc=$?
  case $rc in
  0 | 3) ;;
  *) echo "$SAMPLE: the collector failed ($rc)" >&2; exit 1 ;;
  esac
  cp "$WORK/$SAMPLE.tar.zst" "$SAMPLES_DIR/$SAMPLE.tar.zst"
}

# expected: write the expected reports next to the bundle.
expected() {
  (cd "$SAMPLES_DIR" &&
    "$WORK/bin/iorca" report "$SAMPLE.tar.zst" >"$SAMPLE.md" &&
    "$WORK/bin/iorca" report "$SAMPLE.tar.zst" --format json >"$SAMPLE.json")
  say "wrote samples/$SAMPLE.tar.zst ($(stat -c %s "$SAMPLES_DIR/$SAMPLE.tar.zst") bytes), $SAMPLE.md and $SAMPLE.json"
  say "verdict: $(sed -n '/^## Verdict/{n;n;p}' "$SAMPLES_DIR/$SAMPLE.md")"
}
