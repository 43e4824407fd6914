#!/usr/bin/env bash
# lab/ceph/up.sh DIR  -- nodewright's Ceph lab (adapted from shared/labs/ceph): bring up a throw-away single-node Ceph (Debian 12, Pacific 16.2.x)
# on 127.0.0.1 without systemd: 1 mon, 1 mgr, 1 osd (memstore by default), 1 mds.
#
# Idempotent:
#   * if DIR holds a cluster whose recorded daemons are all alive and answering,
#     it is reused (pools/fs/users are re-ensured, info printed);
#   * if DIR holds a dead/partial cluster made by this script, the recorded
#     daemons that are still alive are stopped (by pid) and DIR is recreated;
#   * a non-empty DIR not made by this script is refused.
#
# Env knobs:
#   CEPH_BASE_PORT   (23300)  mon v2 = BASE, mon v1 = BASE+1, daemons bind BASE+10..BASE+99
#   CEPH_OBJECTSTORE (memstore) or bluestore (sparse file DIR/osd.0/block)
#   CEPH_OSD_BYTES   (2147483648) memstore capacity / bluestore block size
#   CEPH_SKIP_INSTALL=1   do not touch apt
#   CEPH_HEALTH_TIMEOUT (120) seconds to wait for HEALTH_OK
#   CEPH_NO_MGR=1    experiment: no ceph-mgr (I/O works, but see REPORT.md)
#   CEPH_BARE=1      a "fresh" cluster: daemons only, no pools, no fs, no client.k8s
#                    (what `nodewright ceph prepare` is tested against)
# Needs only what the ceph packages pull in plus coreutils/util-linux/mount/awk.
set -euo pipefail

