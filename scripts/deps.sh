#!/usr/bin/env bash
# Installs the Debian packages idrecon builds against. Idempotent: when every
# package is already installed it does nothing (no apt-get update, no root needed).
#
# libphonenumber: Debian 12's libphonenumber-dev depends on the Boost 1.74
# -dev packages, which cannot be installed beside libboost1.81-dev (idrecon
# needs 1.81: boost::unordered_flat_map, and the Beast it was built with).
# The library itself (libphonenumber8) uses no Boost, so it is installed as
# a package, and the -dev package's headers and link are unpacked from
# Debian's own .deb into $PHONENUMBER_DEV_DIR, where CMake finds them
# (engine/CMakeLists.txt). Where libphonenumber-dev is installed normally,
# that copy is used instead.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libsimdjson-dev liblmdb-dev libsodium-dev libgtest-dev libgmock-dev libbenchmark-dev
  libphonenumber8 libprotobuf-dev libabsl-dev
  sqlite3 postgresql
  python3 python3-jsonschema python3-yaml prometheus
  clang libclang-rt-14-dev
)
PHONENUMBER_DEV_DIR=/opt/idrecon/libphonenumber-dev

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} > 0)); then
  echo "deps: installing ${missing[*]}" >&2
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [[ ! -f /usr/include/phonenumbers/phonenumberutil.h && ! -f $PHONENUMBER_DEV_DIR/usr/include/phonenumbers/phonenumberutil.h ]]; then
  echo "deps: unpacking libphonenumber-dev into $PHONENUMBER_DEV_DIR" >&2
  version=$(dpkg-query -W -f='${Version}' libphonenumber8)
  tmp=$(mktemp -d)
  chmod 755 "$tmp"  # apt-get download fetches as the _apt user
  (cd "$tmp" && apt-get download -q "libphonenumber-dev=$version")
  $SUDO mkdir -p "$PHONENUMBER_DEV_DIR"
  $SUDO dpkg-deb -x "$tmp"/libphonenumber-dev_*.deb "$PHONENUMBER_DEV_DIR"
  rm -rf "$tmp"
fi
