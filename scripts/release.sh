#!/usr/bin/env bash
# release.sh builds a release of iorca without make: for linux/amd64 and
# linux/arm64, the collector (static, CGO_ENABLED=0) and the analyzer,
# stamped with the version (-X main.version) and the commit (Go's VCS
# build info where Go records it, else -X cli.Revision; --version prints
# both), in one archive per architecture with the README, the licence and
# the deploy files README links to (deploy/README.md, the Kubernetes
# manifests, the systemd unit); the collector's image per architecture
# from the same collector binary (deploy/image/build.sh: FROM scratch,
# strace and busybox from Debian's packages for that architecture, never
# this machine's), saved as an archive; one OCI image layout archive whose
# index holds both architectures (deploy/image/ociindex), the image a
# registry serves to a mixed amd64 and arm64 cluster under one reference
# (deploy/README.md says how to push it); and SHA256SUMS over all of them.
#
# Usage: scripts/release.sh [--ci] [VERSION]   (default VERSION: ./VERSION)
#   --ci  a dirty work tree allowed, into a temporary directory unless OUT
#         is set; no images unless IMAGES=1 (they need a docker daemon:
#         .ci/run builds the binaries, and deploy/image's TestRelease runs
#         this with IMAGES=1 against the dockerd it starts).
# Environment: ARCHES (default "amd64 arm64"), OUT (default dist),
#   IMAGE (default iorca-collect: the image's repository; kustomization.yaml
#   points it at a registry), DOCKER (default docker; DOCKER_HOST is
#   honoured), IMAGES (with --ci: 1 builds the images too).
# Writes OUT/VERSION/: iorca_VERSION_linux_ARCH.tar.gz,
#   iorca-collect_VERSION_linux_ARCH.image.tar (docker load),
#   iorca-collect_VERSION.oci.tar (every architecture, for a registry),
#   SHA256SUMS; and tags the images IMAGE:VERSION-ARCH, and IMAGE:VERSION
#   for this machine's architecture (a local docker run; a registry's
#   IMAGE:VERSION is the OCI archive's index).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

ci=false
if [ "${1:-}" = --ci ]; then ci=true; shift; fi
version=${1:-$(cat VERSION)}
arches=${ARCHES:-amd64 arm64}
image=${IMAGE:-iorca-collect}
docker=${DOCKER:-docker}
images=true
if $ci && [ "${IMAGES:-}" != 1 ]; then images=false; fi
case $version in
  v[0-9]*.[0-9]*.[0-9]*) ;;
  *) echo "release: version $version is not vMAJOR.MINOR.PATCH" >&2; exit 2 ;;
esac
if ! $ci && [ -n "$(git status --porcelain)" ]; then
  echo "release: the work tree has uncommitted changes; a release is built from a commit" >&2
  exit 1
fi
if $ci && [ -z "${OUT:-}" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT INT TERM
else
  out=${OUT:-dist}/$version
  rm -rf "$out"
  mkdir -p "$out"
fi
rev=$(git rev-parse --short=12 HEAD)
[ -z "$(git status --porcelain)" ] || rev=$rev+dirty

# abs is a path made absolute.
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }

# deploy_files copies into a release directory the deploy files README
# and deploy/README.md link to: the manifests (not their tests), the
# systemd unit and deploy/README.md itself, at the same paths.
deploy_files() {
  local dir=$1 f
  mkdir -p "$dir/deploy/kubernetes" "$dir/deploy/systemd"
  cp deploy/README.md "$dir/deploy/"
  for f in deploy/kubernetes/*.yaml deploy/systemd/*.service; do cp "$f" "$dir/$f"; done
}

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
  deploy_files "$dir"
  tar -C "$out" --owner=0 --group=0 --numeric-owner -czf "$out/$name.tar.gz" "$name"
  echo "release: $name.tar.gz (collector $(stat -c %s "$dir/iorca-collect") bytes, analyzer $(stat -c %s "$dir/iorca") bytes, rev $rev)"

  if ! $images; then
    echo "release: $arch image not built (--ci without IMAGES=1: it needs a docker daemon; deploy/image's TestRelease builds them)"
  else
    tag=$image:$version-$arch
    # REQUIRE_DEBIAN: a release's image holds Debian's strace for its
    # architecture, never this machine's (build.sh's offline fallback).
    REQUIRE_DEBIAN=1 ARCH=$arch COLLECTOR="$dir/iorca-collect" SAVE="$out/iorca-collect_${version}_linux_${arch}.image.tar" \
      deploy/image/build.sh "$tag" "$docker" >/dev/null
    chmod 0644 "$out/iorca-collect_${version}_linux_${arch}.image.tar"
    if [ "$arch" = "$(dpkg --print-architecture)" ]; then "$docker" tag "$tag" "$image:$version"; fi
    echo "release: image $tag ($(basename "$out")/iorca-collect_${version}_linux_${arch}.image.tar)"
  fi
  rm -rf "$dir"
done
if $images; then
  saved=()
  for arch in $arches; do saved+=("$(abs "$out")/iorca-collect_${version}_linux_${arch}.image.tar"); done
  (cd deploy && go run ./image/ociindex -o "$(abs "$out")/iorca-collect_${version}.oci.tar" -tag "$version" "${saved[@]}")
  chmod 0644 "$out/iorca-collect_${version}.oci.tar"
  echo "release: iorca-collect_${version}.oci.tar ($arches under $version: skopeo copy --all oci-archive:... docker://REGISTRY/iorca-collect:$version)"
fi
(cd "$out" && sha256sum -- *.tar.gz $(ls -- *.image.tar *.oci.tar 2>/dev/null) > SHA256SUMS && sha256sum -c --quiet SHA256SUMS)
echo "release: $version (rev $rev) in $out:"
(cd "$out" && ls -l)
