#!/usr/bin/env bash
# blocktrace-cost.sh measures what the block-layer trace costs a workload at
# a high request rate: fio 4 KiB random direct writes (libaio, iodepth 32)
# on a loop device over /dev/shm, run for S seconds alone, beside
# iorca-collect without and with the block trace, beside bpftrace running a
# biolatency-style tracepoint program (the peer), and beside iorca-collect
# tracing fio with strace. Prints a Markdown table: fio's IOPS over the run
# and "while on" (fio's per-second IOPS log over the seconds the trace was
# on: from the manifest's block_trace start/end, or from bpftrace's attach
# to its end), each with its cost against a run of fio alone just before
# it (this machine's rate drifts with whatever else runs on it); the
# collector's CPU and peak RSS; the trace's raw and text size and lost
# events. ROUNDS repeats the runs, to show the noise.
#
# Usage: sudo [ROUNDS=2] collect/scripts/blocktrace-cost.sh [SECONDS=17]
# (the 15 s trace needs SECONDS of 17 or more: the collector runs SECONDS-1)
# Needs: go, fio, GNU time, python3, zstd, strace, bpftrace.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-17}
tmp=$(mktemp -d /dev/shm/iorca-btcost.XXXXXX)
dev=""
mounted=""
cleanup() {
  [ -n "$dev" ] && losetup -d "$dev" 2>/dev/null || true
  [ -n "$mounted" ] && umount /sys/kernel/tracing 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
for tool in fio /usr/bin/time python3 zstd strace bpftrace; do
  command -v "$tool" >/dev/null || { echo "blocktrace-cost.sh: $tool is missing" >&2; exit 1; }
done
CGO_ENABLED=0 go build -o "$tmp/iorca-collect" ./collect/cmd/iorca-collect
truncate -s 1G "$tmp/disk.img"
dev=$(losetup --find --show "$tmp/disk.img")

# iops BASE NAME FROM TO: fio's mean IOPS of run NAME, over the whole run
# ("-" FROM) or over FROM..TO (wall-clock epoch seconds), from its
# per-second IOPS log; with the cost in percent against run BASE (fio
# alone, just before) over the same seconds since fio's start.
iops() {
  python3 - "$tmp" "$@" <<'PY'
import sys
tmp, base_name, name, frm, to = sys.argv[1:6]
def log(n):
    start = float(open(f"{tmp}/{n}.start").read())
    out = []
    for l in open(f"{tmp}/{n}_iops.1.log"):
        f = [x.strip() for x in l.split(",")]
        out.append((int(f[0]) / 1000.0, int(f[1])))
    return start, out
def mean(n, a, b):
    # each log entry is the mean of the second ending at t: weighted by
    # how much of that second lies in a..b
    start, out = log(n)
    w = [(i, max(0.0, min(t, b) - max(t - 1, a))) for t, i in out]
    tw = sum(x for _, x in w)
    return sum(i * x for i, x in w) / tw if tw else float("nan")
s, out = log(name)
if frm == "-":
    a, b = 0, out[-1][0]
else:
    a, b = float(frm) - s, float(to) - s
m, base = mean(name, a, b), mean(base_name, a, b)
print("%.0f (%+.1f %%)" % (m, 100 * (m / base - 1)))
PY
}

fio_start() {
  local name=$1
  date +%s.%N >"$tmp/$name.start"
  fio --name=randwrite --filename="$dev" --rw=randwrite --bs=4k --direct=1 --ioengine=libaio --iodepth=32 \
    --time_based --runtime="$secs" --write_iops_log="$tmp/$name" --log_avg_msec=1000 \
    --output-format=json --output="$tmp/$name.json" >/dev/null &
  fio=$!
}

# run NAME [COLLECTOR ARGS...]: fio for $secs s, with the collector beside
# it when args are given ("FIO" stands for fio's PID).
run() {
  local name=$1; shift
  # fio alone just before, the baseline of this run: this machine's rate
  # drifts with whatever else runs on it.
  fio_start "$name.base"; wait "$fio"
  fio_start "$name"
  local cpu="-" rss="-" trace="-" lost="-" on="-"
  sleep 0.5
  if [ "$#" -gt 0 ]; then
    local args=("${@/FIO/$(pgrep -P "$fio" fio | head -1 || echo "$fio")}")
    /usr/bin/time -f '%U %S %M' -o "$tmp/$name.time" "$tmp/iorca-collect" -q -d "$((secs - 1))s" -o "$tmp/$name.tar.zst" "${args[@]}" || true
    read -r u s m < <(tail -n 1 "$tmp/$name.time")
    cpu=$(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u+s}')
    rss=$(awk -v m="$m" 'BEGIN{printf "%.0f", m/1024}')
    if zstd -dc "$tmp/$name.tar.zst" | tar xOf - manifest.json >"$tmp/$name.manifest" 2>/dev/null; then
      IFS=';' read -r trace lost span < <(python3 -c '
import json,sys,datetime,re
b=json.load(open(sys.argv[1])).get("block_trace")
def ep(s): return datetime.datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", s).replace("Z","+00:00")).timestamp()
if not b: print("-;-;-")
else: print("%s, %.1f MiB raw, %.1f MiB text in %.1f s (%s);%s;%s %s" % (b.get("reader","?"), b.get("raw_bytes",0)/2**20, b["bytes"]/2**20, b["seconds"], b["stop_reason"], b["overruns"], ep(b["start"]["wall"]), ep(b["end"]["wall"])))' "$tmp/$name.manifest")
      [ "$span" != "-" ] && on=$(iops "$name.base" "$name" $span)
    fi
  fi
  wait "$fio"
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$(iops "$name.base" "$name.base" - - | cut -d' ' -f1)" "$(iops "$name.base" "$name" - -)" "$on" "$cpu" "$rss" "$trace" "$lost"
}

# peer NAME: fio with bpftrace's biolatency-style tracepoint program.
peer() {
  local name=$1
  fio_start "$name.base"; wait "$fio"
  if ! mountpoint -q /sys/kernel/tracing; then
    mount -t tracefs nodev /sys/kernel/tracing && mounted=1
  fi
  fio_start "$name"
  sleep 0.5
  bpftrace -e 'tracepoint:block:block_rq_issue { @start[args->dev, args->sector] = nsecs; }
tracepoint:block:block_rq_complete /@start[args->dev, args->sector]/ {
  @usecs = hist((nsecs - @start[args->dev, args->sector]) / 1000); delete(@start[args->dev, args->sector]); }' \
    >"$tmp/bpftrace.out" 2>&1 &
  local bt=$!
  until grep -q Attaching "$tmp/bpftrace.out" 2>/dev/null; do
    kill -0 "$bt" 2>/dev/null || { cat "$tmp/bpftrace.out" >&2; exit 1; }
    sleep 0.05
  done
  local from; from=$(date +%s.%N)
  sleep "$((secs - 2))"
  local to; to=$(date +%s.%N)
  kill -INT "$bt"; wait "$bt" || true
  wait "$fio"
  printf '| %s | %s | %s | %s | - | - | - | - |\n' "$name" "$(iops "$name.base" "$name.base" - - | cut -d' ' -f1)" "$(iops "$name.base" "$name" - -)" "$(iops "$name.base" "$name" "$from" "$to")"
  if [ -n "$mounted" ]; then umount /sys/kernel/tracing; mounted=""; fi
}

rounds=${ROUNDS:-2}
echo "fio randwrite 4 KiB direct, libaio iodepth 32, on a loop device over /dev/shm, ${secs} s per run;"
echo "each run beside fio alone just before it (its baseline), ${rounds} rounds."
echo "Machine: $(nproc) CPUs, kernel $(uname -r), $(date -u +%Y-%m-%d)."
echo
echo "| run | fio alone IOPS (baseline) | fio write IOPS (cost) | while the trace is on (cost) | collector CPU s | collector max RSS MiB | block trace | events lost |"
echo "|---|---|---|---|---|---|---|---|"
for r in $(seq "$rounds"); do
  run "$r. iorca-collect --no-strace --no-block-trace" --no-strace --no-block-trace
  run "$r. iorca-collect --no-strace (block trace on, defaults)" --no-strace
  run "$r. iorca-collect --no-strace, trace 15 s, --block-trace-max-bytes 4GiB" --no-strace --block-trace-duration 15s --block-trace-max-bytes 4GiB
  peer "$r. bpftrace (biolatency-style tracepoints)"
done
run "iorca-collect --no-block-trace -p FIO (strace on fio)" --no-block-trace -p FIO --strace-duration "$((secs - 1))s" --top 0
