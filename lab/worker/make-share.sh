#!/bin/bash
# make-share.sh DIR — the host side of a worker lab: signing key pair (DIR/controller.key 0600,
# DIR/controller.pub), an agent token (DIR/token 0600) and the kubelet stand-in builds (DIR/kubelets).
set -euo pipefail
dir=${1:?usage: make-share.sh DIR}
repo=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$dir"
[ -f "$dir/controller.key" ] || node "$repo/dist/controller/cli.js" keygen --out "$dir/controller.key" >/dev/null
mv -f "$dir/controller.key.pub" "$dir/controller.pub" 2>/dev/null || true
[ -f "$dir/token" ] || (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/token")
bash "$repo/lab/worker/build-kubelets.sh" "$dir/kubelets" /opt/nodewright/lab/worker/kubelet-standin.mjs
