#!/usr/bin/env bash
# file-by-file-fsync: an unpacker writes a tree of 4 KiB files on a slow
# disk (an nbdkit memory disk with the delay filter: every write request
# waits 5 ms) and makes each one durable on its own, as package managers,
# object stores and configuration writers do: write it, fsync it, rename
# it over its final name, fsync its directory; then the next. Each file
# costs two journal commits and their cache flushes.
# Needs root, nbdkit, nbdfuse, fuse3. Removes everything it made.
source "$(dirname "$0")/lib.sh"
setup file-by-file-fsync

slow_ext4 256 "$SRV/root" delay wdelay=5ms
# From /, as a service runs: its trace names its working directory.
cd /
cp "$WORK/bin/iorca-workload" "$WORK/bin/unpacker"
start_bg unpacker "$WORK/bin/unpacker" --file "$SRV/root/usr/share/app" --files 400 --per-dir 16 --size 4096
sleep 2
collect
expected
