#!/usr/bin/env bash
# fleet-cost.sh measures iorca fleet over N bundles: copies of the sample
# bundles under distinct node names (bench/fleetcopies), on this machine.
# It prints the wall time, CPU, time per bundle and peak RSS, for the
# default --jobs and for one job.
#
# Usage: bench/fleet-cost.sh [NODES=1000]
# Needs: go, GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=${1:-1000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
go build -o "$tmp/iorca" ./analyze/cmd/iorca
go run ./bench/fleetcopies --from samples --nodes "$nodes" -o "$tmp/fleet"
echo "Machine: $(nproc) CPUs, kernel $(uname -r), $(date -u +%Y-%m-%d); $nodes bundles ($(du -sm "$tmp/fleet" | cut -f1) MiB), copies of the $(ls samples/*.tar.zst | wc -l) samples."
echo
echo "| run | wall s | CPU s | ms per bundle | peak RSS MiB |"
echo "|---|---|---|---|---|"
for jobs in default 1; do
  flag=(); [ "$jobs" = 1 ] && flag=(--jobs 1)
  /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$tmp/iorca" fleet -q --format json --by zone "${flag[@]}" "$tmp/fleet" >"$tmp/out.json"
  read -r e u s m < "$tmp/time"
  awk -v j="$jobs" -v e="$e" -v u="$u" -v s="$s" -v m="$m" -v n="$nodes" \
    'BEGIN { printf "| iorca fleet --jobs %s | %.1f | %.1f | %.1f | %d |\n", j, e, u+s, e*1000/n, m/1024 }'
done