T0=$(date +%s.%N)
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
ts() { printf '[%6ss] %s\n' "$(since "$T0")" "$*"; }
die() { echo "up.sh: ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (apt, FUSE mounts, daemons run as root)"
DIR=${1:-/tmp/cephlab}
case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac
DIR=$(realpath -m "$DIR")
[ "$DIR" != / ] || die "refusing DIR=/"

BASE=${CEPH_BASE_PORT:-23300}
MON_V2=$BASE
MON_V1=$((BASE + 1))
PMIN=$((BASE + 10))
PMAX=$((BASE + 99))
STORE=${CEPH_OBJECTSTORE:-memstore}
OSD_BYTES=${CEPH_OSD_BYTES:-2147483648}
HEALTH_TIMEOUT=${CEPH_HEALTH_TIMEOUT:-120}
NO_MGR=${CEPH_NO_MGR:-0}
BARE=${CEPH_BARE:-0}
DAEMONS="mon.a mgr.x osd.0 mds.a"; [ "$NO_MGR" = 1 ] && DAEMONS="mon.a osd.0 mds.a"
PKGS="ceph-mon ceph-osd ceph-mgr ceph-mds ceph-common ceph-fuse attr"

# ---------------------------------------------------------------- packages
if [ "${CEPH_SKIP_INSTALL:-0}" != 1 ]; then
  missing=""
  for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    ts "installing:$missing"
    ti=$(date +%s.%N)
    APTLOG=${TMPDIR:-/tmp}/cephlab-apt.log
    apt_install() {
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o DPkg::Lock::Timeout=900 $missing >>"$APTLOG" 2>&1
    }
    : >"$APTLOG"
    if ! apt_install; then   # stale package lists? refresh once and retry
      apt-get update -q -o DPkg::Lock::Timeout=900 >>"$APTLOG" 2>&1 || true
      apt_install || { tail -30 "$APTLOG"; die "apt-get install failed (log: $APTLOG)"; }
    fi
    ts "packages installed in $(since "$ti")s ($(grep -c '^Setting up' "$APTLOG") packages set up; log: $APTLOG)"
  else
    ts "packages already installed"
  fi
fi
command -v ceph-mon >/dev/null || die "ceph-mon not installed"

CONF=$DIR/ceph.conf
ADMIN_KEYRING=$DIR/ceph.client.admin.keyring
K8S_KEYRING=$DIR/ceph.client.k8s.keyring
export CEPH_CONF=$CONF
unset CEPH_ARGS || true

# ceph CLI as admin, with a hard timeout so a dead mon can never hang us
C() { timeout 60 ceph --connect-timeout 15 -c "$CONF" -n client.admin -k "$ADMIN_KEYRING" "$@"; }

# pid recorded in DIR/pids/NAME.pid is "ours" if alive and its cmdline names DIR
pid_ours() {
  local f=$1 pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$DIR/"
}

cluster_alive() {
  [ -f "$DIR/.cephlab" ] || return 1
  for d in $DAEMONS; do pid_ours "$DIR/pids/$d.pid" || return 1; done
  C health >/dev/null 2>&1
}

REUSE=0
if cluster_alive; then
  ts "cluster in $DIR already running - reusing"
  REUSE=1
else
  if [ -e "$DIR" ] && [ -n "$(ls -A "$DIR" 2>/dev/null)" ]; then
    [ -f "$DIR/.cephlab" ] || die "$DIR exists, is not empty and was not created by up.sh"
    ts "stale cluster dir $DIR: stopping recorded daemons and recreating"
    bash "$(dirname "$(realpath "$0")")/down.sh" "$DIR" || die "down.sh failed"
  fi
  # mon ports free? (a successful connect means somebody listens there)
  for p in $MON_V2 $MON_V1; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then die "port $p already in use (set CEPH_BASE_PORT)"; fi
  done
fi

start_daemon() { # NAME cmd...   (foreground daemon, own session, pid recorded)
  local name=$1; shift
  setsid "$@" -f </dev/null >>"$DIR/log/$name.stdout" 2>&1 &
  echo $! >"$DIR/pids/$name.pid"
}

wait_for() { # SECONDS DESC cmd...
  local secs=$1 desc=$2; shift 2
  local end=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || die "timeout (${secs}s) waiting for $desc"
    sleep 0.5
  done
}

if [ "$REUSE" = 0 ]; then
  # a failed fresh bring-up must not leave daemons behind: stop them, keep logs
  on_fail() {
    local rc=$?
    [ "$rc" = 0 ] && return
    echo "up.sh: failed (rc=$rc) - stopping the daemons started so far; logs kept in $DIR/log" >&2
    CEPH_KEEP_DIR=1 bash "$(dirname "$(realpath "$0")")/down.sh" "$DIR" >&2 || true
  }
  trap on_fail EXIT
  mkdir -p "$DIR"/{pids,log,run,crash,mon.a,mgr.x,osd.0,mds.a}
  touch "$DIR/.cephlab"
  FSID=$(uuidgen)
  if [ "$STORE" = bluestore ]; then
    STORE_CONF="osd objectstore = bluestore
        bluestore block create = true
        bluestore block size = $OSD_BYTES
        bluestore block db create = false
        bluestore block wal create = false
        bluestore fsck on mkfs = false
        bluestore cache autotune = false
        bluestore cache size = 67108864
        osd memory target = 939524096"
  else
    STORE_CONF="osd objectstore = memstore
        memstore device bytes = $OSD_BYTES"
  fi
  cat >"$CONF" <<EOF
# generated by up.sh - single node throw-away cluster
[global]
        fsid = $FSID
        mon host = [v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]
        public addr = 127.0.0.1
        ms bind ipv4 = true
        ms bind ipv6 = false
        ms bind port min = $PMIN
        ms bind port max = $PMAX
        auth cluster required = cephx
        auth service required = cephx
        auth client required = cephx
        auth allow insecure global id reclaim = false
        keyring = $DIR/ceph.\$name.keyring
        run dir = $DIR/run
        crash dir = $DIR/crash
        osd pool default size = 1
        osd pool default min size = 1
        osd pool default pg num = 8
        osd pool default pgp num = 8
        osd pool default pg autoscale mode = off
        osd crush chooseleaf type = 0
        mon allow pool size one = true
        mon allow pool delete = true
        mon warn on pool no redundancy = false
        mon data avail warn = 2
        mon data avail crit = 1
        # commit mon updates every 0.1 s instead of 1 s: each pool/fs/auth command ~3x faster
        paxos propose interval = 0.1
[mon]
        mon data = $DIR/\$name
        log file = $DIR/log/\$name.log
        mon cluster log file = $DIR/log/cluster.log
        admin socket = $DIR/run/\$cluster-\$name.asok
[mgr]
        mgr data = $DIR/\$name
        log file = $DIR/log/\$name.log
        admin socket = $DIR/run/\$cluster-\$name.asok
[osd]
        osd data = $DIR/\$name
        log file = $DIR/log/\$name.log
        admin socket = $DIR/run/\$cluster-\$name.asok
        $STORE_CONF
[mds]
        mds data = $DIR/\$name
        log file = $DIR/log/\$name.log
        admin socket = $DIR/run/\$cluster-\$name.asok
EOF

  ts "mon: mkfs"
  ceph-authtool --create-keyring "$DIR/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool --create-keyring "$ADMIN_KEYRING" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
  ceph-authtool "$DIR/mon.keyring" --import-keyring "$ADMIN_KEYRING" >/dev/null
  rm -f "$DIR/log/mon..log"   # empty log ceph-authtool -n mon. opens via the [mon] section
  monmaptool --create --clobber --fsid "$FSID" \
    --addv a "[v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]" "$DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" -i a --mkfs --monmap "$DIR/monmap" --keyring "$DIR/mon.keyring" \
    >"$DIR/log/mon.a.mkfs" 2>&1 || { cat "$DIR/log/mon.a.mkfs"; die "mon mkfs failed"; }
  ts "mon: start"
  start_daemon mon.a ceph-mon -c "$CONF" -i a
  wait_for 60 "mon quorum" C mon stat
  ts "mon up"

  # no device_health_metrics pool / SMART scraping: one pool less, and no pool that
  # appears (and peers) right after HEALTH_OK was first reported
  C config set mgr mgr/devicehealth/enable_monitoring false --force  # mgr not known yet
  if [ "$NO_MGR" != 1 ]; then
    ts "mgr: start"
    C auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' mds 'allow *' \
      -o "$DIR/ceph.mgr.x.keyring" >/dev/null
    start_daemon mgr.x ceph-mgr -c "$CONF" -i x
  fi

  ts "osd: mkfs ($STORE)"
  OSD_UUID=$(uuidgen)
  OSD_SECRET=$(ceph-authtool --gen-print-key)
  echo "{\"cephx_secret\": \"$OSD_SECRET\"}" >"$DIR/osd.0/new.json"
  OSD_ID=$(C osd new "$OSD_UUID" -i "$DIR/osd.0/new.json")
  [ "$OSD_ID" = 0 ] || die "expected osd id 0, got '$OSD_ID'"
  printf '[osd.0]\n\tkey = %s\n' "$OSD_SECRET" >"$DIR/ceph.osd.0.keyring"
  ceph-osd -c "$CONF" -i 0 --mkfs --key "$OSD_SECRET" --osd-uuid "$OSD_UUID" \
    >"$DIR/log/osd.0.mkfs" 2>&1 || { cat "$DIR/log/osd.0.mkfs"; die "osd mkfs failed"; }
  ts "osd: start"
  start_daemon osd.0 ceph-osd -c "$CONF" -i 0

  ts "mds: start"
  C auth get-or-create mds.a mon 'allow profile mds' osd 'allow rw tag cephfs *=*' \
    mds 'allow' mgr 'allow profile mds' -o "$DIR/ceph.mds.a.keyring" >/dev/null
  start_daemon mds.a ceph-mds -c "$CONF" -i a
else
  # reused cluster: report the ports it really uses, not the ones from the environment
  MON_V2=$(sed -n 's/.*mon host = \[v2:127.0.0.1:\([0-9]*\),.*/\1/p' "$CONF")
  MON_V1=$(sed -n 's/.*,v1:127.0.0.1:\([0-9]*\)\].*/\1/p' "$CONF")
fi

if [ "$BARE" != 1 ]; then
# ------------------------------------------------ pools / fs / users (idempotent)
pool_exists() { grep -qx -- "$1" <<<"$(C osd pool ls)"; }
for pool in k8s cephfs_data cephfs_metadata; do
  pool_exists "$pool" || C osd pool create "$pool" 8 8 2>&1 | sed 's/^/  /'
done
# (= what 'rbd pool init k8s' does on the mon side; avoids POOL_APP_NOT_ENABLED, needs no OSD)
grep -q rbd <<<"$(C osd pool application get k8s 2>/dev/null)" || C osd pool application enable k8s rbd 2>&1 | sed 's/^/  /' 
grep -q 'name: cephfs,' <<<"$(C fs ls)" || C fs new cephfs cephfs_metadata cephfs_data 2>&1 | sed 's/^/  /' 
C fs set cephfs standby_count_wanted 0   # 16.2.15 already defaults to 0; kept for safety
# blog step 1: create the user with the initial (rbd-only) caps, writes ceph.client.k8s.keyring
# (on reuse the user already exists with other caps -> just re-export its key)
C auth get client.k8s -o "$K8S_KEYRING" >/dev/null 2>&1 ||
  C auth get-or-create client.k8s mon 'allow r' osd 'allow rwx pool=k8s' -o "$K8S_KEYRING"
# blog step 3: final caps (rbd + cephfs incl. 'p' for quota/layout xattrs)
C auth caps client.k8s mon 'allow rwx' osd 'allow rwx pool=k8s, allow rw pool=cephfs_data' mds 'allow rwp' 2>&1 | sed 's/^/  /' 
ts "pools/fs/users ensured"
fi


osd_up() { grep -q '"num_up_osds":1,' <<<"$(C osd stat -f json)"; }
wait_for 90 "osd.0 up" osd_up
ts "osd up"

mds_active() { grep -q 'up:active' <<<"$(C mds stat 2>/dev/null)"; }
if [ "$BARE" != 1 ]; then
  wait_for 90 "mds active" mds_active
  ts "mds active"
fi

end=$(( $(date +%s) + HEALTH_TIMEOUT ))
pgs_clean() { # every PG active+clean (PG stats come from the mgr)
  C pg stat -f json 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)["pg_summary"]
st = {x["name"]: x["num"] for x in s["num_pg_by_state"]}
sys.exit(0 if s["num_pgs"] > 0 and st.get("active+clean", 0) == s["num_pgs"] else 1)'
}
healthy() {
  local h; h=$(C health 2>/dev/null)
  if [ "$NO_MGR" = 1 ]; then  # the only acceptable warning is the missing mgr; no PG stats
    [ "$h" = HEALTH_OK ] || [ "$h" = "HEALTH_WARN no active mgr" ]
  else
    [ "$h" = HEALTH_OK ] && { [ "$BARE" = 1 ] || pgs_clean; }
  fi
}
until healthy; do
  if [ "$(date +%s)" -ge "$end" ]; then
    C health detail || true
    die "cluster not HEALTH_OK after ${HEALTH_TIMEOUT}s"
  fi
  sleep 1
