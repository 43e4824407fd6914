#!/bin/bash
# down.sh — stop the native worker up.sh booted (by the pids its boot recorded; lab/systemd/stop.sh).
#   LAB_NAME=nwnative
set -uo pipefail
export LAB_NAME=${LAB_NAME:-nwnative}
exec "$(cd "$(dirname "$0")" && pwd)/../systemd/stop.sh"
