#!/usr/bin/env bash
# Soak: Kruimel (release build, embedded store, its defaults) at half of
# its maximum ingest rate for twenty minutes, with visits from a day of a
# million visitors: long enough for its hot state to fill and then hold
# for at least ten minutes. Passes when resident memory stays within ±10%
# once the hot state is full, open file descriptors do not grow, and the
# stats API counts exactly the beacons answered 202 as counted.
#
# The hot state is full when both of its bounds have been reached: the
# visitor cap and the credit budget (CREDITS_PER_VISITOR = 24 fingerprints
# per visitor of the cap, src/sessions/mod.rs). Before that, memory grows
# with it by design; at half of about 32,000 beacons/s the budget is reached
# after about five minutes (ten with the budget of 48 before 2026-12-07),
# hence the default of twenty.
#
#   loadtests/soak.sh                   # measure the maximum (10 s of wrk), then 1,200 s at half
#   DURATION=120 loadtests/soak.sh      # shorter (too short for the hot state to fill)
#   MAX_RATE=60000 loadtests/soak.sh    # skip the wrk run: half of 60,000/s
#
# Environment (all optional):
#   DURATION        seconds of paced load (default 1200)
#   MAX_RATE        beacons/s taken as the maximum instead of measuring it
#   MAX_SECONDS     seconds of the wrk run that measures it (default 10)
#   WARMUP          seconds before memory must be flat (default 120); the
#                   flat window starts later if the hot state is not full yet
#   MIN_WINDOW      seconds the flat window must last at least (default 600)
#   DAY_VISITORS    distinct visitors in the day the run compresses (default 1000000)
#   CONNECTIONS     keep-alive connections of the paced load (default 64)
#   SAMPLE_SECONDS  seconds between samples (default 5)
#   FLUSH_WAIT      seconds to wait for the counts to settle (default 30)
#   HOT_CAP         Kruimel's sessions.max_visitors (default 1000000, its own
#                   default); lower it with DAY_VISITORS for short trial runs
#
# Needs wrk (unless MAX_RATE is set) and curl. Writes the report to
# loadtests/results/soak-<UTC time>.md and exits non-zero if a check fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION=${DURATION:-1200}
MAX_RATE=${MAX_RATE:-}
GIVEN_MAX_RATE=$MAX_RATE
MAX_SECONDS=${MAX_SECONDS:-10}
WARMUP=${WARMUP:-120}
MIN_WINDOW=${MIN_WINDOW:-600}
DAY_VISITORS=${DAY_VISITORS:-1000000}
CONNECTIONS=${CONNECTIONS:-64}
SAMPLE_SECONDS=${SAMPLE_SECONDS:-5}
FLUSH_WAIT=${FLUSH_WAIT:-30}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
SITE=load.example
WARMUP_SITE=warmup.example
TOKEN=soak-token
HOT_CAP=${HOT_CAP:-1000000}
# sessions::CREDITS_PER_VISITOR per visitor of the cap, read from the source
# so the check follows the budget.
CREDITS_PER_VISITOR=$(sed -n 's/^pub const CREDITS_PER_VISITOR: usize = \([0-9]*\);$/\1/p' src/sessions/mod.rs)
if ! [[ $CREDITS_PER_VISITOR =~ ^[0-9]+$ ]]; then
  echo "cannot read CREDITS_PER_VISITOR from src/sessions/mod.rs" >&2
  exit 2
fi
CREDIT_BUDGET=$((HOT_CAP * CREDITS_PER_VISITOR))
RSS_TOLERANCE=10 # per cent
# What run.sh's helpers expect.
WRK_THREADS=1
WRK_CONNECTIONS=64

tools=(curl)
[[ -z $MAX_RATE ]] && tools+=(wrk)
for tool in "${tools[@]}"; do
  if ! command -v "$tool" >/dev/null; then
    echo "$tool is required; on Debian or Ubuntu: sudo apt-get install $tool" >&2
    exit 1
  fi
done
if [[ $HOT_CAP != 1000000 ]]; then
  export KRUIMEL_SESSIONS__MAX_VISITORS=$HOT_CAP
fi

# shellcheck source=loadtests/lib/servers.sh
source loadtests/lib/servers.sh
# shellcheck source=loadtests/lib/measure.sh
source loadtests/lib/measure.sh
# shellcheck source=loadtests/lib/samples.sh
source loadtests/lib/samples.sh

use_work_dir soak

# measure_max_rate: sets MAX_RATE to the accepted beacons/s of wrk with
# beacons.lua against a fresh instance, after a 3 s warm-up on another
# site, as run.sh measures.
measure_max_rate() {
  start_kruimel max embedded
  echo "== maximum rate: 3 s warm-up, then ${MAX_SECONDS} s of wrk" >&2
  run_load max-warmup 3 "$WARMUP_SITE" "${instance_ports[0]}"
  run_load max "$MAX_SECONDS" "$SITE" "${instance_ports[0]}"
  forget_instances
  local out="$work_dir/max.1.out"
  MAX_RATE=$(awk -v answered="$(($(field counted "$out") + $(field dropped "$out")))" \
    -v us="$(field duration_us "$out")" 'BEGIN { printf "%.0f", answered / (us / 1e6) }')
}

