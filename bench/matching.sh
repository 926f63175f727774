#!/usr/bin/env bash
# bench/matching.sh: what matching costs and what junk values do to
# idrecon-server, with and without the guard (docs/api.md §6, §8). Runs,
# one after another, each on a fresh data directory preloaded with PRELOAD
# customers, DURATION seconds of closed-loop load:
#   a  realistic   the realistic mix (REALISTIC_MIX), no guard
#   b  bad-data    MIX, no guard: by default 1% of requests carry a junk phone
#                  (junk), so one cluster swallows thousands of values and
#                  throughput collapses; wildjoin (two random customers
#                  joined) is the other kind of bad data
#   c  guarded     MIX again, the server started with GUARD_FLAGS
#   d  normalised  REALISTIC_MIX, the server started with NORMALIZE_FLAGS:
#                  a against d is the cost of normalisation
# and prints one table: req/s, p99, the largest cluster any answer showed,
# 409s (merges refused) and 422s (every value guarded). See bench/README.md.
#
# Knobs (environment): DURATION=30 WARMUP=1 PRELOAD=10000 CONNECTIONS=32
#   LOAD_THREADS=1 SERVER_THREADS=1 SEED=1 SYNC=nosync
#   REALISTIC_MIX=repeat=80,new=15,add=4,join=1 MIX=repeat=79,new=15,add=4,junk=1
#   (or e.g. MIX=repeat=99,wildjoin=1 with REALISTIC_MIX=repeat=100: random joins among the
#   preloaded customers only)
#   GUARD_FLAGS="--guard-max-contacts 50 --guard-max-cluster 1000"
#   NORMALIZE_FLAGS="--normalize on --default-region US" SCENARIOS="a b c d"
#   BIN=<repo>/build/release/bin DATA_PARENT=<repo>/build BUILD=0 (1 builds the release preset first)
# Exits non-zero if a scenario could not run (e.g. the server rejects
# GUARD_FLAGS: scenario c then says so in the table) or had bad answers.
# Only ever talks to 127.0.0.1. Takes ~3 × (DURATION + preload) s.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=bench/server.sh
source bench/server.sh

DURATION=${DURATION:-30}
WARMUP=${WARMUP:-1}
PRELOAD=${PRELOAD:-10000}
CONNECTIONS=${CONNECTIONS:-32}
LOAD_THREADS=${LOAD_THREADS:-1}
SERVER_THREADS=${SERVER_THREADS:-1}
SEED=${SEED:-1}
SYNC=${SYNC:-nosync}
REALISTIC_MIX=${REALISTIC_MIX:-repeat=80,new=15,add=4,join=1}
MIX=${MIX:-repeat=79,new=15,add=4,junk=1}
GUARD_FLAGS=${GUARD_FLAGS---guard-max-contacts 50 --guard-max-cluster 1000}
NORMALIZE_FLAGS=${NORMALIZE_FLAGS---normalize on --default-region US}
SCENARIOS=${SCENARIOS:-a b c d}
BUILD=${BUILD:-0}
DATA_PARENT=${DATA_PARENT:-$ROOT/build}

if [[ $BUILD == 1 ]]; then
  cmake --preset release >/dev/null
  cmake --build --preset release --target idrecon-server idrecon-load
fi
BIN=${BIN:-$ROOT/build/release/bin}
for b in idrecon-server idrecon-load; do
  [[ -x $BIN/$b ]] || { echo "matching.sh: $BIN/$b is missing (BUILD=1 builds it)" >&2; exit 1; }
done
read -r -a guard_flags <<<"$GUARD_FLAGS"
read -r -a normalize_flags <<<"$NORMALIZE_FLAGS"

make_workdir "$DATA_PARENT" bench-matching

# field LINE NAME: the value of NAME=... in an idrecon-load result line.
field() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" <<<"$1"; }

# server_accepts_flags FLAGS...: does idrecon-server start with them? (In a
# subshell, so start_server_process's exit on failure ends only the probe;
# it prints the server's complaint.)
server_accepts_flags() {
  probe=$((${probe:-0} + 1))  # a fresh directory each time: --normalize is fixed per directory
  (
    start_server_process "$WORK/probe.out" "$WORK/probe.err" "$BIN/idrecon-server" --port 0 --threads 1 \
      --sync nosync --data-dir "$WORK/probe-data-$probe" "$@"
    stop_server
  )
}

