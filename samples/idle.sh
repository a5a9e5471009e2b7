#!/usr/bin/env bash
# idle: a quiet machine; nothing is started. The expected verdict is "No IO
# problem found", with the figures that show it.
# Needs root (to see every process). Removes everything it made.
source "$(dirname "$0")/lib.sh"
setup idle
sleep 1
collect
expected
