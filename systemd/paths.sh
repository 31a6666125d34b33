# shellcheck shell=bash disable=SC2034 # the constants are used by the scripts that source this file
# Shared by install.sh and uninstall.sh (sourced, not run): where ffmesh lives on a machine, and
# how both scripts read --root / DESTDIR. Callers define die() first.

readonly PROGRAM_DIR=/opt/ffmesh
readonly WRAPPER=/usr/local/bin/ffmesh
readonly DATA_DIR=/var/lib/ffmesh
readonly UNIT_DIR=/etc/systemd/system
readonly SERVICE_USER=ffmesh

# Normalises $root ("" means the real /) and sets $offline: under a root there is no systemctl,
# useradd or apt-get, so the scripts can be tested without a running systemd.
resolve_root() {
  if [[ -n $root ]]; then
    root=$(realpath -m "$root")
    [[ $root != / ]] || root=
  fi
  offline=0
  [[ -z $root ]] || offline=1
  if ((offline == 0)) && ((EUID != 0)); then die "run as root (sudo), or give --root DIR"; fi
}
