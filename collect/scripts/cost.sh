#!/usr/bin/env bash
# cost.sh measures what iorca-collect costs the node, side by side with
# pidstat -d and iotop-c sampling the same processes, on this machine, in
# the same run. It starts N idle processes so that every tool has the same
# process table to walk, runs each tool for S seconds at 1 s intervals under
# GNU time, and prints a Markdown table (CPU per tick, peak RSS). The
# flight recorder with the DaemonSet's flags is measured too, stopped by
# SIGTERM at the end as a pod is (give SECONDS over 60 for a full window,
# which its memory holds); ONLY=recorder measures it alone. ONLY=defaults
# measures the collector as an operator runs it by hand — every default,
# the block trace and strace on — while an O_DSYNC writer (the project's
# workload, 4 KiB writes, 200 a second, on this machine's disk) runs, so
# that strace has a target: the memory the issue 25 targets are about.
#
# Usage: sudo collect/scripts/cost.sh [N_PROCS=1000] [SECONDS=20] [ONLY=all|recorder|defaults]
# Needs: go, GNU time (/usr/bin/time), sysstat (pidstat), iotop-c, zstd.
set -euo pipefail
cd "$(dirname "$0")/../.."

n=${1:-1000}
secs=${2:-20}
only=${3:-all}
tmp=$(mktemp -d)
sleepers=()
cleanup() {
  [ ${#sleepers[@]} -gt 0 ] && kill "${sleepers[@]}" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

for tool in /usr/bin/time pidstat iotop-c zstd; do
  command -v "$tool" >/dev/null || { echo "cost.sh: $tool is missing" >&2; exit 1; }
done
CGO_ENABLED=0 go build -o "$tmp/iorca-collect" ./collect/cmd/iorca-collect
if [ "$only" = defaults ]; then
  command -v strace >/dev/null || { echo "cost.sh: strace is missing" >&2; exit 1; }
  go build -o "$tmp/iorca-workload" ./samples/workload/cmd/iorca-workload
  "$tmp/iorca-workload" --file "$tmp/wal" --size 4096 --sync odsync --rate 200 --max-bytes 1GiB &
  sleepers+=($!)
fi

for _ in $(seq "$n"); do sleep 3600 & sleepers+=($!); done
procs=$(ls /proc | grep -c '^[0-9]')
ticks=$((secs + 1))

# measure NAME CMD...: user+system seconds and peak RSS (KiB) of CMD.
measure() {
  local name=$1; shift
  /usr/bin/time -f '%U %S %M %e' -o "$tmp/time" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || true
  read -r u s m e < <(tail -n 1 "$tmp/time")
  awk -v n="$name" -v u="$u" -v s="$s" -v m="$m" -v e="$e" -v t="$ticks" \
    'BEGIN { printf "| %s | %.1f | %.2f | %.2f | %d |\n", n, e, u+s, (u+s)*1000/t, m/1024 }'
}

echo "Processes present: $procs (including $n idle ones started by this script); $ticks samples at 1 s."
echo "Machine: $(nproc) CPUs, kernel $(uname -r), $(date -u +%Y-%m-%d)."
echo
echo "| tool | wall s | CPU s (user+sys) | CPU ms per tick | peak RSS MiB |"
echo "|---|---|---|---|---|"
# The recorder as deploy/kubernetes/daemonset.yaml runs it, with a trigger
# that does not fire: its always-on cost.
mkdir "$tmp/rec"
measure "iorca-collect recorder (DaemonSet)" timeout -s TERM "$secs" "$tmp/iorca-collect" --record=60s --record-bytes=16MiB \
  --trigger='util>80,await>10' --trigger-for=3 --keep-delayacct --output="$tmp/rec/" --quiet
[ "$only" = recorder ] && exit 0
if [ "$only" = defaults ]; then
  measure "iorca-collect (defaults: block trace and strace on)" "$tmp/iorca-collect" -d "${secs}s" -q -o "$tmp/b.tar.zst"
  zstd -dc "$tmp/b.tar.zst" | tar xOf - manifest.json >"$tmp/manifest.json"
  echo
  jq -r '"manifest: peak RSS \(.cost.max_rss_kib / 1024 | floor) MiB (its own getrusage), compressed members \(.cost.memory_bytes / 1048576 * 10 | floor / 10) MiB at most, kept in \(.cost.spill // "memory"); " +
    "\([.targets[]? | select((.strace.member? // "") != "")] | length) traces, \([.targets[]?.strace.bytes? // 0] | add // 0) bytes of strace text; " +
    "block trace \(.block_trace.raw_bytes // 0) raw bytes, \(.block_trace.lines // 0) lines"' "$tmp/manifest.json"
  exit 0
fi
measure "iorca-collect --no-strace" "$tmp/iorca-collect" -d "${secs}s" --no-strace -q -o "$tmp/b.tar.zst"
measure "pidstat -d 1" pidstat -d 1 "$secs"
measure "iotop-c -b -o -P -d 1" iotop-c -b -o -P -d 1 -n "$ticks"
echo
size=$(stat -c %s "$tmp/b.tar.zst")
zstd -dc "$tmp/b.tar.zst" | tar xOf - manifest.json >"$tmp/manifest.json"
tick_ms=$(grep -o '"tick_cpu_ms": [0-9.]*' "$tmp/manifest.json" | awk '{print $2}')
per=$(grep -o '"processes_per_tick": [0-9.]*' "$tmp/manifest.json" | awk '{print $2}')
echo "iorca-collect's own figures (manifest.cost): ${tick_ms} ms CPU per tick for ${per} processes;"
echo "bundle $((size / 1024)) KiB for $secs s ($(awk -v s="$size" -v t="$secs" -v p="$per" 'BEGIN { printf "%.0f", s/1024*60/t*1000/p }') KiB per minute per 1,000 processes)."
