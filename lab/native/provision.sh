#!/bin/bash
# provision.sh — run INSIDE the booted native worker (via lab/systemd/exec.sh) as root: the agent
# PACKAGE installed with its install.sh (unit, /opt/nodewright with its own node), listening on
# loopback with the share's token and signing key.
# Nothing else: ceph-common is NOT installed here (the agent's packages step installs it).
#   AGENT_PORT  NODE_NAME  NODE_GROUP=native (bundles bound to another group are refused)  LAB_SHARE=/lab
#   TARBALL  the agent package in P=/opt/nodewright-lab/pkg (dist/pkg, read-only)  SRC=/opt/nodewright-lab/src (lab/)
set -euo pipefail
: "${AGENT_PORT:?}" "${NODE_NAME:?}"
LAB_SHARE=${LAB_SHARE:-/lab}
P=${P:-/opt/nodewright-lab/pkg}
SRC=${SRC:-/opt/nodewright-lab/src}
: "${TARBALL:?}"
NODE_GROUP=${NODE_GROUP:-native}
install -d -m 0700 /etc/nodewright
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
# The package, as an operator installs it: keeps the agent.yaml above, enables and starts the unit.
bash "$SRC/worker/install-agent.sh" "$P/$TARBALL"
systemctl is-active nodewright-agent.service
