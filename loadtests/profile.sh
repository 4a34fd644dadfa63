#!/usr/bin/env bash
# Where Kruimel's ingest CPU goes: the baseline and one Kruimel target under
# run.sh's load, the same minute, with per-hit figures from the server's own
# counters, then the same target again under `perf record`.
#
#   loadtests/profile.sh                      # embedded store
#   TARGET=redis loadtests/profile.sh         # one instance on a fresh redis-server
#   PERF=0 loadtests/profile.sh               # the figures without the profile
#
# Environment (all optional):
#   TARGET        embedded or redis (default embedded)
#   DURATION      seconds of load per measured run (default 30)
#   WARMUP        seconds of warm-up load (default 3)
#   PERF_SECONDS  seconds recorded by perf, from PERF_DELAY (5) seconds into
#                 its run of DURATION seconds (default 20)
#   PERF_FREQ     samples per second and thread (default 499)
#   PERF          1 (default): also the two profiled runs; 0: the figures only
#   FLUSH_WAIT    seconds to wait for the counts to settle (default 60)
#   OUT           where the perf data and reports go (default loadtests/results/profile-<UTC time>)
#
# Measured run (no profiler): accepted and stored beacons/s of the baseline
# and the target, the aggregator thread's CPU (/proc/PID/task/TID/stat, from
# the start of the load until the counts settled) per stored hit, counters
# written per flush and per stored hit (kruimel_flush_batch_keys), and for
# Redis its used_cpu_user + used_cpu_sys per stored beacon, INFO
# commandstats, the script calls from SLOWLOG (every call over 1 ms: each
# script call, not the commands it runs, which take microseconds) and the
# beacons lost after acknowledgement (kruimel_redis_backlog_dropped_total).
# Profiled runs: a fresh instance each, `perf record -e cpu-clock` on
# Kruimel (and redis-server), once flat (self time per function) and once
# with `--call-graph dwarf`, then `perf report` and the split of the dwarf
# samples by part (loadtests/profile_split.py).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

TARGET=${TARGET:-embedded}
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-3}
PERF=${PERF:-1}
PERF_SECONDS=${PERF_SECONDS:-20}
PERF_DELAY=${PERF_DELAY:-5}
PERF_FREQ=${PERF_FREQ:-499}
FLUSH_WAIT=${FLUSH_WAIT:-60}
WRK_THREADS=1
WRK_CONNECTIONS=64
TARGET_DIR=${CARGO_TARGET_DIR:-target}
SITE=load.example
WARMUP_SITE=warmup.example
TOKEN=load-test-token
CLOCK_TICKS=$(getconf CLK_TCK)
OUT=${OUT:-loadtests/results/profile-$(date -u '+%Y%m%dT%H%M%SZ')}

case $TARGET in
  embedded | redis) ;;
  *)
    echo "TARGET must be embedded or redis, not '$TARGET'" >&2
    exit 2
    ;;
esac

# shellcheck source=loadtests/lib/servers.sh
source loadtests/lib/servers.sh
# shellcheck source=loadtests/lib/measure.sh
source loadtests/lib/measure.sh

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
use_work_dir profile
summary="$OUT/summary.txt"
note() { echo "$*" | tee -a "$summary" >&2; }

cargo build --release --bin kruimel --example baseline >&2

# histogram_part ADMIN_PORT NAME: a histogram's _sum and _count, "sum count".
histogram_part() {
  curl -fsS --max-time 5 "http://127.0.0.1:$1/metrics" |
    awk -v name="$2" '$1 == name "_sum" { s = $2 } $1 == name "_count" { c = $2 }
                      END { printf "%.0f %.0f\n", s, c }'
}

histogram_part_float() {
  curl -fsS --max-time 5 "http://127.0.0.1:$1/metrics" |
    awk -v name="$2" '$1 == name "_sum" { s = $2 } $1 == name "_count" { c = $2 }
                      END { printf "%.4f %.0f\n", s, c }'
}

redis_cpu_seconds() {
  redis-cli -p "$redis_port" info cpu |
    awk -F: '/^used_cpu_(user|sys):/ { total += $2 } END { printf "%.3f", total }'
}

start_target() {
  if [[ $TARGET == redis ]]; then
    start_redis redis
    start_kruimel redis redis
  else
    start_kruimel embedded embedded
  fi
}

note "commit $(git rev-parse --short HEAD), $(date -u '+%Y-%m-%d %H:%M:%S') UTC, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- the baseline, then the target, without a profiler ----------------------

