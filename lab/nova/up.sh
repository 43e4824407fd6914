#!/bin/bash
# nodewright's Nova lab: a REAL Nova (Debian bookworm, Zed 26.2.x) started by hand, no systemd,
# no Keystone (noauth2), FakeDriver, two fake hypervisors with distinct host_ip, four servers.
# Adapted from the shared lab recipe (labs/nova); see docs/openstack.md.
#
#   bash lab/nova/up.sh [STATE_DIR]     # idempotent: configure, init DBs once, start, seed
#   bash lab/nova/down.sh [STATE_DIR] [--purge]
#
# STATE_DIR (or $NOVA_LAB_DIR; default /var/tmp/nodewright-nova-lab) holds configs, sqlite DBs,
# logs, recorded pids and lab.env (endpoint info for tests/benchmarks).
# Ports (127.0.0.1 only), overridable from the environment: NOVA_PORT=18774 PLACEMENT_PORT=18778
# GLANCE_PORT=19292 NEUTRON_PORT=19696 RABBIT_PORT=35672 RABBIT_DIST_PORT=35673 EPMD_PORT=14369.
# A port already taken by something that is not this lab's recorded daemon is a hard error.
# NOVA_LAB_KEYSTONE=1 also starts a real Keystone (lab/keystone/up.sh STATE_DIR/keystone, on
# KEYSTONE_PORT=15000, alongside Nova's own start) and adds the keystone-authenticated API path
# /ks/v2.1 (authtoken + keystonecontext) next to the noauth2 /v2.1; down.sh stops it too.
# NOVA_LAB_CINDER=1 also starts a Ceph lab (lab/ceph/up.sh STATE_DIR/ceph, CEPH_BASE_PORT=23400) and a
# real Cinder on it (lab/cinder/up.sh STATE_DIR/cinder; CINDER_PORT=18776 PG_PORT=15432): volume types
# ceph-ssd / ceph-hdd on pools volumes-ssd / volumes-hdd; Nova's [cinder] points at it.
# Always written: STATE_DIR/clouds.yaml (cloud "lab": admin token on /trusted/v2.1, the path whose
# requests carry a token to Glance/Cinder; block_storage_endpoint_override with Cinder), flavors
# m1.fake and m1.tiny, images fake-image and cirros (a 1 MiB raw stand-in: no network here).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
RUN=${1:-${NOVA_LAB_DIR:-/var/tmp/nodewright-nova-lab}}
mkdir -p "$RUN"; RUN=$(cd "$RUN" && pwd)
ETC=$RUN/etc
LOG=$RUN/log
PIDS=$RUN/pids
DATA=$RUN/data
NOVA_PORT=${NOVA_PORT:-18774} PLACEMENT_PORT=${PLACEMENT_PORT:-18778} GLANCE_PORT=${GLANCE_PORT:-19292}
NEUTRON_PORT=${NEUTRON_PORT:-19696} RABBIT_PORT=${RABBIT_PORT:-35672} RABBIT_DIST_PORT=${RABBIT_DIST_PORT:-35673}
EPMD_PORT=${EPMD_PORT:-14369}
# Two fake compute services: name -> my_ip (host_ip). The IPs only appear as data.
COMPUTES=("cmp-a:127.0.0.11" "cmp-b:127.0.0.12")
NOVA=http://127.0.0.1:$NOVA_PORT/v2.1
TOKEN="X-Auth-Token: admin:admin"

T0=$(date +%s.%N)
ts() { printf '[%6.1fs] %s\n' "$(echo "$(date +%s.%N) - $T0" | bc)" "$*"; }
mkdir -p "$ETC" "$LOG" "$PIDS" "$DATA"

# ---------------------------------------------------------------- 0. optional Keystone, started alongside
KEYSTONE=${NOVA_LAB_KEYSTONE:-0} KEYSTONE_PORT=${KEYSTONE_PORT:-15000} KS_DIR=$RUN/keystone ks_up=
if [ "$KEYSTONE" = 1 ]; then
  NOVA_PORT=$NOVA_PORT KEYSTONE_PORT=$KEYSTONE_PORT bash "$HERE/../keystone/up.sh" "$KS_DIR" > "$LOG/keystone-up.log" 2>&1 &
  ks_up=$!
  # never leave it running unwatched: on any exit, let it finish first (down.sh then stops it)
  trap '[ -n "$ks_up" ] && wait "$ks_up" 2>/dev/null; true' EXIT
  for ((n = 0; n < 120; n++)); do [ -s "$KS_DIR/secrets/nova.password" ] && break; sleep 0.25; done
  [ -s "$KS_DIR/secrets/nova.password" ] || { echo "keystone lab did not start; see $LOG/keystone-up.log" >&2; exit 1; }
  ts "keystone lab starting (pid $ks_up, log $LOG/keystone-up.log)"
