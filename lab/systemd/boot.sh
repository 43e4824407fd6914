#!/bin/bash
# Adapted from the shared systemd lab recipe (labs/systemd): boots a real systemd 252 in systemd-nspawn.
# boot.sh [extra systemd-nspawn options...]
#
# Boot a real systemd (PID 1) in a systemd-nspawn container, in the background.
# Two root filesystems (LAB_MODE):
#   rootfs  (default) minimal Debian from debootstrap, built once and cached as
#           a zstd tarball, unpacked once, booted with a tmpfs overlay on top.
#   hostusr no download at all: the HOST's /usr (read-only, + tmpfs overlay),
#           a pruned copy of the host's /etc (no host-enabled units), tmpfs for
#           everything else. Needs systemd installed (not running) on the host.
# Prints the container leader's host pid when `systemctl is-system-running`
# reports running/degraded. Stop it with stop.sh, run commands with exec.sh.
#
#   LAB_MODE=rootfs|hostusr  see above
#   LAB_NAME=nwworker         instance name (state in /run/nodewright-lab/$LAB_NAME)
#   LAB_VOLATILE=overlay   writes land in a tmpfs overlay and vanish at stop
#                          (cache stays pristine, no re-extract per run);
#                          'no' = write into LAB_ROOT (then use LAB_FRESH=1)
#   LAB_FRESH=1            re-extract LAB_ROOT from the cached tarball
#   LAB_PRIVATE_NET=1      add --private-network (loopback only)
#   LAB_NODE=/usr/bin/node host node binary bind-mounted read-only at /usr/bin/node
#                          (empty = none)
# Needs: root, systemd-container (systemd-nspawn), debootstrap (first build), zstd.
set -euo pipefail
. "$(dirname "$0")/common.sh"

[ "$(id -u)" = 0 ] || { echo "boot.sh: must run as root" >&2; exit 1; }
for t in systemd-nspawn nsenter $([ "$LAB_MODE" = rootfs ] && echo zstd); do
  command -v $t >/dev/null || { echo "boot.sh: missing $t (apt-get install systemd-container util-linux zstd)" >&2; exit 1; }
done
case "$LAB_MODE" in rootfs|hostusr) ;; *) echo "boot.sh: LAB_MODE must be rootfs or hostusr" >&2; exit 1;; esac
if [ -d "$LAB_STATE" ]; then
  echo "boot.sh: previous instance state found for $LAB_NAME; stopping it first" >&2
  "$LAB_DIR/stop.sh" >&2
fi
rm -rf "$LAB_STATE"; mkdir -p "$LAB_STATE" "$(dirname "$LAB_CACHE_TAR")"
: > "$LAB_STATE/timings"
note() { echo "$*" | tee -a "$LAB_STATE/timings"; }

