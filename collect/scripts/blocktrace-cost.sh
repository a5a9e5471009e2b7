#!/usr/bin/env bash
# blocktrace-cost.sh measures what the block-layer trace costs a workload at
# a high request rate: fio 4 KiB random direct writes (libaio, iodepth 16)
# on a loop device over /dev/shm, run for S seconds alone, beside
# iorca-collect without and with the block trace, and beside iorca-collect
# tracing fio with strace (the part the block trace must not cost more
# than). Prints a Markdown table: fio's IOPS in each run, the collector's
# CPU, and the trace's size and lost events.
#
# Usage: sudo collect/scripts/blocktrace-cost.sh [SECONDS=10]
# Needs: go, fio, GNU time, python3, zstd, strace.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10}
tmp=$(mktemp -d /dev/shm/iorca-btcost.XXXXXX)
dev=""
cleanup() {
  [ -n "$dev" ] && losetup -d "$dev" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
for tool in fio /usr/bin/time python3 zstd strace; do
  command -v "$tool" >/dev/null || { echo "blocktrace-cost.sh: $tool is missing" >&2; exit 1; }
done
CGO_ENABLED=0 go build -o "$tmp/iorca-collect" ./collect/cmd/iorca-collect
truncate -s 1G "$tmp/disk.img"
dev=$(losetup --find --show "$tmp/disk.img")

# fio_iops: write IOPS of a fio JSON report.
fio_iops() { python3 -c 'import json,sys; print("%.0f" % json.load(open(sys.argv[1]))["jobs"][0]["write"]["iops"])' "$1"; }

# run NAME [COLLECTOR ARGS...]: fio for $secs s, with the collector beside
# it when args are given ("FIO" stands for fio's PID).
run() {
  local name=$1; shift
  fio --name=randwrite --filename="$dev" --rw=randwrite --bs=4k --direct=1 --ioengine=libaio --iodepth=16 \
    --time_based --runtime="$secs" --output-format=json --output="$tmp/$name.json" &
  local fio=$! cpu="-" trace="-" lost="-"
  sleep 0.5
  if [ "$#" -gt 0 ]; then
    local args=("${@/FIO/$(pgrep -P "$fio" fio | head -1 || echo "$fio")}")
    /usr/bin/time -f '%U %S' -o "$tmp/$name.time" "$tmp/iorca-collect" -q -d "$((secs - 1))s" -o "$tmp/$name.tar.zst" "${args[@]}" || true
    cpu=$(tail -n 1 "$tmp/$name.time" | awk '{printf "%.2f", $1+$2}')
    if zstd -dc "$tmp/$name.tar.zst" | tar xOf - manifest.json >"$tmp/$name.manifest" 2>/dev/null; then
      IFS=';' read -r trace lost < <(python3 -c 'import json,sys; b=json.load(open(sys.argv[1])).get("block_trace"); print("%.1f MiB in %.1f s (%s);%s" % (b["bytes"]/2**20, b["seconds"], b["stop_reason"], b["overruns"]) if b else "-;-")' "$tmp/$name.manifest")
    fi
  fi
  wait "$fio"
  printf '| %s | %s | %s | %s | %s |\n' "$name" "$(fio_iops "$tmp/$name.json")" "$cpu" "$trace" "$lost"
}

echo "fio randwrite 4 KiB direct, libaio iodepth 16, on a loop device over /dev/shm, ${secs} s per run."
echo "Machine: $(nproc) CPUs, kernel $(uname -r), $(date -u +%Y-%m-%d)."
echo
echo "| run | fio write IOPS | collector CPU s | block trace | events lost |"
echo "|---|---|---|---|---|"
run "fio alone"
run "with iorca-collect --no-strace --no-block-trace" --no-strace --no-block-trace
run "with iorca-collect --no-strace (block trace on)" --no-strace --block-trace-duration "$((secs - 1))s"
run "with iorca-collect --no-strace, block trace unbounded in bytes" --no-strace --block-trace-duration "$((secs - 1))s" --block-trace-max-bytes 4GiB
run "with iorca-collect --no-block-trace -p FIO (strace on fio)" --no-block-trace -p FIO --strace-duration "$((secs - 1))s" --top 0