note_run_context
cargo build --release --locked --bin kruimel --example soak
max_source="given as MAX_RATE"
if [[ -z $MAX_RATE ]]; then
  measure_max_rate
  max_source="measured: \`${wrk_commands[-1]}\`, 202 answers per second"
fi
rate=$((MAX_RATE / 2))

start_kruimel soak embedded
pid=${instance_pids[0]}
fds_before=$(fd_count "$pid")
samples="$work_dir/soak.out"
echo "== soak: ${DURATION} s at ${rate} beacons/s (half of ${MAX_RATE}), a sample every ${SAMPLE_SECONDS} s" >&2
"$TARGET_DIR/release/examples/soak" paced --target "127.0.0.1:${instance_ports[0]}" \
  --admin "127.0.0.1:${instance_admin_ports[0]}" --pid "$pid" --rate "$rate" \
  --seconds "$DURATION" --day-visitors "$DAY_VISITORS" --connections "$CONNECTIONS" \
  --sample-seconds "$SAMPLE_SECONDS" | tee "$samples" >&2

counted=$(value RESULT counted "$samples")
counted_pageviews=$(value RESULT counted_pageviews "$samples")
failed=$(value RESULT failed "$samples")
echo "== waiting up to ${FLUSH_WAIT} s for the counts to settle" >&2
read -r stored_pageviews stored_events < <(settled_totals "${instance_ports[0]}" "$SITE" "$counted" "$FLUSH_WAIT")
fds_after=$(fd_count "$pid")

# --- checks --------------------------------------------------------------------

# The flat window starts at the first sample after WARMUP seconds by which
# the hot state has reached 99% of both its bounds, the visitor cap and the
# credit budget (not necessarily at once: once the credit budget binds,
# eviction holds fewer visitors than the cap). Before that, memory grows
# with the hot state by design.
window_start=$(awk -v from="$WARMUP" -v visitors="$((HOT_CAP * 99 / 100))" \
  -v credits="$((CREDIT_BUDGET * 99 / 100))" '$1 == "SAMPLE" {
    delete f; for (i = 2; i <= NF; i++) { split($i, pair, "="); f[pair[1]] = pair[2] }
    if (f["hot"] + 0 >= visitors) visitors_full = 1
    if (f["credits"] + 0 >= credits) credits_full = 1
    if (f["t"] + 0 >= from && visitors_full && credits_full) { print f["t"]; exit } }' "$samples")
last_sample=$(value SAMPLE t "$samples")

check_memory() {
  local name="resident memory within ±${RSS_TOLERANCE}% once the hot state is full"
  if [[ -z $window_start ]]; then
    check "$name" 1 \
      "the hot state did not reach 99% of both its visitor cap ($HOT_CAP) and its credit budget ($CREDIT_BUDGET) after ${WARMUP} s: no window to judge"
    return
  fi
  local window
  window=$(awk -v from="$window_start" -v to="$last_sample" 'BEGIN { printf "%.0f", to - from }')
  if ((window < MIN_WINDOW)); then
    check "$name" 1 \
      "the hot state was full from ${window_start} s, leaving ${window} s of the run to judge (at least ${MIN_WINDOW} s needed): run longer"
    return
  fi
  rss_start=$(after "$window_start" rss_kib "$samples" | head -n 1)
  rss_low=$(after "$window_start" rss_kib "$samples" | minimum)
  rss_high=$(after "$window_start" rss_kib "$samples" | maximum)
  rss_end=$(value SAMPLE rss_kib "$samples")
  local inside
  inside=$(awk -v s="$rss_start" -v lo="$rss_low" -v hi="$rss_high" -v tol="$RSS_TOLERANCE" \
    'BEGIN { print (lo >= s * (1 - tol / 100) && hi <= s * (1 + tol / 100)) ? 0 : 1 }')
  check "$name" "$inside" \
    "from ${window_start} s to ${last_sample} s: $(mib "$rss_start") MiB at the start, $(mib "$rss_low")–$(mib "$rss_high") MiB, $(mib "$rss_end") MiB at the end"
}

check_descriptors() {
  if [[ -z $window_start ]]; then
    check "open file descriptors do not grow" 1 "no window to judge (see memory)"
    return
  fi
  fds_start=$(after "$window_start" fds "$samples" | head -n 1)
  fds_high=$(after "$window_start" fds "$samples" | maximum)
  local grew=0
  ((fds_high > fds_start || fds_after > fds_before)) && grew=1
  check "open file descriptors do not grow" "$grew" \
    "$fds_before before the load, $fds_start at ${window_start} s, at most $fds_high after that, $fds_after after the load"
}

