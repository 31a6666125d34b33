#!/usr/bin/env bash
# Removes the ffmesh service, wrapper and program files installed by install.sh. The data dir
# (/var/lib/ffmesh: swarm key, identity, job log) and the user are kept unless --purge.
#
#   sudo systemd/uninstall.sh [--purge]
#   systemd/uninstall.sh --root DIR [--purge]   # under DIR: no systemctl, no userdel
set -euo pipefail

# shellcheck source=systemd/paths.sh
source "$(dirname "${BASH_SOURCE[0]}")/paths.sh"

die() { echo "uninstall.sh: $*" >&2; exit 1; }
note() { echo "uninstall.sh: $*"; }

root=${DESTDIR:-}
purge=0
while (($# > 0)); do
  case $1 in
    --root) root=${2:?--root needs a folder}; shift 2 ;;
    --purge) purge=1; shift ;;
    -h|--help) sed -n '2,7s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
resolve_root

if ((offline == 0)) && systemctl cat ffmesh.service >/dev/null 2>&1; then
  # The node finishes or hands back its running units on SIGTERM (TimeoutStopSec in the unit).
  systemctl disable --now ffmesh.service
fi
rm -f "$root$UNIT_DIR/ffmesh.service"
rm -rf "$root$UNIT_DIR/ffmesh.service.d"
((offline == 1)) || systemctl daemon-reload
rm -f "$root$WRAPPER"
rm -rf "$root$PROGRAM_DIR" "$root$PROGRAM_DIR.staging" "$root$PROGRAM_DIR.old"

if ((purge == 1)); then
  rm -rf "$root$DATA_DIR"
  if ((offline == 0)) && getent passwd "$SERVICE_USER" >/dev/null; then userdel "$SERVICE_USER"; fi
  note "removed ffmesh and its data"
else
  note "removed ffmesh; kept $DATA_DIR (swarm key, identity, jobs): --purge removes it"
fi
