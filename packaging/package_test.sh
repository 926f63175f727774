#!/usr/bin/env bash
# Builds the .deb with CPack, installs it with dpkg, checks its files and
# `idrecon-server --version`, then removes it. It changes the machine, so it
# runs only in CI (CI=true) or when IDRECON_PACKAGE_TEST=1; otherwise it
# reports "skipped" (exit 77).
#   package_test.sh BUILD_DIR
set -euo pipefail
build_dir=$1
if [[ "${CI:-}" != "true" && "${IDRECON_PACKAGE_TEST:-}" != "1" ]]; then
  echo "package test skipped (set IDRECON_PACKAGE_TEST=1 to run it; CI does)"
  exit 77
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "package test needs root (dpkg -i)"; exit 1
fi
out=$(mktemp -d)
trap 'dpkg -r idrecon >/dev/null 2>&1 || true; rm -rf "$out"' EXIT

(cd "$build_dir" && cpack -G DEB -B "$out" >/dev/null 2>&1) || { echo "cpack failed"; exit 1; }
deb=$(ls "$out"/idrecon_*.deb)
echo "built $(basename "$deb")"
[[ $(dpkg-deb -f "$deb" Package) == idrecon ]] || { echo "bad package name"; exit 1; }
dpkg -i "$deb" >/dev/null

for f in /usr/bin/idrecon-server /lib/systemd/system/idrecon.service /etc/default/idrecon \
         /usr/share/doc/idrecon/README.md /usr/share/doc/idrecon/openapi.yaml \
         /usr/share/doc/idrecon/docs/api.md /usr/share/doc/idrecon/docs/durability.md \
         /usr/share/doc/idrecon/persistence/log_format.md; do
  [[ -f $f ]] || { echo "missing after install: $f"; exit 1; }
done
for d in DynamicUser=yes StateDirectory=idrecon ProtectSystem=strict NoNewPrivileges=yes; do
  grep -q "^$d" /lib/systemd/system/idrecon.service || { echo "unit lacks $d"; exit 1; }
done
[[ $(dpkg-query -W -f='${Conffiles}' idrecon) == */etc/default/idrecon* ]] || { echo "config is not a conffile"; exit 1; }
# Every variable the default settings name (set or commented out) is one the
# server reads, as its --help lists them.
help=$(/usr/bin/idrecon-server --help)
for var in $(sed -n 's/^#* *\([A-Z_][A-Z0-9_]*\)=.*/\1/p' /etc/default/idrecon); do
  grep -qw -- "$var" <<<"$help" || { echo "/etc/default/idrecon sets $var, which idrecon-server does not read"; exit 1; }
done
version=$(/usr/bin/idrecon-server --version)
echo "$version"
[[ $version =~ ^idrecon-server\ [0-9]+\.[0-9]+\.[0-9]+\ \(commit\ ([0-9a-f]{7,}|unknown)\)$ ]] \
  || { echo "unexpected --version output"; exit 1; }
dpkg -r idrecon >/dev/null
[[ ! -e /usr/bin/idrecon-server ]] || { echo "binary left behind after dpkg -r"; exit 1; }
echo "package test passed"
