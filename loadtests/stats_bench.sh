#!/usr/bin/env bash
# Stats API response times on a seeded data directory (loadtests/seed.sh),
# served by the release binary: 12-month aggregate, timeseries and
# breakdowns, the same under a page filter, a 7-day hourly series, and the
# dashboard overview's calls, with a trivial endpoint as the floor.
#
#   loadtests/stats_bench.sh                          target/seed/10m
#   DATA_DIR=target/seed/12m RUNS=20 loadtests/stats_bench.sh
#
# The report is printed and written to loadtests/results/stats-<UTC time>.md.
# The server opens the data directory as it would in production (its
# retention job and monthly roll-up run, nothing else writes), on free
# loopback ports; the queries start once every finished month is rolled up.
set -euo pipefail
cd "$(dirname "$0")/.."

data_dir=${DATA_DIR:-target/seed/10m}
runs=${RUNS:-20}
if [[ ! -f $data_dir/seed.env ]]; then
  echo "$data_dir has no seed.env: run loadtests/seed.sh first" >&2
  exit 1
fi
# shellcheck disable=SC1091 # written by the seeder
source "$data_dir/seed.env"
if [[ ${SEED_BACKEND:-embedded} != embedded ]]; then
  echo "this script serves the embedded store; $data_dir was seeded into $SEED_BACKEND" >&2
  exit 1
fi

# SERVER_BIN measures another build of the server (say, before a change).
kruimel=${SERVER_BIN:-target/release/kruimel}
if [[ -z ${SERVER_BIN:-} ]]; then
  cargo build --release --locked --bin kruimel
fi
cargo build --release --locked --example stats_bench

free_port() {
  local port
  while true; do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
}
port=$(free_port)
admin_port=$(free_port)
token_hash=$("$kruimel" hash-token "$SEED_TOKEN")

log=$(mktemp)
KRUIMEL_SERVER__LISTEN="127.0.0.1:$port" \
  KRUIMEL_SERVER__ADMIN_LISTEN="127.0.0.1:$admin_port" \
  KRUIMEL_SERVER__DATA_DIR="$data_dir" \
  KRUIMEL_LOG__LEVEL="info,kruimel::aggregate::rollup=debug" \
  KRUIMEL_SITES="[{ id = \"$SEED_SITE\", hostnames = [\"$SEED_SITE\", \"www.$SEED_SITE\"], tokens = [\"$token_hash\"] }]" \
  "$kruimel" serve >"$log" 2>&1 &
server=$!
stop() {
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -f "$log"
}
trap stop EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$admin_port/readyz" >/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done

# Finished months are summed into monthly rows at start; until a month is,
# breakdowns read its days. Measure once the first roll-up pass is over
# (logged at debug level when nothing was due)
# (at most ROLLUP_WAIT seconds, 1800 by default).
rollup_started=$(date +%s)
until grep -q 'monthly roll-up pass finished' "$log"; do
  kill -0 "$server" 2>/dev/null || { cat "$log" >&2; exit 1; }
  if (($(date +%s) - rollup_started > ${ROLLUP_WAIT:-1800})); then
    echo "the monthly roll-up did not finish within ${ROLLUP_WAIT:-1800} s; its log:" >&2
    grep -i 'roll' "$log" >&2 || true
    exit 1
  fi
  sleep 1
done
rollup_seconds=$(($(date +%s) - rollup_started))

mkdir -p loadtests/results
report=loadtests/results/stats-$(date -u +%Y%m%dT%H%M%SZ).md
{
  echo "# Stats at scale: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD), server $kruimel"
  echo
  echo "Data: $data_dir ($(du -h "$data_dir/kruimel.redb" | cut -f1)), $SEED_PAGEVIEWS pageviews, $SEED_FIRST to $SEED_END; filter page $SEED_PAGE."
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load before: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Monthly roll-up at start: $(grep -c 'month rolled up' "$log") months in about ${rollup_seconds} s after readiness."
  echo "Runs per query: $runs after 3 warm-up runs; times in ms, client on the same machine, one kept-alive connection."
  echo
  target/release/examples/stats_bench --url "http://127.0.0.1:$port" --site "$SEED_SITE" \
    --token "$SEED_TOKEN" --end "$SEED_END" --page "$SEED_PAGE" --runs "$runs"
  echo
  echo "Load after: $(cut -d' ' -f1-3 /proc/loadavg)."
} | tee "$report"
echo "report: $report" >&2
