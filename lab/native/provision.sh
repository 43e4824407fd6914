#!/bin/bash
# provision.sh — run INSIDE the booted native worker (via lab/systemd/exec.sh) as root: the agent
# as the shipped systemd service, listening on loopback with the share's token and signing key.
# Nothing else: ceph-common is NOT installed here (the agent's packages step installs it).
#   AGENT_PORT  NODE_NAME  LAB_SHARE=/lab  NW=/opt/nodewright
set -euo pipefail
: "${AGENT_PORT:?}" "${NODE_NAME:?}"
LAB_SHARE=${LAB_SHARE:-/lab}
NW=${NW:-/opt/nodewright}
install -d -m 0700 /etc/nodewright
install -m 0600 "$LAB_SHARE/token" /etc/nodewright/token
install -m 0644 "$LAB_SHARE/controller.pub" /etc/nodewright/controller.pub
cat > /etc/nodewright/agent.yaml <<YAML
# nodewright agent (native-kubelet lab worker)
listen: 127.0.0.1:$AGENT_PORT
node: $NODE_NAME
tokenFile: /etc/nodewright/token
publicKeyFile: /etc/nodewright/controller.pub
stateDir: /var/lib/nodewright
log:
  level: info
YAML
install -d /usr/local/bin
printf '#!/bin/sh\nexec /usr/bin/node %s/dist/agent/cli.js "$@"\n' "$NW" > /usr/local/bin/nodewright-agent
chmod 755 /usr/local/bin/nodewright-agent
install -m 0644 "$NW/systemd/units/nodewright-agent.service" /etc/systemd/system/nodewright-agent.service
systemctl daemon-reload
systemctl start nodewright-agent.service
systemctl is-active nodewright-agent.service
