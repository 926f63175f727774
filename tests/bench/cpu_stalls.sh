#!/usr/bin/env bash
# idrecon-cpu-stalls: one well-formed line per CPU it may run on, and a
# usage error (exit 2) for bad arguments.
#   cpu_stalls.sh BIN_DIR
set -euo pipefail
BIN=$1
out=$("$BIN/idrecon-cpu-stalls" --seconds 0.3 --threshold-us 5)
echo "$out"
cpus=$(nproc)
lines=$(grep -cE '^cpu=[0-9]+ lost_pct=[0-9]+\.[0-9] gaps_100us=[0-9]+ gaps_500us=[0-9]+ gaps_1ms=[0-9]+ gaps_5ms=[0-9]+ period_ms=[0-9]+ max_us=[0-9]+$' <<<"$out" || true)
[[ $lines == "$cpus" ]] || { echo "FAIL: $lines well-formed lines for $cpus CPUs" >&2; exit 1; }
# Gaps are nested (>= 5 ms implies >= 1 ms implies >= 500 µs implies >= 100 µs) and lost time fits in the run.
check_nested() {
  awk '/^cpu=/ {split($0, f, /[ =]/); lost = f[4]; g100 = f[6]; g500 = f[8]; g1 = f[10]; g5 = f[12];
        if (lost > 100 || g500 > g100 || g1 > g500 || g5 > g1) { print "FAIL: inconsistent: " $0; exit 1 }}' <<<"$1"
}
check_nested "$out"
# --fsync-dir: the same lines plus the sync loop's rate (0 is possible: on a busy disk one fdatasync
# can outlast the 0.3 s run); an unwritable directory is an error.
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
out=$("$BIN/idrecon-cpu-stalls" --seconds 0.3 --fsync-dir "$WORK")
echo "$out"
check_nested "$out"
grep -qE '^fsync_loop commits_per_s=[0-9]+ ' <<<"$out" || { echo "FAIL: no sync loop line" >&2; exit 1; }
[[ -z $(ls -A "$WORK") ]] || { echo "FAIL: left a file in the directory" >&2; exit 1; }
rc=0; "$BIN/idrecon-cpu-stalls" --seconds 0.1 --fsync-dir "$WORK/missing" 2>/dev/null || rc=$?
[[ $rc == 1 ]] || { echo "FAIL: a missing --fsync-dir exited $rc, not 1" >&2; exit 1; }

for bad in "--seconds 0" "--seconds x" "--threshold-us 0" "--bogus 1" "--seconds" "--fsync-dir"; do
  rc=0
  # shellcheck disable=SC2086 # word splitting is the point
  "$BIN/idrecon-cpu-stalls" $bad 2>/dev/null || rc=$?
  [[ $rc == 2 ]] || { echo "FAIL: $bad exited $rc, not 2" >&2; exit 1; }
done
echo "ok"
