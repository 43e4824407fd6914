#!/bin/bash
# boot.sh — boot one worker container (real systemd 252, lab/systemd/boot.sh, hostusr mode) with
# the project bind-mounted read-only at /opt/nodewright and LAB_SHARE at /lab, then provision it:
# kubelet stand-ins, seed-shaped kubelet.service, nodewright-agent as a real Type=notify service.
#   LAB_NAME=nwagent1  KUBELET_PORT=…  AGENT_PORT=…  LAB_SHARE=<dir with controller.pub, token, kubelets/>
#   NODE_GROUP=…  the agent's nodeGroup (bundles bound to a group need it)
# Stop with: LAB_NAME=… lab/systemd/stop.sh      Logs: LAB_NAME=… lab/systemd/exec.sh journalctl -b
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
: "${LAB_SHARE:?set LAB_SHARE (see lab/worker/make-share.sh)}" "${KUBELET_PORT:?}" "${AGENT_PORT:?}"
export LAB_NAME=${LAB_NAME:-nwagent1} LAB_MODE=${LAB_MODE:-hostusr}
[ -f "$repo/dist/agent/cli.js" ] || { echo "worker/boot.sh: build first (npm run build)" >&2; exit 1; }
# A checkout whose node_modules is a symlink (a git worktree sharing one): bind its target at the same path.
nm=(); [ -L "$repo/node_modules" ] && { t=$(readlink -f "$repo/node_modules"); nm=(--bind-ro="$t:$t"); }
# /dev/fuse: the cephfs quota probe mounts with ceph-fuse inside the worker. Extra arguments go to nspawn.
# A node_modules that is a symlink (a git worktree sharing one) is bound at its target path too.
nm=$(readlink -f "$repo/node_modules")
nmbind=(); [ "$nm" != "$repo/node_modules" ] && nmbind=(--bind-ro="$nm:$nm")
"$repo/lab/systemd/boot.sh" --bind-ro="$repo:/opt/nodewright" "${nmbind[@]}" --bind-ro="$LAB_SHARE:/lab" --bind=/dev/fuse "$@"
"$repo/lab/systemd/exec.sh" /usr/bin/env KUBELET_PORT="$KUBELET_PORT" AGENT_PORT="$AGENT_PORT" \
  HEALTH_TIMEOUT_SEC="${HEALTH_TIMEOUT_SEC:-8}" WATCHDOG_SEC="${WATCHDOG_SEC:-}" MIN_HEALTHY_SEC="${MIN_HEALTHY_SEC:-1}" \
  KUBELET_IMAGE_TAG="${KUBELET_IMAGE_TAG:-v1.7.10}" \
  PROBE_TIMEOUT_SEC="${PROBE_TIMEOUT_SEC:-30}" NODE_GROUP="${NODE_GROUP:-}" \
  bash /opt/nodewright/lab/worker/provision.sh
