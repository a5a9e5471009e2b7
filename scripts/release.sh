#!/usr/bin/env bash
# release.sh builds a release of iorca without make: for linux/amd64 and
# linux/arm64, the collector (static, CGO_ENABLED=0) and the analyzer,
# stamped with the version (-X main.version) and the commit (Go's VCS
# build info where Go records it, else -X cli.Revision; --version prints
# both), in one archive per architecture
# with the README and the licence; the collector's image per architecture
# from the same collector binary (deploy/image/build.sh: FROM scratch,
# strace and busybox from Debian's packages for that architecture), saved
# as an archive too; and SHA256SUMS over all of them.
#
# Usage: scripts/release.sh [--ci] [VERSION]   (default VERSION: ./VERSION)
#   --ci  cross-compile and check only, into a temporary directory: no
#         images (they need a docker daemon; the deploy module's tests
#         build and run the image), a dirty work tree allowed. .ci/run
#         runs this.
# Environment: ARCHES (default "amd64 arm64"), OUT (default dist),
#   IMAGE (default iorca-collect: the image's repository; kustomization.yaml
#   points it at a registry), DOCKER (default docker; DOCKER_HOST is
#   honoured).
# Writes OUT/VERSION/: iorca_VERSION_linux_ARCH.tar.gz,
#   iorca-collect_VERSION_linux_ARCH.image.tar, SHA256SUMS; and tags the
#   images IMAGE:VERSION-ARCH (IMAGE:VERSION for this machine's).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

ci=false
if [ "${1:-}" = --ci ]; then ci=true; shift; fi
version=${1:-$(cat VERSION)}
arches=${ARCHES:-amd64 arm64}
image=${IMAGE:-iorca-collect}
docker=${DOCKER:-docker}
case $version in
  v[0-9]*.[0-9]*.[0-9]*) ;;
  *) echo "release: version $version is not vMAJOR.MINOR.PATCH" >&2; exit 2 ;;
esac
if ! $ci && [ -n "$(git status --porcelain)" ]; then
  echo "release: the work tree has uncommitted changes; a release is built from a commit" >&2
  exit 1
fi
if $ci; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT INT TERM
else
  out=${OUT:-dist}/$version
  rm -rf "$out"
  mkdir -p "$out"
fi
rev=$(git rev-parse --short=12 HEAD)
[ -z "$(git status --porcelain)" ] || rev=$rev+dirty

# machine is the ELF machine readelf names for a Go architecture.
machine() { case $1 in amd64) echo X86-64 ;; arm64) echo AArch64 ;; *) echo "$1" ;; esac; }

for arch in $arches; do
  name=iorca_${version}_linux_${arch}
  dir=$out/$name
  mkdir -p "$dir"
  for cmd in collect/cmd/iorca-collect analyze/cmd/iorca; do
    CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath -buildvcs=true \
      -ldflags "-s -w -X main.version=$version -X github.com/iorca/iorca/internal/cli.Revision=$rev" -o "$dir/$(basename "$cmd")" "./$cmd"
  done
  # Checked, not assumed: each binary is for the architecture, the
  # collector has no program interpreter (static), and the stamps are in
  # the binaries.
  for bin in "$dir/iorca-collect" "$dir/iorca"; do
    readelf -h "$bin" | grep -q "Machine:.*$(machine "$arch")" || { echo "release: $bin is not for $arch" >&2; exit 1; }
    grep -aq "$version" "$bin" && grep -aq "${rev%+dirty}" "$bin" || { echo "release: $bin lacks version $version or commit $rev" >&2; exit 1; }
  done
  if [ "$arch" = "$(go env GOHOSTARCH)" ]; then
    "$dir/iorca-collect" --version | grep -q "^iorca-collect $version (rev ${rev%+dirty}" ||
      { echo "release: iorca-collect --version says $("$dir/iorca-collect" --version)" >&2; exit 1; }
  fi
  if readelf -l "$dir/iorca-collect" | grep -q "program interpreter"; then
    echo "release: the $arch collector is not static" >&2; exit 1
  fi
  cp README.md LICENSE "$dir/"
  tar -C "$out" --owner=0 --group=0 --numeric-owner -czf "$out/$name.tar.gz" "$name"
  echo "release: $name.tar.gz (collector $(stat -c %s "$dir/iorca-collect") bytes, analyzer $(stat -c %s "$dir/iorca") bytes, rev $rev)"

  if $ci; then
    echo "release: $arch image not built in CI (it needs a docker daemon; deploy/kubernetes's tests build and run the image)"
  else
    tag=$image:$version-$arch
    ARCH=$arch COLLECTOR="$dir/iorca-collect" SAVE="$out/iorca-collect_${version}_linux_${arch}.image.tar" \
      deploy/image/build.sh "$tag" "$docker" >/dev/null
    chmod 0644 "$out/iorca-collect_${version}_linux_${arch}.image.tar"
    if [ "$arch" = "$(dpkg --print-architecture)" ]; then "$docker" tag "$tag" "$image:$version"; fi
    echo "release: image $tag ($(basename "$out")/iorca-collect_${version}_linux_${arch}.image.tar)"
  fi
  rm -rf "$dir"
done
(cd "$out" && sha256sum -- *.tar.gz $(ls -- *.image.tar 2>/dev/null) > SHA256SUMS && sha256sum -c --quiet SHA256SUMS)
echo "release: $version (rev $rev) in $out:"
(cd "$out" && ls -l)
