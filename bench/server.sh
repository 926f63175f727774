# shellcheck shell=bash
# bench/server.sh: sourced by the bench scripts, which need a scratch
# directory and a server in the background whose port they learn.
#
# make_workdir PARENT PREFIX: WORK = a fresh directory PARENT/PREFIX.XXXXXX,
#   removed when the script exits, after stopping a server still running.
# start_server_process OUT ERR COMMAND...: runs COMMAND (a server started
#   with --port 0) with its stdout in OUT (emptied first: no stale port) and
#   its stderr in ERR, waits up to 60 s for its ready line "... listening on
#   http://HOST:PORT ...", and sets SERVER_PID and PORT. If the server exits
#   or never gets ready, prints ERR and exits the script.
# stop_server: SIGTERM, wait, clear SERVER_PID.

start_server_process() {
  local out=$1 err=$2
  shift 2
  : >"$out"
  "$@" >"$out" 2>"$err" &
  SERVER_PID=$!
  PORT=
  for _ in $(seq 600); do
    PORT=$(sed -n 's#.* listening on http://[^ ]*:\([0-9][0-9]*\) .*#\1#p' "$out" | head -1)
    [[ -n $PORT ]] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "$(basename "$0"): $(basename "$1") did not start:" >&2
  cat "$err" >&2
  exit 1
}

stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

make_workdir() {
  mkdir -p "$1"
  WORK=$(mktemp -d "$1/$2.XXXXXX")
  SERVER_PID=
  trap 'if [[ -n $SERVER_PID ]]; then stop_server; fi; rm -rf "$WORK"' EXIT
}
