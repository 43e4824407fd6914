#!/usr/bin/env bash
# The nodewright demo (npm run demo; root; npm run demo sets up the Debian packages and node_modules first):
# a real Ceph 16 cluster, the nodewright controller (the PACKAGE: its bin on its own Node 24), and
# three worker containers with a real systemd 252, each with the agent PACKAGE installed by its
# install.sh (npm run package), each enrolled with a one-time join token and running the agent as a Type=notify
# service over mutual TLS next to the seed-shaped kubelet.service. The controller rolls keyring +
# RKT_RUN_ARGS bind mount + kubelet (stand-in) v2 out in waves [1, 2], gated on the agents' health
# and their rbd + ceph-fuse quota probes; then a broken v3: the canary fails its gate, is rolled
# back automatically, the rollout pauses with the reason, the others are untouched; abort.
# Everything started here is stopped by pid at the end.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
[ "$(id -u)" = 0 ] || { echo "demo: run as root (containers, FUSE mounts, Ceph daemons)" >&2; exit 1; }
for t in systemd-nspawn ceph-mon ceph-fuse; do
  command -v $t >/dev/null || { echo "demo: $t missing: run bash lab/install-deps.sh" >&2; exit 1; }
done
version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json)
ctl_tarball=dist/pkg/nodewright-controller-$version-linux-x64.tar.gz
[ -f "$ctl_tarball" ] && [ -f "dist/pkg/nodewright-agent-$version-linux-x64.tar.gz" ] || npm run package >/dev/null
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
# The controller package, unpacked: bin/nodewright runs lib/nodewright.mjs on the package's node.
tar -xzf "$ctl_tarball" -C "$demo"
ctl_pkg=$demo/nodewright-controller-$version-linux-x64
nw() { "$ctl_pkg/bin/nodewright" "$@"; }
js() { "$ctl_pkg/node/bin/node" "$@"; }   # the demo's own JSON glue, on the same node
export WORKER_PREFIX=nwdemo$$w
workers=3
cleanup() {
  set +e
  say "teardown (stopping exactly what the demo started)"
  [ -n "${ctl_pid:-}" ] && kill "$ctl_pid" 2>/dev/null && wait "$ctl_pid" 2>/dev/null
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

say "5. the controller: nodewright init (signing key, fleet CA, controller + operator certificates), controller run over TLS"
ctl=$demo/controller
ctl_port=$(free_port)
nw init --dir "$ctl" --listen "127.0.0.1:$ctl_port"
sed -i 's/intervalSec: 10 /intervalSec: 2  /' "$ctl/controller.yaml"
nw --version
"$ctl_pkg/bin/nodewright" controller run --config "$ctl/controller.yaml" 2>"$demo/controller.log" &
ctl_pid=$!
export NODEWRIGHT_OPERATOR_CONFIG=$ctl/operator.yaml
for _ in $(seq 1 100); do curl -sf --cacert "$ctl/ca.crt" "https://127.0.0.1:$ctl_port/readyz" >/dev/null && break; sleep 0.2; done

say "6. three workers: real systemd 252 in systemd-nspawn, seed-shaped kubelet.service (stand-in kubelet v1)"
bash lab/worker/make-share.sh "$share" > /dev/null
bash lab/worker/up.sh "$workers" "$share"
read -r first _ < "$share/workers.tsv"
echo "   each worker runs the agent package installed by its install.sh, on the package's own node ($first):"
LAB_NAME=$first lab/systemd/exec.sh sh -c 'nodewright-agent --version; echo "agent pid $(systemctl show -p MainPID --value nodewright-agent): $(readlink /proc/$(systemctl show -p MainPID --value nodewright-agent)/exe)"' | sed 's/^/   /'

say "7. enrollment: a one-time join token per worker; nodewright-agent join pins the CA hash, keeps its key, writes agent.yaml"
i=0
while IFS=$'\t' read -r name ap kp; do
  i=$((i + 1))
  tok=$(nw nodes join-token --group demo --labels "slot=$i" --ttl 10m --json)
  t=$(js -e 'console.log(JSON.parse(process.argv[1]).token)' "$tok")
  h=$(js -e 'console.log(JSON.parse(process.argv[1]).caCertHash)' "$tok")
  LAB_NAME=$name lab/systemd/exec.sh sh -c 'systemctl stop nodewright-agent; rm -f /etc/nodewright/agent.yaml /etc/nodewright/controller.pub /etc/nodewright/token'
  # the token on stdin into $NODEWRIGHT_JOIN_TOKEN: never on a command line (`ps`)
  printf %s "$t" | LAB_NAME=$name lab/systemd/exec.sh sh -c 'NODEWRIGHT_JOIN_TOKEN="$(cat)" exec nodewright-agent join "$@"' join \
    --controller "https://127.0.0.1:$ctl_port" --ca-cert-hash "$h" \
    --config-out /etc/nodewright/agent.yaml --listen "127.0.0.1:$ap" --name "w$i" | sed "s/^/   $name: /"
  LAB_NAME=$name lab/systemd/exec.sh sh -c "printf 'stateDir: /var/lib/nodewright\nkubelet:\n  healthUrl: http://127.0.0.1:$kp/healthz\n  healthTimeoutSec: 8\n  minHealthySec: 1\n' >> /etc/nodewright/agent.yaml; systemctl start nodewright-agent"
done < "$share/workers.tsv"
for _ in $(seq 1 60); do [ "$(nw nodes ls --json | js -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).filter(n=>n.state==="healthy").length))')" = 3 ] && break; sleep 1; done
nw nodes ls

say "8. kubelet builds into the controller's artifact store (nodewright artifact add); the rollout's desired state: keyring from a file, the keyring bind mount, kubelet v2 by version, both Ceph probes"
desired() { # $1 kubelet build → desired YAML (the controller assigns generations, binds and signs per node)
  js - "$1" <<'JS'
const [build] = process.argv.slice(2);
const share = process.env.SHARE, e = process.env;
const kr = '/etc/ceph/ceph.client.k8s.keyring';
console.log(JSON.stringify({
  runtime: 'rkt', packages: { policy: 'auto' },
  ceph: { fsid: e.CEPH_FSID, monHost: [e.CEPH_MON_ADDR], clientId: 'k8s', keyringFile: `${share}/ceph.client.k8s.keyring` },
  unit: { bindMounts: [{ name: 'ceph-keyring', source: kr, target: kr, readOnly: true }] },
  kubelet: { kind: 'binary', version: build }, // resolved from the controller's artifact store
  probes: { rbd: { pool: 'k8s' }, quota: { path: '/kubernetes/demo-quota' } },
}, null, 2));
JS
}
export SHARE=$share CEPH_FSID CEPH_MON_ADDR
for b in v2 v3-broken; do nw artifact add "$share/kubelets/kubelet-$b" --kind kubelet-binary --version "$b"; done
nw artifact ls
desired v2 > "$demo/desired-v2.yaml"
cat "$demo/desired-v2.yaml"

say "9. nodewright rollout start --steps 1,2: canary first, then the other two; each gate = generation + converged + ready (probes) for 5 s"
id=$(nw rollout start --group demo --desired "$demo/desired-v2.yaml" --steps 1,2 --min-healthy 5s --gate-timeout 3m --json | js -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).id))')
nw rollout status "$id" --watch | cat
read -r w1 ap1 kp1 < <(head -1 "$share/workers.tsv")
curl -s "http://127.0.0.1:$kp1/record" | js -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);console.log("   kubelet on '"$w1"':", r.version, "keyring inside its mount namespace:", JSON.stringify(r.keyring))})'

