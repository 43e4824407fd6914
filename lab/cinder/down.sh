#!/bin/bash
# Stop exactly what lab/cinder/up.sh started (recorded pid + cmdline tag; a reused pid is left alone):
# the Cinder daemons (TERM; oslo.service stops its forked children), then PostgreSQL (fast shutdown).
#   bash lab/cinder/down.sh STATE_DIR
set -uo pipefail
D=${1:?usage: down.sh STATE_DIR}
PIDS=$D/pids
[ -d "$PIDS" ] || { echo "cinder: nothing recorded in $PIDS"; exit 0; }
ours() { [ -d "/proc/$1" ] && tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"; }
stop() { # stop SIGNAL NAME...
  local sig=$1 targets=() n pid tag; shift
  for n in "$@"; do
    [ -f "$PIDS/$n.pid" ] || continue
    tag=$(cat "$PIDS/$n.tag")
    for pid in $(cat "$PIDS/$n.pid" "$PIDS/$n.children" 2>/dev/null); do
      ours "$pid" "$tag" || { [ "$n" != postgres ] && ours "$pid" "$D/etc"; } || continue
      echo "$sig $n pid $pid"; kill "-$sig" "$pid" 2>/dev/null; targets+=("$pid")
    done
  done
  for ((i = 0; i < 80; i++)); do
    local left=0; for pid in "${targets[@]}"; do [ -d "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && left=1; done
    [ $left = 0 ] && return; sleep 0.25
  done
  for pid in "${targets[@]}"; do [ -d "/proc/$pid" ] && { echo "KILL pid $pid"; kill -KILL "$pid" 2>/dev/null; }; done
}
stop TERM cinder-api cinder-scheduler cinder-volume
stop INT postgres   # SIGINT = postgres "fast" shutdown
rm -f "$PIDS"/*.pid "$PIDS"/*.children "$D/cinder.env"
echo "cinder stopped"
