#!/usr/bin/env bash
# Measures Kruimel's ingest throughput against a bare hyper server, on the
# embedded store and on Redis, and checks that every beacon Kruimel
# accepted as counted shows up in its stats API.
#
#   loadtests/run.sh                 # 20 s per target, as in BENCHMARKS.md
#   DURATION=10 loadtests/run.sh     # shorter
#   TARGETS="baseline embedded" loadtests/run.sh   # without Redis
#
# Targets:
#   baseline   the bare hyper server (loadtests/baseline.rs)
#   embedded   one Kruimel on the embedded redb store ("kruimel" is an old name for it)
#   redis      one Kruimel on a redis-server this script starts
#   redis2     two Kruimel instances sharing one redis-server, the load split
#              between them: one wrk per instance, each with half the connections
#
# Environment (all optional):
#   DURATION         seconds of measured load per target (default 20)
#   WARMUP           seconds of warm-up load per target (default 3)
#   WRK_THREADS      threads per wrk process (default 1: wrk keeps one core, the server the other)
#   WRK_CONNECTIONS  open connections per target, split over its instances (default 64)
#   FLUSH_WAIT       seconds to wait for Kruimel's counts to settle (default 30;
#                    the wait ends as soon as they have)
#   TARGETS          which targets to run, in order (default "baseline embedded redis redis2")
#
# Needs wrk and curl, and for the Redis targets redis-server and redis-cli.
# Writes the report to loadtests/results/<UTC time>.md.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION=${DURATION:-20}
WARMUP=${WARMUP:-3}
WRK_THREADS=${WRK_THREADS:-1}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
FLUSH_WAIT=${FLUSH_WAIT:-30}
TARGETS=${TARGETS:-baseline embedded redis redis2}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
SITE=load.example
WARMUP_SITE=warmup.example
TOKEN=load-test-token
CLOCK_TICKS=$(getconf CLK_TCK)

for number in DURATION WARMUP WRK_THREADS WRK_CONNECTIONS FLUSH_WAIT; do
  if ! [[ ${!number} =~ ^[1-9][0-9]*$ ]]; then
    echo "$number must be a positive whole number, not '${!number}'" >&2
    exit 2
  fi
done

known_targets="baseline embedded redis redis2"
requested=$TARGETS
TARGETS=""
for target in $requested; do
  [[ $target == kruimel ]] && target=embedded
  if [[ " $known_targets " != *" $target "* ]]; then
    echo "unknown target '$target' (known: $known_targets)" >&2
    exit 2
  fi
  TARGETS+="${TARGETS:+ }$target"
done

# instances TARGET: how many Kruimel instances (or baseline servers) share its load.
instances() {
  case $1 in
    redis2) echo 2 ;;
    *) echo 1 ;;
  esac
}

for target in $TARGETS; do
  if ((WRK_CONNECTIONS / $(instances "$target") < WRK_THREADS)); then
    echo "WRK_CONNECTIONS ($WRK_CONNECTIONS) split over the $(instances "$target") instances of" \
      "$target leaves fewer connections than WRK_THREADS ($WRK_THREADS) per wrk" >&2
    exit 2
  fi
done

tools=(wrk curl)
[[ " $TARGETS " == *" redis"* ]] && tools+=(redis-server redis-cli)
for tool in "${tools[@]}"; do
  if ! command -v "$tool" >/dev/null; then
    echo "$tool is required but not installed." >&2
    case $tool in
      redis-*) echo "On Debian or Ubuntu: sudo apt-get install redis-server" \
        "(or leave the Redis targets out: TARGETS=\"baseline embedded\")" >&2 ;;
      *) echo "On Debian or Ubuntu: sudo apt-get install $tool" >&2 ;;
    esac
    exit 1
  fi
done

# Helpers, by concept: the servers, what is measured, the report.
# shellcheck source=loadtests/lib/servers.sh
source loadtests/lib/servers.sh
# shellcheck source=loadtests/lib/measure.sh
source loadtests/lib/measure.sh
# shellcheck source=loadtests/lib/report.sh
source loadtests/lib/report.sh

