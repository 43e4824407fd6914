# Shared settings for boot.sh / exec.sh / stop.sh (sourced, not executed).
# Everything can be overridden from the environment.
LAB_DIR=${LAB_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
LAB_MODE=${LAB_MODE:-hostusr}                    # hostusr (default: nothing to download) | rootfs
LAB_NAME=${LAB_NAME:-nwworker}                       # container/machine name; one state dir per name
LAB_STATE=${LAB_STATE:-/run/nodewright-lab/$LAB_NAME} # pids, logs, timings of the running instance
LAB_SUITE=${LAB_SUITE:-bookworm}
LAB_INCLUDE=${LAB_INCLUDE:-systemd,systemd-sysv,dbus}
LAB_CACHE_TAR=${LAB_CACHE_TAR:-/var/cache/nodewright-lab/$LAB_SUITE-systemd.tar.zst}
LAB_ROOT=${LAB_ROOT:-/var/cache/nodewright-lab/$LAB_SUITE-systemd.root}   # unpacked tarball (kept pristine with volatile=overlay)
LAB_VOLATILE=${LAB_VOLATILE:-overlay}   # overlay: container writes go to a tmpfs overlay, dropped at stop
LAB_BOOT_TIMEOUT=${LAB_BOOT_TIMEOUT:-60}
LAB_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

lab_mirror() {
  # The Debian mirror apt already uses (deb822 or one-line format).
  local m
  m=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$m" ] || m=$(awk '$1=="deb"{for(i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list 2>/dev/null || true)
  echo "${m:-http://deb.debian.org/debian}"
}

# cgroup directories (one per mounted hierarchy nspawn cares about) that we
# create for the container so nspawn's payload/supervisor sub-cgroups land
# under a name we own and can remove, instead of the host's root cgroup.
lab_cgroup_dirs() {
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then          # pure cgroup v2
    echo "/sys/fs/cgroup/lab-$LAB_NAME"
  else                                                      # legacy / hybrid
    [ -d /sys/fs/cgroup/systemd ] && echo "/sys/fs/cgroup/systemd/lab-$LAB_NAME"
    [ -d /sys/fs/cgroup/unified ] && echo "/sys/fs/cgroup/unified/lab-$LAB_NAME"
  fi
  return 0
}

lab_now() { date +%s.%N; }
lab_dt() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b-a}'; }

# Prints the container's PID 1 (host pid) if the instance is up, else fails.
lab_leader() {
  local l
  l=$(cat "$LAB_STATE/leader.pid" 2>/dev/null) || { echo "no running instance ($LAB_STATE)" >&2; return 1; }
  [ "$(cat /proc/$l/comm 2>/dev/null)" = systemd ] || { echo "leader pid $l is not systemd (stale state?)" >&2; return 1; }
  echo "$l"
}
