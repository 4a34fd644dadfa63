#!/usr/bin/env bash
# Measures Kruimel's ingest throughput against a bare hyper server and checks
# that every beacon Kruimel accepted as counted shows up in its stats API.
#
#   loadtests/run.sh                 # 20 s per target, as in BENCHMARKS.md
#   DURATION=10 loadtests/run.sh     # shorter
#
# Environment (all optional):
#   DURATION         seconds of measured load per target (default 20)
#   WARMUP           seconds of warm-up load per target (default 3)
#   WRK_THREADS      wrk threads (default 1: wrk keeps one core, the server the other)
#   WRK_CONNECTIONS  open connections (default 64)
#   FLUSH_WAIT       seconds to wait for Kruimel's counts to settle (default 10)
#   TARGETS          which targets to run, in order (default "baseline kruimel")
#
# Needs wrk and curl. Writes the report to loadtests/results/<UTC time>.md.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION=${DURATION:-20}
WARMUP=${WARMUP:-3}
WRK_THREADS=${WRK_THREADS:-1}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
FLUSH_WAIT=${FLUSH_WAIT:-10}
TARGETS=${TARGETS:-baseline kruimel}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
SITE=load.example
WARMUP_SITE=warmup.example
TOKEN=load-test-token

for number in DURATION WARMUP WRK_THREADS WRK_CONNECTIONS FLUSH_WAIT; do
  if ! [[ ${!number} =~ ^[1-9][0-9]*$ ]]; then
    echo "$number must be a positive whole number, not '${!number}'" >&2
    exit 2
  fi
done

for tool in wrk curl; do
  if ! command -v "$tool" >/dev/null; then
    echo "$tool is required but not installed." >&2
    echo "On Debian or Ubuntu: sudo apt-get install $tool" >&2
    exit 1
  fi
done

work_dir=$(mktemp -d "${TMPDIR:-/tmp}/kruimel-load.XXXXXX")
server_pids=()

