#!/usr/bin/env bash
# nginx-logger-stdout: the classic. A container, nginx-logger-12, run by a
# real containerd and runc, prints access-log lines to stdout as fast as it
# can; containerd's shim (containerd-shim-runc-v2 -namespace k8s.io -id
# nginx-logger-12), which copies the container's stdout into the log file
# given by --log-uri, becomes the node's top writer. The log file is on its
# own ext4 loop device, as /var/log/pods would be on a node.
# Needs root, containerd, runc. Removes everything it made, even when
# interrupted.
source "$(dirname "$0")/lib.sh"
setup nginx-logger-stdout

loop_ext4 3072 "$SRV/logs"
rootfs "$SRV/rootfs"
defer "rm -rf '$SRV/rootfs'"
start_containerd
run_container nginx-logger-12 "$SRV/rootfs" --log-uri "file://$SRV/logs/nginx-logger-12.log" -- \
  /usr/local/bin/access-logger --file - --size 96
sleep 2
collect
expected
