#!/bin/bash
# nodewright's Cinder lab: a REAL Cinder (Debian bookworm 21.3, Zed) with two RBD backends on the
# Ceph lab, started by hand (no systemd), noauth, its own private PostgreSQL. Adapted from the shared
# recipe (labs/cinder/REPORT.md); lab/nova/up.sh calls it when NOVA_LAB_CINDER=1.
#
#   CEPH_DIR=... RABBIT_PORT=... GLANCE_PORT=... bash lab/cinder/up.sh STATE_DIR
#   bash lab/cinder/down.sh STATE_DIR
#
# CEPH_DIR is a running lab/ceph (ceph.conf + admin keyring); RABBIT_PORT/GLANCE_PORT are the Nova
# lab's. Ports (127.0.0.1 only): CINDER_PORT (18776) PG_PORT (15432). Makes pools volumes-ssd and
# volumes-hdd (rbd), user client.cinder, volume types ceph-ssd / ceph-hdd (volume_backend_name).
# Writes STATE_DIR/cinder.env. Stops nothing it did not start (down.sh: recorded pids + cmdline tag).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
D=${1:?usage: up.sh STATE_DIR}
mkdir -p "$D"; D=$(cd "$D" && pwd)
CEPH_DIR=${CEPH_DIR:?CEPH_DIR (a running lab/ceph) is required}
RABBIT_PORT=${RABBIT_PORT:?} GLANCE_PORT=${GLANCE_PORT:?}
CINDER_PORT=${CINDER_PORT:-18776} PG_PORT=${PG_PORT:-15432}
ETC=$D/etc LOG=$D/log PIDS=$D/pids DATA=$D/data PGDATA=$D/data/pg PGRUN=$D/data/pg-run
PGBIN=/usr/lib/postgresql/15/bin
CU=http://127.0.0.1:$CINDER_PORT/v3/admin H='X-Auth-Token: admin:admin'
T0=$(date +%s.%N)
ts() { printf '[cinder %5.1fs] %s\n' "$(echo "$(date +%s.%N) - $T0" | bc)" "$*"; }
die() { echo "cinder lab: $*" >&2; exit 1; }
mkdir -p "$ETC" "$LOG" "$PIDS" "$DATA/lock" "$DATA/conversion" "$DATA/coord"

for p in cinder-api cinder-scheduler cinder-volume python3-rbd qemu-utils sudo postgresql-15 python3-psycopg2; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    { echo "cinder lab: Debian package $p missing -- run: sudo bash lab/install-deps.sh" >&2; exit 3; }
done