if [ "$LAB_MODE" = rootfs ]; then
# 1. Build + cache the rootfs tarball (only when missing). ----------------------
if [ ! -s "$LAB_CACHE_TAR" ]; then
  command -v debootstrap >/dev/null || { echo "boot.sh: missing debootstrap (apt-get install debootstrap)" >&2; exit 1; }
  build=$(dirname "$LAB_CACHE_TAR")/build.$$
  rm -rf "$build"
  t0=$(lab_now)
  debootstrap --variant=minbase --include="$LAB_INCLUDE" "$LAB_SUITE" "$build" "$(lab_mirror)" \
    > "$LAB_STATE/debootstrap.log" 2>&1 || { echo "debootstrap failed, see $LAB_STATE/debootstrap.log" >&2; tail -20 "$LAB_STATE/debootstrap.log" >&2; exit 1; }
  t1=$(lab_now)
  # Slim it down and make it boot quietly/quickly in a container.
  systemctl --root="$build" set-default multi-user.target >/dev/null 2>&1
  systemctl --root="$build" mask console-getty.service getty@tty1.service \
    apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
    fstrim.timer e2scrub_reap.service systemd-pstore.service >/dev/null 2>&1
  : > "$build/etc/machine-id"                     # unique per boot, not baked in
  rm -f "$build/var/lib/dbus/machine-id" "$build/etc/hostname"   # hostname = machine name
  rm -rf "$build"/var/cache/apt/*.bin "$build"/var/cache/apt/archives/*.deb \
         "$build"/var/lib/apt/lists/* "$build"/usr/share/doc/* "$build"/usr/share/man/* \
         "$build"/usr/share/info/* "$build"/usr/share/locale/* "$build"/var/log/*.log
  mkdir -p "$build/lab"                          # mount point for host shares
  tar -C "$build" --numeric-owner --xattrs --acls -cf - . | zstd -q -T0 -3 -o "$LAB_CACHE_TAR.tmp"
  mv "$LAB_CACHE_TAR.tmp" "$LAB_CACHE_TAR"
  rm -rf "$build"
  t2=$(lab_now)
  note "debootstrap_s=$(lab_dt $t0 $t1) slim+tar_s=$(lab_dt $t1 $t2) tarball=$(du -h "$LAB_CACHE_TAR" | cut -f1)"
fi

# 2. Unpack the tarball (only when missing/stale or LAB_FRESH=1). --------------
if [ "${LAB_FRESH:-0}" = 1 ] || [ ! -f "$LAB_ROOT/.lab-stamp" ] || [ "$LAB_CACHE_TAR" -nt "$LAB_ROOT/.lab-stamp" ]; then
  t0=$(lab_now)
  rm -rf "$LAB_ROOT.tmp" "$LAB_ROOT"; mkdir -p "$LAB_ROOT.tmp"
  zstd -q -dc "$LAB_CACHE_TAR" | tar -C "$LAB_ROOT.tmp" --numeric-owner --xattrs --acls -xpf -
  touch "$LAB_ROOT.tmp/.lab-stamp"; mv "$LAB_ROOT.tmp" "$LAB_ROOT"
  note "extract_s=$(lab_dt $t0 $(lab_now)) rootfs=$(du -sh "$LAB_ROOT" | cut -f1)"
fi
fi

if [ "$LAB_MODE" = hostusr ]; then
  # 1'. Private, pruned copy of the host's /etc (the host's /usr is used as is).
  [ -x /lib/systemd/systemd ] || { echo "boot.sh: hostusr mode needs systemd installed on the host" >&2; exit 1; }
  t0=$(lab_now)
  cp -a /etc "$LAB_STATE/etc"
  e=$LAB_STATE/etc
  find "$e/systemd/system" -mindepth 1 -maxdepth 1 -name '*.wants' -exec rm -rf {} +  # host-enabled units
  : > "$e/fstab"; : > "$e/machine-id"; rm -f "$e/hostname"
  for u in console-getty.service getty@tty1.service systemd-firstboot.service; do ln -sfn /dev/null "$e/systemd/system/$u"; done
  note "hostusr_etc_copy_s=$(lab_dt $t0 $(lab_now)) etc=$(du -sh "$e" | cut -f1)"
fi

# 3. Boot. -----------------------------------------------------------------------
cgdirs=$(lab_cgroup_dirs)
for d in $cgdirs; do mkdir -p "$d"; done
echo "$cgdirs" > "$LAB_STATE/cgroups"
args=(-q -M "$LAB_NAME" -b
      --register=no        # no systemd-machined on the host
      --keep-unit          # don't ask a (non-existent) host systemd for a scope
      --console=read-only) # boot messages go to console.log, no tty needed
if [ "$LAB_MODE" = hostusr ]; then
  # / = tmpfs, /usr = host /usr (ro) with a tmpfs overlay so it is writable,
  # /etc = our copy (writable; the agent's edits are visible on the host there).
  args+=(-D / --volatile=yes --bind="$LAB_STATE/etc:/etc" --overlay=/usr::/usr)
else
  args+=(-D "$LAB_ROOT" --volatile="$LAB_VOLATILE")
  LAB_NODE=${LAB_NODE-$(command -v node || true)}
  [ -n "$LAB_NODE" ] && args+=(--bind-ro="$(readlink -f "$LAB_NODE"):/usr/bin/node")
fi
[ "${LAB_PRIVATE_NET:-0}" = 1 ] && args+=(--private-network)
args+=("$@")
echo "systemd-nspawn ${args[*]}" > "$LAB_STATE/cmdline"

t0=$(lab_now)
(
  # Put nspawn into cgroups we own (it creates payload/ + supervisor/ below).
  for d in $cgdirs; do echo $BASHPID > "$d/cgroup.procs"; done
  exec setsid systemd-nspawn "${args[@]}"
) </dev/null >"$LAB_STATE/console.log" 2>&1 &
nspawn=$!
echo "$nspawn" > "$LAB_STATE/nspawn.pid"

leader=
for _ in $(seq 1 200); do
  kill -0 "$nspawn" 2>/dev/null || { echo "boot.sh: systemd-nspawn exited early:" >&2; cat "$LAB_STATE/console.log" >&2; exit 1; }
  leader=$(pgrep -P "$nspawn" -x systemd || true)
  [ -n "$leader" ] && break
  sleep 0.05
done
[ -n "$leader" ] || { echo "boot.sh: no container init appeared" >&2; cat "$LAB_STATE/console.log" >&2; exit 1; }
echo "$leader" > "$LAB_STATE/leader.pid"
t1=$(lab_now)

# systemctl needs /run/systemd/private before it can even ask.
for _ in $(seq 1 400); do
  nsenter -t "$leader" -a test -S /run/systemd/private 2>/dev/null && break
  sleep 0.05
done
state=$(timeout "$LAB_BOOT_TIMEOUT" nsenter -t "$leader" -a env -i PATH=$LAB_PATH systemctl is-system-running --wait 2>&1 || true)
t2=$(lab_now)
note "init_spawned_s=$(lab_dt $t0 $t1) boot_to_${state}_s=$(lab_dt $t0 $t2)"

# Memory: PSS of everything inside the container's cgroup + nspawn itself.
pss_kb=0
for p in $nspawn $(cat $(find "$(echo "$cgdirs" | head -1)" -name cgroup.procs) 2>/dev/null); do
  v=$(awk '/^Pss:/{print $2}' /proc/$p/smaps_rollup 2>/dev/null || true)
  pss_kb=$((pss_kb + ${v:-0}))
done
note "processes=$(cat $(find "$(echo "$cgdirs" | head -1)" -name cgroup.procs) | wc -l) pss_MiB=$((pss_kb / 1024))"

case "$state" in
  running|degraded) echo "LAB_NAME=$LAB_NAME NSPAWN_PID=$nspawn LEADER_PID=$leader STATE=$state" ;;
  *) echo "boot.sh: container did not reach running (state: $state)" >&2; exit 1 ;;
esac
