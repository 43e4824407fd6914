#!/bin/bash
# nodewright's Keystone lab: a REAL Keystone (Debian bookworm python3-keystone 22, Zed) for the
# Keystone v3 password path. No systemd, no Apache: sqlite, fernet tokens, uWSGI (python3 plugin)
# serving keystone.server.wsgi's public app on 127.0.0.1 only.
#
#   bash lab/keystone/up.sh [STATE_DIR]     # idempotent: configure, init once, start, seed
#   bash lab/keystone/down.sh [STATE_DIR] [--purge]
#
# STATE_DIR (or $KEYSTONE_LAB_DIR; default /var/tmp/nodewright-keystone-lab) holds keystone.conf,
# the sqlite DB, fernet/credential keys, logs, the recorded pid and keystone.env.
# KEYSTONE_PORT (default 15000) is where Keystone listens; NOVA_PORT (default 18774) is where the
# lab Nova listens: the catalog's compute endpoint is http://127.0.0.1:$NOVA_PORT/ks/v2.1 (the
# keystone-authenticated path lab/nova/up.sh adds when KEYSTONE_LAB_DIR is set).
# Passwords (admin, demo, nova) are random, in STATE_DIR/secrets/*.password (0600), never on argv.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
RUN=${1:-${KEYSTONE_LAB_DIR:-/var/tmp/nodewright-keystone-lab}}
mkdir -p "$RUN"; RUN=$(cd "$RUN" && pwd)
KEYSTONE_PORT=${KEYSTONE_PORT:-15000} NOVA_PORT=${NOVA_PORT:-18774}
REGION=RegionOne
PY=/usr/bin/python3
T0=$(date +%s.%N)
ts() { printf '[keystone %6.1fs] %s\n' "$(echo "$(date +%s.%N) - $T0" | bc)" "$*"; }

missing=""
for p in python3-keystone uwsgi-plugin-python3 curl bc; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "keystone lab: missing Debian packages:$missing -- run: sudo bash lab/install-deps.sh" >&2
  exit 3
fi

mkdir -p "$RUN/log" "$RUN/secrets" "$RUN/fernet-keys" "$RUN/credential-keys"
chmod 700 "$RUN/secrets" "$RUN/fernet-keys" "$RUN/credential-keys"
# secrets first: lab/nova/up.sh (started alongside) waits for nova.password
umask 077
for u in admin demo nova; do
  f=$RUN/secrets/$u.password
  [ -s "$f" ] || { head -c 24 /dev/urandom | base64 | tr -d '/+=\n' > "$f.tmp"; mv "$f.tmp" "$f"; }
done
umask 022

