#!/usr/bin/env bash
# idrecon-load against a real idrecon-server that closes every connection
# after 20 requests: the harness must reconnect after each "Connection: close"
# without counting an error, and every answer must check out.
#   load_against_server.sh BIN_DIR
set -euo pipefail
BIN=$1
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN/idrecon-server" --port 0 --threads 1 --sync nosync --data-dir "$WORK/data" \
  --max-requests-per-connection 20 >"$WORK/out" 2>"$WORK/err" &
SERVER_PID=$!
PORT=
for _ in $(seq 300); do
  PORT=$(sed -n 's#.* listening on http://[^ ]*:\([0-9][0-9]*\) .*#\1#p' "$WORK/out" | head -1)
  [[ -n $PORT ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/err" >&2; exit 1; }
  sleep 0.1
done
[[ -n $PORT ]] || { echo "server did not start" >&2; exit 1; }

line=$("$BIN/idrecon-load" --target "http://127.0.0.1:$PORT" --connections 4 --threads 1 --warmup 0 \
  --duration 1 --preload 200 --seed 7 --json "$WORK/result.json")
echo "$line"
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$line"; }
requests=$(field requests)
[[ $(field errors) == 0 ]] || { echo "FAIL: transport errors counted for closes the server announced" >&2; exit 1; }
[[ $(field wrong) == 0 && $(field non200) == 0 ]] || { echo "FAIL: bad answers" >&2; exit 1; }
(( requests > 100 )) || { echo "FAIL: only $requests requests in 1 s: not reconnecting?" >&2; exit 1; }
grep -q '"qps"' "$WORK/result.json" || { echo "FAIL: no JSON result" >&2; exit 1; }
echo "ok: $requests requests over connections closed every 20 requests"

# Open loop with spinning harness threads: paced at the rate (not as fast as
# it can), every answer checked, and the JSON says how it was measured.
line=$("$BIN/idrecon-load" --target "http://127.0.0.1:$PORT" --connections 4 --threads 1 --warmup 0 \
  --duration 1 --rate 400 --busy-poll --seed 8 --json "$WORK/open.json")
echo "$line"
requests=$(field requests)
[[ $(field errors) == 0 && $(field wrong) == 0 && $(field non200) == 0 ]] || { echo "FAIL: open loop" >&2; exit 1; }
(( requests >= 380 && requests <= 420 )) || { echo "FAIL: $requests requests at --rate 400 for 1 s" >&2; exit 1; }
grep -q '"busy_poll":true' "$WORK/open.json" || { echo "FAIL: JSON lacks busy_poll" >&2; exit 1; }
echo "ok: open loop --busy-poll sent $requests at 400/s"
