#!/usr/bin/env bash
# Install the Debian packages the labs and tests need (idempotent; root).
# --check: only say whether they are all installed (exit 1 and name the missing ones); no root needed.
set -euo pipefail
check=0
[ "${1:-}" = --check ] && check=1
[ "$check" = 1 ] || [ "$(id -u)" = 0 ] || { echo "install-deps.sh: run as root" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
PKGS=(
  # systemd workers (systemd-nspawn) and their tools; the native-kubelet worker's Debian root (lab/native)
  systemd-container iproute2 util-linux curl python3 debootstrap zstd
  # the kubelet build driver (git worktree, make)
  git make
  # ceph lab + client tools
  ceph-mon ceph-osd ceph-mgr ceph-mds ceph-common ceph-fuse attr
  # nova lab and the python-openstackclient baseline for bench P4
  nova-api nova-conductor nova-scheduler placement-api rabbitmq-server glance-api python3-openstackclient python3-keystone uwsgi-plugin-python3
  # cinder on the ceph lab (NOVA_LAB_CINDER=1): RBD driver, image conversion, its PostgreSQL
  cinder-api cinder-scheduler cinder-volume python3-rbd python3-rados qemu-utils sudo postgresql python3-psycopg2 jq bc
  # npm run package: node-gyp builds better-sqlite3 against the packaged Node's headers (with make above)
  g++
  # install.sh --trust-key checks release signatures with openssl pkeyutl (test/integration/package)
  openssl
  # the rollout gates and the fleet scrape (lab/prometheus): Debian's Prometheus server (promtool ships with it)
  prometheus
  # npm run package: the .debs (dpkg-deb, checked by lintian) and the systemd-sysext image (mksquashfs)
  dpkg-dev lintian squashfs-tools
  # the HA election's partition test and bench P9 cut one connection with iptables in a private network namespace
  iptables
  # the dashboard's browser tests, screenshots and bench P10: Debian's Chromium, driven by playwright-core
  chromium
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then echo "install-deps: all packages present"; exit 0; fi
if [ "$check" = 1 ]; then echo "install-deps: missing ${missing[*]}" >&2; exit 1; fi
# Keep package postinst scripts from starting daemons on this machine.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; added_policy=1
fi
echo "install-deps: installing ${missing[*]}"
apt-get update -q -o DPkg::Lock::Timeout=600
apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}"
[ "${added_policy:-0}" = 1 ] && rm -f /usr/sbin/policy-rc.d
echo "install-deps: done"
