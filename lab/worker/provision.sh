#!/bin/bash
# provision.sh — run INSIDE a booted worker container (via lab/systemd/exec.sh) as root.
# Installs the lab's kubelet stand-ins and the seed-shaped kubelet.service, then the agent PACKAGE
# with its install.sh (the unit, /opt/nodewright with its own node) and starts both.
#   KUBELET_PORT, AGENT_PORT   ports (the container shares the host's network: pick free ones)
#   LAB_SHARE=/lab             controller.pub, token, kubelets/ (from build-kubelets.sh)
#   W=/opt/nodewright-lab/worker   lab/worker (fixtures), bind-mounted read-only
#   P=/opt/nodewright-lab/pkg      dist/pkg (npm run package), bind-mounted read-only; TARBALL= its agent package
#   HEALTH_TIMEOUT_SEC=8  WATCHDOG_SEC=  (drop-in override)
#   MIN_HEALTHY_SEC=1     kubelet.minHealthySec (must be below HEALTH_TIMEOUT_SEC)
#   Phase pauses for kill -9 tests: /etc/nodewright/lab-hooks.json, read at agent start by the
#   lab-only bundle dist/pkg/lab/agent-hooked.mjs (never in the package; installed here as
#   /opt/nodewright/lab/agent-hooked.mjs, run by the package's node through a drop-in)
#   KUBELET_IMAGE_TAG=v1.7.10  the unit's initial tag (the seed's); image stand-ins in /opt/kubelet-images:
#     v1, v2, v3-broken = the share's kubelet builds; v1.7.10 = /usr/local/bin/kubelet (what the binary kind installs)
#   PROBE_TIMEOUT_SEC=30  per-command limit of the Ceph probes (a wrong key costs this much per probe)
#   NODE_GROUP=           the agent's nodeGroup (empty: none; bundles bound to a group are then refused)
set -euo pipefail
: "${KUBELET_PORT:?}" "${AGENT_PORT:?}"
LAB_SHARE=${LAB_SHARE:-/lab}
W=${W:-/opt/nodewright-lab/worker}
P=${P:-/opt/nodewright-lab/pkg}
: "${TARBALL:?}"

# What the seed's unit needs on a CoreOS host; here as lab fixtures.
mkdir -p /usr/lib/modules /etc/kubernetes/manifests /opt/bin /run/kubelet-standin
[ -e /usr/sbin/modprobe ] || { printf '#!/bin/sh\nexit 0\n' > /usr/sbin/modprobe; chmod 755 /usr/sbin/modprobe; }
echo "CLUSTER_NAME=nodewright-lab" > /etc/cluster-envs
install -m 0755 "$W/kubelet-wrapper-standin.sh" /opt/bin/kubelet-wrapper
install -m 0755 "$LAB_SHARE/kubelets/kubelet-v1" /usr/local/bin/kubelet
# "Images" for the wrapper stand-in, one directory per KUBELET_IMAGE_TAG (stand-in for hyperkube:<tag>).
for v in v1 v2 v3-broken; do install -D -m 0755 "$LAB_SHARE/kubelets/kubelet-$v" "/opt/kubelet-images/$v/kubelet"; done
mkdir -p /opt/kubelet-images/v1.7.10 && ln -sfn /usr/local/bin/kubelet /opt/kubelet-images/v1.7.10/kubelet
# The kubelet stand-in's code, where the share's kubelet builds exec it (make-share.sh).
install -D -m 0644 "$W/kubelet-standin.mjs" /opt/nodewright/lab/worker/kubelet-standin.mjs
sed "s/@KUBELET_PORT@/$KUBELET_PORT/; s/^Environment=KUBELET_IMAGE_TAG=v1.7.10\$/Environment=KUBELET_IMAGE_TAG=${KUBELET_IMAGE_TAG:-v1.7.10}/" "$W/kubelet.service.in" > /etc/systemd/system/kubelet.service

# The agent.
install -d -m 0700 /etc/nodewright
install -m 0600 "$LAB_SHARE/token" /etc/nodewright/token
install -m 0644 "$LAB_SHARE/controller.pub" /etc/nodewright/controller.pub
cat > /etc/nodewright/agent.yaml <<YAML
# nodewright agent (lab worker)
listen: 127.0.0.1:$AGENT_PORT
tokenFile: /etc/nodewright/token
publicKeyFile: /etc/nodewright/controller.pub
stateDir: /var/lib/nodewright
${NODE_GROUP:+nodeGroup: $NODE_GROUP}
kubelet:
  healthUrl: http://127.0.0.1:$KUBELET_PORT/healthz
  healthTimeoutSec: ${HEALTH_TIMEOUT_SEC:-8}
  minHealthySec: ${MIN_HEALTHY_SEC:-1}
drift:
  debounceMs: 50
probes:
  timeoutSec: ${PROBE_TIMEOUT_SEC:-30}
log:
  level: info
YAML
echo '{"pauseMs": {}}' > /etc/nodewright/lab-hooks.json
# The lab-only hooked entry beside the package (not in it), run by the package's own node.
install -D -m 0644 "$P/lab/agent-hooked.mjs" /opt/nodewright/lab/agent-hooked.mjs
cp -r "$P/lab/pino" /opt/nodewright/lab/
mkdir -p /etc/systemd/system/nodewright-agent.service.d
printf '[Service]\nExecStart=\nExecStart=/opt/nodewright/node/bin/node /opt/nodewright/lab/agent-hooked.mjs run --config /etc/nodewright/agent.yaml\n' \
  > /etc/systemd/system/nodewright-agent.service.d/40-lab-hooks.conf
if [ -n "${WATCHDOG_SEC:-}" ]; then
  printf '[Service]\nWatchdogSec=%s\nRestartSec=1\n' "$WATCHDOG_SEC" > /etc/systemd/system/nodewright-agent.service.d/50-lab-watchdog.conf
fi
# The package, as an operator installs it (it keeps the agent.yaml written above).
bash "$W/install-agent.sh" "$P/$TARBALL" --no-start
systemctl start kubelet.service
systemctl start nodewright-agent.service
systemctl is-active nodewright-agent.service
