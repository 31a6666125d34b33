#!/usr/bin/env bash
# Installs ffmesh as a systemd service: program files in /opt/ffmesh, a /usr/local/bin/ffmesh
# wrapper, the user `ffmesh`, the data dir /var/lib/ffmesh (swarm key, config) and the unit.
# Idempotent: a second run with the same arguments changes nothing.
#
#   sudo systemd/install.sh [--swarm-key-file F] [--watch PATH --profile P --out DIR]... [--no-start]
#   systemd/install.sh --root DIR ...   # into DIR: no apt-get, no useradd, no systemctl
#
# Run from a built checkout (npm ci && npm run build). See docs/install-lan.md.
set -euo pipefail

readonly MIN_NODE_MAJOR=22
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly REPO
# shellcheck source=systemd/paths.sh
source "$REPO/systemd/paths.sh"

usage() {
  sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
  cat <<'USAGE'
Options:
  --root DIR             install under DIR instead of / (DESTDIR works too); users and services aside
  --node BIN             Node.js >= 22 to copy in (default: `node` on PATH)
  --swarm-key-file F     import the mesh's swarm key from another machine (default: create one)
  --watch PATH           a folder to watch; --profile and --out that follow apply to it
  --profile P            profile for the last --watch (default: h264)
  --out DIR              output folder for the last --watch
  --no-start             install and enable, but do not start now
USAGE
}

die() { echo "install.sh: $*" >&2; exit 1; }
note() { echo "install.sh: $*"; }