start_baseline
run_load baseline-warmup "$WARMUP" "$WARMUP_SITE" "${instance_ports[@]}"
before=$(cpu_snapshot)
run_load baseline "$DURATION" "$SITE" "${instance_ports[@]}"
after=$(cpu_snapshot)
record_cpu baseline "$before" "$after"
record_load baseline 2>/dev/null
note "baseline: ${accepted_rate[baseline]} requests/s, p50 ${p50[baseline]} µs, p99 ${p99[baseline]} µs," \
  "server ${cpu_server[baseline]} cores, wrk ${cpu_wrk[baseline]}, machine ${cpu_machine[baseline]}"
forget_instances

start_target
run_load "$TARGET-warmup" "$WARMUP" "$WARMUP_SITE" "${instance_ports[@]}"
load_ended=$EPOCHREALTIME
settle "$TARGET-warmup" "$WARMUP_SITE" 0
admin=${instance_admin_ports[0]}
read -r keys_sum_before flushes_before <<<"$(histogram_part "$admin" kruimel_flush_batch_keys)"
read -r flush_seconds_before _ <<<"$(histogram_part_float "$admin" kruimel_flush_duration_seconds)"
lost_before=$(metric_sum "$LOST_METRIC")
shed_before=$(metric_sum kruimel_beacons_shed_total)
aggregator_before=$(cpu_ticks "${aggregator_paths[@]}")
if [[ -n $redis_port ]]; then
  redis-cli -p "$redis_port" config resetstat >/dev/null
  redis-cli -p "$redis_port" config set slowlog-log-slower-than 1000 >/dev/null
  redis-cli -p "$redis_port" config set slowlog-max-len 1000000 >/dev/null
  redis-cli -p "$redis_port" slowlog reset >/dev/null
  redis_before=$(redis_cpu_seconds)
fi
before=$(cpu_snapshot)
run_load "$TARGET" "$DURATION" "$SITE" "${instance_ports[@]}"
load_ended=$EPOCHREALTIME
after=$(cpu_snapshot)
record_cpu "$TARGET" "$before" "$after"
record_load "$TARGET" 2>/dev/null
stored_at_end=$(events_in_stats "${instance_ports[0]}" "$SITE")
check_counts "$TARGET" "$lost_before" 2>>"$summary"
aggregator_after=$(cpu_ticks "${aggregator_paths[@]}")
read -r keys_sum_after flushes_after <<<"$(histogram_part "$admin" kruimel_flush_batch_keys)"
stored=$(events_in_stats "${instance_ports[0]}" "$SITE")
counted=$(field counted "$work_dir/$TARGET.1.out")
seconds=$(awk -v us="$(field duration_us "$work_dir/$TARGET.1.out")" 'BEGIN { print us / 1e6 }')
note "$TARGET: ${accepted_rate[$TARGET]} accepted/s, $(awk -v n="$stored_at_end" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }') stored/s at the end of the load," \
  "p50 ${p50[$TARGET]} µs, p99 ${p99[$TARGET]} µs; ratio to the baseline $(awk -v a="${accepted_rate[$TARGET]}" -v b="${accepted_rate[baseline]}" 'BEGIN { printf "%.2f", a / b }')"
note "$TARGET CPU while loaded (cores): server ${cpu_server[$TARGET]}, aggregator ${cpu_aggregator[$TARGET]}," \
  "redis ${cpu_redis[$TARGET]}, wrk ${cpu_wrk[$TARGET]}, other ${cpu_other[$TARGET]}, machine ${cpu_machine[$TARGET]}"
note "$TARGET: answered as counted $counted, stored $stored, lost in the Redis backlog ${lost[$TARGET]}," \
  "shed $(($(metric_sum kruimel_beacons_shed_total) - shed_before)), counts complete after ${complete_after[$TARGET]} s (${check_status[$TARGET]})"
note "$TARGET aggregator: $(awk -v t=$((aggregator_after - aggregator_before)) -v hz="$CLOCK_TICKS" -v n="$stored" \
  'BEGIN { printf "%.2f s CPU, %.2f µs per stored hit", t / hz, t / hz / n * 1e6 }') (load and drain)"
read -r flush_seconds_after _ <<<"$(histogram_part_float "$admin" kruimel_flush_duration_seconds)"
note "$TARGET flush time: $(awk -v a="$flush_seconds_before" -v b="$flush_seconds_after" -v f=$((flushes_after - flushes_before)) \
  'BEGIN { printf "%.2f s in all, %.0f ms per flush", b - a, (b - a) / f * 1e3 }')"
note "$TARGET flushes: $((flushes_after - flushes_before)) writing $((keys_sum_after - keys_sum_before)) counters:" \
  "$(awk -v k=$((keys_sum_after - keys_sum_before)) -v f=$((flushes_after - flushes_before)) -v n="$stored" \
    'BEGIN { printf "%.0f per flush, %.2f per stored hit", k / f, k / n }')"
