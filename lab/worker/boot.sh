#!/bin/bash
# boot.sh — boot one worker container (real systemd 252, lab/systemd/boot.sh, hostusr mode) and
# provision it: kubelet stand-ins, seed-shaped kubelet.service, and the nodewright AGENT PACKAGE
# (dist/pkg, `npm run package`) installed with its own install.sh, as an operator does; the agent
# then runs on the package's own node. Nothing of the checkout is mounted: only the lab fixtures
# (lab/worker, read-only at /opt/nodewright-lab/worker), the package dir (read-only at
# /opt/nodewright-lab/pkg) and LAB_SHARE (/lab).
#   LAB_NAME=nwagent1  KUBELET_PORT=…  AGENT_PORT=…  LAB_SHARE=<dir with controller.pub, token, kubelets/>
#   NODE_GROUP=…  the agent's nodeGroup (bundles bound to a group need it)
# Stop with: LAB_NAME=… lab/systemd/stop.sh      Logs: LAB_NAME=… lab/systemd/exec.sh journalctl -b
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
: "${LAB_SHARE:?set LAB_SHARE (see lab/worker/make-share.sh)}" "${KUBELET_PORT:?}" "${AGENT_PORT:?}"
export LAB_NAME=${LAB_NAME:-nwagent1} LAB_MODE=${LAB_MODE:-hostusr}
version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$repo/package.json")
tarball=nodewright-agent-$version-linux-x64.tar.gz
[ -f "$repo/dist/pkg/$tarball" ] && [ -f "$repo/dist/pkg/lab/agent-hooked.mjs" ] || { echo "worker/boot.sh: dist/pkg/$tarball is missing: npm run package" >&2; exit 1; }
# /dev/fuse: the cephfs quota probe mounts with ceph-fuse inside the worker. Extra arguments go to nspawn.
"$repo/lab/systemd/boot.sh" --bind-ro="$here:/opt/nodewright-lab/worker" --bind-ro="$repo/dist/pkg:/opt/nodewright-lab/pkg" --bind-ro="$LAB_SHARE:/lab" --bind=/dev/fuse "$@"
"$repo/lab/systemd/exec.sh" /usr/bin/env KUBELET_PORT="$KUBELET_PORT" AGENT_PORT="$AGENT_PORT" \
  HEALTH_TIMEOUT_SEC="${HEALTH_TIMEOUT_SEC:-8}" WATCHDOG_SEC="${WATCHDOG_SEC:-}" MIN_HEALTHY_SEC="${MIN_HEALTHY_SEC:-1}" \
  KUBELET_IMAGE_TAG="${KUBELET_IMAGE_TAG:-v1.7.10}" \
  PROBE_TIMEOUT_SEC="${PROBE_TIMEOUT_SEC:-30}" NODE_GROUP="${NODE_GROUP:-}" TARBALL="$tarball" \
  bash /opt/nodewright-lab/worker/provision.sh
