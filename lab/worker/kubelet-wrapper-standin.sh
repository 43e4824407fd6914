#!/bin/bash
# STAND-IN for CoreOS kubelet-wrapper (no rkt is packaged for Debian). Like the real wrapper it
# reads RKT_RUN_ARGS (or RKT_OPTS), KUBELET_IMAGE_URL and KUBELET_IMAGE_TAG; instead of
# `rkt run … ${KUBELET_IMAGE_URL}:${KUBELET_IMAGE_TAG}` (the hyperkube image) it
#  - selects the "image" by tag the way the real wrapper does: $KUBELET_IMAGES/<tag>/kubelet
#    (default /opt/kubelet-images; provision.sh fills it from the share's stand-in builds),
#    failing clearly when the tag has no image (as `rkt fetch` would),
#  - performs each `--volume NAME,kind=host,source=SRC[,readOnly=true]` + `--mount
#    volume=NAME,target=DST` as a bind mount in a private mount namespace (unshare -m), failing
#    when a source is missing, then execs that image's kubelet with the wrapper's arguments.
set -euo pipefail
KUBELET_IMAGES=${KUBELET_IMAGES:-/opt/kubelet-images}
KUBELET_IMAGE_URL=${KUBELET_IMAGE_URL:-quay.io/coreos/hyperkube}
tag=${KUBELET_IMAGE_TAG:-}
[ -n "$tag" ] || { echo "kubelet-wrapper stand-in: KUBELET_IMAGE_TAG is not set (the real wrapper needs it too)" >&2; exit 3; }
case $tag in */*|.*) echo "kubelet-wrapper stand-in: invalid KUBELET_IMAGE_TAG '$tag'" >&2; exit 3 ;; esac
image=$KUBELET_IMAGES/$tag/kubelet
if [ ! -x "$image" ]; then
  echo "kubelet-wrapper stand-in: no image ${KUBELET_IMAGE_URL}:${tag} ($image is missing; images: $(ls "$KUBELET_IMAGES" 2>/dev/null | tr '\n' ' '))" >&2
  exit 3
fi
export KUBELET_STANDIN_IMAGE="${KUBELET_IMAGE_URL}:${tag}"
args=${RKT_RUN_ARGS:-${RKT_OPTS:-}}

if [ -z "${NW_WRAPPER_IN_NS:-}" ]; then
  export NW_WRAPPER_IN_NS=1
  exec unshare -m --propagation private -- "$0" "$@"
fi

declare -A src ro
targets=()
names=()
read -ra w <<< "$args"
i=0
while [ $i -lt ${#w[@]} ]; do
  t=${w[$i]}
  case "$t" in
    --volume|--mount) i=$((i + 1)); spec=${w[$i]:-}; kind=${t#--} ;;
    --volume=*|--mount=*) spec=${t#*=}; kind=${t%%=*}; kind=${kind#--} ;;
    *) i=$((i + 1)); continue ;;
  esac
  i=$((i + 1))
  if [ "$kind" = volume ]; then
    name=${spec%%,*}
    s=$(tr ',' '\n' <<< "$spec" | sed -n 's/^source=//p')
    [ -n "$s" ] || { echo "kubelet-wrapper stand-in: --volume $spec has no source=" >&2; exit 2; }
    src[$name]=$s
    tr ',' '\n' <<< "$spec" | grep -qx 'readOnly=true' && ro[$name]=1 || true
  else
    v=$(tr ',' '\n' <<< "$spec" | sed -n 's/^volume=//p')
    tgt=$(tr ',' '\n' <<< "$spec" | sed -n 's/^target=//p')
    names+=("$v"); targets+=("$tgt")
  fi
done

for n in "${!names[@]}"; do
  v=${names[$n]}; tgt=${targets[$n]}
  s=${src[$v]:-}
  [ -n "$s" ] || { echo "kubelet-wrapper stand-in: --mount volume=$v has no matching --volume" >&2; exit 2; }
  [ -e "$s" ] || { echo "kubelet-wrapper stand-in: volume $v source $s does not exist" >&2; exit 2; }
  if [ -d "$s" ]; then mkdir -p "$tgt"; else mkdir -p "$(dirname "$tgt")"; [ -e "$tgt" ] || : > "$tgt"; fi
  mount --bind "$s" "$tgt"
  [ -n "${ro[$v]:-}" ] && mount -o remount,bind,ro "$tgt"
  echo "kubelet-wrapper stand-in: bound $s -> $tgt (volume $v)"
done
echo "kubelet-wrapper stand-in: image $KUBELET_STANDIN_IMAGE ($image); exec kubelet $*"
exec "$image" "$@"
