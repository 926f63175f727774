#!/usr/bin/env bash
# bench/checkpoint_latency.sh: latency of POST /identify while the server
# checkpoints and trims a long log.
#
# Each run: (1) fill a fresh data directory with FILL_SECONDS of new contacts
# (closed loop, snapshots off), so the log holds a few hundred thousand
# records; (2) restart the server with --snapshot-every 1 — the first
# checkpoint writes a snapshot of everything, the second trims the whole log
# through it while requests keep coming — and measure an open-loop run at
# RATE requests/s for DURATION seconds; (3) the same measurement with
# snapshots off, on a copy of the same directory, as the baseline. Prints one
# line per phase: the harness's result (p50/p99/p999/max from the intended
# send time) and, for the checkpoint phase, how many snapshots were written
# (from the server's /metrics).
#
# Knobs (environment): BIN=<repo>/build/release/bin SYNC=fsync RUNS=3
#   FILL_SECONDS=15 RATE=2000 DURATION=20 CONNECTIONS=32 SERVER_THREADS=1
#   DATA_PARENT=<repo>/build (a real disk, for fsync to mean anything).
# Only ever talks to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=bench/server.sh
source bench/server.sh
BIN=${BIN:-$ROOT/build/release/bin}
SYNC=${SYNC:-fsync}
RUNS=${RUNS:-3}
FILL_SECONDS=${FILL_SECONDS:-15}
RATE=${RATE:-2000}
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-32}
SERVER_THREADS=${SERVER_THREADS:-1}
DATA_PARENT=${DATA_PARENT:-$ROOT/build}
for b in idrecon-server idrecon-load; do
  [[ -x $BIN/$b ]] || { echo "checkpoint_latency.sh: $BIN/$b is missing" >&2; exit 1; }
done

make_workdir "$DATA_PARENT" bench-checkpoint

# start_server DATA SNAPSHOT_EVERY: sets SERVER_PID and PORT.
start_server() {
  start_server_process "$WORK/server.out" "$WORK/server.err" "$BIN/idrecon-server" --port 0 \
    --threads "$SERVER_THREADS" --sync "$SYNC" --data-dir "$1" --snapshot-every "$2"
}

metric() { curl -s "http://127.0.0.1:$PORT/metrics" | sed -n "s/^$1 //p"; }
summary() { grep -o 'qps=[0-9]* \|p50_us=[0-9]*\|p99_us=[0-9]*\|p999_us=[0-9]*\|max_us=[0-9]*\|non200=[0-9]*' <<<"$1" | tr '\n' ' '; }

measure() {  # measure SEED: an open-loop run against PORT
  "$BIN/idrecon-load" --target "http://127.0.0.1:$PORT" --connections "$CONNECTIONS" --rate "$RATE" \
    --duration "$DURATION" --warmup 1 --seed "$1" --check full 2>/dev/null || true
}

echo "== $SYNC, fill ${FILL_SECONDS}s, then open loop at $RATE req/s for ${DURATION}s; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq "$RUNS"); do
  data=$WORK/data-$run
  start_server "$data" off
  "$BIN/idrecon-load" --target "http://127.0.0.1:$PORT" --connections "$CONNECTIONS" --duration "$FILL_SECONDS" \
    --warmup 0 --mix new=100 --seed "$run" --check shape >/dev/null 2>&1 || true
  records=$(metric idrecon_log_durable_seq)
  stop_server
  cp -a "$data" "$data-copy"

  start_server "$data" 1
  line=$(measure $((100 + run)))
  snapshots=$(metric idrecon_snapshots_written_total)
  stop_server
  echo "run $run checkpointing: log of $records records; $(summary "$line")snapshots=$snapshots"

  start_server "$data-copy" off
  line=$(measure $((100 + run)))
  stop_server
  echo "run $run no snapshots:  log of $records records; $(summary "$line")"
  rm -rf "$data" "$data-copy"
done
