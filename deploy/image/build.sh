#!/usr/bin/env bash
# build.sh builds the collector's image FROM scratch: the static
# iorca-collect, strace with the shared libraries it links, and busybox
# (sh, date and stat for the readiness probe, tar for kubectl cp).
#
# strace, its libraries and busybox come from Debian's packages for the
# image's architecture (apt-get download strace:ARCH ...; a foreign ARCH
# needs `dpkg --add-architecture ARCH && apt-get update` once). Where
# they cannot be downloaded (offline) and ARCH is this machine's, this
# machine's strace, libraries and busybox are copied instead, which says
# so; never for a release (REQUIRE_DEBIAN=1, which scripts/release.sh
# sets: it fails instead). The image holds files only (no RUN step), so an
# arm64 image builds on an amd64 machine without emulation. It is built
# and tagged in the local daemon, not pushed (deploy/README.md, "Pushing
# the image").
#
# Usage: deploy/image/build.sh [TAG=iorca-collect:VERSION] [DOCKER=docker]
#   (VERSION: the repository's ./VERSION, the tag the manifests name)
# Environment:
#   ARCH=amd64|arm64  the image's architecture (default: this machine's)
#   COLLECTOR=FILE    a collector already built for ARCH (scripts/release.sh
#                     passes its own); default: built from this checkout
#   ROOTFS=DIR        assemble the image's files into DIR and stop (no docker)
#   SAVE=FILE         also write the image to FILE (docker save)
#   REQUIRE_DEBIAN=1  fail rather than copy this machine's strace and
#                     busybox when Debian's packages cannot be downloaded
# Needs: go, apt-get and dpkg-deb (or strace and busybox installed),
# readelf, and a docker CLI talking to a daemon (DOCKER_HOST is honoured).
set -euo pipefail
cd "$(dirname "$0")/../.."
tag=${1:-iorca-collect:$(cat VERSION)}
docker=${2:-docker}
native=$(dpkg --print-architecture)
arch=${ARCH:-$native}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
ctx=$work/context
root=${ROOTFS:-$ctx/rootfs}
mkdir -p "$root/usr/local/bin" "$root/bin" "$root/tmp" "$root/var/lib/iorca" "$root/dev/shm" "$root/run/iorca"
chmod 1777 "$root/tmp"

if [ -n "${COLLECTOR:-}" ]; then
  install -D -m 0755 "$COLLECTOR" "$root/usr/local/bin/iorca-collect"
else
  CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath \
    -ldflags "-s -w -X main.version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)" \
    -o "$root/usr/local/bin/iorca-collect" ./collect/cmd/iorca-collect
fi

# resolve follows symbolic links inside the staging tree $1: an absolute
# target is the package's path, not this machine's.
resolve() {
  local tree=$1 p=$2 t
  while [ -L "$p" ]; do
    t=$(readlink "$p")
    case $t in
      /*) p=$tree$t ;;
      *) p=$(dirname "$p")/$t ;;
    esac
  done
  echo "$p"
}

# copy_elf TREE PATH copies TREE/PATH into the image at PATH, then its
# program interpreter and the libraries it needs, found in TREE, each at
# the path it has there (the loader's default directories: the image has
# no ld.so.cache).
copy_elf() {
  local tree=$1 path=$2 lib found
  [ -e "$root$path" ] && return 0
  install -D -m 0755 "$(resolve "$tree" "$tree$path")" "$root$path"
  lib=$(readelf -l "$tree$path" 2>/dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
  if [ -n "$lib" ] && [ ! -e "$root$lib" ]; then
    install -D -m 0755 "$(resolve "$tree" "$tree$lib")" "$root$lib"
  fi
  for lib in $(readelf -d "$(resolve "$tree" "$tree$path")" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    found=$( (find "$tree/lib" "$tree/usr/lib" "$tree/lib64" -name "$lib" 2>/dev/null || true) | head -n 1)
    [ -n "$found" ] || { echo "build.sh: $lib (needed by $path) not found for $arch" >&2; exit 1; }
    copy_elf "$tree" "${found#"$tree"}"
  done
}

# copy_with_ldd copies one of this machine's programs and every library
# ldd names, at the same paths.
copy_with_ldd() {
  local bin=$1
  install -D "$bin" "$root$bin"
  ldd "$bin" | awk '/=> \// {print $3} /^\t\// {print $1}' | while read -r lib; do
    install -D "$(readlink -f "$lib")" "$root$lib"
  done
}

# Debian's packages for the architecture, unpacked into a staging tree.
debs=$work/debs stage=$work/stage
mkdir -p "$debs" "$stage"
if (cd "$debs" && apt-get download -q=2 "strace:$arch" "libunwind8:$arch" "liblzma5:$arch" "libc6:$arch" "busybox-static:$arch") >"$work/apt.log" 2>&1; then
  for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$stage"; done
  echo "build.sh: strace $(dpkg-deb -f "$debs"/strace_*.deb Version) and busybox from Debian's $arch packages" >&2
  copy_elf "$stage" /usr/bin/strace
  install -D -m 0755 "$stage/bin/busybox" "$root/bin/busybox"
elif [ "$arch" = "$native" ] && [ "${REQUIRE_DEBIAN:-}" != 1 ]; then
  echo "build.sh: Debian's packages could not be downloaded ($(tail -n 1 "$work/apt.log")); using this machine's strace and busybox" >&2
  copy_with_ldd "$(command -v strace)"
  install -D -m 0755 "$(command -v busybox)" "$root/bin/busybox"
  if ldd "$(command -v busybox)" >/dev/null 2>&1; then copy_with_ldd "$(command -v busybox)"; fi
else
  echo "build.sh: Debian's $arch packages could not be downloaded (an image for a release holds Debian's strace for its architecture; for another architecture, dpkg --add-architecture $arch && apt-get update first)" >&2
  cat "$work/apt.log" >&2
  exit 1
fi
for applet in sh sleep tar cat ls echo head date stat test; do
  ln -sf busybox "$root/bin/$applet"
done

# Every program in the image is for its architecture.
want=$(case $arch in amd64) echo X86-64 ;; arm64) echo AArch64 ;; *) echo "$arch" ;; esac)
for f in "$root/usr/local/bin/iorca-collect" "$root/usr/bin/strace" "$root/bin/busybox"; do
  if ! readelf -h "$f" | grep -q "Machine:.*$want"; then
    echo "build.sh: $f is not a $arch program" >&2
    exit 1
  fi
done
[ -n "${ROOTFS:-}" ] && { echo "$root"; exit 0; }

cp deploy/image/Dockerfile "$ctx/"
"$docker" build -q --platform "linux/$arch" -t "$tag" -f "$ctx/Dockerfile" "$ctx" >/dev/null
[ -n "${SAVE:-}" ] && "$docker" save -o "$SAVE" "$tag"
echo "$tag"
