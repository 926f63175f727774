#!/usr/bin/env bash
# bench/run.sh: builds the release preset, then measures /identify over HTTP
# against the null server, idrecon-server --sync nosync and --sync fsync
# (same harness settings, RUNS rounds in which they take turns, fresh data directory per run), the
# open-loop p99 at half of each one's median max QPS, and the engine
# micro-benchmarks; prints one table. See bench/README.md.
#
# Knobs (environment): RUNS=3 DURATION=6 WARMUP=1 CONNECTIONS=32
#   LOAD_THREADS=1 SERVER_THREADS=1 PRELOAD=30000 SEED=1 OPEN_BUSY_POLL="null nosync" (the kinds whose
#   open-loop harness spins instead of sleeping: --busy-poll in bench/load/main.cc; not fsync, see
#   bench/README.md) MICRO=1 (0 skips the
#   micro-benchmarks) BIN=<repo>/build/release/bin DATA_PARENT=<repo>/build (where temp data dirs go; must
#   be a real disk for fsync to mean anything, not tmpfs) BUILD=1 (0 skips the build)
#   BASELINE_BIN=<dir> (another build's bin/: its idrecon-server runs too, as base-nosync and base-fsync,
#   in the same rounds, so a change is measured against the code before it side by side).
# Only ever talks to 127.0.0.1. Takes ~5 minutes on 2 cores, plus the build.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=bench/server.sh
source bench/server.sh

RUNS=${RUNS:-3}
DURATION=${DURATION:-6}
WARMUP=${WARMUP:-1}
CONNECTIONS=${CONNECTIONS:-32}
LOAD_THREADS=${LOAD_THREADS:-1}
SERVER_THREADS=${SERVER_THREADS:-1}
PRELOAD=${PRELOAD:-30000}
SEED=${SEED:-1}
OPEN_BUSY_POLL=${OPEN_BUSY_POLL-null nosync}
MICRO=${MICRO:-1}
BUILD=${BUILD:-1}
DATA_PARENT=${DATA_PARENT:-$ROOT/build}

if [[ $BUILD == 1 ]]; then
  cmake --preset release >/dev/null
  cmake --build --preset release
fi
BIN=${BIN:-$ROOT/build/release/bin}
for b in idrecon-server idrecon-null-server idrecon-load idrecon-bench-engine idrecon-cpu-stalls; do
  [[ -x $BIN/$b ]] || { echo "run.sh: $BIN/$b is missing" >&2; exit 1; }
done
BASELINE_BIN=${BASELINE_BIN:-}
if [[ -n $BASELINE_BIN && ! -x $BASELINE_BIN/idrecon-server ]]; then
  echo "run.sh: $BASELINE_BIN/idrecon-server is missing" >&2; exit 1
fi

make_workdir "$DATA_PARENT" bench-run

# start_server KIND: starts it on a free port, with a data directory of its
# own; sets SERVER_PID, PORT and STEM (the prefix of this run's files).
# (load runs in a $(...) subshell, so a counter would not survive: mktemp.)
start_server() {
  local kind=$1
  STEM=$(mktemp -d "$WORK/run.XXXXXX")/$kind
  local server=()
  case $kind in
    null) server=("$BIN/idrecon-null-server" --port 0 --threads "$SERVER_THREADS") ;;
    nosync|fsync)
      server=("$BIN/idrecon-server" --port 0 --threads "$SERVER_THREADS" --sync "$kind" --data-dir "$STEM-data") ;;
    base-nosync|base-fsync)
      server=("$BASELINE_BIN/idrecon-server" --port 0 --threads "$SERVER_THREADS" --sync "${kind#base-}"
              --data-dir "$STEM-data") ;;
  esac
  start_server_process "$STEM.out" "$STEM.err" "${server[@]}"
}

