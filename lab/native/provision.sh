#!/bin/bash
# provision.sh — run INSIDE the booted native worker (via lab/systemd/exec.sh) as root: the agent's
# Debian package installed the way an operator does it (`apt-get install ./nodewright-agent_<v>_amd64.deb`:
# /opt/nodewright with its own node, the unit enabled and started by the package's postinst), then
# the operator's config: loopback with the share's token and signing key, and a restart.
# Nothing else: ceph-common is NOT installed here (the agent's packages step installs it).
#   AGENT_PORT  NODE_NAME  NODE_GROUP=native (bundles bound to another group are refused)  LAB_SHARE=/lab
#   DEB  the agent .deb in P=/opt/nodewright-lab/pkg (dist/pkg, read-only)
set -euo pipefail
: "${AGENT_PORT:?}" "${NODE_NAME:?}"
LAB_SHARE=${LAB_SHARE:-/lab}
P=${P:-/opt/nodewright-lab/pkg}
: "${DEB:?}"
NODE_GROUP=${NODE_GROUP:-native}
export DEBIAN_FRONTEND=noninteractive
# apt reads the local file as root (the read-only bind is not _apt's): its notice about that is expected
apt-get install -y -q --no-install-recommends "$P/$DEB" 2>&1 | grep -v "^N: Download is performed unsandboxed" || true
dpkg-query -W -f='${Status} ${Version}\n' nodewright-agent | grep -q '^install ok installed ' || { echo "provision: nodewright-agent is not installed" >&2; exit 1; }
install -m 0600 "$LAB_SHARE/token" /etc/nodewright/token
install -m 0644 "$LAB_SHARE/controller.pub" /etc/nodewright/controller.pub
cat > /etc/nodewright/agent.yaml <<YAML
# nodewright agent (native-kubelet lab worker)
listen: 127.0.0.1:$AGENT_PORT
node: $NODE_NAME
nodeGroup: $NODE_GROUP
tokenFile: /etc/nodewright/token
publicKeyFile: /etc/nodewright/controller.pub
stateDir: /var/lib/nodewright
log:
  level: info
YAML
systemctl restart nodewright-agent.service
systemctl is-active nodewright-agent.service
