#!/bin/bash
# install.sh — install (or upgrade) this nodewright package under /opt/nodewright, or remove it.
#   ./install.sh [--root DIR] [--no-start]   install: files from PLAN, the unit, a link in /usr/local/bin,
#                                            the default config only if none is there (never overwritten)
#   ./install.sh --uninstall [--root DIR]    remove exactly what an install recorded, and nothing else:
#                                            configs the operator edited, state dirs and files it did not
#                                            install stay; files another nodewright package shares stay
# The package is checked against its MANIFEST (sha256 of every file) before anything is written
# (NW_PKG_INTEGRITY). What was installed is recorded in /opt/nodewright/.installed/<unit>.list:
#   f <sha256> <path>   a file          c <sha256> <path>   a config this script created
#   l <target> <path>   a symlink       d - <dir>           a directory this script created
#   u - <unit>          the systemd unit
# --root DIR installs into a root prefix (tests, image builds): no systemctl calls then.
set -euo pipefail
umask 022
pkg=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=/ start=1 mode=install

die() { echo "$1: $2" >&2; exit 2; }
usage() { sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --root) root=${2:?--root needs a directory}; shift 2 ;;
    --root=*) root=${1#--root=}; shift ;;
    --no-start) start=0; shift ;;
    --uninstall) mode=uninstall; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die NW_USAGE "unknown argument '$1' (see --help)" ;;
  esac
done
[ -d "$root" ] || die NW_USAGE "--root $root is not a directory"
root=$(cd "$root" && pwd)
R() { printf '%s%s' "${root%/}" "$1"; }   # a path of the installed system, under --root
live=0; [ "$root" = / ] && [ -d /run/systemd/system ] && live=1
sha() { sha256sum "$1" | cut -d' ' -f1; }

[ -f "$pkg/PLAN" ] && [ -f "$pkg/MANIFEST" ] || die NW_PKG_INTEGRITY "$pkg has no PLAN or MANIFEST: not a nodewright package directory"
unit=$(awk -F'\t' '$1 == "unit" {print $2}' "$pkg/PLAN")
[ -n "$unit" ] || die NW_PKG_INTEGRITY "$pkg/PLAN names no unit"
prefix=/opt/nodewright
records=$prefix/.installed
record=$records/${unit%.service}.list

verify() {
  local bad
  bad=$(cd "$pkg" && sha256sum --check --strict MANIFEST 2>&1 | grep -v ': OK$' || true)
  [ -z "$bad" ] || die NW_PKG_INTEGRITY "package files differ from MANIFEST (tampered or truncated download?): $(echo "$bad" | head -5 | tr '\n' ';') — fetch the package again"
  local src
  while IFS=$'\t' read -r kind src _; do
    case $kind in file|config) grep -qF "  $src" "$pkg/MANIFEST" || die NW_PKG_INTEGRITY "$src is in PLAN but not in MANIFEST" ;; esac
  done < "$pkg/PLAN"
  grep -qF '  PLAN' "$pkg/MANIFEST" || die NW_PKG_INTEGRITY "PLAN is not covered by MANIFEST"
}

# ensure_dir DIR MODE: create missing directories (under --root), recording each one created.
ensure_dir() {
  local d=$1 m=$2 missing=()
  while [ "$d" != / ] && [ ! -d "$(R "$d")" ]; do missing=("$d" "${missing[@]}"); d=$(dirname "$d"); done
  for d in "${missing[@]}"; do
    install -d -m "$m" "$(R "$d")"
    echo "d - $d" >> "$new"
  done
}

# put SRC DEST MODE: atomic replace (temp file in the same directory, then rename).
put() {
  local tmp
  tmp="$(R "$2").nw-tmp.$$"
  cp "$pkg/$1" "$tmp"
  chmod "$3" "$tmp"
  mv -f "$tmp" "$(R "$2")"
}

old_entries() { [ -f "$(R "$record")" ] && cat "$(R "$record")" || true; }

do_install() {
  verify
  new=$(mktemp)
  trap 'rm -f "$new"' EXIT
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
  sort -u -k3,3 -k1,1 "$new" > "$(R "$record").tmp"
  mv -f "$(R "$record").tmp" "$(R "$record")"
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
  while read -r p; do
    [ -n "$p" ] || continue
    is_shared "$p" && continue
    rmdir "$(R "$p")" 2>/dev/null || { [ -d "$(R "$p")" ] && echo "install.sh: kept $p (not empty)"; } || true
  done <<< "$dirs"
  if [ $live = 1 ]; then systemctl daemon-reload; fi
  echo "install.sh: uninstalled $unit from $root"
}

if [ $mode = install ]; then do_install; else do_uninstall; fi