fi

# ---------------------------------------------------------------- 0b. optional Ceph for Cinder, started alongside
CINDER=${NOVA_LAB_CINDER:-0} CEPH_BASE_PORT=${CEPH_BASE_PORT:-23400} CINDER_PORT=${CINDER_PORT:-18776} PG_PORT=${PG_PORT:-15432}
ceph_up= cinder_up=
if [ "$CINDER" = 1 ]; then
  CEPH_BASE_PORT=$CEPH_BASE_PORT CEPH_SKIP_INSTALL=1 bash "$HERE/../ceph/up.sh" "$RUN/ceph" > "$LOG/ceph-up.log" 2>&1 &
  ceph_up=$!
  # never leave a helper running unwatched: on any exit, let it finish first (down.sh then stops it)
  trap '[ -n "$ks_up" ] && wait "$ks_up" 2>/dev/null; [ -n "$ceph_up" ] && wait "$ceph_up" 2>/dev/null; [ -n "$cinder_up" ] && wait "$cinder_up" 2>/dev/null; true' EXIT
  ts "ceph lab starting (pid $ceph_up, log $LOG/ceph-up.log)"
fi

# ---------------------------------------------------------------- 1. packages (installed by lab/install-deps.sh)
PKGS="nova-api nova-conductor nova-scheduler placement-api rabbitmq-server glance-api curl jq bc"
missing=""
for p in $PKGS; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "nova lab: missing Debian packages:$missing -- run: sudo bash lab/install-deps.sh" >&2
  exit 3
fi

# ------------------------------------------------------------ helpers
alive() { # alive NAME -> 0 if the recorded pid is running and is still ours
  local f=$PIDS/$1.pid; [ -f "$f" ] || return 1
  local pid; pid=$(cat "$f"); [ -d /proc/$pid ] || return 1
  grep -q "$(cat "$PIDS/$1.tag")" /proc/$pid/cmdline 2>/dev/null
}
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
need_free() { # need_free NAME PORT : the port must be free unless NAME (ours) already runs
  alive "$1" && return 0
  if port_busy "$2"; then
    echo "nova lab: port 127.0.0.1:$2 (for $1) is already in use by another process; stop it or" \
         "choose another port (NOVA_PORT PLACEMENT_PORT GLANCE_PORT NEUTRON_PORT RABBIT_PORT RABBIT_DIST_PORT EPMD_PORT)" >&2
    exit 4
  fi
}
start() { # start NAME TAG CMD... : background, record pid + a cmdline tag used by down.sh
  local name=$1 tag=$2; shift 2
  if alive "$name"; then ts "$name already running (pid $(cat "$PIDS/$name.pid"))"; return; fi
  echo "$tag" > "$PIDS/$name.tag"
  setsid "$@" >> "$LOG/$name.out" 2>&1 < /dev/null &
  echo $! > "$PIDS/$name.pid"
  ts "started $name pid $!"
}
wait_http() { # wait_http URL SECONDS
  local i
  for ((i = 0; i < $2 * 4; i++)); do curl -s -o /dev/null -m 2 "$1" && return 0; sleep 0.25; done
  echo "timeout waiting for $1" >&2; return 1
}
api() { # api METHOD PATH [microversion] [json-body]
  local m=$1 p=$2 mv=${3:-2.1} body=${4:-}
  if [ -n "$body" ]; then
    curl -sS -m 60 -X "$m" -H "$TOKEN" -H "X-OpenStack-Nova-API-Version: $mv" -H 'Content-Type: application/json' -d "$body" "$NOVA$p"
  else
    curl -sS -m 60 -X "$m" -H "$TOKEN" -H "X-OpenStack-Nova-API-Version: $mv" "$NOVA$p"
  fi
}
nova_manage() { nova-manage --config-file "$ETC/nova.conf" "$@"; }

