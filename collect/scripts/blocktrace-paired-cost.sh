#!/usr/bin/env bash
# blocktrace-paired-cost.sh measures what the collector's block trace costs
# a workload at a high request rate, in one long fio run, so that the cost
# is read against the seconds right beside it rather than against another
# run: on this VM fio's rate over a loop device on /dev/shm swings 2-5x
# from one run to the next with the host, but far less from one second to
# the next (blocktrace-cost.sh compares whole runs, and its figures are
# noise-bound for that reason).
#
# One fio run (4 KiB random direct writes, libaio, iodepth 32, on a loop
# device over /dev/shm) holds CYCLES cycles of: OFF seconds of fio alone,
# then iorca-collect --no-strace for RUN seconds with the default block
# trace, then OFF seconds of fio alone, then the peer: bpftrace running a
# biolatency-style tracepoint program (block_rq_issue/complete) for PEER
# seconds. For each cycle, fio's per-second IOPS log gives:
#   - while on: the seconds the trace was on (the manifest's block_trace
#     start and end) against the OFF seconds before the collector started;
#   - over the run: the collector's RUN seconds against the mean of the
#     OFF seconds before it and after it;
#   - bpftrace while on: the seconds from its attach to its end against
#     the OFF seconds before it;
#   - placebo: the first half of an OFF window against its second half,
#     no collector in either: the method's own noise.
# The table gives each cycle and the median of each column.
#
# Usage: sudo [CYCLES=6] [OFF=12] [RUN=30] [PEER=4] collect/scripts/blocktrace-paired-cost.sh
# Needs: go, fio, python3, zstd, bpftrace.
set -euo pipefail
cd "$(dirname "$0")/../.."
cycles=${CYCLES:-6} off=${OFF:-12} runsecs=${RUN:-30} peersecs=${PEER:-4}
tmp=$(mktemp -d /dev/shm/iorca-btpaired.XXXXXX)
dev="" fio="" bt="" mounted=""
cleanup() {
  [ -n "$bt" ] && kill "$bt" 2>/dev/null && wait "$bt" 2>/dev/null || true
  [ -n "$fio" ] && kill "$fio" 2>/dev/null && wait "$fio" 2>/dev/null || true
  [ -n "$dev" ] && losetup -d "$dev" 2>/dev/null || true
  [ -n "$mounted" ] && umount /sys/kernel/tracing 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
for tool in fio python3 zstd bpftrace; do
  command -v "$tool" >/dev/null || { echo "blocktrace-paired-cost.sh: $tool is missing" >&2; exit 1; }
done
CGO_ENABLED=0 go build -o "$tmp/iorca-collect" ./collect/cmd/iorca-collect
# bpftrace finds tracepoints under /sys/kernel/tracing only.
if ! mountpoint -q /sys/kernel/tracing; then
  mount -t tracefs nodev /sys/kernel/tracing && mounted=1
fi
truncate -s 1G "$tmp/disk.img"
dev=$(losetup --find --show "$tmp/disk.img")

total=$((cycles * (2 * off + runsecs + peersecs + 6) + off + 5))
date +%s.%N >"$tmp/fio.start"
fio --name=randwrite --filename="$dev" --rw=randwrite --bs=4k --direct=1 --ioengine=libaio --iodepth=32 \
  --time_based --runtime="$total" --write_iops_log="$tmp/fio" --log_avg_msec=1000 \
  --output-format=json --output="$tmp/fio.json" >/dev/null &
fio=$!
: >"$tmp/windows"
for c in $(seq "$cycles"); do
  sleep "$off"
  start=$(date +%s.%N)
  # Exit 3 is a bundle with a bound hit (the trace stops at its byte cap).
  rc=0
  "$tmp/iorca-collect" -q --no-strace -d "${runsecs}s" -o "$tmp/c$c.tar.zst" || rc=$?
  [ "$rc" = 0 ] || [ "$rc" = 3 ] || { echo "cycle $c: the collector failed (exit $rc)" >&2; exit 1; }
  end=$(date +%s.%N)
  zstd -dc "$tmp/c$c.tar.zst" | tar xOf - manifest.json >"$tmp/c$c.manifest"
  sleep 2 # the collector's exit and page-cache writes settle outside both windows
  sleep "$off"
  bpftrace -e 'tracepoint:block:block_rq_issue { @start[args->dev, args->sector] = nsecs; }
tracepoint:block:block_rq_complete /@start[args->dev, args->sector]/ {
  @usecs = hist((nsecs - @start[args->dev, args->sector]) / 1000); delete(@start[args->dev, args->sector]); }' \
    >"$tmp/bt$c.out" 2>&1 &
  bt=$!
  until grep -q Attaching "$tmp/bt$c.out" 2>/dev/null; do
    kill -0 "$bt" 2>/dev/null || { cat "$tmp/bt$c.out" >&2; exit 1; }
    sleep 0.05
  done
  btstart=$(date +%s.%N)
  sleep "$peersecs"
  btend=$(date +%s.%N)
  kill -INT "$bt"; wait "$bt" || true; bt=""
  echo "$c $start $end $tmp/c$c.manifest $btstart $btend" >>"$tmp/windows"
  sleep 2 # bpftrace's detach and histogram print settle outside the next window
done
sleep "$off"
kill -INT "$fio" 2>/dev/null || true
wait "$fio" || true
fio=""

python3 - "$tmp" "$off" <<'PY'
import sys, json, datetime, re, statistics
tmp, off = sys.argv[1], float(sys.argv[2])
start = float(open(f"{tmp}/fio.start").read())
log = []
for l in open(f"{tmp}/fio_iops.1.log"):
    f = [x.strip() for x in l.split(",")]
    log.append((start + int(f[0]) / 1000.0, int(f[1])))
def mean(a, b):
    # each entry is the mean of the second ending at t: weighted by how
    # much of that second lies in a..b
    w = [(i, max(0.0, min(t, b) - max(t - 1, a))) for t, i in log]
    tw = sum(x for _, x in w)
    return sum(i * x for i, x in w) / tw if tw else float("nan")
def ep(s):
    return datetime.datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", s).replace("Z", "+00:00")).timestamp()
rows, on_c, run_c, plc, bt_c = [], [], [], [], []
wins = [l.split() for l in open(f"{tmp}/windows")]
for k, (c, s, e, man, bs, be) in enumerate(wins):
    s, e, bs, be = float(s), float(e), float(bs), float(be)
    b = json.load(open(man)).get("block_trace") or {}
    before = mean(s - off + 1, s)  # the second before the collector's start is left out of neither
    after = mean(e + 2, bs - 1)  # the OFF seconds between the collector and the peer
    bt_c.append(mean(bs, be) / after - 1)
    ts, te = ep(b["start"]["wall"]), ep(b["end"]["wall"])
    on = mean(ts, te)
    run = mean(s, e)
    half = (s - off + s) / 2
    placebo = mean(half, s) / mean(s - off, half) - 1
    on_c.append(on / before - 1); run_c.append(run / ((before + after) / 2) - 1); plc.append(placebo)
    rows.append("| %s | %.0f | %.0f (%+.1f %%) | %.1f s, %.1f MiB raw, %s lost | %.0f (%+.1f %%) | %.0f | %.0f (%+.1f %%) | %+.1f %% |" % (
        c, before, on, 100 * on_c[-1], te - ts, b.get("raw_bytes", 0) / 2**20, b.get("overruns", "?"), run, 100 * run_c[-1], after,
        mean(bs, be), 100 * bt_c[-1], 100 * placebo))
print("| cycle | IOPS before (fio alone) | iorca: while the trace is on (cost) | trace | iorca: over the collector's run (cost) | IOPS after (fio alone) | bpftrace biolatency: while on (cost) | placebo: fio alone against itself |")
print("|---|---|---|---|---|---|---|---|")
print("\n".join(rows))
print("| median | | %+.1f %% | | %+.1f %% | | %+.1f %% | %+.1f %% |" % (
    100 * statistics.median(on_c), 100 * statistics.median(run_c), 100 * statistics.median(bt_c), 100 * statistics.median(plc)))
PY
