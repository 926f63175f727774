#!/usr/bin/env bash
# Builds idrecon with a CMake preset and runs the whole test suite with CTest.
#   scripts/test.sh            # release preset
#   scripts/test.sh asan tsan  # several presets, one after the other
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
presets=("$@")
if ((${#presets[@]} == 0)); then presets=(release); fi
for preset in "${presets[@]}"; do
  echo "== preset $preset: configure, build, test" >&2
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$(nproc)"
  ctest --preset "$preset" -j "$(nproc)"
done
