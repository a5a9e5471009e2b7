#!/usr/bin/env bash
# same-reports.sh checks that a change of the analyzer changes no output:
# it builds iorca at REV (default HEAD~1) and at the work tree, and compares
# every report (md, json, html), the replay timeline, fleet and diff on the
# sample bundles, and the JSON and Markdown reports under a matrix of
# thresholds that make most rules fire, so that paths the defaults leave
# cold are compared too. Exit 1 on any difference, which it prints.
#
# Usage: bench/same-reports.sh [REV]
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-HEAD~1}
tmp=$(mktemp -d)
trap 'git worktree remove --force "$tmp/base" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT

build() { # dir out
  if [ -d "$1/analyze/cmd/iorca" ]; then (cd "$1" && go build -o "$2" ./analyze/cmd/iorca)
  else (cd "$1" && go build -o "$2" ./analyze); fi
}
git worktree add -q --detach "$tmp/base" "$rev"
build "$tmp/base" "$tmp/old"
build . "$tmp/new"

thresholds=(
  ""
  "--threshold util_pct=10 --threshold await_ms=0.1"
  "--threshold small_write_min_per_sec=1 --threshold sync_min_per_sec=0.5"
  "--threshold dominant_share=0.05 --threshold device_share_pct=5"
  "--threshold psi_some_pct=1 --threshold dstate_pct=5 --threshold iodelay_pct=1"
  "--threshold cpu_pct=5 --threshold amplification_ratio=1.5 --threshold rival_share=0.1"
  "--threshold margin_pct=90 --threshold min_window_s=60 --threshold min_trace_calls=10000"
  "--threshold fs_full_pct=1 --threshold throttle_use_pct=1 --threshold swap_pages_per_sec=0.1 --threshold dirty_limit_pct=1"
)
runs=0 diffs=0
same() { # description, then the command's arguments
  local what=$1; shift
  runs=$((runs + 1))
  "$tmp/old" "$@" >"$tmp/o" 2>&1 || true
  "$tmp/new" "$@" >"$tmp/n" 2>&1 || true
  if ! cmp -s "$tmp/o" "$tmp/n"; then
    diffs=$((diffs + 1))
    echo "DIFF: $what"
    diff "$tmp/o" "$tmp/n" | head -20
  fi
}
for b in samples/*.tar.zst; do
  for f in md json html; do same "report $b --format $f" report "$b" --format "$f"; done
  same "replay $b timeline" replay "$b" timeline
  for th in "${thresholds[@]}"; do
    # shellcheck disable=SC2086 # the thresholds are several words
    same "report $b $th" report "$b" $th
    # shellcheck disable=SC2086
    same "report $b --format json $th" report "$b" --format json $th
  done
done
for f in md json html; do same "fleet --format $f" fleet -q --format "$f" samples/; done
same "diff" diff samples/overlay-sync-logger.tar.zst samples/overlay-sync-logger-tmpfs.tar.zst --format json
same "regress" regress samples
echo "$runs outputs compared with $rev, $diffs differ"
[ "$diffs" -eq 0 ]