cleanup() {
  local pid
  for pid in "${server_pids[@]}"; do
    stop_server "$pid"
  done
  rm -rf "$work_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Asks politely (Kruimel flushes on SIGTERM), then insists.
stop_server() {
  local pid=$1 tries
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((tries = 0; tries < 100; tries++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

port_is_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port VARIABLE: sets VARIABLE to a port nothing listens on now and
# that this run has not handed out yet.
used_ports=" "
free_port() {
  local -n chosen=$1
  local candidate
  while true; do
    candidate=$((20000 + RANDOM % 40000))
    if [[ $used_ports != *" $candidate "* ]] && ! port_is_open "$candidate"; then
      used_ports+="$candidate "
      # shellcheck disable=SC2034 # chosen is a reference to the caller's variable
      chosen=$candidate
      return
    fi
  done
}

# wait_for_server SECONDS PID COMMAND...: retries COMMAND every 0.1 s for
# at most SECONDS, giving up early if the server process has exited.
wait_for_server() {
  local deadline=$((SECONDS + $1)) pid=$2
  shift 2
  until "$@"; do
    if ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= deadline)); then
      return 1
    fi
    sleep 0.1
  done
}

peak_rss_mib() {
  awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

# field NAME FILE: the value of NAME=<value> on the wrk script's lines.
field() {
  grep -oE "(^| )$1=[0-9]+" "$2" | tail -n 1 | cut -d= -f2
}

wrk_commands=()

# run_wrk OUTPUT SECONDS SITE PORT: one wrk run with the beacon mix.
run_wrk() {
  local output=$1 seconds=$2 site=$3 port=$4
  local command=(wrk "-t$WRK_THREADS" "-c$WRK_CONNECTIONS" "-d${seconds}s" --latency
    -s loadtests/beacons.lua "http://127.0.0.1:$port/api/event" -- "$site")
  local quoted
  quoted=$(printf '%q ' "${command[@]}")
  wrk_commands+=("${quoted% }")
  "${command[@]}" >"$output"
  if ! grep -q '^RESULT ' "$output"; then
    echo "wrk printed no RESULT line; its output:" >&2
    cat "$output" >&2
    return 1
  fi
}

declare -A accepted_rate p50 p99 rss
check_status=""
check_detail=""

# measure TARGET PID PORT: warm-up, measured run, peak memory.
measure() {
  local target=$1 pid=$2 port=$3
  echo "== $target: warm-up ${WARMUP}s, then ${DURATION}s" >&2
  run_wrk "$work_dir/$target-warmup.out" "$WARMUP" "$WARMUP_SITE" "$port"
  run_wrk "$work_dir/$target.out" "$DURATION" "$SITE" "$port"
  local out="$work_dir/$target.out"
  local counted dropped duration_us
  counted=$(field counted "$out")
  dropped=$(field dropped "$out")
  duration_us=$(field duration_us "$out")
  accepted_rate[$target]=$(awk -v n=$((counted + dropped)) -v us="$duration_us" \
    'BEGIN { printf "%.0f", n / (us / 1e6) }')
  p50[$target]=$(field p50_us "$out")
  p99[$target]=$(field p99_us "$out")
  rss[$target]=$(peak_rss_mib "$pid")
  grep -E '^(RESULT|LATENCY|REQUESTS) ' "$out" >&2
}

run_baseline() {
  local port pid
  free_port port
  "$TARGET_DIR/release/examples/baseline" "127.0.0.1:$port" 2>"$work_dir/baseline.log" &
  pid=$!
  server_pids+=("$pid")
  if ! wait_for_server 10 "$pid" port_is_open "$port"; then
    echo "baseline did not start listening on port $port; its log:" >&2
    cat "$work_dir/baseline.log" >&2
    return 1
  fi
  measure baseline "$pid" "$port"
  stop_server "$pid"
}

write_kruimel_config() {
  local port=$1 admin_port=$2 token_hash
  token_hash=$("$TARGET_DIR/release/kruimel" hash-token "$TOKEN")
  if ! [[ $token_hash =~ ^blake3:[0-9a-f]{64}$ ]]; then
    echo "kruimel hash-token printed '$token_hash', expected blake3:<64 hex>" >&2
    return 1
  fi
  cat >"$work_dir/kruimel.toml" <<EOF
[server]
listen = "127.0.0.1:$port"
admin_listen = "127.0.0.1:$admin_port"
data_dir = "$work_dir/data"
trusted_proxies = ["127.0.0.1/32"]

[[sites]]
id = "$SITE"
hostnames = ["$SITE"]
tokens = ["$token_hash"]

[[sites]]
id = "$WARMUP_SITE"
hostnames = ["$WARMUP_SITE"]
tokens = ["$token_hash"]
EOF
}

kruimel_is_ready() {
  curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$1/readyz" 2>/dev/null
}

# metric_in_stats PORT METRIC: today's value of METRIC for the site,
# according to the stats API.
metric_in_stats() {
  local url="http://127.0.0.1:$1/api/v1/stats/aggregate?site_id=$SITE&period=day&metrics=pageviews,events"
  curl -fsS --max-time 5 -H "Authorization: Bearer $TOKEN" "$url" >"$work_dir/stats.json" || return 1
  tr -d ' \n\r\t' <"$work_dir/stats.json" | grep -oE "\"$2\":\\{[^}]*\\}" |
    grep -oE '"value":[0-9]+' | cut -d: -f2
}

# Beacons answered as counted must all be in the stats. Requests wrk wrote
# but had no answer to when it stopped may or may not have been counted, so
# the count may exceed "counted" by at most that many.
check_counts() {
  local port=$1 out="$work_dir/kruimel.out"
  local counted unanswered events pageviews previous="" deadline=$((SECONDS + FLUSH_WAIT))
  counted=$(field counted "$out")
  unanswered=$(field unanswered "$out")
  echo "== kruimel: waiting up to ${FLUSH_WAIT}s for the counts to settle" >&2
  while true; do
    events=$(metric_in_stats "$port" events) || events=""
    if [[ -n $events && $events == "$previous" && $events -ge $counted ]] || ((SECONDS >= deadline)); then
      break
    fi
    previous=$events
    sleep 1
  done
  pageviews=$(metric_in_stats "$port" pageviews) || pageviews="?"
  if [[ -z $events ]]; then
    check_status=FAIL
    check_detail="the stats API gave no events value; its last answer: $(tr -s ' \n\r\t' ' ' <"$work_dir/stats.json" 2>/dev/null | head -c 300 || true)"
  elif ((events >= counted && events <= counted + unanswered)); then
    check_status=PASS
    check_detail="stats events=$events (pageviews=$pageviews), wrk counted=$counted (+ at most $unanswered unanswered at stop)"
  else
    check_status=FAIL
    check_detail="stats events=$events (pageviews=$pageviews), wrk counted=$counted (+ at most $unanswered unanswered at stop)"
  fi
  echo "$check_status: $check_detail" >&2
}

run_kruimel() {
  local port admin_port pid
  free_port port
  free_port admin_port
  write_kruimel_config "$port" "$admin_port"
  "$TARGET_DIR/release/kruimel" serve --config "$work_dir/kruimel.toml" \
    >"$work_dir/kruimel.log" 2>&1 &
  pid=$!
  server_pids+=("$pid")
  if ! wait_for_server 10 "$pid" kruimel_is_ready "$admin_port"; then
    echo "kruimel exited or was not ready within 10 s; its log:" >&2
    tail -n 50 "$work_dir/kruimel.log" >&2
    return 1
  fi
  measure kruimel "$pid" "$port"
  check_counts "$port"
  stop_server "$pid"
}

build() {
  local command=(cargo build --release)
  [[ " $TARGETS " == *" kruimel "* ]] && command+=(--bin kruimel)
  [[ " $TARGETS " == *" baseline "* ]] && command+=(--example baseline)
  echo "== ${command[*]}" >&2
  "${command[@]}"
}

report() {
  local target commit
  echo "# Kruimel ingest load test, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo
  echo "| target | accepted beacons/s | p50 (µs) | p99 (µs) | peak RSS (MiB) |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  for target in $TARGETS; do
    echo "| $target | ${accepted_rate[$target]} | ${p50[$target]} | ${p99[$target]} | ${rss[$target]} |"
  done
  if [[ -n ${accepted_rate[kruimel]:-} && -n ${accepted_rate[baseline]:-} ]]; then
    echo
    awk -v k="${accepted_rate[kruimel]}" -v b="${accepted_rate[baseline]}" \
      'BEGIN { printf "kruimel/baseline accepted beacons/s: %.2f\n", k / b }'
  fi
  if [[ -n $check_status ]]; then
    echo
    echo "Count check: **$check_status** — $check_detail"
  fi
  echo
  echo "Accepted beacons/s counts 202 answers (counted and deliberately dropped)"
  echo "per second of the measured run; latencies are wrk's, including its own queueing."
  echo
  echo "## wrk output lines"
  echo
  echo '```'
  for target in $TARGETS; do
    grep -E '^(RESULT|LATENCY|REQUESTS) ' "$work_dir/$target.out" | sed "s/^/$target: /"
  done
  echo '```'
  echo
  echo "## Commands"
  echo
  echo '```'
  printf '%s\n' "${wrk_commands[@]}"
  echo '```'
  echo
  echo "## Machine"
  echo
  echo '```'
  echo "uname -a: $(uname -a)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "load average before the run: $load_before"
  echo "wrk: $(wrk -v 2>&1 | head -n 1)"
  if commit=$(git rev-parse --short HEAD 2>/dev/null); then
    git diff --quiet HEAD 2>/dev/null || commit+=" with local changes"
  else
    commit=unknown
  fi
  echo "commit: $commit"
  echo '```'
}

build
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for target in $TARGETS; do
  case $target in
    baseline) run_baseline ;;
    kruimel) run_kruimel ;;
    *)
      echo "unknown target '$target' (known: baseline kruimel)" >&2
      exit 2
      ;;
  esac
done

mkdir -p loadtests/results
report_file="loadtests/results/$(date -u '+%Y%m%dT%H%M%SZ').md"
report | tee "$report_file"
echo >&2
echo "report written to $report_file" >&2

if [[ $check_status == FAIL ]]; then
  exit 1
fi