use_work_dir load

# --- targets -----------------------------------------------------------------

# When the last wrk run ended (EPOCHREALTIME), for settle.
load_ended=""

# measure TARGET: warm-up, measured run, peak memory, CPU and for Kruimel
# the count check, on the servers started for TARGET.
measure() {
  local target=$1 lost_before=0 before after pid sizes=()
  echo "== $target: warm-up ${WARMUP}s, then ${DURATION}s" >&2
  run_load "$target-warmup" "$WARMUP" "$WARMUP_SITE" "${instance_ports[@]}"
  load_ended=$EPOCHREALTIME
  if [[ $target != baseline ]]; then
    # The warm-up must be resolved before the measured run starts, so that
    # its hits neither take the measured run's CPU nor enter its figures.
    settle "$target-warmup" "$WARMUP_SITE" 0
    lost_before=$(metric_sum "$LOST_METRIC")
  fi
  local shed_before
  shed_before=$(metric_sum kruimel_beacons_shed_total)
  local redis_cpu_before=""
  if [[ -n $redis_port ]]; then
    redis_start_stats
    redis_cpu_before=$(redis_cpu_seconds)
  fi
  before=$(cpu_snapshot)
  run_load "$target" "$DURATION" "$SITE" "${instance_ports[@]}"
  load_ended=$EPOCHREALTIME
  after=$(cpu_snapshot)
  local stored_at_end=""
  if [[ $target != baseline ]]; then
    stored_at_end=$(events_in_stats "${instance_ports[0]}" "$SITE") || stored_at_end=""
  fi
  record_cpu "$target" "$before" "$after"
  record_load "$target"
  stored_rate[$target]=$(awk -v n="$stored_at_end" -v us="$(field duration_us "$work_dir/$target.1.out")" \
    'BEGIN { if (n == "") printf "–"; else printf "%.0f", n / (us / 1e6) }')
  for pid in "${instance_pids[@]}"; do
    sizes+=("$(peak_rss_mib "$pid")")
  done
  rss[$target]=$(joined " / " "${sizes[@]}")
  if [[ $target == baseline ]]; then
    shed[$target]="–"
    return
  fi
  shed[$target]=$(($(metric_sum kruimel_beacons_shed_total) - shed_before))
  check_counts "$target" "$lost_before"
  if [[ -n $redis_port ]]; then
    local stored_events
    stored_events=$(events_in_stats "${instance_ports[0]}" "$SITE") || stored_events=0
    redis_stats[$target]="$(redis_summary)
$(redis_cpu_line "$redis_cpu_before" "$stored_events")
redis-server peak RSS: $(peak_rss_mib "$redis_pid") MiB"
  fi
}

run_target() {
  local target=$1
  case $target in
    baseline) start_baseline ;;
    embedded) start_kruimel embedded embedded ;;
    redis)
      start_redis redis
      start_kruimel redis redis
      ;;
    redis2)
      start_redis redis2
      start_kruimel redis2-a redis
      start_kruimel redis2-b redis
      ;;
  esac
  measure "$target"
  forget_instances
}

build() {
  local command=(cargo build --release)
  [[ " $TARGETS " =~ \ (embedded|redis|redis2)\  ]] && command+=(--bin kruimel)
  [[ " $TARGETS " == *" baseline "* ]] && command+=(--example baseline)
  echo "== ${command[*]}" >&2
  "${command[@]}"
}

# --- main --------------------------------------------------------------------

build
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for target in $TARGETS; do
  run_target "$target"
done

mkdir -p loadtests/results
report_file="loadtests/results/$(date -u '+%Y%m%dT%H%M%SZ').md"
report | tee "$report_file"
echo >&2
echo "report written to $report_file" >&2

for target in $TARGETS; do
  if [[ ${check_status[$target]:-} == FAIL ]]; then
    exit 1
  fi
done
