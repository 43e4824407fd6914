#!/bin/bash
# up.sh — boot a NATIVE-KUBELET worker: a real Debian 12 root made with debootstrap (minbase +
# systemd, cached as a tarball keyed by suite + package list under lab/native/cache/), real systemd
# as PID 1 in systemd-nspawn, sharing the host's network so apt inside reaches the Debian mirror.
# The checkout and the host's node are bind-mounted read-only (/opt/nodewright, /usr/bin/node);
# then provision.sh installs the agent as the shipped service (systemd/units/nodewright-agent.service).
#   LAB_NAME=nwnative  AGENT_PORT=<free loopback port>  LAB_SHARE=<dir with controller.pub, token>
# Stop with: LAB_NAME=… lab/native/down.sh     Logs: LAB_NAME=… lab/systemd/exec.sh journalctl -b
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
: "${LAB_SHARE:?set LAB_SHARE (controller.pub, token: lab/worker/make-share.sh)}" "${AGENT_PORT:?}"
[ -f "$repo/dist/agent/cli.js" ] || { echo "native/up.sh: build first (npm run build)" >&2; exit 1; }
export LAB_NAME=${LAB_NAME:-nwnative} LAB_MODE=rootfs LAB_SUITE=${LAB_SUITE:-bookworm}
export LAB_INCLUDE=${LAB_INCLUDE:-systemd,systemd-sysv,dbus}
cache=${NATIVE_CACHE:-$here/cache}
key=$(printf '%s %s' "$LAB_SUITE" "$LAB_INCLUDE" | sha256sum | cut -c1-12)
# The tarball is built once (debootstrap ~35 s) and unpacked once; each boot writes into a tmpfs
# overlay (LAB_VOLATILE=overlay), so what apt installs vanishes at stop and the cache stays pristine.
export LAB_CACHE_TAR=$cache/$LAB_SUITE-$key.tar.zst LAB_ROOT=$cache/$LAB_SUITE-$key.root LAB_VOLATILE=overlay
export LAB_NODE=${LAB_NODE-$(command -v node)}
nm=(); [ -L "$repo/node_modules" ] && { t=$(readlink -f "$repo/node_modules"); nm=(--bind-ro="$t:$t"); }
"$repo/lab/systemd/boot.sh" --bind-ro="$repo:/opt/nodewright" "${nm[@]}" --bind-ro="$LAB_SHARE:/lab" --resolv-conf=copy-host
"$repo/lab/systemd/exec.sh" /usr/bin/env AGENT_PORT="$AGENT_PORT" NODE_NAME="$LAB_NAME" bash /opt/nodewright/lab/native/provision.sh
