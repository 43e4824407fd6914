#!/bin/bash
# build-kubelets.sh OUTDIR [STANDIN]  — build the kubelet stand-in "releases" v1, v2, v3-broken:
# tiny launchers around kubelet-standin.mjs, each with its own bytes and sha256.
# Prints "NAME SHA256 SIZE" lines (also written to OUTDIR/SHA256SUMS).
set -euo pipefail
out=${1:?usage: build-kubelets.sh OUTDIR [STANDIN]}
standin=${2:-/opt/nodewright/lab/worker/kubelet-standin.mjs}
mkdir -p "$out"
: > "$out/SHA256SUMS"
for v in v1 v2 v3-broken; do
  broken=0; case $v in *broken) broken=1 ;; esac
  f=$out/kubelet-$v
  cat > "$f.tmp" <<SH
#!/bin/sh
# kubelet STAND-IN build $v (nodewright lab; not a real kubelet)
KUBELET_STANDIN_VERSION=$v KUBELET_STANDIN_BROKEN=$broken exec /usr/bin/node $standin "\$@"
SH
  chmod 0755 "$f.tmp"; mv "$f.tmp" "$f"
  echo "kubelet-$v $(sha256sum "$f" | cut -d' ' -f1) $(stat -c %s "$f")" | tee -a "$out/SHA256SUMS"
done