check_stats() {
  local exact=0
  if [[ -z $stored_events ]] || ((stored_events < counted || stored_events > counted + failed ||
    stored_pageviews < counted_pageviews || stored_pageviews > counted_pageviews + failed)); then
    exact=1
  fi
  check "stats count every beacon answered as counted" "$exact" \
    "stats: ${stored_pageviews:-none} pageviews, ${stored_events:-none} events; answered 202 as counted: $counted_pageviews pageviews, $counted beacons (+ at most $failed unanswered)"
}

check_rate() {
  local sent due held
  sent=$(value RESULT sent "$samples")
  due=$((rate * DURATION))
  held=$(awk -v s="$sent" -v d="$due" 'BEGIN { print (s >= 0.99 * d) ? 0 : 1 }')
  check "the load kept its rate" "$held" "$sent beacons sent of $due due (at least 99%)"
}

check_memory
check_descriptors
check_stats
check_rate

# --- report --------------------------------------------------------------------

# samples_table: the SAMPLE lines as a Markdown table.
samples_table() {
  echo "| t (s) | answered/s | p50 (µs) | p99 (µs) | max (µs) | behind | RSS (MiB) | fds | hot visitors | credits held | evicted | distinct | shed | queue | ready |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  awk '$1 == "SAMPLE" {
      delete f; for (i = 2; i <= NF; i++) { split($i, pair, "="); f[pair[1]] = pair[2] }
      printf "| %s | %s | %s | %s | %s | %s | %.1f | %s | %s | %s | %s | %s | %s | %s | %s |\n",
        f["t"], f["rate"], f["p50_us"], f["p99_us"], f["max_us"], f["behind"], f["rss_kib"] / 1024,
        f["fds"], f["hot"], f["credits"], f["evicted"], f["distinct"], f["shed"], f["queue"], f["ready"] }' "$samples"
}

report() {
  local worst_p99 slow_intervals intervals
  worst_p99=$(values SAMPLE p99_us "$samples" | maximum)
  intervals=$(values SAMPLE p99_us "$samples" | wc -l)
  slow_intervals=$(values SAMPLE p99_us "$samples" | awk '$1 >= 5000' | wc -l)
  echo "# Kruimel soak, $started_at"
  echo
  echo "Command: \`DURATION=$DURATION${GIVEN_MAX_RATE:+ MAX_RATE=$GIVEN_MAX_RATE} loadtests/soak.sh\` (DAY_VISITORS=$DAY_VISITORS, HOT_CAP=$HOT_CAP, CONNECTIONS=$CONNECTIONS, WARMUP=$WARMUP, MIN_WINDOW=$MIN_WINDOW)."
  echo
  echo "- maximum rate: $MAX_RATE beacons/s ($max_source)"
  echo "- load: $rate beacons/s for $DURATION s over $CONNECTIONS keep-alive connections, each on its own schedule (\`soak paced\`)"
  echo "- Kruimel: release build, embedded store, defaults (sessions.max_visitors = $HOT_CAP), loopback as trusted proxy"
  echo
  echo "## Checks"
  echo
  echo "| check | result | detail |"
  echo "| --- | --- | --- |"
  printf '%s\n' "${checks[@]}"
  echo
  echo "## Figures"
  echo
  echo "| figure | value |"
  echo "| --- | ---: |"
  echo "| beacons sent | $(value RESULT sent "$samples") |"
  echo "| answered 202 as counted / dropped (bots) / other / unanswered | $counted / $(value RESULT dropped "$samples") / $(value RESULT other "$samples") / $failed |"
  echo "| distinct visitors sent (about 5% bots, which hold no state) | $(value RESULT distinct "$samples") |"
  echo "| hot visitors at the end / evicted | $(value SAMPLE hot "$samples") / $(value SAMPLE evicted "$samples") |"
  echo "| shed (answered 202, overloaded) | $(value SAMPLE shed "$samples") |"
  echo "| latency over the whole run: p50 / p99 / max (µs) | $(value RESULT p50_us "$samples") / $(value RESULT p99_us "$samples") / $(value RESULT max_us "$samples") |"
  echo "| worst p99 of a ${SAMPLE_SECONDS} s interval (µs) | $worst_p99 |"
  echo "| intervals with p99 ≥ 5 ms | $slow_intervals of $intervals |"
  echo
  echo "Latency is from writing a request to reading its whole answer; each connection"
  echo "has one request in flight at a time. \"Behind\" is how many beacons the load was"
  echo "behind its schedule at the sample (the rate did not hold while it grows)."
  echo
  echo "## Samples"
  echo
  samples_table
  echo
  echo "## Machine"
  echo
  machine "$load_before" "$commit"
}

write_report soak
((failed_checks == 0))
