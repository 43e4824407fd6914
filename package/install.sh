#!/bin/bash
# install.sh — install (or upgrade) this nodewright package under /opt/nodewright, or remove it.
#   ./install.sh --trust-key KEY.pub TARBALL [--root DIR] [--no-start | --uninstall]
#                                            check TARBALL against TARBALL.sig (ed25519, openssl) with the
#                                            release public key BEFORE anything is unpacked or written, then
#                                            run its own install.sh (as below) from a private temp dir
#   ./install.sh [--root DIR] [--no-start]   install: files from PLAN, the unit, a link in /usr/local/bin,
#                                            the default config only if none is there (never overwritten)
#   ./install.sh --uninstall [--root DIR]    remove exactly what an install recorded, and nothing else:
#                                            configs the operator edited, state dirs and files it did not
#                                            install stay; files another nodewright package shares stay
# The package is checked against its MANIFEST (sha256 of every file) before anything is written
# (NW_PKG_INTEGRITY); that catches corruption, the signature (NW_PKG_SIGNATURE) catches a re-packed tarball.
# What was installed is recorded in /opt/nodewright/.installed/<unit>.list:
#   f <sha256> <path>   a file          c <sha256> <path>   a config this script created
#   l <target> <path>   a symlink       d - <dir>           a directory this script created
#   u - <unit>          the systemd unit
# --root DIR installs into a root prefix (tests, image builds): no systemctl calls then.
set -euo pipefail
umask 022
pkg=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=/ start=1 mode=install trust_key= tarball=

die() { echo "$1: $2" >&2; exit 2; }
usage() { sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
# temp files and dirs, all at unpredictable names (mktemp), removed on every exit
tmps=()
cleanup() { if [ ${#tmps[@]} -gt 0 ]; then rm -rf -- "${tmps[@]}"; fi; }
trap cleanup EXIT
while [ $# -gt 0 ]; do
  case $1 in
    --root) root=${2:?--root needs a directory}; shift 2 ;;
    --root=*) root=${1#--root=}; shift ;;
    --no-start) start=0; shift ;;
    --uninstall) mode=uninstall; shift ;;
    --trust-key) trust_key=${2:?--trust-key needs the release public key file}; shift 2 ;;
    --trust-key=*) trust_key=${1#--trust-key=}; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) die NW_USAGE "unknown argument '$1' (see --help)" ;;
    *) [ -z "$tarball" ] || die NW_USAGE "one package tarball at a time ('$tarball', then '$1')"; tarball=$1; shift ;;
  esac
done
[ -d "$root" ] || die NW_USAGE "--root $root is not a directory"
root=$(cd "$root" && pwd)
R() { printf '%s%s' "${root%/}" "$1"; }   # a path of the installed system, under --root
live=0; [ "$root" = / ] && [ -d /run/systemd/system ] && live=1
sha() { sha256sum "$1" | cut -d' ' -f1; }

