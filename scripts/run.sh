#!/usr/bin/env bash
# Builds the release server and starts it in the foreground. Arguments are
# passed to idrecon-server (try --help); Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target idrecon-server
exec build/release/bin/idrecon-server "$@"