alive() { local f=$PIDS/$1.pid; [ -f "$f" ] && tr '\0' ' ' < "/proc/$(cat "$f")/cmdline" 2>/dev/null | grep -qF -- "$(cat "$PIDS/$1.tag")"; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
need_free() { alive "$1" || ! port_busy "$2" || die "port 127.0.0.1:$2 (for $1) is in use by another process; set CINDER_PORT / PG_PORT"; }
start() { # start NAME TAG CMD...
  local name=$1 tag=$2; shift 2
  if alive "$name"; then ts "$name already running (pid $(cat "$PIDS/$name.pid"))"; return; fi
  echo "$tag" > "$PIDS/$name.tag"
  setsid "$@" >> "$LOG/$name.out" 2>&1 < /dev/null &
  echo $! > "$PIDS/$name.pid"
}
need_free postgres "$PG_PORT"; need_free cinder-api "$CINDER_PORT"

# ---------------------------------------------------------------- Ceph side: pools + client.cinder
C() { timeout 60 ceph --connect-timeout 15 -c "$CEPH_DIR/ceph.conf" -n client.admin -k "$CEPH_DIR/ceph.client.admin.keyring" "$@"; }
for pool in volumes-ssd volumes-hdd; do
  grep -qx -- "$pool" <<< "$(C osd pool ls)" || C osd pool create "$pool" 8 8 > /dev/null 2>&1
  grep -q rbd <<< "$(C osd pool application get "$pool" 2>/dev/null)" || C osd pool application enable "$pool" rbd > /dev/null 2>&1
done
# what Cinder's RBD driver needs: the rbd profile on both pools (found through ceph.conf's keyring = DIR/ceph.$name.keyring)
C auth get client.cinder -o "$CEPH_DIR/ceph.client.cinder.keyring" > /dev/null 2>&1 ||
  C auth get-or-create client.cinder mon 'profile rbd' osd 'profile rbd pool=volumes-ssd, profile rbd pool=volumes-hdd' \
    -o "$CEPH_DIR/ceph.client.cinder.keyring" > /dev/null
chmod 600 "$CEPH_DIR/ceph.client.cinder.keyring"
ts "ceph: pools volumes-ssd, volumes-hdd and client.cinder ready"

# ---------------------------------------------------------------- PostgreSQL (sqlite locks with two volumes at once)
# postgres refuses root: it runs as the Debian 'postgres' user, which needs to traverse into $D.
d=$DATA; while [ "$d" != / ]; do case "$(stat -c %A "$d")" in *x | *t) ;; *) chmod o+x "$d" ;; esac; d=$(dirname "$d"); done
PG_PASSWORD_FILE=$ETC/pg.password
[ -s "$PG_PASSWORD_FILE" ] || { head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$PG_PASSWORD_FILE"; chmod 600 "$PG_PASSWORD_FILE"; }
PGPW=$(cat "$PG_PASSWORD_FILE")
asPg() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
mkdir -p "$PGRUN"; chown postgres:postgres "$PGRUN"
if [ ! -f "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"; chown postgres:postgres "$PGDATA"; chmod 700 "$PGDATA"
  asPg "$PGBIN/initdb" -D "$PGDATA" --auth-local=peer --auth-host=scram-sha-256 -U postgres > "$LOG/initdb.log" 2>&1 || die "initdb failed: $LOG/initdb.log"
fi
start postgres "$PGDATA" setpriv --reuid=postgres --regid=postgres --init-groups \
  "$PGBIN/postgres" -D "$PGDATA" -p "$PG_PORT" -h 127.0.0.1 -k "$PGRUN" -c fsync=off -c full_page_writes=off -c shared_buffers=16MB
for ((n = 0; n < 120; n++)); do "$PGBIN/pg_isready" -q -h "$PGRUN" -p "$PG_PORT" && break; sleep 0.25; done
"$PGBIN/pg_isready" -q -h "$PGRUN" -p "$PG_PORT" || die "postgres did not start; see $LOG/postgres.out"
psqlPg() { asPg psql -X -q -h "$PGRUN" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 "$@"; }
if [ "$(psqlPg -tA -c "select 1 from pg_roles where rolname='cinder'")" != 1 ]; then
  psqlPg -c "create role cinder login password '$PGPW'" && psqlPg -c "create database cinder owner cinder"
fi
ts "postgres up (pid $(cat "$PIDS/postgres.pid"), port $PG_PORT)"

# ---------------------------------------------------------------- configs
sed -e 's|^noauth = \(.*\) noauth apiv3$|noauth = \1 svcroles noauth apiv3|' /etc/cinder/api-paste.ini > "$ETC/api-paste.ini"
cat >> "$ETC/api-paste.ini" <<'EOF2'

[filter:svcroles]
paste.filter_factory = svcroles:filter_factory
EOF2
grep -q 'svcroles noauth apiv3' "$ETC/api-paste.ini" || die "paste edit (svcroles) failed"
umask 077
cat > "$ETC/cinder.conf" <<EOF2
[DEFAULT]
transport_url = rabbit://guest:guest@127.0.0.1:$RABBIT_PORT/
auth_strategy = noauth
# the default [0-9a-f\-]+ does not match the noauth project "admin": every /v3/admin/... would be a 404
project_id_regex = [0-9a-f\-]+|admin|demo
api_paste_config = $ETC/api-paste.ini
rootwrap_config = /etc/cinder/rootwrap.conf
state_path = $DATA
image_conversion_dir = $DATA/conversion
my_ip = 127.0.0.1
host = cinder-host
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = $CINDER_PORT
osapi_volume_workers = 1
glance_api_servers = http://127.0.0.1:$GLANCE_PORT
enabled_backends = ceph-ssd,ceph-hdd
debug = false
periodic_fuzzy_delay = 0
[database]
connection = postgresql+psycopg2://cinder:$PGPW@127.0.0.1:$PG_PORT/cinder
[oslo_concurrency]
lock_path = $DATA/lock
[oslo_messaging_notifications]
driver = noop
[coordination]
backend_url = file://$DATA/coord
[ceph-ssd]
volume_driver = cinder.volume.drivers.rbd.RBDDriver
volume_backend_name = ceph-ssd
rbd_pool = volumes-ssd
rbd_ceph_conf = $CEPH_DIR/ceph.conf
rbd_user = cinder
[ceph-hdd]
volume_driver = cinder.volume.drivers.rbd.RBDDriver
volume_backend_name = ceph-hdd
rbd_pool = volumes-hdd
rbd_ceph_conf = $CEPH_DIR/ceph.conf
rbd_user = cinder
EOF2
umask 022
if [ ! -f "$DATA/.db-synced" ]; then
  cinder-manage --config-file "$ETC/cinder.conf" db sync > "$LOG/db-sync.log" 2>&1 || die "cinder db sync failed: $LOG/db-sync.log"
  touch "$DATA/.db-synced"; ts "cinder db synced"
fi

# ---------------------------------------------------------------- daemons
for s in api scheduler volume; do
  start "cinder-$s" "cinder-$s --config-file $ETC/cinder.conf" env PYTHONPATH="$HERE" \
    /usr/bin/python3 "/usr/bin/cinder-$s" --config-file "$ETC/cinder.conf" --log-file "$LOG/cinder-$s.log"
done
for ((n = 0; n < 240; n++)); do curl -s -o /dev/null -m 2 "http://127.0.0.1:$CINDER_PORT/" && break; sleep 0.25; done
curl -s -o /dev/null -m 2 "http://127.0.0.1:$CINDER_PORT/" || die "cinder-api does not answer; see $LOG/cinder-api.log"
npools=0
for ((n = 0; n < 240; n++)); do
  npools=$(curl -s -m 5 -H "$H" "$CU/scheduler-stats/get_pools" | jq '.pools | length' 2>/dev/null || echo 0)
  [ "${npools:-0}" -ge 2 ] && break; sleep 0.25
done
[ "${npools:-0}" -ge 2 ] || die "the scheduler sees ${npools:-0} of 2 RBD pools; see $LOG/cinder-volume.log"
# oslo.service forks (api worker, one volume child per backend): record them for down.sh's KILL fallback
for s in api volume; do pgrep -P "$(cat "$PIDS/cinder-$s.pid")" > "$PIDS/cinder-$s.children" 2>/dev/null || true; done
types=$(curl -s -H "$H" "$CU/types")
for t in ceph-ssd ceph-hdd; do
  jq -e --arg t "$t" '.volume_types[] | select(.name == $t)' <<< "$types" > /dev/null ||
    curl -sf -o /dev/null -H "$H" -H 'Content-Type: application/json' \
      -d "{\"volume_type\":{\"name\":\"$t\",\"os-volume-type-access:is_public\":true,\"extra_specs\":{\"volume_backend_name\":\"$t\"}}}" "$CU/types"
done
ts "cinder up: 2 pools; types $(curl -s -H "$H" "$CU/types" | jq -c '[.volume_types[] | .name + "=" + (.extra_specs.volume_backend_name // "-")]')"
{
  echo "CINDER_ENDPOINT=http://127.0.0.1:$CINDER_PORT/v3/admin"
  echo "CINDER_PORT=$CINDER_PORT"
  echo "CINDER_LOGS=$LOG"
  echo "CINDER_CEPH_KEYRING=$CEPH_DIR/ceph.client.cinder.keyring"
} > "$D/cinder.env"
