#!/usr/bin/env bash
# The nodewright demo (npm run demo; root, after lab/install-deps.sh and npm ci):
# a real Ceph 16 cluster and two worker containers with a real systemd 252, each running the
# nodewright agent as a Type=notify service next to the seed-shaped kubelet.service. The operator
# prepares Ceph, signs one desired state and pushes it wave by wave; every agent installs the
# keyring, rewrites RKT_RUN_ARGS, swaps the kubelet (stand-in) v1 → v2 behind a health gate and
# proves rbd + ceph-fuse quota mounts against the cluster. Then: drift repair and an automatic
# rollback of a broken kubelet. Everything started here is stopped by pid at the end.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
[ "$(id -u)" = 0 ] || { echo "demo: run as root (containers, FUSE mounts, Ceph daemons)" >&2; exit 1; }
for t in systemd-nspawn ceph-mon ceph-fuse; do
  command -v $t >/dev/null || { echo "demo: $t missing: run bash lab/install-deps.sh" >&2; exit 1; }
done
[ -f dist/controller/cli.js ] || npm run build >/dev/null

nw() { node "$repo/dist/controller/cli.js" "$@"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
free_base() { # a base port with BASE..BASE+99 free (Ceph's mon and daemon ports)
  python3 - <<'PY'
import random, socket
for _ in range(200):
    b = random.randrange(20000, 60000, 100)
    ok = True
    for p in range(b, b + 100):
        s = socket.socket()
        try: s.bind(("127.0.0.1", p))
        except OSError: ok = False; break
        finally: s.close()
    if ok: print(b); break
PY
}

demo=$(mktemp -d /tmp/nodewright-demo.XXXXXX)
share=$demo/share
export WORKER_PREFIX=nwdemo$$w
workers=2
cleanup() {
  set +e
  say "teardown (stopping exactly what the demo started)"
  [ -f "$share/workers.tsv" ] && bash lab/worker/down.sh "$workers" "$share" >/dev/null 2>&1
  [ -d "$demo/ceph" ] && bash lab/ceph/down.sh "$demo/ceph" >/dev/null 2>&1
  rm -rf "$demo"
  echo "done"
}
trap cleanup EXIT

say "1. a real Ceph cluster (mon, mgr, osd, mds on 127.0.0.1, cephx), fresh: no pools, no fs, no client user"
CEPH_BARE=1 CEPH_BASE_PORT=$(free_base) bash lab/ceph/up.sh "$demo/ceph" > "$demo/ceph-up.log" 2>&1 \
  || { tail -20 "$demo/ceph-up.log"; exit 1; }
. "$demo/ceph/env.sh"
echo "mon $CEPH_MON_ADDR  fsid $CEPH_FSID"
cluster=(--conf "$CEPH_CONF" --admin-keyring "$CEPH_ADMIN_KEYRING")

say "2. nodewright ceph prepare: pools, CephFS, client.k8s with the seed's caps; the client keyring exported 0600"
mkdir -p "$share"
nw ceph prepare "${cluster[@]}" --keyring-out "$share/ceph.client.k8s.keyring"
say "   ... and again: idempotent"
nw ceph prepare "${cluster[@]}" --keyring-out "$share/ceph.client.k8s.keyring"

say "3. nodewright cephfs volume create: a 100Mi quota directory as a PersistentVolume + claim"
nw cephfs volume create demo-quota --size 100Mi "${cluster[@]}" | head -30

say "4. nodewright k8s manifests: Secret + ceph-rbd (default) + cephfs StorageClasses (the base64 key is redacted in this output)"
nw k8s manifests --client-keyring "$share/ceph.client.k8s.keyring" --conf "$CEPH_CONF" --default | sed -E 's/(key: ).*/\1<redacted in the demo output>/' | head -40

say "5. two workers: real systemd 252 in systemd-nspawn, seed-shaped kubelet.service (stand-in kubelet v1), nodewright-agent service"
bash lab/worker/make-share.sh "$share" > /dev/null
NODE_GROUP=demo bash lab/worker/up.sh "$workers" "$share"
agents=()
while IFS=$'\t' read -r name ap kp; do
  agents+=(--agent "http://127.0.0.1:$ap")
  LAB_NAME=$name lab/systemd/exec.sh systemctl show nodewright-agent -p ActiveState -p SubState -p Type -p StatusText | sed "s/^/   $name: /"
done < "$share/workers.tsv"

say "6. one desired state for the node group, signed with the controller's ed25519 key"
desired() { # $1 generation, $2 kubelet build
  node - "$1" "$2" <<'JS'
const fs = require('fs'), crypto = require('crypto');
const [gen, build] = process.argv.slice(2);
const share = process.env.SHARE, e = process.env;
const bin = fs.readFileSync(`${share}/kubelets/kubelet-${build}`);
const keyring = fs.readFileSync(`${share}/ceph.client.k8s.keyring`, 'utf8');
const kr = '/etc/ceph/ceph.client.k8s.keyring';
console.log(JSON.stringify({
  schema: 1, generation: Number(gen), nodeGroup: 'demo', runtime: 'rkt', packages: { policy: 'auto' },
  ceph: { fsid: e.CEPH_FSID, monHost: [e.CEPH_MON_ADDR], clientId: 'k8s', keyring },
  unit: { bindMounts: [{ name: 'ceph-keyring', source: kr, target: kr, readOnly: true }] },
  kubelet: { kind: 'binary', version: build, sha256: crypto.createHash('sha256').update(bin).digest('hex'), size: bin.length,
             url: `file:///lab/kubelets/kubelet-${build}` },
  probes: { rbd: { pool: 'k8s' }, quota: { path: '/kubernetes/demo-quota' } },
}, null, 2));
JS
}
export SHARE=$share CEPH_FSID CEPH_MON_ADDR
desired 1 v2 > "$demo/desired-1.json"
sed -E 's/(key = ).*/\1<redacted in the demo output>/' "$demo/desired-1.json" | head -30
nw bundle sign --key "$share/controller.key" --out "$demo/bundle-1.json" "$demo/desired-1.json"
nw bundle verify --pub "$share/controller.pub" "$demo/bundle-1.json"

say "7. push in waves of one: each agent must converge and pass its probes before the next one gets the bundle"
nw bundle push "${agents[@]}" --token-file "$share/token" --wait "$demo/bundle-1.json"

read -r w1 ap1 kp1 < <(head -1 "$share/workers.tsv")
say "8. on $w1: what systemd now runs (RKT_RUN_ARGS read back from systemd), and what the kubelet sees"
LAB_NAME=$w1 lab/systemd/exec.sh systemctl show kubelet -p Environment -p NeedDaemonReload | fold -w 160
curl -s "http://127.0.0.1:$kp1/record" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);console.log("   kubelet", r.version, "pid", r.pid, "keyring inside its mount namespace:", JSON.stringify(r.keyring))})'
say "   probe results in GET /v1/status (rbd image create/info/rm as client.k8s; ceph-fuse quota: df and EDQUOT)"
curl -s "http://127.0.0.1:$ap1/v1/status" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for (const p of JSON.parse(s).probes) console.log(p.name, p.status, Math.round(p.durationMs)+" ms", JSON.stringify(Object.fromEntries(Object.entries(p.details??{}).filter(([k])=>/quota|df|bytes|kernel|image|Edquot/i.test(k)))))})'