if [[ -n $redis_port ]]; then
  redis_after=$(redis_cpu_seconds)
  note "redis-server: $(awk -v a="$redis_before" -v b="$redis_after" -v n="$stored" \
    'BEGIN { printf "%.2f s CPU (used_cpu_user + used_cpu_sys), %.1f µs per stored beacon", b - a, (b - a) / n * 1e6 }')"
  note "INFO commandstats (load and drain):"
  redis_summary | tee -a "$summary" >&2
  # SLOWLOG entries: id, time, µs, [command, args...]. Name scripts by the
  # SHA-1 of their files.
  declare -A script_names
  for file in src/sessions/shared/*.lua src/store/redis/*.lua src/privacy/*.lua; do
    script_names[$(sha1sum "$file" | cut -c1-40)]=$(basename "$file")
  done
  redis-cli -p "$redis_port" --no-raw slowlog get 1000000 >"$OUT/slowlog.txt"
  note "Script calls from SLOWLOG (wall µs inside Redis):"
  python3 - "$OUT/slowlog.txt" "$(for sha in "${!script_names[@]}"; do echo "$sha=${script_names[$sha]}"; done)" <<'PY' | tee -a "$summary" >&2
import re, sys, collections
names = dict(line.split("=", 1) for line in sys.argv[2].split() if line)
text = open(sys.argv[1]).read()
# Each entry: "N) 1) (integer) id  2) (integer) time  3) (integer) µs  4) 1) "cmd" 2) "arg" ...
entries = re.split(r'\n\s*\d+\) 1\) \(integer\)', "\n" + text)
total = collections.Counter(); calls = collections.Counter()
for entry in entries:
    ints = re.findall(r'\(integer\) (\d+)', entry)
    words = re.findall(r'\d+\) "([^"]*)"', entry)
    if len(ints) < 2 or not words:
        continue
    micros = int(ints[1])
    command = words[0].lower()
    if command == "evalsha" and len(words) > 1:
        command = names.get(words[1], "evalsha " + words[1][:8])
    total[command] += micros; calls[command] += 1
all_us = sum(total.values()) or 1
for command, micros in total.most_common(12):
    print(f"  {command:24} {100 * micros / all_us:5.1f}%  calls={calls[command]:7d}  total={micros / 1e6:7.2f} s  mean={micros / calls[command]:9.0f} µs")
PY
fi
forget_instances

[[ $PERF == 1 ]] || exit 0

# --- the target again, under perf ---------------------------------------------

# profiled MODE: a fresh instance under the load, perf recording from
# PERF_DELAY seconds in for PERF_SECONDS; MODE dwarf records call chains
# (for the split by part), flat only the sampled function (self time,
# at a fraction of dwarf's cost to the machine).
profiled() {
  local mode=$1 pids options=()
  [[ $mode == dwarf ]] && options=(--call-graph dwarf)
  start_target
  run_load "$TARGET-$mode-warmup" "$WARMUP" "$WARMUP_SITE" "${instance_ports[@]}"
  load_ended=$EPOCHREALTIME
  settle "$TARGET-$mode-warmup" "$WARMUP_SITE" 0
  pids=$(joined , "${instance_pids[@]}")
  [[ -n $redis_pid ]] && pids+=",$redis_pid"
  (sleep "$PERF_DELAY" && perf record -e cpu-clock -F "$PERF_FREQ" "${options[@]}" \
    -o "$OUT/perf-$mode.data" -p "$pids" -- sleep "$PERF_SECONDS" 2>"$OUT/perf-$mode-record.log") &
  local perf_job=$!
  run_load "$TARGET-$mode" "$DURATION" "$SITE" "${instance_ports[@]}"
  wait "$perf_job"
  record_load "$TARGET-$mode" 2>/dev/null
  note "$TARGET under perf ($mode): ${accepted_rate[$TARGET-$mode]} accepted/s"
  forget_instances
}

profiled flat
perf report -i "$OUT/perf-flat.data" --stdio --no-children --sort comm,dso,sym 2>/dev/null |
  head -150 >"$OUT/report-flat-no-children.txt" || true
perf report -i "$OUT/perf-flat.data" --stdio --no-children --sort sym 2>/dev/null |
  head -150 >"$OUT/report-flat-by-symbol.txt" || true
profiled dwarf
perf report -i "$OUT/perf-dwarf.data" --stdio --no-children --sort comm,dso,sym 2>/dev/null |
  head -150 >"$OUT/report-dwarf-no-children.txt" || true
perf script -i "$OUT/perf-dwarf.data" -F comm,tid,ip,sym,dso 2>/dev/null |
  python3 loadtests/profile_split.py | tee -a "$summary" >&2
note "perf data and reports in $OUT"
