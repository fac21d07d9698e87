#!/usr/bin/env bash
# Annotators benchmark (`make bench`), on SQLite and on PostgreSQL:
#  (1) 100 concurrent annotators, each on its own image, doing lock -> read -> write (a counter + 1 in the
#      annotation's attributes, If-Match on the version read) -> release for 30 s over HTTP against
#      `tessera serve` on loopback; anchor in the same run: the same sequence through app::Annotations
#      in-process. Then the same with 4 annotators per image (25 images, 15 s), so leases are contended and a
#      refused lock is retried. Lost updates are counted (stored counters against successful writes), and 5xx
#      answers. Goal: p99 < 50 ms per request, 0 lost, 0 5xx.
#  (3) paging: a project of 100,000 images listed over HTTP 100 per page following cursors, by id and by
#      source_path, first to last page; anchor: LIMIT/OFFSET pages at the same depths in-process.
#  (2) viewport queries (1024x1024 windows, a quarter with a tag filter) on one image holding 1,000,000
#      objects: spatial index in-process and over HTTP; anchor: the same query filtered in SQL over the
#      image's objects without the spatial index. Goal: p95 < 100 ms.
#   scripts/bench_annotators.sh [BUILD]
# Environment: TESSERA_BENCH_SMOKE=1 (3 s, 100,000 objects), TESSERA_BENCH_PG=0 (SQLite only),
# TESSERA_BENCH_ANNOTATORS_SECONDS, TESSERA_BENCH_VIEWPORT_OBJECTS, TESSERA_PG_PORT (default 55432).
# Exit status is non-zero on errors (lost updates, differing viewport answers, a failed run), not on a missed goal.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
driver="$build/bench/tessera_bench_annotators"
die() { echo "bench_annotators: $*" >&2; exit 1; }
[ -x "$driver" ] || die "$driver is missing: configure with -DTESSERA_BUILD_BENCH=ON and build"

if [ "${TESSERA_BENCH_SMOKE:-0}" = 1 ]; then
  seconds=${TESSERA_BENCH_ANNOTATORS_SECONDS:-3} objects=${TESSERA_BENCH_VIEWPORT_OBJECTS:-100000} queries=50
  paging_images=${TESSERA_BENCH_PAGING_IMAGES:-5000}
else
  seconds=${TESSERA_BENCH_ANNOTATORS_SECONDS:-30} objects=${TESSERA_BENCH_VIEWPORT_OBJECTS:-1000000} queries=200
  paging_images=${TESSERA_BENCH_PAGING_IMAGES:-100000}
fi
clients=100 shared_images=25
shared_seconds=$(awk -v s="$seconds" 'BEGIN { print (s >= 6 ? s / 2 : s) }')