alive() { [ -f "$RUN/keystone.pid" ] && [ -d "/proc/$(cat "$RUN/keystone.pid")" ] &&
  tr '\0' ' ' < "/proc/$(cat "$RUN/keystone.pid")/cmdline" 2>/dev/null | grep -q "keystone-wsgi-public"; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! alive && port_busy "$KEYSTONE_PORT"; then
  echo "keystone lab: port 127.0.0.1:$KEYSTONE_PORT is already in use by another process; stop it or set KEYSTONE_PORT" >&2
  exit 4
fi

URL=http://127.0.0.1:$KEYSTONE_PORT
cat > "$RUN/keystone.conf" <<CONF
[DEFAULT]
debug = false
log_file = $RUN/log/keystone.log
[database]
connection = sqlite:///$RUN/keystone.sqlite?timeout=30
[token]
provider = fernet
[fernet_tokens]
key_repository = $RUN/fernet-keys
[fernet_receipts]
key_repository = $RUN/fernet-keys
[credential]
key_repository = $RUN/credential-keys
[cache]
enabled = false
[identity]
# lab only: the cheapest bcrypt cost (default 12 makes every password auth ~0.7 s here)
password_hash_rounds = 4
[oslo_policy]
enforce_new_defaults = false
CONF
manage() { keystone-manage --config-file "$RUN/keystone.conf" "$@"; }

COMPUTE_URL=http://127.0.0.1:$NOVA_PORT/ks/v2.1 SEEDED="$URL/v3 http://127.0.0.1:$NOVA_PORT/ks/v2.1"
if [ ! -f "$RUN/.initialized" ]; then
  # each keystone-manage run costs ~4 s of imports: the key setups run alongside db_sync
  me=(--keystone-user "$(id -un)" --keystone-group "$(id -gn)")
  manage fernet_setup "${me[@]}" > "$RUN/log/fernet-setup.log" 2>&1 & fernet=$!
  manage credential_setup "${me[@]}" > "$RUN/log/credential-setup.log" 2>&1 & cred=$!
  manage db_sync > "$RUN/log/db-sync.log" 2>&1 || { echo "keystone db_sync failed: $RUN/log/db-sync.log" >&2; exit 1; }
  # WAL: keystone leaves a reader open across requests; in the default journal mode the next
  # write then fails with "database is locked" (seen here)
  "$PY" -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("pragma journal_mode=wal")' "$RUN/keystone.sqlite"
  wait "$fernet" || { echo "keystone fernet_setup failed: $RUN/log/fernet-setup.log" >&2; exit 1; }
  wait "$cred" || { echo "keystone credential_setup failed: $RUN/log/credential-setup.log" >&2; exit 1; }
  ts "db_sync, fernet and credential keys done"
fi
# .initialized records the URLs seeded; (re)seed when missing or different (ports changed)
if [ "$(cat "$RUN/.initialized" 2>/dev/null)" != "$SEEDED" ]; then
  # bootstrap + users/projects/compute service, in-process; passwords from files/environment, not argv
  OS_BOOTSTRAP_PASSWORD=$(cat "$RUN/secrets/admin.password") "$PY" "$HERE/seed.py" "$RUN/keystone.conf" "$RUN/secrets" \
    "$REGION" "$URL/v3" "$COMPUTE_URL" > "$RUN/log/seed.log" 2>&1 ||
    { echo "keystone bootstrap/seed failed: $RUN/log/seed.log" >&2; tail -5 "$RUN/log/seed.log" >&2; exit 1; }
  echo "$SEEDED" > "$RUN/.initialized"
  ts "$(grep "^bootstrap done" "$RUN/log/seed.log")"
fi

if alive; then
  ts "keystone already running (pid $(cat "$RUN/keystone.pid"))"
else
  # one single-threaded uWSGI process, no master, no forks: the recorded pid is the whole server.
  # --http-socket closes every connection after the response; "Connection: close" tells clients
  # (keystonemiddleware's requests session) not to reuse it (else: RemoteDisconnected -> nova 503)
  OS_KEYSTONE_CONFIG_FILES=$RUN/keystone.conf setsid uwsgi --plugin python3 --http-socket "127.0.0.1:$KEYSTONE_PORT" \
    --wsgi-file /usr/bin/keystone-wsgi-public --die-on-term --need-app --disable-logging \
    --add-header 'Connection: close' \
    >> "$RUN/log/uwsgi.out" 2>&1 < /dev/null &
  echo $! > "$RUN/keystone.pid"
  ts "started keystone (uwsgi) pid $! on $URL"
fi
for ((i = 0; i < 240; i++)); do curl -s -o /dev/null -m 2 "$URL/v3" && break; sleep 0.25; done
curl -sf -o /dev/null -m 5 "$URL/v3" || { echo "keystone did not answer on $URL/v3; see $RUN/log/" >&2; exit 1; }
ts "keystone answers"

{
  echo "KEYSTONE_LAB_DIR=$RUN"
  echo "KEYSTONE_AUTH_URL=$URL/v3"
  echo "KEYSTONE_REGION=$REGION"
  echo "KEYSTONE_COMPUTE_URL=$COMPUTE_URL"
  echo "KEYSTONE_ADMIN_PASSWORD_FILE=$RUN/secrets/admin.password"
  echo "KEYSTONE_DEMO_PASSWORD_FILE=$RUN/secrets/demo.password"
  echo "KEYSTONE_NOVA_PASSWORD_FILE=$RUN/secrets/nova.password"
  echo "KEYSTONE_PID=$(cat "$RUN/keystone.pid")"
} > "$RUN/keystone.env.tmp" && mv "$RUN/keystone.env.tmp" "$RUN/keystone.env"
ts "up.sh done ($URL/v3; users admin/admin, demo/demo (member), nova/service (admin); passwords in $RUN/secrets)"
