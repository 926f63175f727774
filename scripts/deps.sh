#!/usr/bin/env bash
# Installs the Debian packages idrecon builds against. Idempotent: when every
# package is already installed it does nothing (no apt-get update, no root needed).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libsimdjson-dev liblmdb-dev libsodium-dev libgtest-dev libgmock-dev libbenchmark-dev
  sqlite3 postgresql
  python3 python3-jsonschema python3-yaml prometheus
  clang libclang-rt-14-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "deps: installing ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