work=$(mktemp -d)
pg_started=0 pg_dbs=() pg_admin=()
cleanup() {
  for db in "${pg_dbs[@]}"; do "${pg_admin[@]}" -q -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true; done
  if [ "$pg_started" = 1 ]; then "$here/pg-test-server.sh" stop || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== annotators benchmark: $clients clients, one image each for ${seconds} s and 4 per image for ${shared_seconds} s;" \
  "viewports over $objects objects =="
echo "   load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (other work skews latencies)"

# run NAME MODE DB_URL_OR_EMPTY ARGS...: the driver's human lines to stdout, its result lines kept in
# $work/NAME.results.
run() {
  local name=$1 mode=$2 url=$3
  shift 3
  local args=("$mode" --workdir "$work/$name.ws")
  [ -n "$url" ] && args+=(--db "$url")
  local status=0
  "$driver" "${args[@]}" "$@" >"$work/$name.out" 2>&1 || status=$?
  grep -v '^result ' "$work/$name.out" || true
  grep '^result ' "$work/$name.out" >"$work/$name.results" || true
  [ "$status" = 0 ] || die "$name failed (exit $status): lost updates, differing answers or an error above"
}

backends=(sqlite)
declare -A urls=([sqlite]="")
if [ "${TESSERA_BENCH_PG:-1}" != 0 ]; then
  port=${TESSERA_PG_PORT:-55432}
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$bin" ] || die "PostgreSQL is not installed (scripts/install-deps.sh), or set TESSERA_BENCH_PG=0"
  # Stop the private server at the end only if this run started it (tests may share it).
  if ! "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then pg_started=1; fi
  base_url=$(TESSERA_PG_PORT=$port "$here/pg-test-server.sh" start)
  pg_admin=(psql "$base_url" -v ON_ERROR_STOP=1)
  for mode in concurrent shared paced viewport paging; do
    db="tessera_bench_ann_${mode}_$$"
    "${pg_admin[@]}" -q -c "CREATE DATABASE $db" >/dev/null
    pg_dbs+=("$db")
    urls[pg_$mode]="${base_url%/*}/$db"
  done
  backends+=(postgresql)
fi

for backend in "${backends[@]}"; do
  c_url="" s_url="" p_url="" v_url="" g_url=""
  if [ "$backend" = postgresql ]; then
    c_url=${urls[pg_concurrent]} s_url=${urls[pg_shared]} p_url=${urls[pg_paced]} v_url=${urls[pg_viewport]}
    g_url=${urls[pg_paging]}
  fi
  run "$backend-concurrent" concurrent "$c_url" --clients "$clients" --images "$clients" --seconds "$seconds"
  run "$backend-shared" concurrent "$s_url" --clients "$clients" --images "$shared_images" --seconds "$shared_seconds"
  run "$backend-paced" concurrent "$p_url" --clients "$clients" --images "$clients" --seconds "$shared_seconds" \
    --think-ms "${TESSERA_BENCH_THINK_MS:-250}"
  run "$backend-viewport" viewport "$v_url" --objects "$objects" --queries "$queries"
  run "$backend-paging" paging "$g_url" --images "$paging_images"
done

field() { sed -n "s/^result phase=$2 .*\b$3=\([^ ]*\).*/\1/p" "$work/$1.results" | head -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }
echo
echo "summary (per request; cycle = lock + read + write + release; busy = lock refused, retried):"
printf '  %-11s %-24s %9s %9s %9s %11s %6s %5s %7s\n' backend phase "cycles/s" "p50 ms" "p99 ms" "cycle p99" lost 5xx busy
for backend in "${backends[@]}"; do
  for run_name in concurrent shared paced; do
    f="$backend-$run_name"
    for phase in in-process http; do
      case $run_name in concurrent) what="own image" ;; shared) what="4 per image" ;; *) what="paced" ;; esac
      label="$phase, $what"
      printf '  %-11s %-24s %9s %9s %9s %11s %6s %5s %7s\n' "$backend" "$label" "$(field "$f" "$phase" cycles_per_s)" \
        "$(field "$f" "$phase" p50_ms)" "$(field "$f" "$phase" p99_ms)" "$(field "$f" "$phase" cycle_p99_ms)" \
        "$(field "$f" "$phase" lost_updates)" "$(field "$f" "$phase" errors_5xx)" "$(field "$f" "$phase" lock_busy)"
    done
  done
  f="$backend-concurrent"
  echo "  $backend, own image: http / in-process p99 $(ratio "$(field "$f" http p99_ms)" "$(field "$f" in-process p99_ms)")x," \
    "cycles/s $(ratio "$(field "$f" http cycles_per_s)" "$(field "$f" in-process cycles_per_s)")x (goal: http p99 < 50 ms)"
  f="$backend-paced"
  echo "  $backend, paced (think ${TESSERA_BENCH_THINK_MS:-250} ms): http p99 $(field "$f" http p99_ms) ms," \
    "http / in-process p99 $(ratio "$(field "$f" http p99_ms)" "$(field "$f" in-process p99_ms)")x (goal: http p99 < 50 ms)"
done
echo "viewports over $objects objects (1024x1024):"
printf '  %-11s %-16s %9s %9s\n' backend way "p50 ms" "p95 ms"
for backend in "${backends[@]}"; do
  f="$backend-viewport"
  for way in indexed http "scan"; do
    printf '  %-11s %-16s %9s %9s\n' "$backend" "$way" "$(field "$f" "viewport-$way" p50_ms)" "$(field "$f" "viewport-$way" p95_ms)"
  done
  echo "  $backend: scan / indexed p95 $(ratio "$(field "$f" viewport-scan p95_ms)" "$(field "$f" viewport-indexed p95_ms)")x" \
    "(goal: indexed p95 < 100 ms)"
done
echo "paging over $paging_images images, 100 per page (over HTTP, following cursors; anchor: LIMIT/OFFSET in-process):"
printf '  %-11s %-12s %6s %14s %13s %13s %12s %16s\n' backend sort pages "first p50 ms" "last p50 ms" "last p99 ms" "all p99 ms" "offset last p50"
for backend in "${backends[@]}"; do
  f="$backend-paging"
  for sort in id source_path; do
    printf '  %-11s %-12s %6s %14s %13s %13s %12s %16s\n' "$backend" "$sort" "$(field "$f" "paging-$sort" pages)" \
      "$(field "$f" "paging-$sort" first_p50_ms)" "$(field "$f" "paging-$sort" last_p50_ms)" \
      "$(field "$f" "paging-$sort" last_p99_ms)" "$(field "$f" "paging-$sort" all_p99_ms)" \
      "$(field "$f" "paging-$sort" offset_last_p50_ms)"
  done
done