need_free epmd "$EPMD_PORT"; need_free rabbitmq "$RABBIT_PORT"; need_free rabbitmq "$RABBIT_DIST_PORT"
need_free placement "$PLACEMENT_PORT"; need_free glance "$GLANCE_PORT"; need_free neutron-stub "$NEUTRON_PORT"
need_free nova-api "$NOVA_PORT"

# ------------------------------------------------------------ 2. configs
mkdir -p "$DATA/nova/instances" "$DATA/lock" "$DATA/glance/images" "$DATA/glance/staging" \
         "$DATA/glance/tasks" "$DATA/rabbit" "$ETC/placement"
cat > "$ETC/nova.conf" <<EOF
[DEFAULT]
transport_url = rabbit://guest:guest@127.0.0.1:$RABBIT_PORT/
state_path = $DATA/nova
instances_path = $DATA/nova/instances
my_ip = 127.0.0.1
host = controller
compute_driver = fake.FakeDriver
enabled_apis = osapi_compute
osapi_compute_listen = 127.0.0.1
osapi_compute_listen_port = $NOVA_PORT
osapi_compute_workers = 1
use_rootwrap_daemon = false
debug = false
# fake driver: do not wait for neutron vif-plugged events
vif_plugging_timeout = 0
vif_plugging_is_fatal = false
# start periodic tasks (scheduler host discovery) immediately, not after random(0,60) s
periodic_fuzzy_delay = 0
# a compute's first resource report can lose a sqlite lock race (no placement inventory, every boot
# NoValidHost until the next report): report every 10 s instead of 60
update_resources_interval = 10
[api]
auth_strategy = noauth2
[wsgi]
api_paste_config = $ETC/nova-api-paste.ini
[api_database]
connection = sqlite:///$DATA/nova_api.sqlite?timeout=30
[database]
connection = sqlite:///$DATA/nova_cell1.sqlite?timeout=30
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = 2
[placement]
auth_type = admin_token
endpoint = http://127.0.0.1:$PLACEMENT_PORT
token = admin:admin
endpoint_override = http://127.0.0.1:$PLACEMENT_PORT
[glance]
api_servers = http://127.0.0.1:$GLANCE_PORT
[neutron]
# admin (noauth2, tokenless) contexts use these credentials for neutron calls
auth_type = admin_token
endpoint = http://127.0.0.1:$NEUTRON_PORT
token = admin:admin
endpoint_override = http://127.0.0.1:$NEUTRON_PORT
[oslo_concurrency]
lock_path = $DATA/lock
[oslo_messaging_notifications]
driver = noop
[os_vif_linux_bridge]
[vnc]
enabled = false
[service_user]
send_service_user_token = false
EOF
if [ "$CINDER" = 1 ]; then
  cat >> "$ETC/nova.conf" <<EOF
[cinder]
# no Keystone catalog: the URL is a template filled from the request context
endpoint_template = http://127.0.0.1:$CINDER_PORT/v3/%(project_id)s
# admin contexts without a token (periodic tasks) use this static token
auth_type = admin_token
endpoint = http://127.0.0.1:$CINDER_PORT/v3/admin
token = admin:admin
os_region_name = RegionOne
EOF
fi
if [ "$KEYSTONE" = 1 ]; then
  # authtoken of the /ks/v2.1 pipeline; validates tokens as user nova (lazily, on first request)
  cat >> "$ETC/nova.conf" <<EOF
