#!/usr/bin/env bash
# bench/restart.sh: how long idrecon-server takes to come back with N
# contacts. Generates N contacts' worth of /identify requests (clusters of
# 1–20 contacts shaped like idrecon-bench-engine's), imports them with
# `idrecon-tool import --requests` (which ends with a snapshot), then starts
# the server RUNS times on that data directory and reports the recovery time
# it logs (`msg=recovered ... seconds=`), median and all runs, plus the
# server's RSS once recovered.
#
# Knobs (environment): CONTACTS=10000000 RUNS=3 SEED=1 BIN=<repo>/build/release/bin
#   DATA_PARENT=<repo>/build (needs ~2 GB per 10M contacts) BUILD=1 (0 skips the build)
#   KEEP=path (reuse/keep the data directory at this path instead of a temporary one)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CONTACTS=${CONTACTS:-10000000}
RUNS=${RUNS:-3}
SEED=${SEED:-1}
BUILD=${BUILD:-1}
DATA_PARENT=${DATA_PARENT:-$ROOT/build}
if [[ $BUILD == 1 ]]; then
  cmake --preset release >/dev/null
  cmake --build --preset release --target idrecon-server idrecon-tool
fi
BIN=${BIN:-$ROOT/build/release/bin}

mkdir -p "$DATA_PARENT"
WORK=$(mktemp -d "$DATA_PARENT/bench-restart.XXXXXX")
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]]; then kill -KILL "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
DATA=${KEEP:-$WORK/data}

if [[ ! -d $DATA ]]; then
  echo "== generating $CONTACTS contacts' requests" >&2
  python3 - "$CONTACTS" "$SEED" >"$WORK/requests.jsonl" <<'PY'
import random, sys
n, seed = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(seed)
out, made, cluster = [], 0, 0
w = sys.stdout.write
while made < n:
    size = min(n - made, 1 + int(19 * rng.random() ** 3))
    first_email = f"c{cluster}.m0.{rng.getrandbits(20):05x}@example.com"
    first_phone = f"+1{cluster:010d}"
    w(f'{{"email":"{first_email}","phoneNumber":"{first_phone}"}}\n')
    for k in range(1, size):
        if k % 2:
            w(f'{{"email":"c{cluster}.m{k}.{rng.getrandbits(20):05x}@example.com","phoneNumber":"{first_phone}"}}\n')
        else:
            w(f'{{"email":"{first_email}","phoneNumber":"+2{cluster:08d}{k:02d}"}}\n')
    made += size
    cluster += 1
PY
  echo "== importing" >&2
  "$BIN/idrecon-tool" import --data-dir "$DATA" --requests "$WORK/requests.jsonl" >&2
  rm -f "$WORK/requests.jsonl"
fi

seconds=()
for run in $(seq "$RUNS"); do
  sync
  "$BIN/idrecon-server" --port 0 --threads 1 --data-dir "$DATA" --snapshot-every off >"$WORK/out" 2>"$WORK/err" &
  SERVER_PID=$!
  for _ in $(seq 1200); do
    grep -q "listening on" "$WORK/out" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/err" >&2; exit 1; }
    sleep 0.05
  done
  line=$(grep 'msg=recovered' "$WORK/err" | head -1)
  s=$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$line")
  rss=$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER_PID/status")
  echo "run $run: recovered in $s s, RSS $rss MiB ($line)" >&2
  seconds+=("$s")
  kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=
done
median=$(printf '%s\n' "${seconds[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "restart with $CONTACTS contacts: median $median s over $RUNS runs (${seconds[*]}); $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