root=${DESTDIR:-}
node_bin=
swarm_key_file=
start=1
watches=()
profiles=()
outs=()
while (($# > 0)); do
  case $1 in
    --root) root=${2:?--root needs a folder}; shift 2 ;;
    --node) node_bin=${2:?--node needs a path}; shift 2 ;;
    --swarm-key-file) swarm_key_file=${2:?--swarm-key-file needs a file}; shift 2 ;;
    --watch) watches+=("${2:?--watch needs a folder}"); profiles+=(h264); outs+=(""); shift 2 ;;
    --profile)
      ((${#watches[@]} > 0)) || die "--profile comes after the --watch it belongs to"
      profiles[${#watches[@]} - 1]=${2:?--profile needs a name}; shift 2 ;;
    --out)
      ((${#watches[@]} > 0)) || die "--out comes after the --watch it belongs to"
      outs[${#watches[@]} - 1]=${2:?--out needs a folder}; shift 2 ;;
    --no-start) start=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

resolve_root

for i in "${!watches[@]}"; do
  [[ ${watches[$i]} == /* ]] || die "--watch ${watches[$i]}: give an absolute path"
  [[ -n ${outs[$i]} ]] || die "--watch ${watches[$i]}: give its output folder with --out DIR"
  [[ ${outs[$i]} == /* ]] || die "--out ${outs[$i]}: give an absolute path"
  [[ ${profiles[$i]} =~ ^[A-Za-z0-9._-]+$ ]] || die "--profile ${profiles[$i]}: letters, digits, '.', '_' and '-' only"
done

# Checked before anything is written, so a wrong key leaves the machine as it was.
data=$root$DATA_DIR
key=$data/swarm.key
if [[ -n $swarm_key_file ]]; then
  [[ -f $swarm_key_file ]] || die "--swarm-key-file $swarm_key_file: no such file"
  [[ $(sed -n 1p "$swarm_key_file") == /key/swarm/psk/1.0.0/ && $(sed -n 2p "$swarm_key_file") == /base16/ &&
    $(sed -n 3p "$swarm_key_file") =~ ^[0-9a-fA-F]{64}$ && $(wc -l <"$swarm_key_file") -eq 3 ]] ||
    die "$swarm_key_file is not a swarm key (expected /key/swarm/psk/1.0.0/, /base16/, 64 hex digits)"
  if [[ -f $key ]] && ! cmp -s "$swarm_key_file" "$key"; then
    die "$DATA_DIR/swarm.key exists and differs from $swarm_key_file; remove it first to join another mesh"
  fi
fi

# --- Node.js and the built program -------------------------------------------------------------
node_bin=${node_bin:-$(command -v node || true)}
[[ -n $node_bin && -x $node_bin ]] || die "no Node.js found; install Node.js >= $MIN_NODE_MAJOR or pass --node BIN"
node_bin=$(readlink -f "$node_bin")
node_major=$("$node_bin" -p 'process.versions.node.split(".")[0]')
((node_major >= MIN_NODE_MAJOR)) || die "$node_bin is Node.js $node_major; ffmesh needs >= $MIN_NODE_MAJOR (pass --node BIN)"
for pkg in protocol web node cli; do
  [[ -f $REPO/packages/$pkg/dist/index.js || -f $REPO/packages/$pkg/dist/main.js ]] ||
    die "packages/$pkg is not built; run npm ci && npm run build in $REPO first"
done

if ((offline == 0)) && ! command -v ffmpeg >/dev/null; then
  note "installing ffmpeg"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q ffmpeg
fi

changed=0
program=$root$PROGRAM_DIR
staging=$root$PROGRAM_DIR.staging
rm -rf "$staging"
mkdir -p "$staging/node/bin" "$staging/node_modules/@ffmesh"
cp -p "$node_bin" "$staging/node/bin/node"
# Production dependencies only: the lock file marks what only development needs.
"$node_bin" -e '
  const lock = require(process.argv[1] + "/package-lock.json")
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (key.startsWith("node_modules/") && !entry.dev && !entry.link) console.log(key)
  }' "$REPO" | sort | while IFS= read -r dep; do
  [[ -e $REPO/$dep ]] || continue
  parent=$staging/$dep
  # A nested dependency came along with its parent's copy already.
  [[ -e $parent ]] && continue
  mkdir -p "$(dirname "$parent")"
  cp -a "$REPO/$dep" "$parent"
done
for pkg in protocol web node cli; do
  dest=$staging/node_modules/@ffmesh/$pkg
  mkdir -p "$dest"
  cp -p "$REPO/packages/$pkg/package.json" "$dest/"
  cp -a "$REPO/packages/$pkg/dist" "$dest/"
  find "$dest/dist" -name '*.tsbuildinfo' -delete
  [[ ! -d $REPO/packages/$pkg/bin ]] || cp -a "$REPO/packages/$pkg/bin" "$dest/"
done
chmod -R u+rwX,go+rX,go-w "$staging"
if [[ -d $program ]] && diff -rq --no-dereference "$program" "$staging" >/dev/null &&
  [[ $(cd "$program" && find . -printf '%p %m\n' | sort) == $(cd "$staging" && find . -printf '%p %m\n' | sort) ]]; then
  rm -rf "$staging"
else
  rm -rf "$program.old"
  [[ ! -d $program ]] || mv "$program" "$program.old"
  mv "$staging" "$program"
  rm -rf "$program.old"
  changed=1
  note "installed the program in $program"
fi

# install_file MODE DEST: installs stdin as DEST unless DEST already holds exactly that.
install_file() {
  local mode=$1 dest=$2 tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if [[ -f $dest ]] && cmp -s "$tmp" "$dest" && [[ $(stat -c %a "$dest") == "${mode#0}" ]]; then
    rm -f "$tmp"
    return 0
  fi
  mkdir -p "$(dirname "$dest")"
  install -m "$mode" "$tmp" "$dest"
  rm -f "$tmp"
  changed=1
  note "wrote $dest"
}

install_file 0755 "$root$WRAPPER" <<WRAP
#!/bin/sh
# Written by ffmesh's install.sh: runs the installed ffmesh with the Node.js installed beside it.
exec $PROGRAM_DIR/node/bin/node $PROGRAM_DIR/node_modules/@ffmesh/cli/bin/ffmesh.js "\$@"
WRAP

# --- user and data dir ---------------------------------------------------------------------------
if ((offline == 0)) && ! getent passwd "$SERVICE_USER" >/dev/null; then
  useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
  note "created the system user $SERVICE_USER"
fi
if [[ ! -d $data ]]; then
  install -d -m 0700 "$data"
  changed=1
fi
chmod 0700 "$data"

if [[ ! -f $data/config.yaml ]]; then
  install_file 0600 "$data/config.yaml" < <(
    echo "# Written by install.sh. Every option is documented in config/default.yaml of ffmesh."
    if ((${#watches[@]} > 0)); then
      echo "watch:"
      for i in "${!watches[@]}"; do
        printf '  - path: "%s"\n    profile: "%s"\n    output: "%s"\n' "${watches[$i]}" "${profiles[$i]}" "${outs[$i]}"
      done
    else
      echo "watch: []"
    fi
  )
elif ((${#watches[@]} > 0)); then
  note "$DATA_DIR/config.yaml exists and is kept; add folders with: ffmesh watch add PATH --profile P --out DIR"
fi

if [[ ! -f $key ]]; then
  init_args=(init --data-dir "$data")
  [[ -z $swarm_key_file ]] || init_args+=(--swarm-key-file "$swarm_key_file")
  "$program/node/bin/node" "$program/node_modules/@ffmesh/cli/bin/ffmesh.js" "${init_args[@]}" >/dev/null 2>&1 || true
fi
if [[ ! -f $key ]]; then
  # `ffmesh init` did not write one (older CLI): the same format, written here.
  umask 077
  if [[ -n $swarm_key_file ]]; then
    cp "$swarm_key_file" "$key"
  else
    printf '/key/swarm/psk/1.0.0/\n/base16/\n%s\n' "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >"$key"
  fi
  umask 022
fi
[[ $(stat -c %a "$key") == 600 ]] || { chmod 0600 "$key"; changed=1; }
if ((offline == 0)); then chown -R "$SERVICE_USER:$SERVICE_USER" "$data"; fi

# --- unit -----------------------------------------------------------------------------------------
install_file 0644 "$root$UNIT_DIR/ffmesh.service" <"$REPO/systemd/ffmesh.service"
if ((${#watches[@]} > 0)); then
  install_file 0644 "$root$UNIT_DIR/ffmesh.service.d/10-folders.conf" < <(
    echo "# Written by install.sh: folders the service may write besides its data dir."
    echo "[Service]"
    for i in "${!watches[@]}"; do
      printf 'ReadWritePaths=-%s\nReadWritePaths=-%s\n' "${watches[$i]}" "${outs[$i]}"
    done
  )
  for i in "${!watches[@]}"; do
    if [[ ! -d $root${outs[$i]} ]]; then
      install -d -m 0755 "$root${outs[$i]}"
      ((offline == 1)) || chown "$SERVICE_USER:$SERVICE_USER" "${outs[$i]}"
      changed=1
    fi
    [[ -d $root${watches[$i]} ]] || note "warning: ${watches[$i]} does not exist yet; the node waits for it"
  done
fi

if ((offline == 0)); then
  systemctl daemon-reload
  if ((start == 1)); then
    systemctl enable --now ffmesh.service
    ((changed == 0)) || systemctl restart ffmesh.service
  else
    systemctl enable ffmesh.service
  fi
  note "done; check with: systemctl status ffmesh && ffmesh peers"
else
  note "installed under $root (users and services aside)"
fi