declare -A NAME MIXOF FLAGS ROW
NAME[a]=realistic; MIXOF[a]=$REALISTIC_MIX; FLAGS[a]=
NAME[b]='bad-data'; MIXOF[b]=$MIX;           FLAGS[b]=
NAME[c]=guarded;   MIXOF[c]=$MIX;           FLAGS[c]=$GUARD_FLAGS
NAME[d]=normalised; MIXOF[d]=$REALISTIC_MIX; FLAGS[d]=$NORMALIZE_FLAGS
failed=0

# run_scenario ID: one server on a fresh data directory, one idrecon-load
# run; fills ROW[ID].
run_scenario() {
  local id=$1 flags=()
  [[ $id == c ]] && flags=("${guard_flags[@]}")
  [[ $id == d ]] && flags=("${normalize_flags[@]}")
  local stem=$WORK/$id
  local label="${NAME[$id]} ($id)"
  printf -v ROW["$id"] '%-14s %-38s' "$label" "${MIXOF[$id]}"
  if [[ $id == c || $id == d ]] && ! server_accepts_flags "${flags[@]}"; then
    echo "matching.sh: scenario $id not run: idrecon-server rejects ${FLAGS[$id]}" >&2
    ROW[$id]+=" not run: idrecon-server rejects its flags"
    failed=1
    return
  fi
  echo "== $label: mix ${MIXOF[$id]}, server flags: ${FLAGS[$id]:-none}; preload $PRELOAD, ${WARMUP}s + ${DURATION}s" >&2
  start_server_process "$stem.out" "$stem.err" "$BIN/idrecon-server" --port 0 --threads "$SERVER_THREADS" \
    --sync "$SYNC" --data-dir "$stem-data" "${flags[@]}"
  local line
  line=$("$BIN/idrecon-load" --target "http://127.0.0.1:$PORT" --connections "$CONNECTIONS" \
    --threads "$LOAD_THREADS" --duration "$DURATION" --warmup "$WARMUP" --preload "$PRELOAD" --seed "$SEED" \
    --mix "${MIXOF[$id]}" --json "$stem.json" 2>"$stem.load.err") || true
  local alive=yes
  kill -0 "$SERVER_PID" 2>/dev/null || alive=no
  stop_server
  echo "  $line" >&2
  if [[ -z $line || $alive == no || $line != *" errors=0 "* || $line != *" wrong=0 "* || $line == *cut_off=1* ]]; then
    echo "matching.sh: trouble in scenario $id (server alive at the end: $alive); harness and server said:" >&2
    tail -n 5 "$stem.load.err" "$stem.err" >&2
    failed=1
  fi
  [[ -n $line ]] || { ROW[$id]+=" no result"; return; }
  local bad=$(($(field "$line" non200) + $(field "$line" wrong) + $(field "$line" errors)))
  ROW[$id]+=$(printf ' %9.0f %9s %12s %8s %8s %6s' "$(field "$line" qps)" "$(field "$line" p99_us)" \
    "$(field "$line" max_cluster_values)" "$(field "$line" status409)" "$(field "$line" status422)" "$bad")
}

for id in $SCENARIOS; do
  [[ -n ${NAME[$id]:-} ]] || { echo "matching.sh: unknown scenario '$id' (a, b, c or d)" >&2; exit 2; }
  run_scenario "$id"
done

echo
echo "Matching: idrecon-server --sync $SYNC (threads $SERVER_THREADS), $CONNECTIONS connections," \
  "closed loop, ${DURATION}s after ${WARMUP}s warm-up, $PRELOAD customers preloaded, seed $SEED"
printf '%-14s %-38s %9s %9s %12s %8s %8s %6s\n' scenario mix "req/s" "p99 µs" "max cluster" 409s 422s bad
printf -- '-%.0s' $(seq 110); echo
for id in $SCENARIOS; do echo "${ROW[$id]}"; done
echo "(max cluster = emails + phone numbers of the largest \"contact\" any checked answer showed;" \
  "bad = other non-200s + wrong answers + transport errors; guarded: ${GUARD_FLAGS:-no flags};" \
  "normalised: ${NORMALIZE_FLAGS:-no flags})"
exit "$failed"
