#!/usr/bin/env bash
# Two `tessera worker` processes share one PostgreSQL job queue: 200 `wait` jobs are each run exactly once
# (one job.started event and one result per job, both workers busy), then the worker running a long job is
# killed with SIGKILL and the job is reclaimed after its missed heartbeats and completes on the other
# worker; finally SIGTERM stops the survivor cleanly. Needs TESSERA_TEST_PG_URL (scripts/pg-test-server.sh
# start); skips, saying so, without it. Runs in a schema of its own, dropped at the end.
set -uo pipefail
tessera=$(realpath "$1")
py=/usr/bin/python3
if [ -z "${TESSERA_TEST_PG_URL:-}" ]; then
  echo "skipped: TESSERA_TEST_PG_URL is not set (start a server with scripts/pg-test-server.sh start and export the URL it prints)"
  exit 0
fi
source "$(dirname "$0")/../lib.sh"

schema="tessera_workers_$$_$RANDOM"
case "$TESSERA_TEST_PG_URL" in *\?*) sep='&' ;; *) sep='?' ;; esac
url="${TESSERA_TEST_PG_URL}${sep}options=-csearch_path%3D${schema}"
psql "$TESSERA_TEST_PG_URL" -qAt -v ON_ERROR_STOP=1 -c "CREATE SCHEMA $schema" || { echo "cannot create schema $schema"; exit 1; }
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  psql "$TESSERA_TEST_PG_URL" -qAt -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

export TESSERA_DIR=$work/ws
check init 0 "catalog postgresql" -- "$tessera" init ws --db "$url"
check enqueue 0 "queued 200 jobs" -- "$tessera" jobs add wait --params '{"ms": 20}' --count 200
check bad-params 2 "parameter 'ms' must be an integer" -- "$tessera" jobs add wait --params '{"ms": "soon"}'

# Short heartbeats so a dead worker's job comes back within seconds.
start_worker() {  # start_worker NAME -> pid in $!
  "$tessera" worker --name "$1" --threads 2 --heartbeat 0.3 --reclaim-after 1.5 --poll 0.05 >"$work/$1.log" 2>&1 &
  pids+=($!)
}
start_worker w1
pid_w1=$!
start_worker w2
pid_w2=$!

# Waits until `tessera jobs --state STATE` lists N jobs, up to SECONDS.
wait_count() {  # wait_count STATE N SECONDS
  local deadline=$((SECONDS + $3)) n=0
  while [ $SECONDS -lt $deadline ]; do
    n=$("$tessera" jobs --state "$1" --limit -1 --json | wc -l)
    [ "$n" -ge "$2" ] && return 0
    sleep 0.2
  done
  echo "only $n jobs $1 after $3 s (want $2)"
  return 1
}
check drained 0 "" -- wait_count succeeded 200 40

# Exactly once: one job.started event per job, one result per job, and both workers took part.
"$tessera" events --json --limit 100000 >events.json
"$tessera" jobs --limit -1 --json >jobs.json
check exactly-once 0 "200 jobs, 200 starts, w1 [1-9][0-9]*, w2 [1-9][0-9]*" -- $py - <<'EOF'
import json, collections
events = json.load(open('events.json'))
jobs = [json.loads(l) for l in open('jobs.json')]
starts = collections.Counter(e['subject_id'] for e in events if e['kind'] == 'job.started')
done = collections.Counter(e['subject_id'] for e in events if e['kind'] == 'job.succeeded')
ids = {j['id'] for j in jobs}
problems = [f"job {i}: {starts[i]} starts, {done[i]} successes" for i in ids if starts[i] != 1 or done[i] != 1]
problems += [f"job {j['id']}: {j['state']} attempt {j['attempts']}" for j in jobs
             if j['state'] != 'succeeded' or j['attempts'] != 1 or j['result']['worker'] != j['worker']]
by = collections.Counter(j['worker'] for j in jobs)
print('\n'.join(problems[:10]))
print(f"{len(jobs)} jobs, {sum(starts.values())} starts, w1 {by['w1']}, w2 {by['w2']}" if not problems else "problems")
EOF
lines=$(cat "$work/w1.log" "$work/w2.log" | grep -c "wait succeeded")
check log-lines 0 "^200$" -- echo "$lines"

# kill -9 the worker running a long job: the other reclaims it after the missed heartbeats and runs it.
long=$("$tessera" jobs add wait --params '{"ms": 3000}' | awk '{print $3}')
holder=""
for _ in $(seq 1 100); do
  holder=$("$tessera" jobs show "$long" | $py -c 'import json,sys; j=json.load(sys.stdin); print(j["worker"] or "" if j["state"] == "running" else "")')
  [ -n "$holder" ] && break
  sleep 0.1
done
check long-claimed 0 "^w[12]$" -- echo "$holder"
if [ "$holder" = w1 ]; then victim=$pid_w1 survivor=w2 survivor_pid=$pid_w2; else victim=$pid_w2 survivor=w1 survivor_pid=$pid_w1; fi
kill -9 "$victim"
wait "$victim" 2>/dev/null
check reclaimed-and-done 0 "" -- wait_count succeeded 201 30
check rerun-on-survivor 0 "succeeded $survivor attempts 2 result $survivor" -- sh -c "\"$tessera\" jobs show $long | $py -c 'import json,sys; j=json.load(sys.stdin); print(j[\"state\"], j[\"worker\"], \"attempts\", j[\"attempts\"], \"result\", j[\"result\"][\"worker\"])'"
"$tessera" events --json --limit 100000 >events.json
check long-events 0 "started 2 requeued 1 succeeded 1" -- $py - "$long" <<'EOF'
import json, sys
job = int(sys.argv[1])
kinds = [e['kind'] for e in json.load(open('events.json')) if e['subject_id'] == job]
print('started', kinds.count('job.started'), 'requeued', kinds.count('job.requeued'), 'succeeded', kinds.count('job.succeeded'))
EOF

# SIGTERM: the survivor stops cleanly.
kill -TERM "$survivor_pid"
wait "$survivor_pid"
status=$?
check survivor-stopped 0 "SIGTERM received.*worker stopped" -- sh -c "echo exit $status; tr '\n' ' ' <'$work/$survivor.log'"
check survivor-exit 0 "^exit 0$" -- echo "exit $status"
finish
