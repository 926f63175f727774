#!/usr/bin/env bash
# idrecon-cpu-stalls: one well-formed line per CPU it may run on, and a
# usage error (exit 2) for bad arguments.
#   cpu_stalls.sh BIN_DIR
set -euo pipefail
BIN=$1
out=$("$BIN/idrecon-cpu-stalls" --seconds 0.3 --threshold-us 5)
echo "$out"
cpus=$(nproc)
lines=$(grep -cE '^cpu=[0-9]+ lost_pct=[0-9]+\.[0-9] gaps_100us=[0-9]+ gaps_500us=[0-9]+ gaps_1ms=[0-9]+ max_us=[0-9]+$' <<<"$out" || true)
[[ $lines == "$cpus" ]] || { echo "FAIL: $lines well-formed lines for $cpus CPUs" >&2; exit 1; }
# Gaps are nested (>= 1 ms implies >= 500 µs implies >= 100 µs) and lost time fits in the run.
awk '{split($0, f, /[ =]/); lost = f[4]; g100 = f[6]; g500 = f[8]; g1 = f[10];
      if (lost > 100 || g500 > g100 || g1 > g500) { print "FAIL: inconsistent: " $0; exit 1 }}' <<<"$out"
for bad in "--seconds 0" "--seconds x" "--threshold-us 0" "--bogus 1" "--seconds"; do
  rc=0
  # shellcheck disable=SC2086 # word splitting is the point
  "$BIN/idrecon-cpu-stalls" $bad 2>/dev/null || rc=$?
  [[ $rc == 2 ]] || { echo "FAIL: $bad exited $rc, not 2" >&2; exit 1; }
done
echo "ok"
