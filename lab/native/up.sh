#!/bin/bash
# up.sh — boot a NATIVE-KUBELET worker: a real Debian 12 root made with debootstrap (minbase +
# systemd, cached as a tarball keyed by suite + package list under lab/native/cache/), real systemd
# as PID 1 in systemd-nspawn, sharing the host's network so apt inside reaches the Debian mirror.
# No checkout and no host node inside: the agent's Debian PACKAGE (dist/pkg, `npm run package`; read-only
# at /opt/nodewright-lab/pkg) is installed by provision.sh with apt-get and runs on its own node.
#   LAB_NAME=nwnative  AGENT_PORT=<free loopback port>  LAB_SHARE=<dir with controller.pub, token>
# Stop with: LAB_NAME=… lab/native/down.sh     Logs: LAB_NAME=… lab/systemd/exec.sh journalctl -b
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
: "${LAB_SHARE:?set LAB_SHARE (controller.pub, token: lab/worker/make-share.sh)}" "${AGENT_PORT:?}"
version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$repo/package.json")
deb=nodewright-agent_${version}_amd64.deb
[ -f "$repo/dist/pkg/$deb" ] || { echo "native/up.sh: dist/pkg/$deb is missing: npm run package" >&2; exit 1; }
export LAB_NAME=${LAB_NAME:-nwnative} LAB_MODE=rootfs LAB_SUITE=${LAB_SUITE:-bookworm}
export LAB_INCLUDE=${LAB_INCLUDE:-systemd,systemd-sysv,dbus}
cache=${NATIVE_CACHE:-$here/cache}
key=$(printf '%s %s' "$LAB_SUITE" "$LAB_INCLUDE" | sha256sum | cut -c1-12)
# The root's tarball is built once (debootstrap ~35 s) and unpacked once; each boot writes into a tmpfs
# overlay (LAB_VOLATILE=overlay), so what apt installs vanishes at stop and the cache stays pristine.
export LAB_CACHE_TAR=$cache/$LAB_SUITE-$key.tar.zst LAB_ROOT=$cache/$LAB_SUITE-$key.root LAB_VOLATILE=overlay
export LAB_NODE=   # no host node in the worker: the package brings its own
"$repo/lab/systemd/boot.sh" --bind-ro="$repo/lab:/opt/nodewright-lab/src" --bind-ro="$repo/dist/pkg:/opt/nodewright-lab/pkg" --bind-ro="$LAB_SHARE:/lab" --resolv-conf=copy-host
"$repo/lab/systemd/exec.sh" /usr/bin/env AGENT_PORT="$AGENT_PORT" NODE_NAME="$LAB_NAME" DEB="$deb" bash /opt/nodewright-lab/src/native/provision.sh
