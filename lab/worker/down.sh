#!/bin/bash
# down.sh N — stop the workers up.sh booted (each by the pids its boot recorded).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
for i in $(seq 1 "${1:?usage: down.sh N}"); do LAB_NAME=${WORKER_PREFIX:-nwagentw}$i "$here/../systemd/stop.sh"; done
