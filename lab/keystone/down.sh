#!/bin/bash
# Stop exactly the Keystone that lab/keystone/up.sh recorded (pid + cmdline check; a reused pid
# is left alone).
#   bash lab/keystone/down.sh [STATE_DIR] [--purge]   # --purge also deletes STATE_DIR
set -uo pipefail
PURGE=0 RUN=
for a in "$@"; do case "$a" in --purge) PURGE=1 ;; *) RUN=$a ;; esac; done
RUN=${RUN:-${KEYSTONE_LAB_DIR:-/var/tmp/nodewright-keystone-lab}}
ours() { [ -d "/proc/$1" ] && tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -q "keystone-wsgi-public"; }
if [ -f "$RUN/keystone.pid" ]; then
  pid=$(cat "$RUN/keystone.pid")
  if ours "$pid"; then
    echo "TERM keystone pid $pid"; kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 20); do ours "$pid" || break; sleep 0.25; done
    if ours "$pid"; then echo "KILL keystone pid $pid"; kill -KILL "$pid" 2>/dev/null; fi
  fi
  rm -f "$RUN/keystone.pid"
fi
rm -f "$RUN/keystone.env"
echo "stopped"
if [ "$PURGE" = 1 ]; then rm -rf "$RUN"; echo "purged $RUN"; fi
