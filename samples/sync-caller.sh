#!/usr/bin/env bash
# sync-caller: a snapshot agent calls sync(1) every 200 ms while two
# services write buffered data on ext4 over a slow disk (an nbdkit memory
# disk with the delay filter: every write request waits 10 ms). Each
# sync() makes the flushers write every dirty page of the node and the
# journal commit, on the agent's schedule instead of writeback's, and
# waits for it; the writers' pages leave the page cache in small bursts
# with a journal commit and a cache flush each. The agent is coreutils'
# sync in a shell loop. Needs root, nbdkit, nbdfuse, fuse3. Removes
# everything it made.
source "$(dirname "$0")/lib.sh"
setup sync-caller

slow_ext4 512 "$SRV/data" delay wdelay=10ms
say "$(basename "$LOOPDEV"): every write request waits 10 ms"
cp "$WORK/bin/iorca-workload" "$WORK/bin/ingest"
cp "$WORK/bin/iorca-workload" "$WORK/bin/metrics-writer"
start_bg ingest "$WORK/bin/ingest" --file "$SRV/data/ingest.dat" --size 65536 --sync none --rate 32 --max-bytes 128MiB
start_bg metrics-writer "$WORK/bin/metrics-writer" --file "$SRV/data/metrics.log" --size 300 --sync none --rate 200 --max-bytes 64MiB
need_tools sync sleep
cat >"$WORK/bin/snapshot-agent" <<'EOT'
#!/bin/bash
# A snapshot agent's loop: settle the page cache before each snapshot.
while :; do sync; sleep 0.2; done
EOT
chmod +x "$WORK/bin/snapshot-agent"
start_bg snapshot-agent "$WORK/bin/snapshot-agent"
sleep 3
collect
expected
