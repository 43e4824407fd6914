#!/bin/bash
# Stop exactly the processes that up.sh recorded under $RUN/pids (pid + cmdline tag;
# a pid whose cmdline no longer contains its tag is treated as reused and left alone).
#   bash lab/nova/down.sh [STATE_DIR] [--purge]   # --purge also deletes STATE_DIR (configs, DBs, logs)
set -uo pipefail
PURGE=0 RUN=
for a in "$@"; do case "$a" in --purge) PURGE=1 ;; *) RUN=$a ;; esac; done
RUN=${RUN:-${NOVA_LAB_DIR:-/var/tmp/nodewright-nova-lab}}
PIDS=$RUN/pids
# the Keystone that up.sh started with NOVA_LAB_KEYSTONE=1
[ -d "$RUN/keystone" ] && bash "$(cd "$(dirname "$0")" && pwd)/../keystone/down.sh" "$RUN/keystone"
# the Cinder and Ceph labs that up.sh started with NOVA_LAB_CINDER=1 (Cinder first: it holds RBD images)
HERE=$(cd "$(dirname "$0")" && pwd)
[ -d "$RUN/cinder/pids" ] && bash "$HERE/../cinder/down.sh" "$RUN/cinder"
[ -f "$RUN/ceph/.cephlab" ] && bash "$HERE/../ceph/down.sh" "$RUN/ceph"
[ -d "$PIDS" ] || { echo "nothing recorded in $PIDS"; [ "$PURGE" = 1 ] && rm -rf "$RUN"; exit 0; }

ORDER="nova-compute-cmp-a nova-compute-cmp-b nova-api neutron-stub nova-scheduler nova-conductor glance placement rabbitmq epmd"
for f in "$PIDS"/*.pid; do n=$(basename "$f" .pid); case " $ORDER " in *" $n "*) ;; *) ORDER="$n $ORDER";; esac; done

ours() { # ours PID TAG
  [ -d /proc/$1 ] && tr '\0' ' ' < /proc/$1/cmdline 2>/dev/null | grep -q -- "$2"
}
targets=()
for n in $ORDER; do
  [ -f "$PIDS/$n.pid" ] || continue
  tag=$(cat "$PIDS/$n.tag")
  for pid in $(cat "$PIDS/$n.pid" "$PIDS/$n.children" 2>/dev/null); do
    ctag=$tag; [ "$n" = rabbitmq ] && ctag="beam.smp\|rabbitmq-server"
    if ours "$pid" "$ctag"; then
      echo "TERM $n pid $pid"; kill -TERM "$pid" 2>/dev/null; targets+=("$pid:$ctag")
    fi
  done
  # rabbitmq's wrapper needs its own stop to finish before epmd goes away
  if [ "$n" = rabbitmq ]; then for i in $(seq 1 40); do ours "$(cat "$PIDS/$n.pid")" "$tag" || break; sleep 0.5; done; fi
done
for i in $(seq 1 30); do
  left=0
  for t in "${targets[@]}"; do ours "${t%%:*}" "${t#*:}" && left=1; done
  [ $left = 0 ] && break; sleep 0.5
done
for t in "${targets[@]}"; do
  if ours "${t%%:*}" "${t#*:}"; then echo "KILL pid ${t%%:*}"; kill -KILL "${t%%:*}" 2>/dev/null; fi
done
rm -f "$PIDS"/*.pid "$PIDS"/*.children
echo "stopped"
rm -f "$RUN/lab.env"
if [ "$PURGE" = 1 ]; then rm -rf "$RUN"; echo "purged $RUN"; fi