# install_signed: TARBALL.sig checked with the operator's key before anything is unpacked or written;
# then the tarball is unpacked into a private temp dir and its own install.sh installs (or, with
# --uninstall, uninstalls) from there.
install_signed() {
  [ -n "$tarball" ] || die NW_USAGE "--trust-key needs the package tarball: install.sh --trust-key release.pub nodewright-agent-<version>-linux-x64.tar.gz"
  [ -f "$trust_key" ] || die NW_USAGE "--trust-key $trust_key: no such file (the release public key, e.g. release.key.pub from npm run release-key)"
  [ -f "$tarball" ] || die NW_USAGE "$tarball: no such file"
  [ -f "$tarball.sig" ] || die NW_PKG_SIGNATURE "$tarball.sig is missing: the package is unsigned; download the .sig published beside it (an unsigned package is never installed with --trust-key)"
  command -v openssl > /dev/null || die NW_PKG_SIGNATURE "openssl (3.0 or newer) is needed to check the signature: apt-get install openssl"
  local out
  if ! out=$(openssl pkeyutl -verify -pubin -inkey "$trust_key" -rawin -in "$tarball" -sigfile "$tarball.sig" 2>&1); then
    die NW_PKG_SIGNATURE "$tarball does not match $tarball.sig under the key $trust_key (tampered, or signed by another key; openssl: $(echo "$out" | head -1)): nothing was written; fetch the package and its .sig again and check that $trust_key is the release key you trust"
  fi
  echo "install.sh: $(basename "$tarball"): signature verified with $trust_key"
  local work
  work=$(mktemp -d)
  tmps+=("$work")
  tar -xzf "$tarball" -C "$work" --no-same-owner
  local dirs=("$work"/*)
  [ ${#dirs[@]} = 1 ] && [ -f "${dirs[0]}/install.sh" ] || die NW_PKG_INTEGRITY "$tarball holds no single nodewright package directory with an install.sh"
  local args=(--root "$root")
  [ $start = 1 ] || args+=(--no-start)
  [ $mode = install ] || args+=(--uninstall)
  NW_PKG_SIGNED=1 bash "${dirs[0]}/install.sh" "${args[@]}"
}

if [ -n "$trust_key" ]; then install_signed; exit; fi
[ -z "$tarball" ] || die NW_USAGE "a tarball argument needs --trust-key KEY.pub (its signature is checked first); or unpack it and run its install.sh"
[ -f "$pkg/PLAN" ] && [ -f "$pkg/MANIFEST" ] || die NW_PKG_INTEGRITY "$pkg has no PLAN or MANIFEST: not a nodewright package directory"
unit=$(awk -F'\t' '$1 == "unit" {print $2}' "$pkg/PLAN")
[ -n "$unit" ] || die NW_PKG_INTEGRITY "$pkg/PLAN names no unit"
prefix=/opt/nodewright
records=$prefix/.installed
record=$records/${unit%.service}.list

verify() {
  local bad
  bad=$(cd "$pkg" && sha256sum --check --strict MANIFEST 2>&1 | grep -v -e ': OK$' -e '^sha256sum: WARNING' || true)
  [ -z "$bad" ] || die NW_PKG_INTEGRITY "package files differ from MANIFEST (tampered or truncated download?): $(echo "$bad" | head -5 | tr '\n' ';') — fetch the package again"
  local src
  while IFS=$'\t' read -r kind src _; do
    case $kind in file|config) in_manifest "$src" || die NW_PKG_INTEGRITY "$src is in PLAN but not in MANIFEST" ;; esac
  done < "$pkg/PLAN"
  in_manifest PLAN || die NW_PKG_INTEGRITY "PLAN is not covered by MANIFEST"
}

# in_manifest PATH: MANIFEST has a line for exactly PATH (`<64 hex>  PATH`), not a longer or shorter name
in_manifest() { P=$1 awk 'length($1) == 64 && substr($0, 65, 2) == "  " && substr($0, 67) == ENVIRON["P"] {found = 1} END {exit !found}' "$pkg/MANIFEST"; }

# ensure_dir DIR MODE: create missing directories (under --root), recording each one created.
ensure_dir() {
  local d=$1 m=$2 missing=()
  while [ "$d" != / ] && [ ! -d "$(R "$d")" ]; do missing=("$d" "${missing[@]}"); d=$(dirname "$d"); done
  for d in "${missing[@]}"; do
    install -d -m "$m" "$(R "$d")"
    echo "d - $d" >> "$new"
  done
}

# put SRC DEST MODE: atomic replace (a mktemp file in the same directory, then rename).
put() {
  local tmp
  tmp=$(mktemp "$(R "$2").nw-tmp.XXXXXXXX")
  tmps+=("$tmp")
  cp "$pkg/$1" "$tmp"
  chmod "$3" "$tmp"
  mv -f "$tmp" "$(R "$2")"
}

old_entries() { [ -f "$(R "$record")" ] && cat "$(R "$record")" || true; }

do_install() {
  verify
  local work
  work=$(mktemp -d)
  tmps+=("$work")
  new=$work/record
  : > "$new"
  ensure_dir "$records" 0755
  local kind a b c wants
  while IFS=$'\t' read -r kind a b c; do
    case $kind in
      file)
        ensure_dir "$(dirname "$b")" 0755
        put "$a" "$b" "$c"
        echo "f $(sha "$pkg/$a") $b" >> "$new" ;;
      config)
        ensure_dir "$(dirname "$b")" 0700
        if [ -e "$(R "$b")" ] || [ -L "$(R "$b")" ]; then
          echo "install.sh: kept the existing $b"
          old_entries | awk -v p="$b" '$1 == "c" && $3 == p' >> "$new"   # created by an earlier install: still ours
        else
          put "$a" "$b" "$c"
          echo "c $(sha "$pkg/$a") $b" >> "$new"
        fi ;;
      link)
        ensure_dir "$(dirname "$b")" 0755
        if [ -e "$(R "$b")" ] && [ ! -L "$(R "$b")" ]; then die NW_EXISTS "$b exists and is not a symlink: move it away, then install again"; fi
        ln -sfn "$a" "$(R "$b")"
        echo "l $a $b" >> "$new" ;;
      unit)
        wants=/etc/systemd/system/$b.wants
        [ $live = 1 ] && [ ! -d "$wants" ] && echo "d - $wants" >> "$new"
        echo "u - $a" >> "$new" ;;
    esac
  done < "$pkg/PLAN"
  # dirs an earlier install created are still ours; files it installed that this version lacks go
  old_entries | awk '$1 == "d"' >> "$new"
  local k s p
  while read -r k s p; do
    [ "$k" = f ] || [ "$k" = l ] || continue
    awk -v p="$p" '($1 == "f" || $1 == "l") && $3 == p {found = 1} END {exit !found}' "$new" || rm -f "$(R "$p")"
  done < <(old_entries)
  local rec_tmp
  rec_tmp=$(mktemp "$(R "$record").nw-tmp.XXXXXXXX")
  tmps+=("$rec_tmp")
  sort -u -k3,3 -k1,1 "$new" > "$rec_tmp"
  chmod 0644 "$rec_tmp"
  mv -f "$rec_tmp" "$(R "$record")"
  echo "install.sh: installed $(basename "$pkg") under $root (record: $record)"
  if [ $live = 1 ]; then
    systemctl daemon-reload
    systemctl enable --quiet "$unit"
    local startIf
    startIf=$(awk -F'\t' '$1 == "unit" {print $4}' "$pkg/PLAN")
    if [ $start = 1 ] && [ -e "$startIf" ]; then
      systemctl restart "$unit"
      echo "install.sh: $unit restarted: $(systemctl is-active "$unit" || true)"
    else
      echo "install.sh: $unit enabled, not started$([ -e "$startIf" ] || echo " ($startIf is missing)")"
    fi
  else
    echo "install.sh: no systemd here (or --root): reload and enable $unit yourself"
  fi
}

do_uninstall() {
  [ -f "$(R "$record")" ] || die NW_NOT_FOUND "nothing to uninstall: no record $record under $root"
  if [ $live = 1 ]; then systemctl disable --now --quiet "$unit" 2>/dev/null || true; fi
  # paths another installed nodewright package recorded stay (the shared node, /opt/nodewright, /etc/nodewright)
  local shared
  shared=$(find "$(R "$records")" -name '*.list' ! -path "$(R "$record")" -exec awk '{print $3}' {} + 2>/dev/null | sort -u || true)
  is_shared() { [ -n "$shared" ] && grep -qxF "$1" <<< "$shared"; }
  local k s p
  while read -r k s p; do
    is_shared "$p" && continue
    case $k in
      f|l) rm -f "$(R "$p")" ;;
      c) if [ -f "$(R "$p")" ] && [ "$(sha "$(R "$p")")" = "$s" ]; then rm -f "$(R "$p")"; elif [ -e "$(R "$p")" ]; then echo "install.sh: kept $p (changed since install)"; fi ;;
    esac
  done < "$(R "$record")"
  local dirs
  dirs=$(awk '$1 == "d" {print $3}' "$(R "$record")" | awk '{print length, $0}' | sort -rn | cut -d' ' -f2-)
  rm -f "$(R "$record")"
  # a directory still holding another package's files is handed over to that package's record
  local heir kept=()
  heir=$(find "$(R "$records")" -name '*.list' 2>/dev/null | head -1 || true)
  while read -r p; do
    [ -n "$p" ] || continue
    is_shared "$p" && continue
    rmdir "$(R "$p")" 2>/dev/null || { [ -d "$(R "$p")" ] && kept+=("$p"); } || true
  done <<< "$dirs"
  for p in "${kept[@]}"; do
    if [ -n "$heir" ]; then echo "d - $p" >> "$heir"; else echo "install.sh: kept $p (not empty: files nodewright did not install)"; fi
  done
  if [ $live = 1 ]; then systemctl daemon-reload; fi
  echo "install.sh: uninstalled $unit from $root"
}

if [ $mode = install ] && [ "${NW_PKG_SIGNED:-}" != 1 ]; then
  echo "install.sh: package signature not checked (install.sh --trust-key release.pub TARBALL checks it before unpacking); MANIFEST checked" >&2
fi
if [ $mode = install ]; then do_install; else do_uninstall; fi
