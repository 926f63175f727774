#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, the `fuzz` preset: clang, ASan+UBSan)
# and runs each for a bounded time on a scratch copy of its committed seed
# corpus (fuzz/corpus/<target>/ is never modified).
#   scripts/fuzz.sh            # 60 s per target
#   scripts/fuzz.sh 600        # 10 min per target
#   FUZZ_TARGETS="snapshot log_record" scripts/fuzz.sh 30
# Prints a table (target, runs, exec/s, coverage, result) and exits non-zero
# if any target crashed, leaked, timed out or broke a property; the input
# that did it is kept under build/fuzz/artifacts/<target>/ (reproduce with
# build/fuzz/bin/fuzz_<target> <file>).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds < 1)); then
  echo "usage: $0 [SECONDS_PER_TARGET]" >&2
  exit 2
fi
targets=(${FUZZ_TARGETS:-http_request identify_body engine_ops log_record snapshot csv_import guard_file match_key})

scripts/deps.sh
echo "== fuzz: configure, build" >&2
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)"

build=build/fuzz
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
rows=()
failed=0
for t in "${targets[@]}"; do
  bin="$build/bin/fuzz_$t"
  work="$build/run/$t"
  artifacts="$build/artifacts/$t"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$artifacts"
  cp fuzz/corpus/"$t"/* "$work/corpus/"
  echo "== fuzz: $t for ${seconds}s (log: $work/fuzz.log)" >&2
  rc=0
  "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$work/corpus" >"$work/fuzz.log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz.log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$work/fuzz.log" | tail -1 | cut -d' ' -f2)
  if ((rc == 0)); then
    result=ok
  else
    failed=1
    artifact=$(sed -n 's/.*Test unit written to //p' "$work/fuzz.log" | tail -1)
    result="FAILED (exit $rc${artifact:+, input $artifact})"
    grep -E 'FUZZ_CHECK|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' "$work/fuzz.log" | head -3 >&2 || true
  fi
  rows+=("$(printf '%-14s %12s %8s %6s  %s' "$t" "${runs:-?}" "${speed:-?}" "${cov:-?}" "$result")")
done

printf '\n%-14s %12s %8s %6s  %s\n' target runs exec/s cov result
for row in "${rows[@]}"; do echo "$row"; done
exit "$failed"
