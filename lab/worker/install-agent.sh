#!/bin/bash
# install-agent.sh TARBALL [install.sh args…] — run INSIDE a worker: unpack the agent package to a
# temp dir, run its install.sh, remove the unpacked copy. Shared by provision.sh and lab/native.
set -euo pipefail
tarball=${1:?usage: install-agent.sh TARBALL [install.sh args...]}; shift
tmp=$(mktemp -d /tmp/nw-pkg.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$tarball" -C "$tmp"
"$tmp"/nodewright-agent-*-linux-x64/install.sh "$@"
