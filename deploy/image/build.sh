#!/usr/bin/env bash
# build.sh builds the collector's image offline: a static iorca-collect
# from this checkout, strace and the shared libraries it links, and
# busybox (sh, sleep, tar for kubectl cp), into an image FROM scratch.
#
# Usage: deploy/image/build.sh [TAG=iorca-collect:dev] [DOCKER=docker]
# Needs: go, strace, busybox (Debian busybox-static or busybox), ldd, and a
# docker CLI talking to a daemon (DOCKER_HOST is honoured).
set -euo pipefail
cd "$(dirname "$0")/../.."
tag=${1:-iorca-collect:dev}
docker=${2:-docker}
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT INT TERM
root=$ctx/rootfs
mkdir -p "$root/usr/local/bin" "$root/bin" "$root/tmp" "$root/var/lib/iorca" "$root/dev/shm"
chmod 1777 "$root/tmp"

CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$(git describe --always --dirty 2>/dev/null || echo dev)" \
  -o "$root/usr/local/bin/iorca-collect" ./collect/cmd/iorca-collect

# copy_with_libs copies a dynamic binary and every library ldd names,
# at the same paths.
copy_with_libs() {
  local bin=$1
  install -D "$bin" "$root$bin"
  ldd "$bin" | awk '/=> \// {print $3} /^\t\// {print $1}' | while read -r lib; do
    install -D "$(readlink -f "$lib")" "$root$lib"
  done
}
copy_with_libs "$(command -v strace)"

bb=$(command -v busybox)
install -D "$bb" "$root/bin/busybox"
if ldd "$bb" >/dev/null 2>&1; then copy_with_libs "$bb"; fi
for applet in sh sleep tar cat ls echo head; do
  ln -sf busybox "$root/bin/$applet"
done

cp deploy/image/Dockerfile "$ctx/"
"$docker" build -q -t "$tag" "$ctx" >/dev/null
echo "$tag"