[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:$KEYSTONE_PORT/v3
auth_url = http://127.0.0.1:$KEYSTONE_PORT/v3
auth_type = password
username = nova
password = $(cat "$KS_DIR/secrets/nova.password")
user_domain_name = Default
project_name = service
project_domain_name = Default
region_name = RegionOne
EOF
  chmod 600 "$ETC/nova.conf"
fi
# Private paste file = Debian's + one extra prefix, /trusted/v2.1, whose pipeline uses
# keystonecontext WITHOUT authtoken: identity comes from X-User-Id/X-Project-Id/X-Roles
# headers and X-Auth-Token lands in the RequestContext. noauth2 (/v2.1) never sets
# context.auth_token, so any nova-api -> glance/cinder/neutron call made on behalf of the
# user fails with keystoneauth1 AuthorizationFailure; /trusted/v2.1 is used only to boot.
sed -e 's|^/v2.1/+: openstack_compute_api_v21$|&\n/trusted/v2.1: oscomputeversion_v2\n/trusted/v2.1/+: openstack_compute_api_v21_trusted|' \
    /etc/nova/api-paste.ini > "$ETC/nova-api-paste.ini"
cat >> "$ETC/nova-api-paste.ini" <<'EOF2'

[pipeline:openstack_compute_api_v21_trusted]
pipeline = healthcheck cors http_proxy_to_wsgi compute_req_id faultwrap request_log sizelimit osprofiler labauth keystonecontext osapi_compute_app_v21

[filter:labauth]
paste.filter_factory = labauth:filter_factory
EOF2
grep -q '^/trusted/v2.1/+' "$ETC/nova-api-paste.ini" || { echo "paste edit failed" >&2; exit 1; }
if [ "$KEYSTONE" = 1 ]; then
  # /ks/v2.1: Debian's "keystone" pipeline (authtoken + keystonecontext) on its own prefix, so the
  # noauth2 /v2.1 (and every test using it) is unchanged; /ks/v2.1 alone is the version document
  sed -i -e 's|^/v2.1/+: openstack_compute_api_v21$|&\n/ks/v2.1: oscomputeversion_v2\n/ks/v2.1/+: openstack_compute_api_v21_keystone|' \
    "$ETC/nova-api-paste.ini"
  cat >> "$ETC/nova-api-paste.ini" <<'EOF2'

[pipeline:openstack_compute_api_v21_keystone]
pipeline = healthcheck cors http_proxy_to_wsgi compute_req_id faultwrap request_log sizelimit osprofiler authtoken keystonecontext osapi_compute_app_v21
EOF2
  grep -q '^/ks/v2.1/+' "$ETC/nova-api-paste.ini" || { echo "paste edit (/ks/v2.1) failed" >&2; exit 1; }
fi
i=0
for c in "${COMPUTES[@]}"; do
  i=$((i + 1)); h=${c%%:*} ip=${c#*:}
  cat > "$ETC/nova-compute-$h.conf" <<EOF
[DEFAULT]
host = $h
my_ip = $ip
instances_path = $DATA/nova/instances-$h
EOF
  mkdir -p "$DATA/nova/instances-$h"
done

cat > "$ETC/placement/placement.conf" <<EOF
[DEFAULT]
debug = false
[api]
auth_strategy = noauth2
[placement_database]
connection = sqlite:///$DATA/placement.sqlite
EOF

cat > "$ETC/glance-api.conf" <<EOF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $GLANCE_PORT
# 0 = serve from the parent process, no forked worker (saves ~150 MB RSS)
workers = 0
enabled_backends = fs:file
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = $DATA/glance/images
[os_glance_staging_store]
filesystem_store_datadir = $DATA/glance/staging
[os_glance_tasks_store]
filesystem_store_datadir = $DATA/glance/tasks
[database]
connection = sqlite:///$DATA/glance.sqlite
[paste_deploy]
flavor =
config_file = /etc/glance/glance-api-paste.ini
[oslo_concurrency]
lock_path = $DATA/lock
[oslo_policy]
enforce_new_defaults = false
policy_file = $ETC/glance-policy.yaml
EOF
# the unauthenticated context may publish images: 'cirros' is public, so clients find it by name
echo '"publicize_image": ""' > "$ETC/glance-policy.yaml"

# ------------------------------------------------------------ 3. rabbitmq (private epmd + node)
export HOME=$DATA/rabbit ERL_EPMD_PORT=$EPMD_PORT ERL_CRASH_DUMP=$LOG/erl_crash.dump
export RABBITMQ_NODENAME=novalab@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$RABBIT_PORT \
       RABBITMQ_DIST_PORT=$RABBIT_DIST_PORT RABBITMQ_MNESIA_BASE=$DATA/rabbit/mnesia RABBITMQ_LOG_BASE=$LOG/rabbit \
       RABBITMQ_CONFIG_FILE=$ETC/rabbitmq RABBITMQ_ENABLED_PLUGINS_FILE=$ETC/rabbitmq-enabled-plugins \
       RABBITMQ_PID_FILE=$DATA/rabbit/rabbit.pid RABBITMQ_CONF_ENV_FILE=$ETC/rabbitmq-env.conf
: > "$ETC/rabbitmq-env.conf"
echo "[]." > "$ETC/rabbitmq-enabled-plugins"
printf 'loopback_users = none\n' > "$ETC/rabbitmq.conf"
# cookie must be private and 0400 for erlang
[ -f "$HOME/.erlang.cookie" ] || { head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$HOME/.erlang.cookie"; chmod 400 "$HOME/.erlang.cookie"; }
start epmd "epmd" epmd -port "$EPMD_PORT"
sleep 0.5
start rabbitmq "rabbitmq-server" /usr/lib/rabbitmq/bin/rabbitmq-server

# ------------------------------------------------------------ 4. databases (once), while RabbitMQ boots
# placement and glance migrate in the background alongside nova's (sequential) steps.
if [ ! -f "$DATA/.db-initialized" ]; then
  placement-manage --config-file "$ETC/placement/placement.conf" db sync > "$LOG/db-sync-placement.log" 2>&1 & placement_sync=$!
  glance-manage --config-file "$ETC/glance-api.conf" db_sync > "$LOG/db-sync-glance.log" 2>&1 & glance_sync=$!
  nova_manage api_db sync > "$LOG/db-sync.log" 2>&1
  nova_manage cell_v2 map_cell0 --database_connection "sqlite:///$DATA/nova_cell0.sqlite?timeout=30" >> "$LOG/db-sync.log" 2>&1
  nova_manage cell_v2 create_cell --name cell1 >> "$LOG/db-sync.log" 2>&1 || true
  nova_manage db sync >> "$LOG/db-sync.log" 2>&1
  ts "nova api/cell0/cell1 db synced"
  wait "$placement_sync" || { echo "placement db sync failed: $LOG/db-sync-placement.log" >&2; exit 1; }
  wait "$glance_sync" || { echo "glance db sync failed: $LOG/db-sync-glance.log" >&2; exit 1; }
  touch "$DATA/.db-initialized"
  ts "placement and glance db synced"
fi
for ((n = 0; n < 120; n++)); do /usr/lib/rabbitmq/bin/rabbitmqctl -q -n novalab@localhost status >/dev/null 2>&1 && break; sleep 1; done
/usr/lib/rabbitmq/bin/rabbitmqctl -q -n novalab@localhost status >/dev/null 2>&1 || { echo "rabbitmq did not come up; see $LOG/rabbitmq.out" >&2; exit 1; }
ts "rabbitmq up"

# ------------------------------------------------------------ 4b. Cinder on the Ceph lab (needs rabbitmq), alongside Nova's start
if [ "$CINDER" = 1 ]; then
  wait "$ceph_up" || { ceph_up=; echo "ceph lab failed; see $LOG/ceph-up.log" >&2; tail -5 "$LOG/ceph-up.log" >&2; exit 7; }
  ceph_up=
  ts "ceph up ($RUN/ceph)"
  CEPH_DIR=$RUN/ceph RABBIT_PORT=$RABBIT_PORT GLANCE_PORT=$GLANCE_PORT CINDER_PORT=$CINDER_PORT PG_PORT=$PG_PORT \
    bash "$HERE/../cinder/up.sh" "$RUN/cinder" > "$LOG/cinder-up.log" 2>&1 &
  cinder_up=$!
fi

# ------------------------------------------------------------ 5. control plane
start placement "placement-api" env OS_PLACEMENT_CONFIG_DIR="$ETC/placement" \
  /usr/bin/python3 /usr/bin/placement-api --host 127.0.0.1 --port "$PLACEMENT_PORT"
start glance "glance-api" /usr/bin/python3 /usr/bin/glance-api --config-file "$ETC/glance-api.conf" --log-file "$LOG/glance-api.log"
start neutron-stub "neutron_stub.py" /usr/bin/python3 "$HERE/neutron_stub.py" "$NEUTRON_PORT"
start nova-conductor "nova-conductor" /usr/bin/python3 /usr/bin/nova-conductor --config-file "$ETC/nova.conf" --log-file "$LOG/nova-conductor.log"
start nova-scheduler "nova-scheduler" /usr/bin/python3 /usr/bin/nova-scheduler --config-file "$ETC/nova.conf" --log-file "$LOG/nova-scheduler.log"
start nova-api "nova-api" env PYTHONPATH="$HERE" /usr/bin/python3 /usr/bin/nova-api --config-file "$ETC/nova.conf" --log-file "$LOG/nova-api.log"
for c in "${COMPUTES[@]}"; do
  h=${c%%:*}
  start "nova-compute-$h" "nova-compute-$h" /usr/bin/python3 -c \
    'import sys; sys.argv[0] = "nova-compute"; from nova.cmd.compute import main; sys.exit(main())' \
    --config-file "$ETC/nova.conf" --config-file "$ETC/nova-compute-$h.conf" --log-file "$LOG/nova-compute-$h.log"
done
wait_http "http://127.0.0.1:$PLACEMENT_PORT/" 60
wait_http "http://127.0.0.1:$GLANCE_PORT/" 60
wait_http "http://127.0.0.1:$NOVA_PORT/" 90
ts "APIs answer"
# nova-api (oslo.service ProcessLauncher) forks one worker: record it too so down.sh stops it.
sleep 1
for n in nova-api glance; do
  pgrep -P "$(cat "$PIDS/$n.pid")" > "$PIDS/$n.children" 2>/dev/null || true
done
# rabbitmq-server is a /bin/sh wrapper; its child beam.smp is the broker.
pgrep -P "$(cat "$PIDS/rabbitmq.pid")" > "$PIDS/rabbitmq.children" 2>/dev/null || true

# ------------------------------------------------------------ 6. hypervisors
want=${#COMPUTES[@]}
nhyp() { api GET /os-hypervisors 2.53 | jq '.hypervisors | length'; }
for ((n = 0; n < 120; n++)); do
  [ "$(nhyp)" -ge "$want" ] && break
  # the scheduler maps new hosts every 5 s; force it if we're impatient
  [ $n -eq 20 ] && nova_manage cell_v2 discover_hosts >> "$LOG/discover.log" 2>&1
  sleep 0.5
done
[ "$(nhyp)" -ge "$want" ] || { echo "hypervisors did not show up" >&2; exit 1; }
ts "$want hypervisors visible in GET /os-hypervisors"
# the scheduler needs each compute's inventory in placement (its resource report may need a retry)
P=http://127.0.0.1:$PLACEMENT_PORT
ninv() {
  local n=0 rp
  for rp in $(curl -s -H "$TOKEN" "$P/resource_providers" | jq -r '.resource_providers[].uuid'); do
    [ "$(curl -s -H "$TOKEN" "$P/resource_providers/$rp/inventories" | jq '.inventories | length')" -gt 0 ] && n=$((n + 1))
  done
  echo $n
}
for ((n = 0; n < 120; n++)); do [ "$(ninv)" -ge "$want" ] && break; sleep 0.5; done
[ "$(ninv)" -ge "$want" ] || { echo "placement has no inventory for $want computes; see $LOG/nova-compute-*.log" >&2; exit 1; }
ts "$want computes have inventory in placement"

# ------------------------------------------------------------ 7. image, flavor, servers
G=http://127.0.0.1:$GLANCE_PORT
IMAGE=$(curl -s "$G/v2/images?name=fake-image&visibility=community" | jq -r '.images[0].id // empty')
if [ -z "$IMAGE" ]; then
  # 'public' needs role:admin in glance (unauthenticated context has no roles) -> use community
  IMAGE=$(curl -s -X POST -H 'Content-Type: application/json' \
    -d '{"name":"fake-image","disk_format":"raw","container_format":"bare","visibility":"community"}' "$G/v2/images" | jq -r .id)
  head -c 1048576 /dev/zero | curl -s -X PUT -H 'Content-Type: application/octet-stream' --data-binary @- "$G/v2/images/$IMAGE/file"
  ts "glance image $IMAGE uploaded"
fi
if [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$TOKEN" "$NOVA/flavors/1")" != 200 ]; then
  api POST /flavors 2.1 '{"flavor":{"name":"m1.fake","ram":512,"vcpus":1,"disk":1,"id":"1"}}' > /dev/null
fi
if [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$TOKEN" "$NOVA/flavors/2")" != 200 ]; then
  api POST /flavors 2.1 '{"flavor":{"name":"m1.tiny","ram":512,"vcpus":1,"disk":1,"id":"2"}}' > /dev/null
fi
CIRROS=$(curl -s "$G/v2/images?name=cirros&visibility=public" | jq -r '.images[0].id // empty')
if [ -z "$CIRROS" ]; then
  # no network here for the real cirros: 1 MiB of raw bytes under its name (boot volumes are made from it)
  CIRROS=$(curl -s -X POST -H 'Content-Type: application/json' \
    -d '{"name":"cirros","disk_format":"raw","container_format":"bare","visibility":"public"}' "$G/v2/images" | jq -r .id)
  { printf 'nodewright lab cirros stand-in\n'; head -c 1048545 /dev/zero; } |
    curl -s -X PUT -H 'Content-Type: application/octet-stream' --data-binary @- "$G/v2/images/$CIRROS/file"
  ts "glance image cirros $CIRROS uploaded"
fi
TRUSTED=http://127.0.0.1:$NOVA_PORT/trusted/v2.1
trusted() { # trusted METHOD PATH MV [BODY] -- identity from headers, token is carried to glance
  curl -sS -m 60 -X "$1" -H 'X-Auth-Token: lab-token' -H 'X-User-Id: admin' -H "X-Project-Id: ${PROJECT:-admin}" \
    -H 'X-Roles: admin' -H "X-OpenStack-Nova-API-Version: $3" -H 'Content-Type: application/json' \
    ${4:+-d "$4"} "$TRUSTED$2"
}
SERVERS=("vm-a1:cmp-a:admin" "vm-a2:cmp-a:demo" "vm-b1:cmp-b:demo" "vm-b2:cmp-b:admin")   # name:host:project
server_field() { # server_field NAME JQ -> jq over the server named NAME (all projects)
  api GET "/servers/detail?all_tenants=1&name=^$1\$" 2.1 | jq -r "$2"
}
# One boot at a time: concurrent builds make sqlite answer "database is locked" (seen here).
for s in "${SERVERS[@]}"; do
  IFS=: read -r name host PROJECT <<< "$s"
  for attempt in 1 2; do
    status=$(server_field "$name" '.servers[0].status // "absent"')
    [ "$status" = ACTIVE ] && break
    if [ "$status" = ERROR ] || { [ "$status" = BUILD ] && [ "$attempt" = 2 ]; }; then
      api DELETE "/servers/$(server_field "$name" '.servers[0].id')" 2.1 > /dev/null
      for ((n = 0; n < 60; n++)); do [ "$(server_field "$name" '.servers | length')" = 0 ] && break; sleep 0.5; done
      status=absent
    fi
    if [ "$status" = absent ]; then
      # 2.74: admin may pin the target host in the request body; networks "none" (>= 2.37) avoids neutron
      trusted POST /servers 2.74 "{\"server\":{\"name\":\"$name\",\"imageRef\":\"$IMAGE\",\"flavorRef\":\"1\",\"networks\":\"none\",\"host\":\"$host\"}}" \
        > "$LOG/boot-$name.json"
      ts "boot $name on $host (project $PROJECT) -> $(jq -r '.server.id // .' "$LOG/boot-$name.json" | head -c 200)"
    fi
    for ((n = 0; n < 60; n++)); do
      status=$(server_field "$name" '.servers[0].status // "absent"'); [ "$status" = BUILD ] || break; sleep 0.5
    done
    [ "$status" = ACTIVE ] && break
    ts "$name is $status (attempt $attempt)"
  done
done
active=$(api GET "/servers?all_tenants=1&status=ACTIVE" 2.1 | jq '.servers | length')
if [ "$active" -lt "${#SERVERS[@]}" ]; then
  echo "nova lab: only $active of ${#SERVERS[@]} servers ACTIVE; see $LOG/boot-*.json and $LOG/nova-*.log" >&2
  exit 5
fi
ts "servers ACTIVE: $(api GET "/servers?all_tenants=1&status=ACTIVE" 2.1 | jq -r '[.servers[].name] | join(",")')"

# ------------------------------------------------------------ 7b. Keystone (started in step 0)
if [ "$KEYSTONE" = 1 ]; then
  wait "$ks_up" || { ks_up=; echo "keystone lab failed; see $LOG/keystone-up.log" >&2; tail -5 "$LOG/keystone-up.log" >&2; exit 6; }
  ks_up=
  ts "keystone up: $(tail -1 "$LOG/keystone-up.log")"
fi

# ------------------------------------------------------------ 7c. Cinder (started in step 4b)
if [ "$CINDER" = 1 ]; then
  wait "$cinder_up" || { cinder_up=; echo "cinder lab failed; see $LOG/cinder-up.log" >&2; tail -5 "$LOG/cinder-up.log" >&2; exit 8; }
  cinder_up=
  ts "$(tail -1 "$LOG/cinder-up.log")"
fi

# ------------------------------------------------------------ 7d. clouds.yaml (cloud "lab", admin; the token stays in this 0600 file)
{
  echo "clouds:"
  echo "  lab:"
  echo "    auth_type: admin_token"
  echo "    auth: {endpoint: \"http://127.0.0.1:$NOVA_PORT/trusted/v2.1\", token: \"admin:admin\"}"
  if [ "$CINDER" = 1 ]; then echo "    block_storage_endpoint_override: \"http://127.0.0.1:$CINDER_PORT/v3/admin\""; fi
  echo "    api_timeout: 60"
  echo "    default_network: none   # the lab stubs Neutron: servers boot without a NIC"
} > "$RUN/clouds.yaml.tmp" && chmod 600 "$RUN/clouds.yaml.tmp" && mv "$RUN/clouds.yaml.tmp" "$RUN/clouds.yaml"

# ------------------------------------------------------------ 8. endpoint info for tests and benchmarks
{
  echo "NOVA_LAB_DIR=$RUN"
  echo "NOVA_ENDPOINT=$NOVA"
  echo "NOVA_TRUSTED_ENDPOINT=http://127.0.0.1:$NOVA_PORT/trusted/v2.1"
  echo "NOVA_ADMIN_TOKEN=admin:admin"
  echo "NOVA_NONADMIN_TOKEN=demo:demo"
  echo "NOVA_IMAGE_ID=$IMAGE"
  echo "NOVA_CIRROS_ID=$CIRROS"
  echo "NOVA_CLOUDS_YAML=$RUN/clouds.yaml"
  echo "NOVA_FLAVOR_ID=1"
  echo "NOVA_COMPUTES=${COMPUTES[*]}"
  echo "NOVA_SERVERS=${SERVERS[*]}"
  echo "NOVA_LOGS=$LOG"
  if [ "$KEYSTONE" = 1 ]; then
    echo "NOVA_KEYSTONE_ENDPOINT=http://127.0.0.1:$NOVA_PORT/ks/v2.1"
    cat "$KS_DIR/keystone.env"
  fi
  if [ "$CINDER" = 1 ]; then
    cat "$RUN/cinder/cinder.env"
    echo "CEPH_DIR=$RUN/ceph"
  fi
} > "$RUN/lab.env.tmp" && mv "$RUN/lab.env.tmp" "$RUN/lab.env"

# ------------------------------------------------------------ 9. memory
{
  echo "# RSS (KiB) of every recorded daemon and its descendants, $(date -Is)"
  total=0
  for f in "$PIDS"/*.pid; do
    n=$(basename "$f" .pid) p=$(cat "$f")
    kids=$(cat "$PIDS/$n.children" 2>/dev/null | tr '\n' ',' | sed 's/,$//' || true)
    all="$p ${kids//,/ } $( [ -n "$kids" ] && pgrep -P "$kids" || true)"
    all=$(echo $all | tr ' ' '\n' | sort -u | tr '\n' ' ')
    rss=$(ps -o rss= -p "$(echo $all | tr ' ' ',')" 2>/dev/null | awk '{s+=$1} END {print s+0}')
    total=$((total + rss)); printf '%-22s %8s KiB  pids: %s\n' "$n" "$rss" "$all"
  done
  printf '%-22s %8s KiB (%s MiB)\n' TOTAL "$total" $((total / 1024))
} > "$RUN/memory.txt"
cat "$RUN/memory.txt"
ts "up.sh done (nova-api http://127.0.0.1:$NOVA_PORT/v2.1, token '$TOKEN')"
