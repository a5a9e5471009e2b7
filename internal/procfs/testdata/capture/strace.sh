#!/usr/bin/env bash
# Real traces by strace 6.1 with the collector's options (-f -tt -T -y
# -s 32 -e trace=<collect/strace.Syscalls>), of three small programs run
# under strace from start to end, in a scratch directory on ext4.
set -euo pipefail
out=$(realpath -m "${1:?out dir}"); mkdir -p "$out"
here=$(dirname "$(realpath "$0")")
w=/tmp/iorca-strace; rm -rf "$w"; mkdir -p "$w"
CGO_ENABLED=0 go build -o "$w/mtw" "$here/mtw/main.go"
cd "$w"
set_=write,pwrite64,writev,pwritev,pwritev2,read,pread64,readv,preadv,preadv2,fsync,fdatasync,sync,syncfs,sync_file_range,msync,open,openat,openat2,creat,io_submit,io_uring_enter,copy_file_range,sendfile,splice,fallocate,ftruncate
st() { strace -f -tt -T -y -s 32 -e trace=$set_ "$@"; }
# 1. dd copies a 2,149,823-byte file in 100,000-byte blocks.
head -c 2149823 /dev/urandom > src.bin
st -o "$out/dd.strace" dd if=src.bin of=dst.bin bs=100000 > dd.out 2> dd.err < /dev/null
cmp src.bin dst.bin
# 2. A shell starts three children that write a line each, and one that
#    is killed by SIGKILL; it exits 3. (Full syscall set: clone, wait4,
#    signals, exits.)
strace -f -tt -T -y -s 32 -o "$out/sh.strace" sh -c 'for i in 1 2 3; do (echo child$i > out$i.txt) & done; sleep 5 & k=$!; kill -KILL $k; wait; exit 3' > sh.out 2>&1 < /dev/null || true
# 3. Two threads append 100 records of 120 bytes each to their own file,
#    with fdatasync after every 10th.
st -o "$out/mtw.strace" "$w/mtw" > mtw.out 2>&1 < /dev/null
ls -l src.bin dst.bin out1.txt wal-a.log wal-b.log > "$out/files.txt"
strace -V | head -1 > "$out/strace-version"
cd /; rm -rf "$w"
