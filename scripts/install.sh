#!/usr/bin/env bash
# Installs coverage-collector as a systemd service on this node (or under --root for packaging).
#
#   install.sh [--root DIR] [--binary PATH]      install or upgrade (safe to run again)
#   install.sh [--root DIR] --uninstall [--purge] remove it (--purge also removes collected data)
#
# Files: /usr/local/bin/coverage-collector (0755), /etc/systemd/system/coverage-collector.service
# (0644), /etc/coverage-collector/coverage-collector.env (0600, kept when present: it holds your
# settings), /var/lib/coverage-collector (0700, state and data). systemctl runs only when the root
# is / and systemd is running.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=/
binary=""
uninstall=0
purge=0

say() { echo "install.sh: $*"; }
die() {
  echo "install.sh: $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case "$1" in
    --root) [ $# -ge 2 ] || die "--root needs a directory"; root=$2; shift 2 ;;
    --root=*) root=${1#--root=}; shift ;;
    --binary) [ $# -ge 2 ] || die "--binary needs a path"; binary=$2; shift 2 ;;
    --binary=*) binary=${1#--binary=}; shift ;;
    --uninstall) uninstall=1; shift ;;
    --purge) purge=1; shift ;;
    -h | --help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument \"$1\" (see --help)" ;;
  esac
done
[ $purge -eq 0 ] || [ $uninstall -eq 1 ] || die "--purge goes with --uninstall"
[ -d "$root" ] || die "--root $root is not a directory"
root=$(cd "$root" && pwd)
prefix=${root%/}

bin_path=$prefix/usr/local/bin/coverage-collector
unit_path=$prefix/etc/systemd/system/coverage-collector.service
conf_dir=$prefix/etc/coverage-collector
env_path=$conf_dir/coverage-collector.env
state_dir=$prefix/var/lib/coverage-collector

use_systemctl=0
if [ "$root" = / ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  use_systemctl=1
fi
if [ "$root" = / ] && [ "$(id -u)" != 0 ]; then
  die "installing into / needs root (run with sudo, or use --root DIR)"
fi

if [ $uninstall -eq 1 ]; then
  if [ $use_systemctl -eq 1 ]; then
    systemctl disable --now coverage-collector.service >/dev/null 2>&1 || true
    say "stopped and disabled coverage-collector.service"
  fi
  for f in "$unit_path" "$bin_path" "$env_path"; do
    if [ -e "$f" ]; then rm -f "$f" && say "removed $f"; fi
  done
  rmdir "$conf_dir" 2>/dev/null && say "removed $conf_dir" || true
  if [ $purge -eq 1 ]; then
    if [ -e "$state_dir" ]; then rm -rf "$state_dir" && say "removed $state_dir"; fi
  elif [ -e "$state_dir" ]; then
    say "kept $state_dir (collected data and spool; --purge removes it)"
  fi
  [ $use_systemctl -eq 0 ] || systemctl daemon-reload
  exit 0
fi

# The binary: --binary, else the build for this machine next to this script or in ../dist.
if [ -z "$binary" ]; then
  arch=$(uname -m)
  for c in "$here/../dist/coverage-collector-$arch" "$here/coverage-collector-$arch" \
    "$here/coverage-collector"; do
    if [ -f "$c" ]; then binary=$c; break; fi
  done
  [ -n "$binary" ] || die "no binary found for $arch: build it (deno task compile) or pass --binary PATH"
fi
[ -f "$binary" ] || die "--binary $binary is not a file"
for f in coverage-collector.service coverage-collector.env; do
  [ -f "$here/$f" ] || die "$here/$f is missing (copy it next to install.sh)"
done

# Puts $1 at $2 with mode $3 through a temporary file and a rename, so a running binary is never
# overwritten in place. Says whether anything changed.
put() {
  local src=$1 dst=$2 mode=$3 tmp
  mkdir -p "$(dirname "$dst")"
  if [ -f "$dst" ] && cmp -s "$src" "$dst"; then
    chmod "$mode" "$dst"
    say "unchanged $dst"
    return 1
  fi
  tmp=$(mktemp "$dst.XXXXXX")
  cp "$src" "$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$dst"
  say "installed $dst ($mode)"
}

changed=0
put "$binary" "$bin_path" 0755 && changed=1
put "$here/coverage-collector.service" "$unit_path" 0644 && changed=1
mkdir -p "$conf_dir"
chmod 0755 "$conf_dir"
if [ -e "$env_path" ]; then
  say "kept $env_path (your settings)"
else
  put "$here/coverage-collector.env" "$env_path" 0600 && changed=1
fi
mkdir -p "$state_dir"
chmod 0700 "$state_dir"

if [ $use_systemctl -eq 1 ]; then
  systemctl daemon-reload
  systemctl enable --now coverage-collector.service
  if [ $changed -eq 1 ]; then systemctl restart coverage-collector.service; fi
  say "coverage-collector.service is $(systemctl is-active coverage-collector.service || true)" \
    "(journalctl -u coverage-collector -f shows its log)"
elif [ "$root" = / ]; then
  say "systemd is not running here: start /usr/local/bin/coverage-collector run yourself"
fi
