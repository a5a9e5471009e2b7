#!/usr/bin/env bash
# copytruncate-rotation: the nightly rotation of a large application log.
# A service appends buffered lines to app.log (O_APPEND) on ext4 over a
# slow disk (an nbdkit memory disk with the delay filter: every request
# waits 10 ms; the copy's readahead keeps dozens in flight, so its reads
# ran at about 48 MB/s in the committed capture, the disk 94 % busy). The real logrotate rotates it with
# copytruncate and compress: it reads the whole cold log and writes its
# copy app.log.1, truncates app.log under the service, then gzip
# compresses the copy. The copy's reads of the log hold the disk while
# the service goes on appending (its writes wait in the page cache here:
# the capture ends before writeback starts on a node with this much
# memory). Needs root, logrotate, nbdkit, nbdfuse, fuse3. Removes
# everything it made.
source "$(dirname "$0")/lib.sh"
setup copytruncate-rotation
need_tools logrotate

slow_ext4 1024 "$SRV/logs" delay rdelay=10ms wdelay=10ms
dev=$(basename "$LOOPDEV")
mkdir -p "$SRV/logs/app"
say "writing a 384 MiB log"
# Lines of text, as a log holds (gzip compresses them as it would a log);
# written direct, so that none of it stays in the page cache: a log that
# large was written over days.
(yes '10.0.0.7 - - [03/Dec/2026:06:25:01 +0000] "GET /api/v1/orders?id=4711 HTTP/1.1" 200 512 "-" "curl/7.88"' || true) |
  head -c $((384 * 1024 * 1024)) | dd of="$SRV/logs/app/app.log" bs=1M iflag=fullblock oflag=direct status=none
say "$dev: every request waits 10 ms"
# The service keeps appending 200-byte lines, 200 a second, buffered.
cp "$WORK/bin/iorca-workload" "$WORK/bin/app-server"
start_bg app-server "$WORK/bin/app-server" --file "$SRV/logs/app/app.log" --size 200 --sync none --rate 200
cat >"$WORK/logrotate.conf" <<EOT
$SRV/logs/app/app.log {
    copytruncate
    compress
    rotate 4
    missingok
}
EOT
start_bg logrotate logrotate -f -s "$WORK/logrotate.state" "$WORK/logrotate.conf"
sleep 1
collect
expected