# field LINE NAME: the value of NAME=... in an idrecon-load result line.
field() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" <<<"$1"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# load KIND RUN [extra args...]: one harness run; prints its result line.
load() {
  local kind=$1 run=$2; shift 2
  local check=full
  [[ $kind == null ]] && check=shape   # the null server's body is fixed
  start_server "$kind"
  local line
  line=$("$BIN/idrecon-load" --target "http://127.0.0.1:$PORT" --connections "$CONNECTIONS" \
    --threads "$LOAD_THREADS" --duration "$DURATION" --warmup "$WARMUP" --preload "$PRELOAD" --seed "$SEED" \
    --check "$check" --json "$STEM.json" "$@" 2>"$STEM.load.err") || true
  local alive=yes
  kill -0 "$SERVER_PID" 2>/dev/null || alive=no
  stop_server
  if [[ -z $line || $alive == no || $line != *" errors=0 "* || $line != *" wrong=0 "* || $line == *cut_off=1* ]]; then
    echo "run.sh: trouble in $kind run $run (server alive at the end: $alive); harness and server said:" >&2
    tail -n 5 "$STEM.load.err" "$STEM.err" >&2
  fi
  [[ -n $line ]] || line="qps=0 p50_us=0 p99_us=0 non200=0 wrong=0 errors=1"
  echo "$line"
}

