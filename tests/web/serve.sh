# Sourced by tests/web/run.sh and scripts/bench_web.sh: start and stop a `tessera serve` on a free loopback
# port with the built web UI, its pid kept in a file (the server-down spec restarts it and rewrites the file).

# start_web_server TESSERA WEB_DIR WORK_DIR: starts the server over $TESSERA_DIR; sets server_port and
# server_pidfile (WORK_DIR/server.pid); the server's output goes to WORK_DIR/serve.log.
start_web_server() {
  local tessera=$1 web=$2 work=$3
  server_pidfile=$work/server.pid
  # Port 0: the server picks a free port and prints its address.
  "$tessera" serve --host 127.0.0.1 --port 0 --web "$web" > "$work/serve.log" 2>&1 &
  echo $! > "$server_pidfile"
  server_port=""
  for _ in $(seq 100); do
    server_port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/serve.log" | head -1)
    [ -n "$server_port" ] && return 0
    if ! kill -0 "$(cat "$server_pidfile")" 2> /dev/null; then
      cat "$work/serve.log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "the server printed no address" >&2
  cat "$work/serve.log" >&2
  return 1
}

# stop_web_server PIDFILE: ends the server named in PIDFILE (SIGTERM, then SIGKILL after 5 s) if it runs.
stop_web_server() {
  local pidfile=$1 pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  kill "$pid" 2> /dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2> /dev/null || true
}