say "9. drift: an operator overwrites the keyring on $w1; the agent repairs it"
LAB_NAME=$w1 lab/systemd/exec.sh sh -c 'echo tampered > /etc/ceph/ceph.client.k8s.keyring'
for _ in $(seq 1 50); do
  LAB_NAME=$w1 lab/systemd/exec.sh grep -q 'key = ' /etc/ceph/ceph.client.k8s.keyring && break; sleep 0.1
done
LAB_NAME=$w1 lab/systemd/exec.sh stat -c '   %n %a %s bytes (repaired)' /etc/ceph/ceph.client.k8s.keyring

say "10. a broken kubelet build (v3) is rolled back automatically; the push stops before the next wave"
desired 2 v3-broken > "$demo/desired-2.json"
nw bundle sign --key "$share/controller.key" --out "$demo/bundle-2.json" "$demo/desired-2.json"
nw bundle push "${agents[@]}" --token-file "$share/token" --wait "$demo/bundle-2.json" || echo "   (push halted, as it should)"
curl -s "http://127.0.0.1:$kp1/record" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log("   kubelet running on '"$w1"':", JSON.parse(s).version))'

say "11. refusals: no token → 401; a bundle signed by another key → NW_SIGNATURE; nothing changed"
curl -s -o /dev/null -w '   POST /v1/desired without token: %{http_code}\n' -X POST -H 'content-type: application/json' -d @"$demo/bundle-1.json" "http://127.0.0.1:$ap1/v1/desired"
nw keygen --out "$demo/rogue.key" > /dev/null
nw bundle sign --key "$demo/rogue.key" --out "$demo/rogue.json" "$demo/desired-1.json"
nw bundle push --agent "http://127.0.0.1:$ap1" --token-file "$share/token" "$demo/rogue.json" 2>&1 | sed 's/^/   /' || true