# CPU time the hypervisor gave to other guests ("steal", /proc/stat): on a
# shared VM it moves every figure more than any code change.
cpu_ticks() { awk '/^cpu / {print $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
# The machine's own stalls (all vCPUs busy, as under load): the floor under
# every p99 below; then with a log-like fdatasync loop on the data disk too.
STALLS=$("$BIN/idrecon-cpu-stalls" --seconds 5)
STALLS_IO=$("$BIN/idrecon-cpu-stalls" --seconds 5 --fsync-dir "$WORK")
read -r STEAL_BEFORE TOTAL_BEFORE < <(cpu_ticks)
echo "== $(nproc) CPUs; load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
KINDS=(null nosync fsync)
[[ -n $BASELINE_BIN ]] && KINDS=(null base-nosync nosync base-fsync fsync)
declare -A QPS P50 P99 BAD OQPS OP50 OP99 OBAD RATE QL AL BL RATIOS
# The kinds take turns within each round (null, nosync, fsync, null, ...):
# this VM's speed drifts by tens of percent over minutes, and measuring all
# of one kind before the next would turn that drift into a ratio.
# run_rounds [extra harness args per kind via RATE]: fills QL/AL/BL (lists of
# qps/p50/p99 per kind) and BAD; open=1 adds --rate RATE[kind].
run_rounds() {
  local open=$1 run kind line
  for kind in "${KINDS[@]}"; do QL[$kind]=; AL[$kind]=; BL[$kind]=; BAD[$kind]=0; done
  for run in $(seq "$RUNS"); do
    for kind in "${KINDS[@]}"; do
      local extra=()
      [[ " $OPEN_BUSY_POLL " == *" ${kind#base-} "* ]] && extra=(--busy-poll)
      if [[ $open == 1 ]]; then line=$(load "$kind" "$run" --rate "${RATE[$kind]}" "${extra[@]}")
      else line=$(load "$kind" "$run"); fi
      echo "  $kind #$run: $line" >&2
      QL[$kind]+=" $(field "$line" qps)"; AL[$kind]+=" $(field "$line" p50_us)"; BL[$kind]+=" $(field "$line" p99_us)"
      BAD[$kind]=$((BAD[$kind] + $(field "$line" non200) + $(field "$line" wrong) + $(field "$line" errors)))
    done
  done
}

echo "== closed loop: $RUNS rounds, $CONNECTIONS connections, server threads $SERVER_THREADS, harness threads $LOAD_THREADS, ${WARMUP}s warm-up + ${DURATION}s, preload $PRELOAD" >&2
run_rounds 0
CBAD=()
for kind in "${KINDS[@]}"; do
  # shellcheck disable=SC2086 # the lists are space-separated numbers
  QPS[$kind]=$(median ${QL[$kind]}); P50[$kind]=$(median ${AL[$kind]}); P99[$kind]=$(median ${BL[$kind]})
  CBAD+=("${BAD[$kind]}")
  # Ratio to the null server within each round; the table shows their median.
  RATIOS[$kind]=$(paste -d' ' <(tr ' ' '\n' <<<"${QL[$kind]# }") <(tr ' ' '\n' <<<"${QL[null]# }") |
    awk '{printf "%s%.1f", (NR > 1 ? " " : ""), ($2 > 0 ? 100 * $1 / $2 : 0)}')
done

echo "== open loop at half of each median max QPS" >&2
for kind in "${KINDS[@]}"; do RATE[$kind]=$(awk -v q="${QPS[$kind]}" 'BEGIN {printf "%d", q / 2}'); done
run_rounds 1
i=0
for kind in "${KINDS[@]}"; do
  # shellcheck disable=SC2086
  OQPS[$kind]=$(median ${QL[$kind]}); OP50[$kind]=$(median ${AL[$kind]}); OP99[$kind]=$(median ${BL[$kind]})
  OBAD[$kind]=${BAD[$kind]}; BAD[$kind]=${CBAD[$i]}; i=$((i + 1))
done

echo
echo "HTTP /identify, 2 cores shared by server (threads $SERVER_THREADS) and harness (threads $LOAD_THREADS), $CONNECTIONS connections, medians of $RUNS rounds"
printf '%-11s | %9s %8s %8s %9s %8s | %9s %10s %10s %10s\n' server "max QPS" "p50 µs" "p99 µs" "vs null" "bad" \
  "open rate" "open p50" "open p99" "open bad"
printf -- '------------+--------------------------------------------------+--------------------------------------------\n'
for kind in "${KINDS[@]}"; do
  # shellcheck disable=SC2086
  ratio="$(median ${RATIOS[$kind]})%"
  printf '%-11s | %9.0f %8s %8s %9s %8s | %9s %10s %10s %10s\n' "$kind" "${QPS[$kind]}" "${P50[$kind]}" "${P99[$kind]}" \
    "$ratio" "${BAD[$kind]}" "${RATE[$kind]}" "${OP50[$kind]}" "${OP99[$kind]}" "${OBAD[$kind]}"
done
read -r STEAL_AFTER TOTAL_AFTER < <(cpu_ticks)
STOLEN=$(awk -v s=$((STEAL_AFTER - STEAL_BEFORE)) -v t=$((TOTAL_AFTER - TOTAL_BEFORE)) 'BEGIN {printf "%.0f", t ? 100 * s / t : 0}')
echo "load average after the HTTP runs: $(cut -d' ' -f1-3 /proc/loadavg) (other processes skew every figure);" \
  "CPU stolen by the hypervisor during them: ${STOLEN}% (above a few %, the figures say little)"
per_round=
for kind in "${KINDS[@]:1}"; do per_round+=" $kind ${RATIOS[$kind]};"; done
echo "vs null = median over the rounds of (QPS / null's QPS in the same round); per round:${per_round%;}"
echo "(bad = non-200 + wrong answers + transport errors, summed over runs; open = --rate at half the max, latency from the intended send time; harness --busy-poll for: ${OPEN_BUSY_POLL:-none})"
echo "machine stalls before the runs (idrecon-cpu-stalls, 5 s, every CPU spinning; a server stalled for N ms answers N ms late):"
sed 's/^/  /' <<<"$STALLS"
echo "the same with an fdatasync loop on the data disk (as the fsync server does):"
sed 's/^/  /' <<<"$STALLS_IO"

if [[ $MICRO == 1 ]]; then
  echo
  echo "Engine micro-benchmarks (idrecon-bench-engine):"
  "$BIN/idrecon-bench-engine" --benchmark_out="$WORK/micro.json" --benchmark_out_format=json \
    --benchmark_format=console >"$WORK/micro.txt" 2>&1 || { cat "$WORK/micro.txt"; exit 1; }
  grep '^# index' "$WORK/micro.txt" || true
  if command -v jq >/dev/null; then
    # real_time is the mean wall time of one op on one thread; throughput of
    # all threads together = threads / real_time.
    printf '%-34s %10s %10s %10s %14s\n' benchmark "mean ns" "p50 ns" "p99 ns" "ops/s (all thr)"
    jq -r '.benchmarks[] | select(.p50_ns != null) |
      [(.name | sub("/iterations:[0-9]+"; "") | sub("/real_time"; "")), .real_time, .p50_ns, .p99_ns, .threads] |
      @tsv' "$WORK/micro.json" |
      awk -F'\t' '{printf "%-34s %10.0f %10.0f %10.0f %14.0f\n", $1, $2, $3, $4, $5 * 1e9 / $2}'
  else
    grep -v '^#' "$WORK/micro.txt"
  fi
fi