say "10. a broken kubelet v3: the canary fails its gate, gets a NEW generation carrying v2, the rollout pauses; the others are untouched"
desired v3-broken > "$demo/desired-v3.yaml"
id3=$(nw rollout start --group demo --desired "$demo/desired-v3.yaml" --steps 1,2 --min-healthy 5s --gate-timeout 30s --json | js -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).id))')
nw rollout status "$id3" --watch | cat
nw nodes ls

say "11. abort: the rollout ends, nothing else is pushed"
nw rollout abort "$id3"
nw rollout ls

say "12. the audit log"
nw events | tail -25

say "13. refusals: a used join token; a client certificate of another CA"
printf %s "$t" | LAB_NAME=$w1 lab/systemd/exec.sh sh -c 'NODEWRIGHT_JOIN_TOKEN="$(cat)" exec nodewright-agent join "$@"' join --controller "https://127.0.0.1:$ctl_port" --ca-cert-hash "$h" --config-out /tmp/again/agent.yaml --name again 2>&1 | sed 's/^/   /' || true
nw init --dir "$demo/rogue" --listen 127.0.0.1:1 > /dev/null
curl -s --cacert "$ctl/ca.crt" --cert "$demo/rogue/operator.crt" --key "$demo/rogue/operator.key" "https://127.0.0.1:$ctl_port/v1/nodes"; echo

say "14. the dashboard (https://127.0.0.1:$ctl_port/ui/): a one-time sign-in link from nodewright ui; the fleet page as a browser gets it; the same link refused again"
url=$(nw ui --json | js -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).url))')
echo "   nodewright ui --json → ${url%%code=*}code=…"
curl -s --cacert "$ctl/ca.crt" -c "$demo/cookies" -o /dev/null -w '   first use: %{http_code} → %{redirect_url} (session cookie set)\n' "$url"
curl -s --cacert "$ctl/ca.crt" -b "$demo/cookies" "https://127.0.0.1:$ctl_port/ui/" \
  | js -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const m=s.match(/data-testid="fleet-summary"[^>]*><strong class="count">([^<]*)<\/strong>[^<]*<span[^>]*>([^<]*)/);console.log(`   fleet page: ${m?m[1]:"?"}, worst state ${m?m[2]:"?"}, ${s.match(/class="tile" data-node=/g)?.length??0} worker tiles`)})'
curl -s --cacert "$ctl/ca.crt" -o /dev/null -w '   second use of the same link: %{http_code}\n' "$url"
