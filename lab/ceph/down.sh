#!/usr/bin/env bash
# lab/ceph/down.sh DIR -- stop exactly the processes up.sh recorded in DIR/pids (each only
# while /proc/PID/cmdline still names DIR/, so a recycled pid is never signalled),
# unmount FUSE mounts under DIR (quota-check.sh records them in DIR/mounts),
# then remove DIR. Safe to run twice; refuses a directory not created by up.sh.
#   CEPH_KEEP_DIR=1        stop everything but keep DIR (used by up.sh on failure)
#   CEPH_DOWN_SIGNAL=KILL  SIGKILL everything at once (default TERM, KILL after 10 s)
#   CEPH_DOWN_MDS_SIGNAL   default KILL: on SIGTERM ceph-mds spends ~4-7 s waiting for
#                          a beacon ack (and never exits if the OSD is already gone);
#                          nothing in DIR is reused, so a graceful MDS stop buys nothing
set -uo pipefail
T0=$(date +%s.%N)
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
ts() { printf '[%6ss] %s\n' "$(since "$T0")" "$*"; }

DIR=${1:-/tmp/cephlab}
case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac
DIR=$(realpath -m "$DIR")
[ "$DIR" != / ] || { echo "refusing DIR=/" >&2; exit 1; }
if [ ! -e "$DIR" ]; then ts "$DIR does not exist - nothing to do"; exit 0; fi
[ -f "$DIR/.cephlab" ] || { echo "down.sh: $DIR was not created by up.sh - refusing" >&2; exit 1; }
SIG=${CEPH_DOWN_SIGNAL:-TERM}
MDS_SIG=${CEPH_DOWN_MDS_SIGNAL:-KILL}

pid_ours() { # PIDFILE -> true if that pid is alive and its cmdline mentions DIR/
  local pid                # (an exited, not yet reaped zombie has an empty cmdline)
  [ -f "$1" ] || return 1
  pid=$(cat "$1")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$DIR/"
}

# 1. FUSE mounts first (ceph-fuse / rbd-fuse exit by themselves once unmounted)
{ [ -f "$DIR/mounts" ] && cat "$DIR/mounts"; awk -v d="$DIR/" 'index($2, d) == 1 {print $2}' /proc/mounts; } |
  sort -ru | while read -r m; do
    [ -n "$m" ] || continue
    if mountpoint -q "$m" 2>/dev/null; then
      umount "$m" 2>/dev/null || { sleep 1; umount "$m" 2>/dev/null; } || umount -l "$m" || true
      ts "unmounted $m"
    fi
  done

# 2. signal one group in parallel, wait up to 10 s, SIGKILL what is left
STOPPED=""
stop_group() { # SIGNAL PATTERN...
  local sig=$1 f n pid files=(); shift
  for pat in "$@"; do
    for f in "$DIR"/pids/$pat.pid; do
      [ -e "$f" ] && pid_ours "$f" || continue
      kill "-$sig" "$(cat "$f")" 2>/dev/null && files+=("$f")
      kill -CONT "$(cat "$f")" 2>/dev/null   # a SIGSTOPped daemon (timeout tests) must see the signal
    done
  done
  [ ${#files[@]} -gt 0 ] || return 0
  for _ in $(seq 100); do
    local alive=0
    for f in "${files[@]}"; do pid_ours "$f" && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for f in "${files[@]}"; do
    n=$(basename "$f" .pid); pid=$(cat "$f")
    if pid_ours "$f"; then kill -KILL "$pid" 2>/dev/null; ts "$n (pid $pid) needed SIGKILL"; fi
    ts "stopped $n (pid $pid)"
    STOPPED="$STOPPED $n=$pid"
  done
}
stop_group "$SIG" 'fuse-*' 'nbd-*'       # clients (none are recorded by default)
stop_group "$MDS_SIG" 'mds.*'            # mds first, while osd and mon are still there
stop_group "$SIG" 'osd.*' 'mgr.*'        # then these in parallel
stop_group "$SIG" 'mon.*'                # mon last
ts "stopped:${STOPPED:- (none running)}"

# 3. remove the directory (never crossing into a still-mounted fs)
if [ "${CEPH_KEEP_DIR:-0}" = 1 ]; then
  ts "kept $DIR (CEPH_KEEP_DIR=1)"
else
  rm -rf --one-file-system "$DIR"
  ts "removed $DIR"
fi
