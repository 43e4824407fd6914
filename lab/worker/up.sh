#!/bin/bash
# up.sh N [SHARE]  — boot N worker containers (${WORKER_PREFIX:-nwagentw}1..N), each a real systemd with its own
# kubelet stand-in and nodewright-agent service, on free loopback ports (the containers share the
# host's network). Writes SHARE/workers.tsv: name, agent port, kubelet port. Stop with down.sh N.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
n=${1:?usage: up.sh N [SHARE]}
share=${2:-/tmp/nodewright-workers}
[ -f "$share/controller.pub" ] || bash "$here/make-share.sh" "$share" >/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
: > "$share/workers.tsv"
for i in $(seq 1 "$n"); do
  name=${WORKER_PREFIX:-nwagentw}$i kp=$(free_port) ap=$(free_port)
  LAB_NAME=$name LAB_SHARE=$share KUBELET_PORT=$kp AGENT_PORT=$ap bash "$here/boot.sh" >/dev/null
  printf '%s\t%s\t%s\n' "$name" "$ap" "$kp" | tee -a "$share/workers.tsv"
done
echo "token: $share/token   signing key: $share/controller.key   kubelet builds: $share/kubelets"
