#!/usr/bin/env bash
# Starts a private dockerd (own data root, exec root and socket; no bridge,
# no iptables; overlay2), runs one container from a busybox image, and
# captures its process's /proc files and what docker says of it.
set -euo pipefail
out=$(realpath -m "${1:?out dir}"); mkdir -p "$out"
work=$(mktemp -d /tmp/iorca-docker.XXXX); run=$(mktemp -d /run/iorca-dockerd-cap.XXXX)
H=unix://$run/docker.sock
dockerd --data-root "$work/data" --exec-root "$run/exec" --pidfile "$run/dockerd.pid" -H "$H" --bridge=none --iptables=false \
  --ip6tables=false --ip-masq=false --storage-driver=overlay2 --log-driver=json-file > "$work/dockerd.log" 2>&1 &
dpid=$!
cleanup() {
  docker -H "$H" rm -f web-7 >/dev/null 2>&1 || true
  kill "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null || true
  umount -R -l "$run" 2>/dev/null || true; umount -R -l "$work" 2>/dev/null || true
  rm -rf "$run" "$work"
}
trap cleanup EXIT
for i in $(seq 100); do docker -H "$H" version >/dev/null 2>&1 && break; sleep 0.3; done
mkdir -p "$work/rootfs/bin"; cp /usr/bin/busybox "$work/rootfs/bin/"; ln -s busybox "$work/rootfs/bin/sh"
tar -C "$work/rootfs" -c . | docker -H "$H" import - iorca-capture:1 >/dev/null
docker -H "$H" run -d --name web-7 iorca-capture:1 /bin/busybox sh -c \
  'mkdir -p /var/log/nginx; while :; do echo "GET / 200" >> /var/log/nginx/access.log; /bin/busybox sleep 1; done' >/dev/null
sleep 2
pid=$(docker -H "$H" inspect -f '{{.State.Pid}}' web-7)
mkdir -p "$out/proc/PID"
for f in cgroup mountinfo status stat; do cat /proc/$pid/$f > "$out/proc/PID/$f"; done
docker -H "$H" inspect -f '{"Id": {{json .Id}}, "Pid": {{.State.Pid}}, "GraphDriver": {{json .GraphDriver}}}' web-7 > "$out/docker-inspect.json"
docker -H "$H" version -f '{{.Server.Version}}' > "$out/docker-version"