done
ts "healthy: $(C health), $(C pg stat | cut -d';' -f1)"
trap - EXIT

cat >"$DIR/env.sh" <<EOF
export CEPH_CONF=$CONF
export CEPH_MON_ADDR=127.0.0.1:$MON_V2
export CEPH_MON_ADDR_V1=v1:127.0.0.1:$MON_V1
export CEPH_MON_HOST='[v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]'
export CEPH_ADMIN_KEYRING=$ADMIN_KEYRING
export CEPH_K8S_KEYRING=$K8S_KEYRING
export CEPH_FSID=$(C fsid)
export CEPH_DIR=$DIR
export CEPH_MON_PID=$(cat "$DIR/pids/mon.a.pid")
EOF

echo "---------------------------------------------------------------"
echo "mon address (-m):            127.0.0.1:$MON_V2   (bare ip:port != 6789 => msgr v2)"
echo "mon address (msgr v1):       v1:127.0.0.1:$MON_V1"
echo "mon_host:                    [v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]"
echo "ceph.conf:                   $CONF"
echo "admin keyring:               $ADMIN_KEYRING"
echo "k8s keyring:                 $K8S_KEYRING"
echo "env file:                    $DIR/env.sh"
echo "pids:                        $(for f in "$DIR"/pids/*.pid; do printf '%s=%s ' "$(basename "$f" .pid)" "$(cat "$f")"; done)"
echo "---------------------------------------------------------------"
C -s
ts "up.sh done"
